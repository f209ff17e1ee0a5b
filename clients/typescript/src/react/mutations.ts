/**
 * The task mutations as TanStack Query mutation options, with optimistic updates: the cache
 * shows the change at once (in every cached listing, by its filters and sort), the server's
 * answer replaces it, and an error puts the task back as it was, unless something newer (a live
 * event, another mutation) has replaced it meanwhile. The hooks of `@todo-api/client/react`
 * are `useMutation` of these; outside React, `new MutationObserver(queryClient, options)` runs
 * them.
 * @module
 */
import type { MutationOptions, QueryClient } from "@tanstack/react-query";

import type { TodoClient } from "../index.js";
import { isProblemOf } from "../problems.js";
import type { components } from "../schema.js";
import {
  TASKS_PATH,
  TASK_PATH,
  applyTaskChange,
  cachedTasks,
  compareByPosition,
  findCachedTask,
  isTaskQuery,
  positionBetween,
  type TaskChange,
} from "./cache.js";

type Schemas = components["schemas"];
type Task = Schemas["Task"];
type Problem = Schemas["Problem"];

/** What every task mutation needs: the client, the cache and the signed-in user. */
export interface TaskMutationContext {
  client: TodoClient;
  queryClient: QueryClient;
  userId: string;
}

/** The error a mutation ends with: the API's problem, or the network error. */
export type MutationError = Problem | Error;

/** Variables of {@link updateTaskMutation}. */
export interface UpdateTaskVariables {
  id: number;
  changes: Schemas["UpdateTask"];
  /** The `ETag` the task must still have (else 412). */
  ifMatch?: string;
}

/** Variables of {@link completeTaskMutation}: set (not toggle) the state, so it is safe to retry. */
export interface CompleteTaskVariables {
  id: number;
  completed: boolean;
}

/** Variables of {@link deleteTaskMutation}. */
export interface DeleteTaskVariables {
  id: number;
}

/**
 * Variables of {@link moveTaskMutation}: the task and where it goes (the body of
 * `POST /api/{user_id}/tasks/{id}/move`). `{ id }` alone moves it last among its siblings.
 */
export interface MoveTaskVariables {
  id: number;
  /** Another list (`null`: the inbox), with its subtasks; without `parent_id`, a subtask leaves its parent. */
  list_id?: number | null;
  /** Another parent (`null`: the top level), into that task's list. */
  parent_id?: number | null;
  /** Right after this sibling (a task id); `null`: first; omitted: last. */
  after?: number | null;
  /** The `ETag` the task must still have (else 412). */
  ifMatch?: string;
}

/** The path of a task's move. */
const MOVE_PATH = "/api/{user_id}/tasks/{id}/move" as const;

/** What an optimistic mutation remembers to undo itself. */
interface Undo {
  /** The task before the change (`undefined`: it was not cached, nothing to undo). */
  before: Task | undefined;
  /** The optimistic version written to the cache (`undefined` for a delete). */
  shown: Task | undefined;
}

function throwIfError<T>(result: { data?: T; error?: Problem }): T {
  if (result.error !== undefined) throw result.error;
  return result.data as T;
}

const nowIso = (): string => new Date().toISOString();

/** Stops refetches that could overwrite the optimistic state with an older answer. */
async function settle(ctx: TaskMutationContext): Promise<void> {
  await ctx.queryClient.cancelQueries({ predicate: isTaskQuery(ctx.userId) });
}

function apply(ctx: TaskMutationContext, change: TaskChange): void {
  applyTaskChange(ctx.queryClient, ctx.userId, change);
}

/**
 * Puts `undo.before` back, if the cache still shows what this mutation wrote. Returns `false`
 * when something else changed the task meanwhile (then it is left as it is).
 */
function rollback(ctx: TaskMutationContext, undo: Undo | undefined): boolean {
  if (!undo?.before) return true;
  const current = findCachedTask(ctx.queryClient, ctx.userId, undo.before.id);
  const untouched = undo.shown === undefined ? current === undefined : sameValue(current, undo.shown);
  if (untouched) apply(ctx, { type: "upsert", task: undo.before });
  return untouched;
}

