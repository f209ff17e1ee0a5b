/**
 * Live changes: {@link subscribe} reads `GET /api/{user_id}/events` (Server-Sent Events) over
 * `fetch`, so it sends the bearer token like every other request (no token in the URL) and works
 * in browsers and Node 20. It parses the stream, hands each change over in order, and keeps the
 * stream going: it reconnects with backoff and `Last-Event-ID` (nothing lost, nothing repeated),
 * fetches a new token on `reauth`, catches up through `/changes` on `resync`, and reconnects when
 * the stream goes silent for longer than the server's heartbeat allows.
 *
 * `EventSource` is not used: it cannot send `Authorization`.
 * @module
 */
import type { TodoClient } from "./index.js";
import { isProblem } from "./problems.js";
import { backoffMs, sleep } from "./retry.js";
import type { components } from "./schema.js";

type Schemas = components["schemas"];
/**
 * One change to the user's tasks or lists: `{type: "upsert", task}`, `{type: "delete", id}`,
 * `{type: "list_upsert", list}` or `{type: "list_delete", id}`.
 */
export type Change = Schemas["Change"];
/** A page of `GET /api/{user_id}/changes`. */
export type ChangePage = Schemas["ChangePage"];
/** One event of the stream, as the spec describes it. */
export type StreamEvent = Schemas["StreamEvent"];

/** One raw Server-Sent Event. */
export interface SseEvent {
  /** `event:` (default `message`). */
  event: string;
  /** `data:` lines joined by `\n`. */
  data: string;
  /** The last `id:` seen so far on the stream (`undefined` if none). */
  id: string | undefined;
}

/**
 * Parses a `text/event-stream` body (the WHATWG rules: `\n`, `\r\n` or `\r` line ends, comment
 * lines, multi-line `data`, a blank line dispatches). Calls `onBytes` for every chunk, heartbeats
 * included. Ends, throwing its reason, when `signal` aborts.
 */
export async function* parseEventStream(
  body: ReadableStream<Uint8Array>,
  onBytes?: () => void,
  signal?: AbortSignal,
): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  // The read ends when `signal` aborts, by cancelling it here: an aborted fetch's body is not
  // always told (Node's fetch loses the abort of a cloned Request after a garbage collection,
  // nodejs/undici#4068), and a stream is read for hours.
  const cancel = () => void reader.cancel(signal?.reason).catch(() => {});
  if (signal?.aborted) cancel();
  else signal?.addEventListener("abort", cancel, { once: true });
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  let first = true;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (signal?.aborted) throw signal.reason;
      if (done) return;
      onBytes?.();
      buffer += decoder.decode(value, { stream: true });
      if (first && buffer.length > 0) {
        if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
        first = false;
      }
      for (;;) {
        const end = buffer.search(/\r\n|\r|\n/);
        if (end === -1) break;
        // A lone "\r" at the end of the buffer may be the first half of "\r\n": wait for more.
        if (buffer[end] === "\r" && end === buffer.length - 1) break;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
        if (line === "") {
          if (data.length > 0) yield { event: event || "message", data: data.join("\n"), id };
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
        else if (field === "id" && !value.includes("\0")) id = value;
      }
    }
  } finally {
    signal?.removeEventListener("abort", cancel);
    reader.releaseLock();
    await body.cancel().catch(() => {});
  }
}

/** Where a subscription is. */
export type SubscriptionStatus = "connecting" | "open" | "reconnecting" | "closed";

/** Options of {@link subscribe}. */
export interface SubscribeOptions {
  /** The signed-in user's id (the token's `sub`). */
  user_id: string;
  /** Start after this cursor (from `/changes` or an earlier event); default: from now on. */
  since?: string | undefined;
  /**
   * Called with each change, in order, and the cursor after it. The next change waits for a
   * returned promise.
   */
  onChange: (change: Change, cursor: string) => void | Promise<void>;
  /** Called when a stream opens (first connection and every reconnection) with its start cursor. */
  onReady?: (cursor: string) => void;
  /** Called with every failure before the subscription retries (or gives up: see `onExpired`). */
  onError?: (error: unknown) => void;
  /** Called when the status changes (e.g. to show "live" or "reconnecting…"). */
  onStatus?: (status: SubscriptionStatus) => void;
  /**
   * The cursor is older than the server keeps changes (410): the local copy must be rebuilt.
   * Return the cursor of the rebuilt copy to go on from there; without this callback (or when it
   * returns nothing) the subscription ends with `onError`.
   */
  onExpired?: () => Promise<string | undefined> | string | undefined;
  /** Stops the subscription. */
  signal?: AbortSignal | undefined;
  /** Reconnect backoff: first delay (default 500 ms) and longest (default 15 s). */
  reconnect?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Reconnect when nothing (not even a heartbeat) arrived for this long (default 45 s). */
  idleTimeoutMs?: number;
}

/** A running subscription. */
export interface Subscription {
  /** The cursor after the last change handed over (what a reconnect resumes from). */
  readonly cursor: string | undefined;
  /** Stops it. */
  close(): void;
  /** Settles when it has stopped (closed, aborted, or given up on an expired cursor). */
  readonly done: Promise<void>;
}

class StreamProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: unknown,
  ) {
    super(isProblem(problem) ? problem.detail : `the event stream answered ${status}`);
    this.name = "StreamProblem";
  }
}

