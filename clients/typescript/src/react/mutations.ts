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
import { TASKS_PATH, TASK_PATH, applyTaskChange, findCachedTask, isTaskQuery, type TaskChange } from "./cache.js";

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

/** Puts `undo.before` back, if the cache still shows what this mutation wrote. */
function rollback(ctx: TaskMutationContext, undo: Undo | undefined): void {
  if (!undo?.before) return;
  const current = findCachedTask(ctx.queryClient, ctx.userId, undo.before.id);
  const untouched = undo.shown === undefined ? current === undefined : sameValue(current, undo.shown);
  if (untouched) apply(ctx, { type: "upsert", task: undo.before });
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
