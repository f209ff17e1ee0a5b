"use client";
/**
 * The task board: create, edit, complete and delete tasks, filter by status and tag. Every read
 * and write goes through the hooks of `@todo-api/client/react` (cached, optimistic, rolled back
 * on error); a 422's field errors are shown next to their fields; changes made elsewhere (another
 * tab, another device, an AI assistant over MCP) arrive live from the event stream.
 */
import { useQueryClient } from "@tanstack/react-query";
import type { Task, TaskStatus } from "@todo-api/client";
import { errorMessage, fieldErrors, isProblemOf } from "@todo-api/client";
import {
  TodoProvider,
  useCompleteTask,
  useCreateTask,
  useDeleteTask,
  useLiveTasks,
  useTags,
  useTasks,
  useTodo,
  useUpdateTask,
} from "@todo-api/client/react";
import { useRouter } from "next/navigation";
import { useMemo, useState, type FormEvent } from "react";

import { authClient } from "@/lib/auth-client";
import { browserTodoClient } from "@/lib/todo";

interface Props {
  apiUrl: string;
  user: { id: string; email: string };
  initialTasks: Task[] | undefined;
}

export function TaskBoard({ apiUrl, user, initialTasks }: Props) {
  const client = useMemo(() => browserTodoClient(apiUrl), [apiUrl]);
  return (
    <TodoProvider client={client} userId={user.id}>
      <Board email={user.email} initialTasks={initialTasks} />
    </TodoProvider>
  );
}

/** Splits "home, errands" into tags. */
function parseTags(text: string): string[] {
  return text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
}

function FieldError({ field, error }: { field: string; error: unknown }) {
  const message = fieldErrors(error)[field];
  return message ? (
    <p className="field-error" data-testid={`error-${field}`} role="alert">
      {message}
    </p>
  ) : null;
}

/** An error that is not about one field: a banner. */
function Banner({ error, fields }: { error: unknown; fields: string[] }) {
  if (!error) return null;
  if (isProblemOf(error, "validation") && Object.keys(fieldErrors(error)).every((f) => fields.includes(f))) {
    return null;
  }
  return (
    <p className="banner" data-testid="error-banner" role="alert">
      {errorMessage(error)}
    </p>
  );
}

function Board({ email, initialTasks }: { email: string; initialTasks: Task[] | undefined }) {
  const router = useRouter();
  const queryClient = useQueryClient();
  const { client } = useTodo();
  const [status, setStatus] = useState<TaskStatus>("all");
  const [tag, setTag] = useState("");
  const query = { status, ...(tag ? { tag: [tag] } : {}) };
  const isDefault = status === "all" && !tag;
  const tasks = useTasks(query, isDefault && initialTasks ? { initialData: initialTasks } : {});
  const tags = useTags();
  const live = useLiveTasks();

  async function signOut() {
    await authClient.signOut();
    client.transport.tokens?.clear();
    queryClient.clear();
    router.replace("/sign-in");
    router.refresh();
  }

  return (
    <main className="board">
      <header>
        <h1>Tasks</h1>
        <span className="live" data-testid="live" data-state={live}>
          {live === "open" ? "● live" : live === "connecting" ? "connecting…" : "reconnecting…"}
        </span>
        <span data-testid="user-email">{email}</span>
        <button type="button" className="link" onClick={signOut}>
          Sign out
        </button>
      </header>

      <NewTaskForm />

      <nav className="filters" aria-label="Filters">
        {(["all", "pending", "completed"] as const).map((s) => (
          <button
            key={s}
            type="button"
            data-testid={`filter-${s}`}
            aria-pressed={status === s}
            onClick={() => setStatus(s)}
          >
            {s[0]?.toUpperCase() + s.slice(1)}
          </button>
        ))}
        <label>
          Tag
          <select data-testid="filter-tag" value={tag} onChange={(e) => setTag(e.target.value)}>
            <option value="">any</option>
            {(tags.data ?? []).map(({ tag: name, count }) => (
              <option key={name} value={name}>
                {name} ({count})
              </option>
            ))}
          </select>
        </label>
      </nav>

      {tasks.error ? <Banner error={tasks.error} fields={[]} /> : null}
      <ul className="tasks" data-testid="task-list" aria-busy={tasks.isFetching}>
        {(tasks.data ?? []).map((task) => (
          <TaskItem key={task.id} task={task} />
        ))}
      </ul>
      {tasks.data?.length === 0 ? <p className="empty">Nothing here.</p> : null}
    </main>
  );
}