/** Deep equality of JSON values (the cache copies what it is given, so identity is lost). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

async function optimistic(ctx: TaskMutationContext, id: number, edit: ((t: Task) => Task) | "delete"): Promise<Undo> {
  await settle(ctx);
  const before = findCachedTask(ctx.queryClient, ctx.userId, id);
  if (!before) return { before, shown: undefined };
  if (edit === "delete") {
    apply(ctx, { type: "delete", id });
    return { before, shown: undefined };
  }
  const shown = edit(before);
  apply(ctx, { type: "upsert", task: shown });
  return { before, shown };
}

/** Completing a recurring task created its next occurrence: bring it into the cache. */
async function fetchNextOccurrence(ctx: TaskMutationContext, task: Task): Promise<void> {
  const next = task.next_occurrence_id;
  if (next === null || findCachedTask(ctx.queryClient, ctx.userId, next)) return;
  const result = await ctx.client.GET(TASK_PATH, { params: { path: { user_id: ctx.userId, id: next } } });
  if (result.data) apply(ctx, { type: "upsert", task: result.data });
}

/** Creates a task; the new task enters the cached listings it matches when the server answers. */
export function createTaskMutation(ctx: TaskMutationContext): MutationOptions<Task, MutationError, Schemas["CreateTask"]> {
  return {
    mutationKey: ["post", TASKS_PATH, ctx.userId],
    mutationFn: async (body) =>
      throwIfError(await ctx.client.POST(TASKS_PATH, { params: { path: { user_id: ctx.userId } }, body })),
    onSuccess: (task) => apply(ctx, { type: "upsert", task }),
  };
}

/** Changes fields of a task, shown at once; rolled back if the server refuses. */
export function updateTaskMutation(ctx: TaskMutationContext): MutationOptions<Task, MutationError, UpdateTaskVariables, Undo> {
  return {
    mutationKey: ["put", TASK_PATH, ctx.userId],
    mutationFn: async ({ id, changes, ifMatch }) =>
      throwIfError(
        await ctx.client.PUT(TASK_PATH, {
          params: { path: { user_id: ctx.userId, id }, ...(ifMatch ? { header: { "If-Match": ifMatch } } : {}) },
          body: changes,
        }),
      ),
    onMutate: ({ id, changes }) =>
      optimistic(ctx, id, (task) => {
        // `updated_at` stays: the server's answer (and any later event) is newer and wins.
        const next: Task = { ...task };
        if (changes.title !== undefined) next.title = changes.title.trim();
        if (changes.description !== undefined) next.description = changes.description;
        if (changes.priority !== undefined) next.priority = changes.priority;
        if (changes.tags !== undefined) next.tags = (changes.tags ?? []).map((t) => t.trim());
        if (changes.due_at !== undefined) next.due_at = changes.due_at;
        if (changes.remind_at !== undefined) next.remind_at = changes.remind_at;
        if (changes.recurrence !== undefined) next.recurrence = changes.recurrence;
        // Where it goes; its new `position` comes with the server's answer.
        if (changes.list_id !== undefined) next.list_id = changes.list_id;
        if (changes.parent_id !== undefined) next.parent_id = changes.parent_id;
        return next;
      }),
    onError: (_error, _vars, undo) => rollback(ctx, undo),
    onSuccess: (task) => apply(ctx, { type: "upsert", task }),
  };
}

