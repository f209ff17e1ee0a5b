/**
 * Where the live server is and who calls it. The tests start nothing: `ci.sh` (or you) starts
 * the server and sets
 *
 * - `TODO_API_URL`: the server's base URL, e.g. `http://127.0.0.1:8080`;
 * - `TODO_API_TOKEN_ALICE`, `TODO_API_TOKEN_BOB`: tokens of two different users the server
 *   accepts, e.g. from `todo-api token --sub alice` with the server's `BETTER_AUTH_SECRET`.
 */
import { randomUUID } from "node:crypto";

import { createTodoClient, type TodoClient, type TokenGetter } from "@todo-api/client";

function required(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) {
    throw new Error(
      `${name} is not set: these tests run against a live server (clients/typescript/ci.sh starts one and sets it)`,
    );
  }
  return value;
}

/** The server's base URL. */
export const baseUrl = required("TODO_API_URL");

/** A user of the live server: their id (the token's `sub`), token and client. */
export interface User {
  id: string;
  token: string;
  client: TodoClient;
}

function subject(token: string): string {
  const payload = token.split(".")[1];
  const sub: unknown = payload
    ? JSON.parse(Buffer.from(payload, "base64url").toString("utf8")).sub
    : undefined;
  if (typeof sub !== "string" || sub === "") {
    throw new Error("the token has no `sub` claim: is it a JWT?");
  }
  return sub;
}

function user(variable: string): User {
  const token = required(variable);
  return {
    id: subject(token),
    token,
    client: createTodoClient({ baseUrl, getToken: async () => token }),
  };
}

/** The main test user. */
export const alice = user("TODO_API_TOKEN_ALICE");
/** A second user, to check that one user cannot reach another's tasks. */
export const bob = user("TODO_API_TOKEN_BOB");

if (alice.id === bob.id) {
  throw new Error("TODO_API_TOKEN_ALICE and TODO_API_TOKEN_BOB must belong to different users");
}

/** A client whose token comes from `getToken`. */
export function clientWith(getToken: TokenGetter): TodoClient {
  return createTodoClient({ baseUrl, getToken });
}

/** A title no other test (or earlier run against the same server) uses. */
export function uniqueTitle(what: string): string {
  return `${what} ${randomUUID()}`;
}
