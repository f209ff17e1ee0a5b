/**
 * Live updates for the TanStack Query cache: the user's event stream applied to every cached
 * task query as the changes arrive, without refetching them.
 *
 * - When the stream first opens, the task queries are refetched once (what they hold may be
 *   older than the stream's start); reconnections resume with `Last-Event-ID` and refetch
 *   nothing.
 * - An event never overwrites a newer copy (`updated_at`), and the changes of the last 30 s are
 *   applied again to any task query a fetch has just filled, so a fetch that started before a
 *   change and answered after it cannot bring the change's effect back.
 * - Tags and other derived queries are refetched once per burst of changes (coalesced).
 * @module
 */
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { subscribe, type Change, type SubscriptionStatus } from "../events.js";
import type { TodoClient } from "../index.js";
import { applyListChange, applyTaskChange, isTaskChange, isTaskQuery } from "./cache.js";

/** How long received changes are kept to re-apply to fetches that answer late. */
const REPLAY_MS = 30_000;

/** Options of {@link startLiveTasks} and {@link useLiveTasks}. */
export interface LiveTasksOptions {
  /** Called with every failure of the stream (it reconnects by itself). */
  onError?: (error: unknown) => void;
  /** Called with each change after it was applied to the cache. */
  onChange?: (change: Change) => void;
}

/**
 * Applies `userId`'s event stream to `queryClient` until the returned function is called (the
 * engine of {@link useLiveTasks}, usable outside React). `onStatus` hears `connecting`, `open`,
 * `reconnecting`, `closed`.
 */
export function startLiveTasks(
  client: TodoClient,
  queryClient: QueryClient,
  userId: string,
  onStatus: (status: SubscriptionStatus) => void = () => {},
  options: LiveTasksOptions = {},
): () => void {
  const controller = new AbortController();
  const recent: { at: number; change: Change }[] = [];
  const isMine = isTaskQuery(userId);
  let opened = false;

  const unsubscribeCache = queryClient.getQueryCache().subscribe((event) => {
    if (event.type !== "updated" || event.action.type !== "success" || event.action.manual) return;
    const query = event.query;
    if (!isMine(query)) return;
    const cutoff = Date.now() - REPLAY_MS;
    for (const { at, change } of recent) {
      if (at >= cutoff && isTaskChange(change)) {
        applyTaskChange(queryClient, userId, change, { mode: "newer", only: (q) => q === query });
      }
    }
  });

  const start = (): void => {
    let expired = false;
    const subscription = subscribe(client, {
      user_id: userId,
      signal: controller.signal,
      onStatus,
      onReady: () => {
        if (opened) return;
        opened = true;
        void queryClient.invalidateQueries({ predicate: isMine });
      },
      onChange: (change) => {
        const now = Date.now();
        recent.push({ at: now, change });
        while (recent.length > 0 && (recent[0]?.at ?? now) < now - REPLAY_MS) recent.shift();
        if (isTaskChange(change)) applyTaskChange(queryClient, userId, change, { mode: "newer" });
        else applyListChange(queryClient, userId);
        options.onChange?.(change);
      },
      onExpired: () => {
        expired = true;
        return undefined;
      },
      ...(options.onError ? { onError: options.onError } : {}),
    });
    // When its cursor expired (a stream gone for longer than the server keeps changes): start
    // afresh from now, and refetch.
    void subscription.done.then(() => {
      if (expired && !controller.signal.aborted) {
        opened = false;
        start();
      }
    });
  };
  start();

  return () => {
    controller.abort();
    unsubscribeCache();
  };
}

/** {@link startLiveTasks} while the component is mounted; returns the stream's status. */
export function useLiveTaskStream(
  client: TodoClient,
  userId: string,
  options: LiveTasksOptions & { enabled?: boolean } = {},
): SubscriptionStatus {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<SubscriptionStatus>("connecting");
  const enabled = options.enabled ?? true;
  const { onError, onChange } = options;
  useEffect(() => {
    if (!enabled) return undefined;
    return startLiveTasks(client, queryClient, userId, setStatus, {
      ...(onError ? { onError } : {}),
      ...(onChange ? { onChange } : {}),
    });
    // The callbacks are read when the stream starts; changing them does not restart it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, queryClient, userId, enabled]);
  return status;
}