/** Sets a task's completion, shown at once; rolled back if the server refuses. */
export function completeTaskMutation(
  ctx: TaskMutationContext,
): MutationOptions<Task, MutationError, CompleteTaskVariables, Undo> {
  return {
    mutationKey: ["patch", `${TASK_PATH}/complete`, ctx.userId],
    mutationFn: async ({ id, completed }) =>
      throwIfError(
        await ctx.client.PATCH("/api/{user_id}/tasks/{id}/complete", {
          params: { path: { user_id: ctx.userId, id } },
          body: { completed },
        }),
      ),
    onMutate: ({ id, completed }) =>
      optimistic(ctx, id, (task) => ({
        ...task,
        completed,
        completed_at: completed ? (task.completed_at ?? nowIso()) : null,
      })),
    onError: (_error, _vars, undo) => rollback(ctx, undo),
    onSuccess: async (task) => {
      apply(ctx, { type: "upsert", task });
      await fetchNextOccurrence(ctx, task);
    },
  };
}

/**
 * Deletes a task, gone from the lists at once; put back if the server refuses. A 404 counts as
 * success: the task is gone either way (deleted elsewhere, or by an earlier attempt).
 */
export function deleteTaskMutation(ctx: TaskMutationContext): MutationOptions<void, MutationError, DeleteTaskVariables, Undo> {
  return {
    mutationKey: ["delete", TASK_PATH, ctx.userId],
    mutationFn: async ({ id }) => {
      const { error } = await ctx.client.DELETE(TASK_PATH, { params: { path: { user_id: ctx.userId, id } } });
      if (error !== undefined && !isProblemOf(error, "not-found")) throw error;
    },
    onMutate: ({ id }) => optimistic(ctx, id, "delete"),
    onError: (_error, _vars, undo) => rollback(ctx, undo),
    onSuccess: (_data, { id }) => apply(ctx, { type: "delete", id }),
  };
}

/** Where a move puts `task`: its list and parent, decided as the server does, from the cache. */
function destination(
  task: Task,
  where: MoveTaskVariables,
  known: ReadonlyMap<number, Task>,
): { list_id: number | null; parent_id: number | null } {
  if (where.parent_id !== undefined && where.parent_id !== null) {
    // A subtask is always in its parent's list.
    const list = known.get(where.parent_id)?.list_id ?? (where.list_id !== undefined ? where.list_id : task.list_id);
    return { list_id: list, parent_id: where.parent_id };
  }
  const list = where.list_id !== undefined ? where.list_id : task.list_id;
  if (where.parent_id === null) return { list_id: list, parent_id: null };
  // Another list without a parent: it leaves its parent. Otherwise both stay.
  return list !== task.list_id ? { list_id: list, parent_id: null } : { list_id: task.list_id, parent_id: task.parent_id };
}

/** The cached tasks of one sibling set (same list, same parent), in order, without `exclude`. */
function siblingsOf(
  known: ReadonlyMap<number, Task>,
  at: { list_id: number | null; parent_id: number | null },
  exclude: number,
): Task[] {
  return [...known.values()]
    .filter((t) => t.id !== exclude && t.list_id === at.list_id && t.parent_id === at.parent_id)
    .sort(compareByPosition);
}

/** Where `after` puts a task among `siblings` (an index), or `undefined` when `after` is not cached there. */
function slot(siblings: readonly Task[], after: number | null | undefined): number | undefined {
  if (after === undefined) return siblings.length;
  if (after === null) return 0;
  const index = siblings.findIndex((t) => t.id === after);
  return index === -1 ? undefined : index + 1;
}

/** The cached tasks under `id`, at any depth. */
function descendants(known: ReadonlyMap<number, Task>, id: number): Task[] {
  const found: Task[] = [];
  const queue = [id];
  for (let parent = queue.shift(); parent !== undefined; parent = queue.shift()) {
    for (const t of known.values()) {
      if (t.parent_id === parent && !found.includes(t)) {
        found.push(t);
        queue.push(t.id);
      }
    }
  }
  return found;
}

/** A parent's subtask counts after it lost (`-1`) or gained (`+1`) `child`. */
function recount(parent: Task, child: Task, delta: 1 | -1): Task {
  return {
    ...parent,
    subtask_count: Math.max(0, parent.subtask_count + delta),
    completed_subtask_count: Math.max(0, parent.completed_subtask_count + (child.completed ? delta : 0)),
  };
}