function NewTaskForm() {
  const create = useCreateTask();
  const [title, setTitle] = useState("");
  const [tags, setTags] = useState("");
  const [priority, setPriority] = useState<"low" | "medium" | "high">("medium");

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate(
      { title, tags: parseTags(tags), priority },
      {
        onSuccess: () => {
          setTitle("");
          setTags("");
          setPriority("medium");
        },
      },
    );
  }

  return (
    <form className="new-task" onSubmit={submit} noValidate data-testid="new-task">
      <label>
        Title
        <input name="title" value={title} onChange={(e) => setTitle(e.target.value)} placeholder="What needs doing?" />
        <FieldError field="title" error={create.error} />
      </label>
      <label>
        Tags
        <input name="tags" value={tags} onChange={(e) => setTags(e.target.value)} placeholder="home, errands" />
        <FieldError field="tags" error={create.error} />
      </label>
      <label>
        Priority
        <select name="priority" value={priority} onChange={(e) => setPriority(e.target.value as typeof priority)}>
          <option value="low">low</option>
          <option value="medium">medium</option>
          <option value="high">high</option>
        </select>
      </label>
      <button type="submit" disabled={create.isPending}>
        Add
      </button>
      <Banner error={create.error} fields={["title", "tags"]} />
    </form>
  );
}

function TaskItem({ task }: { task: Task }) {
  const complete = useCompleteTask();
  const update = useUpdateTask();
  const remove = useDeleteTask();
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(task.title);
  const [tags, setTags] = useState(task.tags.join(", "));

  function save(event: FormEvent) {
    event.preventDefault();
    update.mutate(
      { id: task.id, changes: { title, tags: parseTags(tags) } },
      { onSuccess: () => setEditing(false) },
    );
  }

  return (
    <li data-testid="task" data-task-id={task.id} data-completed={task.completed} className={task.completed ? "done" : ""}>
      {editing ? (
        <form className="edit" onSubmit={save} noValidate>
          <label>
            Title
            <input name="title" value={title} onChange={(e) => setTitle(e.target.value)} />
            <FieldError field="title" error={update.error} />
          </label>
          <label>
            Tags
            <input name="tags" value={tags} onChange={(e) => setTags(e.target.value)} />
            <FieldError field="tags" error={update.error} />
          </label>
          <button type="submit">Save</button>
          <button
            type="button"
            className="link"
            onClick={() => {
              setEditing(false);
              update.reset();
            }}
          >
            Cancel
          </button>
        </form>
      ) : (
        <>
          <input
            type="checkbox"
            aria-label={`Complete ${task.title}`}
            data-testid="complete"
            checked={task.completed}
            onChange={(e) => complete.mutate({ id: task.id, completed: e.target.checked })}
          />
          <span className="title" data-testid="title">
            {task.title}
          </span>
          <span className={`priority ${task.priority}`}>{task.priority}</span>
          {task.tags.map((t) => (
            <span key={t} className="tag" data-testid="tag">
              {t}
            </span>
          ))}
          <button
            type="button"
            className="link"
            data-testid="edit"
            onClick={() => {
              setTitle(task.title);
              setTags(task.tags.join(", "));
              setEditing(true);
            }}
          >
            Edit
          </button>
          <button type="button" className="link danger" data-testid="delete" onClick={() => remove.mutate({ id: task.id })}>
            Delete
          </button>
        </>
      )}
      <Banner error={complete.error ?? remove.error ?? (editing ? null : update.error)} fields={[]} />
      {editing ? <Banner error={update.error} fields={["title", "tags"]} /> : null}
    </li>
  );
}