/** Reads every change after `since` through `GET /api/{user_id}/changes`, page by page. */
export async function readChanges(
  client: TodoClient,
  user_id: string,
  since: string | undefined,
  onChange: (change: Change, cursor: string) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<string> {
  let cursor = since;
  for (;;) {
    const { data, error, response } = await client.GET("/api/{user_id}/changes", {
      params: { path: { user_id }, query: cursor === undefined ? {} : { since: cursor } },
      ...(signal ? { signal } : {}),
    });
    if (!data) throw new StreamProblem(response.status, error);
    for (const change of data.changes) await onChange(change, data.cursor);
    cursor = data.cursor;
    if (!data.has_more) return cursor;
  }
}

/**
 * Subscribes to the user's changes. See the module for what it does when the connection drops,
 * the token expires or the client falls behind.
 *
 * ```ts
 * const sub = subscribe(todo, {
 *   user_id: session.user.id,
 *   onChange: (change) => applyChange(tasks, change), // from "./sync.js": lists' changes aside
 * });
 * // later: sub.close();
 * ```
 */
export function subscribe(client: TodoClient, options: SubscribeOptions): Subscription {
  const { transport } = client;
  const controller = new AbortController();
  const outer = options.signal;
  const onAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener("abort", onAbort, { once: true });
  const signal = controller.signal;
  const baseDelayMs = options.reconnect?.baseDelayMs ?? 500;
  const maxDelayMs = options.reconnect?.maxDelayMs ?? 15_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
  const url = `${transport.baseUrl}/api/${encodeURIComponent(options.user_id)}/events`;

  let cursor = options.since;
  let status: SubscriptionStatus | undefined;
  const setStatus = (next: SubscriptionStatus) => {
    if (next !== status) {
      status = next;
      options.onStatus?.(next);
    }
  };

  const deliver = async (change: Change, after: string) => {
    await options.onChange(change, after);
    cursor = after;
  };

  /** One connection: resolves when the stream ends (and how), rejects on failure. */
  const connect = async (token: string | undefined): Promise<"ended" | "reauth" | "resync"> => {
    const attempt = new AbortController();
    const stop = () => attempt.abort(signal.reason);
    signal.addEventListener("abort", stop, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => attempt.abort(new Error(`no data for ${idleTimeoutMs} ms`)), idleTimeoutMs);
    };
    try {
      const headers = new Headers({ Accept: "text/event-stream" });
      if (token) headers.set("Authorization", `Bearer ${token}`);
      if (cursor !== undefined) headers.set("Last-Event-ID", cursor);
      touch();
      const response = await transport.fetch(new Request(url, { headers, signal: attempt.signal, cache: "no-store" }));
      if (!response.ok || !response.body) {
        const problem = await response.json().catch(() => undefined);
        throw new StreamProblem(response.status, problem);
      }
      for await (const event of parseEventStream(response.body, touch, attempt.signal)) {
        const payload: unknown = JSON.parse(event.data);
        switch (event.event) {
          case "ready": {
            const start = (payload as Schemas["StreamCursor"]).cursor;
            cursor = start;
            setStatus("open");
            options.onReady?.(start);
            break;
          }
          case "change":
            if (event.id === undefined) throw new Error("a change event without an id");
            await deliver(payload as Change, event.id);
            break;
          case "reauth":
            cursor = (payload as Schemas["StreamCursor"]).cursor;
            return "reauth";
          case "resync":
            cursor = (payload as Schemas["StreamCursor"]).cursor;
            return "resync";
          default:
            break; // an event this client does not know: skip it
        }
      }
      return "ended";
    } finally {
      clearTimeout(idle);
      signal.removeEventListener("abort", stop);
    }
  };

  const run = async () => {
    let failures = 0;
    let token = await transport.tokens?.get();
    setStatus("connecting");
    while (!signal.aborted) {
      try {
        const outcome = await connect(token);
        failures = 0;
        if (outcome === "reauth") {
          token = await transport.tokens?.refresh(token);
        } else if (outcome === "resync") {
          cursor = await readChanges(client, options.user_id, cursor, deliver, signal);
        } else {
          setStatus("reconnecting");
          await sleep(backoffMs(1, baseDelayMs, maxDelayMs), signal);
        }
        continue;
      } catch (error) {
        if (signal.aborted) break;
        options.onError?.(error);
        if (error instanceof StreamProblem) {
          if (error.status === 401) {
            // A new token right away, once; if that one is refused too, back off as usual.
            const next = await transport.tokens?.refresh(token);
            if (next && next !== token && failures === 0) {
              token = next;
              failures = 1;
              continue;
            }
          } else if (error.status === 410) {
            const restart = await options.onExpired?.();
            if (restart === undefined) break;
            cursor = restart;
            continue;
          } else if (error.status === 403 || error.status === 422) {
            break; // not something a retry fixes
          }
        }
        failures += 1;
        setStatus("reconnecting");
        await sleep(backoffMs(failures, baseDelayMs, maxDelayMs), signal).catch(() => {});
        token = await transport.tokens?.get();
      }
    }
  };

  const done = run()
    .catch((error: unknown) => {
      if (!signal.aborted) options.onError?.(error);
    })
    .finally(() => {
      outer?.removeEventListener("abort", onAbort);
      setStatus("closed");
    });

  return {
    get cursor() {
      return cursor;
    },
    close() {
      controller.abort();
    },
    done,
  };
}
