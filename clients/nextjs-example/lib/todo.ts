/**
 * The todo API's client for this app: in the browser it gets its tokens from Better Auth's JWT
 * plugin (cached by the client until shortly before they expire); on the server (server
 * components) from `auth.api.getToken` with the request's session cookie.
 */
import { createTodoClient, type TodoClient } from "@todo-api/client";

import { authClient } from "./auth-client";

/** The client for client components (`apiUrl` comes from the server: see app/tasks/page.tsx). */
export function browserTodoClient(apiUrl: string): TodoClient {
  return createTodoClient({
    baseUrl: apiUrl,
    getToken: async () => (await authClient.token()).data?.token,
  });
}
