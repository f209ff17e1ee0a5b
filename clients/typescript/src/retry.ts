/**
 * When a failed request is tried again, and how long to wait first.
 *
 * Only requests that are safe to repeat are retried: reads, `PUT` and `DELETE` (the same answer
 * however often they run), `PATCH` with a body (this API's only one sets the completion state;
 * without a body it toggles, which is not safe), and a `POST` carrying an `Idempotency-Key`
 * (the server answers a repeat with the original answer and creates nothing). They are retried
 * when no answer came (the network failed) or when the server said "not now" (429, 503, and a
 * proxy's 502/504), waiting as long as `Retry-After` says, else an exponential backoff.
 * @module
 */

/** How failed requests are retried; see {@link createTodoFetch}. */
export interface RetryOptions {
  /** Most attempts in all, the first included (default 4); `1` turns retries off. */
  attempts?: number;
  /** The first backoff, in milliseconds (default 250); it doubles with each attempt, jittered. */
  baseDelayMs?: number;
  /**
   * The longest wait before another attempt, in milliseconds (default 10 000). When the server's
   * `Retry-After` asks for longer, its answer is returned instead of waiting.
   */
  maxDelayMs?: number;
  /** The statuses that mean "try again later" (default 429, 502, 503, 504). */
  statuses?: readonly number[];
  /** Which requests may be sent twice (default {@link isRetrySafe}). */
  isSafe?: (request: Request) => boolean;
  /** Called before each wait, e.g. to log or show "reconnecting…". */
  onRetry?: (event: RetryEvent) => void;
}

/** What {@link RetryOptions.onRetry} is told. */
export interface RetryEvent {
  /** The request being retried. */
  request: Request;
  /** The attempt that failed (1 for the first). */
  attempt: number;
  /** How long the client waits before the next attempt, in milliseconds. */
  delayMs: number;
  /** The status of the failed attempt's answer, or the error when none came. */
  reason: { status: number } | { error: unknown };
}

/** The defaults of {@link RetryOptions}. */
export const defaultRetry = {
  attempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  statuses: [429, 502, 503, 504],
} as const;

/** Whether sending `request` twice has the same effect as sending it once (see the module). */
export function isRetrySafe(request: Request): boolean {
  switch (request.method.toUpperCase()) {
    case "GET":
    case "HEAD":
    case "OPTIONS":
    case "PUT":
    case "DELETE":
      return true;
    case "POST":
      return request.headers.has("Idempotency-Key");
    case "PATCH":
      return request.body !== null;
    default:
      return false;
  }
}

/**
 * The wait a `Retry-After` header asks for, in milliseconds (delay-seconds or an HTTP date), or
 * `undefined` without a valid one.
 */
export function retryAfterMs(response: Response, now: number = Date.now()): number | undefined {
  const value = response.headers.get("Retry-After")?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The backoff before attempt `attempt + 1`: `base * 2^(attempt-1)`, half of it jittered. */
export function backoffMs(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A random UUID (v4), also where `crypto.randomUUID` is missing (plain-HTTP pages). */
export function randomId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
