/**
 * The task page, a server component: it checks the session, loads the inbox on the server
 * with the plain client (a token from Better Auth for this request's session), and hands it to
 * the client component, which takes over with the React hooks and live updates.
 */
import { createTodoClient } from "@todo-api/client";
import { headers } from "next/headers";
import { redirect } from "next/navigation";

import { auth } from "@/lib/auth";
import { boardQuery } from "@/lib/board";

import { TaskBoard } from "./task-board";

/** Where the API is, for this server and for the browser (read at request time, not build time). */
function apiUrl(): string {
  return (process.env.TODO_API_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
}

export default async function TasksPage() {
  const requestHeaders = await headers();
  const session = await auth.api.getSession({ headers: requestHeaders });
  if (!session) redirect("/sign-in");

  const todo = createTodoClient({
    baseUrl: apiUrl(),
    getToken: async () => (await auth.api.getToken({ headers: requestHeaders })).token,
  });
  const { data: initialTasks } = await todo.GET("/api/{user_id}/tasks", {
    params: { path: { user_id: session.user.id }, query: boardQuery(null) },
  });

  return (
    <TaskBoard
      apiUrl={apiUrl()}
      user={{ id: session.user.id, email: session.user.email }}
      initialTasks={initialTasks}
    />
  );
}
