/**
 * The client's `fetch`: the bearer token from the {@link TokenCache}, one refresh-and-retry on a
 * 401, an `Idempotency-Key` on every `POST`, and the safe retries of `retry.ts`. openapi-fetch
 * calls it for every operation; {@link subscribe}'s event stream goes through it too.
 * @module
 */
import {
  backoffMs,
  defaultRetry,
  isRetrySafe,
  randomId,
  retryAfterMs,
  sleep,
  type RetryOptions,
} from "./retry.js";
import type { TokenCache } from "./tokens.js";

/** A `fetch` that takes a `Request` (what openapi-fetch passes). */
export type FetchFn = (request: Request) => Promise<Response>;

/** Options of {@link createTodoFetch}. */
export interface TodoFetchOptions {
  /** Where tokens come from; `undefined` sends requests without `Authorization`. */
  tokens?: TokenCache | undefined;
  /** How failed requests are retried; `false` never retries (the 401 refresh still happens). */
  retry?: RetryOptions | false | undefined;
  /** Give each `POST` without one an `Idempotency-Key`, reused by its retries (default true). */
  idempotencyKeys?: boolean | undefined;
  /** The underlying fetch (default `globalThis.fetch`). */
  fetch?: FetchFn | undefined;
}

/**
 * A fetch for the API:
 * - sets `Authorization: Bearer <token>` from `tokens` (a request that sets its own keeps it);
 * - on a 401, refreshes the token once and, if the getter gave a different one, sends the
 *   request once more;
 * - gives a `POST` an `Idempotency-Key` (unless it has one), the same for all its attempts;
 * - retries safe requests after network failures and 429/502/503/504, honouring `Retry-After`.
 */
export function createTodoFetch(options: TodoFetchOptions = {}): FetchFn {
  const { tokens } = options;
  const retry = options.retry === false ? { attempts: 1 } : (options.retry ?? {});
  const attempts = Math.max(1, retry.attempts ?? defaultRetry.attempts);
  const baseDelayMs = retry.baseDelayMs ?? defaultRetry.baseDelayMs;
  const maxDelayMs = retry.maxDelayMs ?? defaultRetry.maxDelayMs;
  const statuses: readonly number[] = retry.statuses ?? defaultRetry.statuses;
  const isSafe = retry.isSafe ?? isRetrySafe;
  const idempotencyKeys = options.idempotencyKeys ?? true;
  const send: FetchFn = options.fetch ?? ((request) => globalThis.fetch(request));

  return async (input) => {
    const request = input;
    if (idempotencyKeys && request.method.toUpperCase() === "POST" && !request.headers.has("Idempotency-Key")) {
      request.headers.set("Idempotency-Key", randomId());
    }
    const ownAuthorization = request.headers.has("Authorization");
    const safe = attempts > 1 && isSafe(request);
    let refreshed = false;

    for (let attempt = 1; ; attempt += 1) {
      const token = ownAuthorization ? undefined : await tokens?.get();
      const outgoing = request.clone();
      if (token) outgoing.headers.set("Authorization", `Bearer ${token}`);

      let response: Response;
      try {
        response = await send(outgoing);
      } catch (error) {
        if (request.signal.aborted || !safe || attempt >= attempts) throw error;
        const delayMs = backoffMs(attempt, baseDelayMs, maxDelayMs);
        retry.onRetry?.({ request, attempt, delayMs, reason: { error } });
        await sleep(delayMs, request.signal);
        continue;
      }

      if (response.status === 401 && tokens && !ownAuthorization && !refreshed) {
        refreshed = true;
        const next = await tokens.refresh(token);
        if (next && next !== token) {
          await response.body?.cancel();
          attempt -= 1; // a new token is not a retry: it gets the full budget
          continue;
        }
        return response;
      }

      if (safe && attempt < attempts && statuses.includes(response.status)) {
        const delayMs = retryAfterMs(response) ?? backoffMs(attempt, baseDelayMs, maxDelayMs);
        if (delayMs <= maxDelayMs) {
          retry.onRetry?.({ request, attempt, delayMs, reason: { status: response.status } });
          await response.body?.cancel();
          await sleep(delayMs, request.signal);
          continue;
        }
      }
      return response;
    }
  };
}
