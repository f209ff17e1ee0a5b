/**
 * The typed client for todo-api: every operation of the generated `openapi.yaml`, with the bearer
 * token attached for you and every error typed as an RFC 9457 {@link Problem}. Around
 * openapi-fetch it adds what every frontend needs: a token cache with one refresh at a time and a
 * retry after a 401 (`tokens.ts`), safe retries with `Idempotency-Key` and `Retry-After`
 * (`retry.ts`, `transport.ts`), problem helpers (`problems.ts`), and live changes (`events.ts`:
 * `subscribe`; `sync.ts`: a synced map). React hooks are in `@todo-api/client/react`.
 *
 * Nothing here restates the API: paths, parameters, bodies and responses all come from
 * `schema.ts`, which `npm run generate` writes from the spec.
 *
 * @example
 * ```ts
 * const todo = createTodoClient({
 *   baseUrl: "https://api.example.com",
 *   getToken: async () => (await authClient.token()).data?.token,
 * });
 * const { data, error } = await todo.GET("/api/{user_id}/tasks", {
 *   params: { path: { user_id: session.user.id }, query: { status: "pending" } },
 * });
 * ```
 * @module
 */
import createClient, { type Client, type ClientOptions, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";
import { createTokenCache, type TokenCache, type TokenCacheOptions, type TokenGetter } from "./tokens.js";
import { createTodoFetch, type FetchFn } from "./transport.js";
import type { RetryOptions } from "./retry.js";
import { subscribe, type SubscribeOptions, type Subscription } from "./events.js";
import { sync, type SyncOptions, type TaskSync } from "./sync.js";

export {
  parseEventStream,
  readChanges,
  subscribe,
  type Change,
  type ChangePage,
  type SseEvent,
  type StreamEvent,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionStatus,
} from "./events.js";
export { applyChange, sync, type SyncOptions, type TaskSync } from "./sync.js";

export {
  createTokenCache,
  tokenExpiry,
  type TokenCache,
  type TokenCacheOptions,
  type TokenGetter,
} from "./tokens.js";
export { createTodoFetch, type FetchFn, type TodoFetchOptions } from "./transport.js";
export {
  backoffMs,
  defaultRetry,
  isRetrySafe,
  retryAfterMs,
  type RetryEvent,
  type RetryOptions,
} from "./retry.js";
export {
  PROBLEM_TYPE_PREFIX,
  errorMessage,
  fieldErrors,
  isProblem,
  isProblemOf,
  problemKind,
  problemStatuses,
  type ProblemKind,
} from "./problems.js";

export type { components, operations, paths } from "./schema.js";

type Schemas = components["schemas"];

/** A task, as the API returns it. */
export type Task = Schemas["Task"];
/** The body of `POST /api/{user_id}/tasks`. */
export type CreateTask = Schemas["CreateTask"];
/** The body of `PUT /api/{user_id}/tasks/{id}`: only the fields to change. */
export type UpdateTask = Schemas["UpdateTask"];
/** The optional body of `PATCH /api/{user_id}/tasks/{id}/complete`: set instead of toggle. */
export type CompleteTask = Schemas["CompleteTask"];
/** The `status` filter of `GET /api/{user_id}/tasks`. */
export type TaskStatus = Schemas["TaskStatus"];
/** The body of every error response (`application/problem+json`, RFC 9457). */
export type Problem = Schemas["Problem"];
/** How important a task is. */
export type Priority = Schemas["Priority"];
/** A repetition rule. */
export type Recurrence = Schemas["Recurrence"];
/** A repetition unit. */
export type Frequency = Schemas["Frequency"];
/** What a listing sorts by. */
export type TaskSort = Schemas["TaskSort"];
/** A sort direction. */
export type SortOrder = Schemas["SortOrder"];
/** A tag and how many tasks carry it. */
export type TagCount = Schemas["TagCount"];
/** One invalid field or parameter of a 422 {@link Problem}. */
export type FieldError = Schemas["FieldError"];
/** The body of `GET /health`. */
export type Health = Schemas["Health"];
/** The body of `GET /ready`. */
export type Readiness = Schemas["Readiness"];

/** The client: `GET`, `POST`, `PUT`, `PATCH` and `DELETE` on the API's paths, fully typed. */
export type TodoClient = Client<paths> & {
  /** What the client sends requests with: its base URL, token cache and fetch. */
  readonly transport: Transport;
  /** Live changes of the user's tasks (`GET /api/{user_id}/events`): see {@link subscribe}. */
  subscribe(options: SubscribeOptions): Subscription;
  /** A local map of the user's tasks kept in sync: see {@link sync}. */
  sync(options: SyncOptions): TaskSync;
};

/** How a {@link TodoClient} reaches the API (also used by `subscribe`). */
export interface Transport {
  /** The API's origin, without a trailing slash. */
  readonly baseUrl: string;
  /** The token cache, if the client has a getter. */
  readonly tokens: TokenCache | undefined;
  /** The fetch with tokens, 401 refresh, idempotency keys and retries. */
  readonly fetch: FetchFn;
}

/** Options of {@link createTodoClient}: openapi-fetch's options, plus tokens and retries. */
export interface TodoClientOptions extends Omit<ClientOptions, "baseUrl" | "fetch"> {
  /** The API's origin, e.g. `https://api.example.com` (the paths start with `/api/...`). */
  baseUrl: string;
  /**
   * Where tokens come from; with Better Auth's JWT plugin:
   * `async () => (await authClient.token()).data?.token`. Called when the cached token is
   * missing, about to expire or rejected (or before every request with `tokenCache: false`).
   */
  getToken: TokenGetter;
  /** Token cache settings; `false` calls `getToken` before every request instead. */
  tokenCache?: TokenCacheOptions | false;
  /** Retries of failed safe requests (see `RetryOptions`); `false` turns them off. */
  retry?: RetryOptions | false;
  /** Give each `POST` an `Idempotency-Key`, reused by its retries (default true). */
  idempotencyKeys?: boolean;
  /** The underlying fetch (default `globalThis.fetch`), called with a `Request`. */
  fetch?: FetchFn;
}

/**
 * Creates a typed client for the API at `baseUrl`. It sends `Authorization: Bearer <token>`
 * with the token `getToken` returns, cached until shortly before it expires (one refresh at a
 * time), refreshed and retried once on a 401; it retries safe requests after network failures,
 * 429 and 503 (honouring `Retry-After`), with an `Idempotency-Key` on each `POST` so that a
 * retried create never creates twice.
 */
export function createTodoClient({
  getToken,
  tokenCache,
  retry,
  idempotencyKeys,
  fetch,
  ...options
}: TodoClientOptions): TodoClient {
  const tokens =
    tokenCache === false ? uncachedTokens(getToken) : createTokenCache(getToken, tokenCache);
  const transport: Transport = {
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    tokens,
    fetch: createTodoFetch({ tokens, retry, idempotencyKeys, fetch }),
  };
  const client: TodoClient = Object.assign(createClient<paths>({ ...options, fetch: transport.fetch }), {
    transport,
    subscribe: (o: SubscribeOptions) => subscribe(client, o),
    sync: (o: SyncOptions) => sync(client, o),
  });
  return client;
}

/** A "cache" that asks the getter every time. */
function uncachedTokens(getToken: TokenGetter): TokenCache {
  const get = async () => (await getToken()) || undefined;
  return { get, refresh: get, clear() {} };
}

/**
 * openapi-fetch middleware that sets `Authorization: Bearer <token>` from `getToken` on each
 * request (for a client you create with openapi-fetch yourself; {@link createTodoClient} does
 * more). A request that already has an `Authorization` header keeps it.
 */
export function bearerAuth(getToken: TokenGetter): Middleware {
  return {
    async onRequest({ request }) {
      if (request.headers.has("Authorization")) {
        return request;
      }
      const token = await getToken();
      if (token) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  };
}
