/**
 * Applying one task change (a task as it is now, or a deleted id) to the TanStack Query cache of
 * the openapi-react-query hooks, without refetching: every cached listing of the user's tasks
 * gets the task inserted, replaced, moved or removed according to its own filters and sort, and
 * the cached single-task queries are updated. Used by the optimistic mutations, their server
 * answers and the live event stream alike.
 *
 * A listing whose filters cannot be evaluated here (a page after a cursor, a `limit`) and the
 * derived queries (tags, reminders) are marked stale and refetched once, coalesced: a burst of
 * changes costs one request per such query, not one per change.
 * @module
 */
import type { Query, QueryClient, QueryKey } from "@tanstack/react-query";

import type { components, paths } from "../schema.js";

type Task = components["schemas"]["Task"];
type ListQuery = NonNullable<paths["/api/{user_id}/tasks"]["get"]["parameters"]["query"]>;

/** The path of the listing. */
export const TASKS_PATH = "/api/{user_id}/tasks" as const;
/** The path of one task. */
export const TASK_PATH = "/api/{user_id}/tasks/{id}" as const;
/** The user's lists (projects), with their task counts. */
export const LISTS_PATH = "/api/{user_id}/lists" as const;
/** One list. */
export const LIST_PATH = "/api/{user_id}/lists/{list_id}" as const;
/** Queries whose answers depend on tasks but are not tasks or lists of tasks (a list's counts). */
const DERIVED_PATHS: readonly string[] = [
  "/api/{user_id}/tags",
  "/api/{user_id}/reminders",
  LISTS_PATH,
  LIST_PATH,
];

/** One change to a user's tasks. */
export type TaskChange = { type: "upsert"; task: Task } | { type: "delete"; id: number };

interface Init {
  params?: { path?: { user_id?: string; id?: number }; query?: Partial<ListQuery> };
}

function keyParts(key: QueryKey): { method: unknown; path: unknown; init: Init | undefined } {
  return { method: key[0], path: key[1], init: key[2] as Init | undefined };
}

/** Whether `key` is a GET of this user's data (the openapi-react-query key `[method, path, init]`). */
function isUsersGet(key: QueryKey, userId: string): boolean {
  const { method, path, init } = keyParts(key);
  return method === "get" && typeof path === "string" && init?.params?.path?.user_id === userId;
}

/** Every cached query of `userId`'s task listings and single tasks. */
export function isTaskQuery(userId: string) {
  return (query: Query): boolean => {
    const { path } = keyParts(query.queryKey);
    return isUsersGet(query.queryKey, userId) && (path === TASKS_PATH || path === TASK_PATH);
  };
}

const asArray = <T>(value: T | readonly T[] | undefined): readonly T[] =>
  value === undefined ? [] : Array.isArray(value) ? (value as readonly T[]) : [value as T];

/** Whether the listing `query` can be kept up to date here: no cursor, no page size. */
export function isEvaluable(query: Partial<ListQuery>): boolean {
  return query.cursor === undefined && query.limit === undefined;
}

/** Whether `task` belongs in a listing with these filters (the server's rules). */
export function matchesListQuery(task: Task, query: Partial<ListQuery>, now: number = Date.now()): boolean {
  const status = query.status ?? "all";
  if (status === "pending" && task.completed) return false;
  if (status === "completed" && !task.completed) return false;
  const priorities = asArray(query.priority);
  if (priorities.length > 0 && !priorities.includes(task.priority)) return false;
  const own = task.tags.map((t) => t.toLowerCase());
  if (!asArray(query.tag).every((t) => own.includes(t.trim().toLowerCase()))) return false;
  if (query.q) {
    const needle = query.q.toLowerCase();
    const hay = `${task.title}\n${task.description ?? ""}`.toLowerCase();
    if (!hay.includes(needle)) return false;
  }
  const due = task.due_at === null ? undefined : Date.parse(task.due_at);
  if (query.due_before !== undefined && !(due !== undefined && due < Date.parse(query.due_before))) return false;
  if (query.due_after !== undefined && !(due !== undefined && due >= Date.parse(query.due_after))) return false;
  if (query.overdue && !(due !== undefined && !task.completed && due < now)) return false;
  if (query.list_id !== undefined && task.list_id !== (query.list_id === "inbox" ? null : Number(query.list_id))) {
    return false;
  }
  if (
    query.parent_id !== undefined &&
    task.parent_id !== (query.parent_id === "none" ? null : Number(query.parent_id))
  ) {
    return false;
  }
  return true;
}

const PRIORITY_RANK = { low: 0, medium: 1, high: 2 } as const;

