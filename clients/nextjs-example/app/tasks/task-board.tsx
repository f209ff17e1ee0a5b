"use client";
/**
 * The task board: the inbox and the user's lists (create a list), and in each the top-level
 * tasks in the user's order (`sort=position`): create, edit, complete and delete tasks, drag them
 * into another order (or move them with the up/down buttons, from the keyboard), filter by status
 * and tag. Every read and write goes through the hooks of `@todo-api/client/react` (cached,
 * optimistic, rolled back on error); a 422's field errors are shown next to their fields; changes
 * made elsewhere (another tab, another device, an AI assistant over MCP) arrive live from the
 * event stream, a new order included.
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
  useMoveTask,
  useTags,
  useTasks,
  useTodo,
  useTodoApi,
  useUpdateTask,
} from "@todo-api/client/react";
import { useRouter } from "next/navigation";
import { useMemo, useState, type DragEvent, type FormEvent, type LiHTMLAttributes } from "react";

import { authClient } from "@/lib/auth-client";
import { boardQuery } from "@/lib/board";
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
  const [list, setList] = useState<number | null>(null);
  const isDefault = status === "all" && !tag && list === null;
  const tasks = useTasks(boardQuery(list, status, tag), isDefault && initialTasks ? { initialData: initialTasks } : {});
  const tags = useTags();
  const live = useLiveTasks();
  const move = useMoveTask();
  const shown = tasks.data ?? [];
  const [dragging, setDragging] = useState<number | null>(null);
  const [over, setOver] = useState<number | null>(null);

  /** Moves task `id` to index `to` of the shown tasks (the others keep their order). */
  function moveTo(id: number, to: number) {
    const from = shown.findIndex((t) => t.id === id);
    if (from === -1 || to < 0 || to >= shown.length || to === from) return;
    const others = shown.filter((t) => t.id !== id);
    // Right after the task that ends up above it; `null`: first.
    move.mutate({ id, after: others[to - 1]?.id ?? null });
  }

  /** How a row looks while dragging: the dragged one, or where the drop on it would put the task. */
  const dragState = (task: Task, index: number) => {
    if (dragging === task.id) return "dragging" as const;
    if (over !== task.id) return undefined;
    return shown.findIndex((t) => t.id === dragging) < index ? ("below" as const) : ("above" as const);
  };

  const drag = (task: Task, index: number): LiHTMLAttributes<HTMLLIElement> => ({
    draggable: true,
    onDragStart: (e: DragEvent) => {
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", String(task.id));
      setDragging(task.id);
    },
    onDragOver: (e: DragEvent) => {
      if (dragging === null) return;
      e.preventDefault(); // allows the drop
      e.dataTransfer.dropEffect = "move";
      setOver(task.id);
    },
    onDragLeave: () => setOver((o) => (o === task.id ? null : o)),
    onDrop: (e: DragEvent) => {
      e.preventDefault();
      if (dragging !== null) moveTo(dragging, index); // takes the place of the task dropped on
      setDragging(null);
      setOver(null);
    },
    onDragEnd: () => {
      setDragging(null);
      setOver(null);
    },
  });

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

      <ListTabs current={list} onSelect={setList} />

      <NewTaskForm list={list} />

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
      <Banner error={move.error} fields={[]} />
      <ul className="tasks" data-testid="task-list" aria-busy={tasks.isFetching}>
        {shown.map((task, index) => (
          <TaskItem
            key={task.id}
            task={task}
            drag={drag(task, index)}
            dragState={dragState(task, index)}
            onMoveUp={index > 0 ? () => moveTo(task.id, index - 1) : undefined}
            onMoveDown={index < shown.length - 1 ? () => moveTo(task.id, index + 1) : undefined}
          />
        ))}
      </ul>
      {tasks.data?.length === 0 ? <p className="empty">Nothing here.</p> : null}
    </main>
  );
}

