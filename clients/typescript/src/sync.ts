/**
 * {@link sync}: a local `Map` of the user's tasks kept equal to the server's, from the change
 * feed (`/changes`: the whole state, then every change) and the event stream (`/events`, resumed
 * from the feed's cursor, so nothing falls between the two). When the cursor is too old for the
 * server (410), the map is rebuilt from scratch and the stream goes on from there.
 * @module
 */
import { readChanges, subscribe, type Change, type SubscriptionStatus } from "./events.js";
import type { TodoClient } from "./index.js";
import type { components } from "./schema.js";

type Task = components["schemas"]["Task"];

/** Options of {@link sync}. */
export interface SyncOptions {
  /** The signed-in user's id (the token's `sub`). */
  user_id: string;
  /** Called after the map changed: the map, and the changes applied (all of them after a rebuild). */
  onUpdate?: (tasks: ReadonlyMap<number, Task>, changes: readonly Change[]) => void;
  /** Called with every failure; the sync retries by itself. */
  onError?: (error: unknown) => void;
  /** The event stream's status. */
  onStatus?: (status: SubscriptionStatus) => void;
  /** Stops it. */
  signal?: AbortSignal;
  /** The event stream's reconnect backoff (see `SubscribeOptions.reconnect`). */
  reconnect?: { baseDelayMs?: number; maxDelayMs?: number };
}

/** A running sync. */
export interface TaskSync {
  /** The tasks by id, as the server has them (as of the last change received). */
  readonly tasks: ReadonlyMap<number, Task>;
  /** Resolves once the whole state is loaded and the stream is starting. */
  readonly ready: Promise<void>;
  /** The cursor after the last change applied. */
  readonly cursor: string | undefined;
  /** Stops it. */
  close(): void;
  /** Settles when it has stopped. */
  readonly done: Promise<void>;
}

/** Applies one change to a map of tasks (a list's change, `list_upsert` or `list_delete`, is not a task's: the map does not change). */
export function applyChange(tasks: Map<number, Task>, change: Change): void {
  if (change.type === "upsert") tasks.set(change.task.id, change.task);
  else if (change.type === "delete") tasks.delete(change.id);
}

/** Keeps a local map of the user's tasks in sync with the server. */
export function sync(client: TodoClient, options: SyncOptions): TaskSync {
  const tasks = new Map<number, Task>();
  const controller = new AbortController();
  options.signal?.addEventListener("abort", () => controller.abort(options.signal?.reason), { once: true });
  let cursor: string | undefined;
  let subscription: ReturnType<typeof subscribe> | undefined;

  /** Reads the whole state into a fresh map, then swaps it in. */
  const rebuild = async (): Promise<string> => {
    const fresh = new Map<number, Task>();
    const applied: Change[] = [];
    const after = await readChanges(
      client,
      options.user_id,
      undefined,
      (change) => {
        applyChange(fresh, change);
        applied.push(change);
      },
      controller.signal,
    );
    tasks.clear();
    for (const [id, task] of fresh) tasks.set(id, task);
    cursor = after;
    options.onUpdate?.(tasks, applied);
    return after;
  };

  const ready = (async () => {
    for (;;) {
      try {
        await rebuild();
        return;
      } catch (error) {
        if (controller.signal.aborted) throw error;
        options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  })();

  const done = ready
    .then(async () => {
      subscription = subscribe(client, {
        user_id: options.user_id,
        since: cursor,
        signal: controller.signal,
        onChange: (change, after) => {
          applyChange(tasks, change);
          cursor = after;
          options.onUpdate?.(tasks, [change]);
        },
        onExpired: rebuild,
        ...(options.reconnect ? { reconnect: options.reconnect } : {}),
        ...(options.onError ? { onError: options.onError } : {}),
        ...(options.onStatus ? { onStatus: options.onStatus } : {}),
      });
      await subscription.done;
    })
    .catch(() => {});

  return {
    tasks,
    ready,
    get cursor() {
      return cursor;
    },
    close() {
      controller.abort();
    },
    done,
  };
}