/** Compares two tasks in the order of a listing with this `sort` and `order` (ties by id). */
export function compareForListQuery(query: Partial<ListQuery>): (a: Task, b: Task) => number {
  const sort = query.sort ?? "created";
  const order = query.order ?? (sort === "title" || sort === "due_date" || sort === "position" ? "asc" : "desc");
  const dir = order === "asc" ? 1 : -1;
  const value = (t: Task): number | string | undefined => {
    switch (sort) {
      case "created":
        return Date.parse(t.created_at);
      case "updated":
        return Date.parse(t.updated_at);
      case "title":
        return t.title.toLowerCase();
      case "due_date":
        return t.due_at === null ? undefined : Date.parse(t.due_at);
      case "priority":
        return PRIORITY_RANK[t.priority];
      case "position":
        // Positions sort byte-wise (ASCII): JavaScript's `<` on strings does exactly that.
        return t.position;
    }
  };
  return (a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === undefined || vb === undefined) {
      // No due date: always last, whatever the direction.
      if (va !== vb) return va === undefined ? 1 : -1;
    } else if (va !== vb) {
      return (va < vb ? -1 : 1) * dir;
    }
    return (a.id - b.id) * dir;
  };
}

/** Orders tasks by `position` as the server does (byte-wise; ties, which never happen, by id). */
export function compareByPosition(a: Task, b: Task): number {
  if (a.position !== b.position) return a.position < b.position ? -1 : 1;
  return a.id - b.id;
}

/** The characters of a key made here: printable ASCII, a superset of the server's `0-9A-Za-z`. */
const KEY_MIN = 0x21;
const KEY_MAX = 0x7e;

/**
 * A position that sorts strictly between `lo` and `hi` (byte-wise; `null`: no bound), for an
 * optimistic move until the server's answer brings the real one. `lo` must sort before `hi`.
 * The result may use characters the server never does: it only has to sort right.
 */
export function positionBetween(lo: string | null, hi: string | null): string {
  const low = lo ?? "";
  let prefix = "";
  let tight = hi !== null; // whether the result so far equals `hi`'s prefix
  for (let i = 0; ; i += 1) {
    // An exhausted `lo` counts as just below the smallest character: any character follows it.
    const dl = i < low.length ? low.charCodeAt(i) : KEY_MIN - 1;
    const dh = tight && hi !== null ? (i < hi.length ? hi.charCodeAt(i) : KEY_MIN - 1) : KEY_MAX + 1;
    if (dh - dl >= 2) return prefix + String.fromCharCode(Math.floor((dl + dh) / 2));
    if (dl < KEY_MIN || i > 64) {
      // `hi` is `lo` followed by almost nothing (never a server key): give up on between.
      return prefix + String.fromCharCode(Math.max(dl, KEY_MIN));
    }
    prefix += String.fromCharCode(dl);
    if (dh !== dl) tight = false;
  }
}

/** Every task of `userId` the cache holds (each in its newest copy, by `updated_at`), by id. */
export function cachedTasks(queryClient: QueryClient, userId: string): Map<number, Task> {
  const found = new Map<number, Task>();
  for (const query of queryClient.getQueryCache().findAll({ predicate: isTaskQuery(userId) })) {
    const data = query.state.data as Task | Task[] | undefined;
    for (const task of Array.isArray(data) ? data : data ? [data] : []) {
      const seen = found.get(task.id);
      if (!seen || Date.parse(task.updated_at) > Date.parse(seen.updated_at)) found.set(task.id, task);
    }
  }
  return found;
}

/** `list` with `change` applied, or `undefined` when it cannot be evaluated here. */
export function applyToList(list: readonly Task[], query: Partial<ListQuery>, change: TaskChange): Task[] | undefined {
  const id = change.type === "upsert" ? change.task.id : change.id;
  const without = list.filter((t) => t.id !== id);
  if (change.type === "delete") return without;
  if (!isEvaluable(query)) {
    // Only replace in place: whether it moved in or out of this page is the server's call.
    return list.some((t) => t.id === id) ? undefined : list.slice();
  }
  if (!matchesListQuery(change.task, query)) return without;
  const compare = compareForListQuery(query);
  const index = without.findIndex((t) => compare(change.task, t) < 0);
  without.splice(index === -1 ? without.length : index, 0, change.task);
  return without;
}

/** How {@link applyTaskChange} applies a change. */
export interface ApplyOptions {
  /**
   * `force` (default): write it as it is (optimistic updates, server answers, rollbacks).
   * `newer`: skip a query whose copy of the task is at least as new (`updated_at`), for events
   * that may arrive after a fetch already brought a later state.
   */
  mode?: "force" | "newer";
  /** Only the queries this accepts. */
  only?: (query: Query) => boolean;
}

