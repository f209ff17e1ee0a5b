/**
 * The typed client for todo-api: every operation of the generated `openapi.yaml`, with the bearer
 * token attached for you and every error typed as an RFC 9457 {@link Problem}.
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
export type TodoClient = Client<paths>;

/**
 * Returns the current user's token (a JWT), or `null`/`undefined` when signed out, in which
 * case the request goes without `Authorization` and the API answers 401.
 */
export type TokenGetter = () => string | null | undefined | Promise<string | null | undefined>;

/** Options of {@link createTodoClient}: openapi-fetch's options, plus where tokens come from. */
export interface TodoClientOptions extends Omit<ClientOptions, "baseUrl"> {
  /** The API's origin, e.g. `https://api.example.com` (the paths start with `/api/...`). */
  baseUrl: string;
  /**
   * Called before every request; with Better Auth's JWT plugin:
   * `async () => (await authClient.token()).data?.token`.
   */
  getToken: TokenGetter;
}

/**
 * Creates a typed client for the API at `baseUrl` that sends `Authorization: Bearer <token>`
 * with the token `getToken` returns for each request.
 */
export function createTodoClient({ getToken, ...options }: TodoClientOptions): TodoClient {
  const client = createClient<paths>(options);
  client.use(bearerAuth(getToken));
  return client;
}

/**
 * openapi-fetch middleware that sets `Authorization: Bearer <token>` from `getToken` on each
 * request. A request that already has an `Authorization` header keeps it.
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
