"use client";
/**
 * `@todo-api/client/react`: TanStack Query hooks for the API, for React client components.
 *
 * - {@link TodoProvider} holds the client and the signed-in user's id;
 * - {@link useTodoApi} is openapi-react-query over the client: `useQuery`, `useMutation`,
 *   `useSuspenseQuery`, `useInfiniteQuery` and `queryOptions` for every operation, typed from
 *   the spec;
 * - {@link useTasks}, {@link useTask} and {@link useTags} read, and {@link useCreateTask},
 *   {@link useUpdateTask}, {@link useCompleteTask}, {@link useDeleteTask} and
 *   {@link useMoveTask} write with optimistic updates that roll back on error;
 * - {@link useLiveTasks} applies the user's event stream to the cache as changes happen.
 *
 * Peer dependencies: `react` 18 or 19, `@tanstack/react-query` 5, `openapi-react-query` 0.5.
 * @module
 */
import {
  useMutation,
  useQueryClient,
  type UseMutationResult,
} from "@tanstack/react-query";
import createQueryHooks, { type OpenapiQueryClient } from "openapi-react-query";
import { createContext, createElement, useContext, useMemo, type ReactNode } from "react";

import type { TodoClient } from "../index.js";
import type { components, paths } from "../schema.js";
import { TASKS_PATH, TASK_PATH } from "./cache.js";
import { useLiveTaskStream, type LiveTasksOptions } from "./live.js";
import type { SubscriptionStatus } from "../events.js";
import {
  completeTaskMutation,
  createTaskMutation,
  deleteTaskMutation,
  moveTaskMutation,
  updateTaskMutation,
  type CompleteTaskVariables,
  type DeleteTaskVariables,
  type MoveTaskVariables,
  type MutationError,
  type TaskMutationContext,
  type UpdateTaskVariables,
} from "./mutations.js";

export {
  TASKS_PATH,
  TASK_PATH,
  applyTaskChange,
  applyToList,
  compareByPosition,
  compareForListQuery,
  findCachedTask,
  isTaskQuery,
  matchesListQuery,
  positionBetween,
  type ApplyOptions,
  type TaskChange,
} from "./cache.js";
export { startLiveTasks, type LiveTasksOptions } from "./live.js";
export {
  completeTaskMutation,
  createTaskMutation,
  deleteTaskMutation,
  moveTaskMutation,
  updateTaskMutation,
  type CompleteTaskVariables,
  type DeleteTaskVariables,
  type MoveTaskVariables,
  type MutationError,
  type TaskMutationContext,
  type UpdateTaskVariables,
} from "./mutations.js";

type Schemas = components["schemas"];
type Task = Schemas["Task"];
/** The filters, sort and paging of `GET /api/{user_id}/tasks`. */
export type TaskListQuery = NonNullable<paths["/api/{user_id}/tasks"]["get"]["parameters"]["query"]>;

/** openapi-react-query's hooks over a {@link TodoClient}. */
export type TodoQueryHooks = OpenapiQueryClient<paths>;

/** openapi-react-query over `client`: typed hooks for every operation. */
export function createTodoQueryHooks(client: TodoClient): TodoQueryHooks {
  return createQueryHooks<paths>(client);
}

interface TodoContextValue {
  client: TodoClient;
  userId: string;
  api: TodoQueryHooks;
}

const TodoContext = createContext<TodoContextValue | null>(null);

/** Props of {@link TodoProvider}. */
export interface TodoProviderProps {
  /** The client, from `createTodoClient`. */
  client: TodoClient;
  /** The signed-in user's id (Better Auth's `session.user.id`, the token's `sub`). */
  userId: string;
  children?: ReactNode;
}

/**
 * Makes the client and the user available to the hooks below it. Place it inside TanStack's
 * `QueryClientProvider`.
 */
export function TodoProvider({ client, userId, children }: TodoProviderProps) {
  const value = useMemo(() => ({ client, userId, api: createTodoQueryHooks(client) }), [client, userId]);
  return createElement(TodoContext.Provider, { value }, children);
}

/** The client, the user's id and the openapi-react-query hooks of the nearest {@link TodoProvider}. */
export function useTodo(): TodoContextValue {
  const value = useContext(TodoContext);
  if (!value) throw new Error("useTodo: wrap the component in <TodoProvider client={…} userId={…}>");
  return value;
}

/** openapi-react-query's hooks for every operation (`api.useQuery("get", "/api/{user_id}/tags", …)`). */
export function useTodoApi(): TodoQueryHooks {
  return useTodo().api;
}