/** The inbox and the user's lists, in their order; a form to create a list. */
function ListTabs({ current, onSelect }: { current: number | null; onSelect: (list: number | null) => void }) {
  const api = useTodoApi();
  const { userId } = useTodo();
  const queryClient = useQueryClient();
  const lists = api.useQuery("get", "/api/{user_id}/lists", { params: { path: { user_id: userId } } });
  const create = api.useMutation("post", "/api/{user_id}/lists");
  const [name, setName] = useState("");

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate(
      { params: { path: { user_id: userId } }, body: { name } },
      {
        onSuccess: (made) => {
          setName("");
          void queryClient.invalidateQueries({ queryKey: ["get", "/api/{user_id}/lists"] });
          onSelect(made.id);
        },
      },
    );
  }

  const tabs: { id: number | null; name: string; pending?: number }[] = [
    { id: null, name: "Inbox" },
    ...(lists.data ?? []).map((l) => ({ id: l.id, name: l.name, pending: l.pending_count })),
  ];
  return (
    <nav className="lists" aria-label="Lists">
      {tabs.map((tab) => (
        <button
          key={tab.id ?? "inbox"}
          type="button"
          data-testid="list-tab"
          aria-pressed={current === tab.id}
          onClick={() => onSelect(tab.id)}
        >
          {tab.name}
          {tab.pending ? <span className="count"> {tab.pending}</span> : null}
        </button>
      ))}
      <form onSubmit={submit} noValidate data-testid="new-list">
        <input name="list-name" aria-label="New list" value={name} onChange={(e) => setName(e.target.value)} placeholder="New list" />
        <button type="submit" className="link" disabled={create.isPending || !name.trim()}>
          Add list
        </button>
        <FieldError field="name" error={create.error} />
        {create.error && !fieldErrors(create.error).name ? (
          <span className="field-error" role="alert">
            {errorMessage(create.error)}
          </span>
        ) : null}
      </form>
    </nav>
  );
}

function NewTaskForm({ list }: { list: number | null }) {
  const create = useCreateTask();
  const [title, setTitle] = useState("");
  const [tags, setTags] = useState("");
  const [priority, setPriority] = useState<"low" | "medium" | "high">("medium");

  function submit(event: FormEvent) {
    event.preventDefault();
    create.mutate(
      { title, tags: parseTags(tags), priority, ...(list === null ? {} : { list_id: list }) },
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

interface TaskItemProps {
  task: Task;
  /** The row's drag-and-drop handlers (HTML5). */
  drag: LiHTMLAttributes<HTMLLIElement>;
  /** While dragging: this row is dragged, or the drop goes above or below it. */
  dragState: "dragging" | "above" | "below" | undefined;
  /** Moves it one place up or down (the keyboard's way to reorder); absent at the ends. */
  onMoveUp: (() => void) | undefined;
  onMoveDown: (() => void) | undefined;
}

function TaskItem({ task, drag, dragState, onMoveUp, onMoveDown }: TaskItemProps) {
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
    <li
      data-testid="task"
      data-task-id={task.id}
      data-completed={task.completed}
      data-position={task.position}
      className={[task.completed ? "done" : "", dragState ?? ""].join(" ").trim() || undefined}
      {...(editing ? {} : drag)}
    >
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
          <span className="handle" data-testid="drag-handle" aria-hidden="true" title="Drag to reorder">
            ⠿
          </span>
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
          {task.subtask_count > 0 ? (
            <span className="subtasks" title="Subtasks done">
              {task.completed_subtask_count}/{task.subtask_count}
            </span>
          ) : null}
          <button
            type="button"
            className="link"
            data-testid="move-up"
            aria-label={`Move ${task.title} up`}
            disabled={!onMoveUp}
            onClick={onMoveUp}
          >
            ↑
          </button>
          <button
            type="button"
            className="link"
            data-testid="move-down"
            aria-label={`Move ${task.title} down`}
            disabled={!onMoveDown}
            onClick={onMoveDown}
          >
            ↓
          </button>
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