/** What a move remembers: every cached task it changed (the task, its subtasks, the parents' counts). */
interface MoveUndo {
  steps: Undo[];
}

/**
 * Moves a task (another place among its siblings, another list, another parent), shown at once:
 * every cached listing sorted by `position` gets it at its new place (with a position computed
 * between its new neighbours), listings filtered by list or parent gain or lose it, its cached
 * subtasks follow it to another list and the parents' subtask counts change. The server's answer
 * (the real `position`) replaces the guess; an error (a 412 from `ifMatch`, a 422 for a missing
 * list, parent or `after`) puts everything back. Moves of a user run one after another, in the
 * order they were made (a TanStack mutation `scope`), so quick successive moves land in order.
 */
export function moveTaskMutation(
  ctx: TaskMutationContext,
): MutationOptions<Task, MutationError, MoveTaskVariables, MoveUndo> {
  const { queryClient, userId } = ctx;
  return {
    mutationKey: ["post", MOVE_PATH, userId],
    scope: { id: `todo-api:move:${userId}` },
    mutationFn: async ({ id, ifMatch, ...where }) =>
      throwIfError(
        await ctx.client.POST(MOVE_PATH, {
          params: { path: { user_id: userId, id }, ...(ifMatch ? { header: { "If-Match": ifMatch } } : {}) },
          body: where,
        }),
      ),
    onMutate: async (vars) => {
      await settle(ctx);
      const known = cachedTasks(queryClient, userId);
      const task = known.get(vars.id);
      if (!task) return { steps: [] };
      const steps: Undo[] = [];
      const write = (before: Task, shown: Task): void => {
        steps.push({ before, shown });
        apply(ctx, { type: "upsert", task: shown });
      };

      const to = destination(task, vars, known);
      const siblings = siblingsOf(known, to, task.id);
      const index = slot(siblings, vars.after);
      const position =
        index === undefined
          ? task.position // `after` is not in the cache: only the server knows the place
          : positionBetween(siblings[index - 1]?.position ?? null, siblings[index]?.position ?? null);
      // `updated_at` stays: the server's answer (and any later event) is newer and wins.
      write(task, { ...task, ...to, position });

      if (to.list_id !== task.list_id) {
        for (const sub of descendants(known, task.id)) write(sub, { ...sub, list_id: to.list_id });
      }
      if (to.parent_id !== task.parent_id) {
        const old = task.parent_id === null ? undefined : known.get(task.parent_id);
        if (old) write(old, recount(old, task, -1));
        const next = to.parent_id === null ? undefined : known.get(to.parent_id);
        if (next) write(next, recount(next, task, 1));
      }
      return { steps };
    },
    onError: (_error, _vars, undo) => {
      const clean = [...(undo?.steps ?? [])].reverse().map((step) => rollback(ctx, step));
      // Something else changed these tasks meanwhile (another move, an event): ask the server.
      if (!clean.every(Boolean)) void queryClient.invalidateQueries({ predicate: isTaskQuery(userId) });
    },
    onSuccess: (task, vars, undo) => {
      const moved = undo?.steps[0]?.before;
      apply(ctx, { type: "upsert", task });
      // The answer must sort where it was put among the cached siblings. It does not when the
      // server renumbered them (keys that grew too long: each sibling got a new position) or the
      // cache missed a change; nor do cached listings hold subtasks it never saw move to another
      // list. Then the listings are fetched again.
      const known = cachedTasks(queryClient, userId);
      const siblings = siblingsOf(known, task, task.id);
      const index = slot(siblings, vars.after);
      const before = index === undefined ? undefined : siblings[index - 1];
      const after = index === undefined ? undefined : siblings[index];
      const inPlace =
        (before === undefined || before.position < task.position) && (after === undefined || task.position < after.position);
      const subtasksMoved = task.subtask_count > 0 && (moved === undefined || moved.list_id !== task.list_id);
      if (!inPlace || subtasksMoved) void queryClient.invalidateQueries({ predicate: isTaskQuery(userId) });
    },
  };
}