/** TanStack options the read hooks pass on (e.g. `initialData` rendered by a server component). */
export interface ReadOptions<T> {
  /** `false` waits (e.g. until the session is known). */
  enabled?: boolean;
  /** How long an answer counts as fresh, in milliseconds. */
  staleTime?: number;
  /** Poll every so many milliseconds (not needed with `useLiveTasks`). */
  refetchInterval?: number | false;
  /** The answer already at hand, e.g. rendered by a server component. */
  initialData?: T;
}

/** The user's tasks matching `query` (filters and sort of `GET /api/{user_id}/tasks`). */
export function useTasks(query: TaskListQuery = {}, options?: ReadOptions<Task[]>) {
  const { api, userId } = useTodo();
  return api.useQuery("get", TASKS_PATH, { params: { path: { user_id: userId }, query } }, options);
}

/** One task. */
export function useTask(id: number, options?: ReadOptions<Task>) {
  const { api, userId } = useTodo();
  return api.useQuery("get", TASK_PATH, { params: { path: { user_id: userId, id } } }, options);
}

/** The user's tags with their counts. */
export function useTags(options?: ReadOptions<Schemas["TagCount"][]>) {
  const { api, userId } = useTodo();
  return api.useQuery("get", "/api/{user_id}/tags", { params: { path: { user_id: userId } } }, options);
}

function useMutationContext(): TaskMutationContext {
  const { client, userId } = useTodo();
  const queryClient = useQueryClient();
  return useMemo(() => ({ client, userId, queryClient }), [client, userId, queryClient]);
}

/** Creates a task: `mutate({ title, tags, … })`; it appears in the matching lists when created. */
export function useCreateTask(): UseMutationResult<Task, MutationError, Schemas["CreateTask"]> {
  const ctx = useMutationContext();
  return useMutation(useMemo(() => createTaskMutation(ctx), [ctx]));
}

/** Changes a task: `mutate({ id, changes: { title } })`, shown at once, rolled back on error. */
export function useUpdateTask(): UseMutationResult<Task, MutationError, UpdateTaskVariables, unknown> {
  const ctx = useMutationContext();
  return useMutation(useMemo(() => updateTaskMutation(ctx), [ctx])) as UseMutationResult<
    Task,
    MutationError,
    UpdateTaskVariables,
    unknown
  >;
}

/** Sets completion: `mutate({ id, completed: true })`, shown at once, rolled back on error. */
export function useCompleteTask(): UseMutationResult<Task, MutationError, CompleteTaskVariables, unknown> {
  const ctx = useMutationContext();
  return useMutation(useMemo(() => completeTaskMutation(ctx), [ctx])) as UseMutationResult<
    Task,
    MutationError,
    CompleteTaskVariables,
    unknown
  >;
}

/** Deletes a task: `mutate({ id })`, gone at once, put back on error. */
export function useDeleteTask(): UseMutationResult<void, MutationError, DeleteTaskVariables, unknown> {
  const ctx = useMutationContext();
  return useMutation(useMemo(() => deleteTaskMutation(ctx), [ctx])) as UseMutationResult<
    void,
    MutationError,
    DeleteTaskVariables,
    unknown
  >;
}

/**
 * Moves a task, shown at once, rolled back on error: `mutate({ id, after: 7 })` (right after task
 * 7), `{ id, after: null }` (first), `{ id }` (last), with `list_id` / `parent_id` to move it to
 * another list or under another parent. Listings sorted by `position` show the new order at once.
 */
export function useMoveTask(): UseMutationResult<Task, MutationError, MoveTaskVariables, unknown> {
  const ctx = useMutationContext();
  return useMutation(useMemo(() => moveTaskMutation(ctx), [ctx])) as UseMutationResult<
    Task,
    MutationError,
    MoveTaskVariables,
    unknown
  >;
}

/**
 * Live updates: while mounted, applies the user's event stream to every cached task query (no
 * refetch per change) and returns the stream's status: `"open"` when live, `"reconnecting"`
 * after a drop (nothing is lost: it resumes where it stopped).
 *
 * ```tsx
 * const status = useLiveTasks();
 * return <span>{status === "open" ? "live" : "reconnecting…"}</span>;
 * ```
 */
export function useLiveTasks(options: LiveTasksOptions & { enabled?: boolean } = {}): SubscriptionStatus {
  const { client, userId } = useTodo();
  return useLiveTaskStream(client, userId, options);
}