function isAtLeastAsNew(cached: Task | undefined, incoming: Task): boolean {
  return cached !== undefined && Date.parse(cached.updated_at) >= Date.parse(incoming.updated_at);
}

/**
 * A list's change (`list_upsert`, `list_delete`): the cached lists of `userId` are refetched once
 * (coalesced), and the task listings of a deleted list too (its tasks moved or went, and the
 * feed sends those changes as well).
 */
export function applyListChange(queryClient: QueryClient, userId: string): void {
  const stale: QueryKey[] = [];
  for (const query of queryClient.getQueryCache().getAll()) {
    const { path } = keyParts(query.queryKey);
    if (isUsersGet(query.queryKey, userId) && (path === LISTS_PATH || path === LIST_PATH)) {
      stale.push(query.queryKey);
    }
  }
  if (stale.length > 0) scheduleRefetch(queryClient, stale);
}

/** Whether `change` is about a task (not a list). */
export function isTaskChange(change: { type: string }): change is TaskChange {
  return change.type === "upsert" || change.type === "delete";
}

/**
 * Applies `change` to every cached task query of `userId`. Returns nothing; queries it cannot
 * update are refetched once (coalesced).
 */
export function applyTaskChange(
  queryClient: QueryClient,
  userId: string,
  change: TaskChange,
  options: ApplyOptions = {},
): void {
  const id = change.type === "upsert" ? change.task.id : change.id;
  const newerOnly = options.mode === "newer" && change.type === "upsert";
  const stale: QueryKey[] = [];
  for (const query of queryClient.getQueryCache().findAll({ predicate: isTaskQuery(userId) })) {
    if (options.only && !options.only(query)) continue;
    const { path, init } = keyParts(query.queryKey);
    if (path === TASK_PATH) {
      if (init?.params?.path?.id !== id) continue;
      if (change.type === "delete") queryClient.removeQueries({ queryKey: query.queryKey, exact: true });
      else if (!(newerOnly && isAtLeastAsNew(query.state.data as Task | undefined, change.task))) {
        queryClient.setQueryData(query.queryKey, change.task);
      }
      continue;
    }
    const list = query.state.data as Task[] | undefined;
    if (!Array.isArray(list)) continue;
    if (newerOnly && isAtLeastAsNew(list.find((t) => t.id === id), change.task)) continue;
    const next = applyToList(list, init?.params?.query ?? {}, change);
    if (next === undefined) stale.push(query.queryKey);
    else queryClient.setQueryData(query.queryKey, next);
  }
  for (const query of queryClient.getQueryCache().getAll()) {
    if (options.only) break;
    const { path } = keyParts(query.queryKey);
    if (isUsersGet(query.queryKey, userId) && typeof path === "string" && DERIVED_PATHS.includes(path)) {
      stale.push(query.queryKey);
    }
  }
  if (stale.length > 0) scheduleRefetch(queryClient, stale);
}

/** The task `id` of `userId` as the cache knows it (a single-task query or any listing). */
export function findCachedTask(queryClient: QueryClient, userId: string, id: number): Task | undefined {
  let found: Task | undefined;
  for (const query of queryClient.getQueryCache().findAll({ predicate: isTaskQuery(userId) })) {
    const data = query.state.data as Task | Task[] | undefined;
    const candidate = Array.isArray(data) ? data.find((t) => t.id === id) : data?.id === id ? data : undefined;
    if (candidate && (!found || Date.parse(candidate.updated_at) > Date.parse(found.updated_at))) {
      found = candidate;
    }
  }
  return found;
}

const pending = new WeakMap<QueryClient, Map<string, QueryKey>>();

/**
 * Marks `keys` stale and refetches the active ones once, after the current burst of changes, and
 * never while a mutation is in flight: a refetch sent then can be answered before the server has
 * the mutation, and would put back the state its optimistic update replaced (a checkbox ticked,
 * then unticked by a refetch, then ticked again by the answer). It waits for them to settle.
 */
function scheduleRefetch(queryClient: QueryClient, keys: QueryKey[]): void {
  let batch = pending.get(queryClient);
  if (!batch) {
    const fresh = new Map<string, QueryKey>();
    batch = fresh;
    pending.set(queryClient, fresh);
    const refetch = (): void => {
      if (queryClient.isMutating() > 0) {
        setTimeout(refetch, 100);
        return;
      }
      pending.delete(queryClient);
      for (const queryKey of fresh.values()) {
        void queryClient.invalidateQueries({ queryKey, exact: true }, { cancelRefetch: true });
      }
    };
    setTimeout(refetch, 100);
  }
  for (const key of keys) batch.set(JSON.stringify(key), key);
}
