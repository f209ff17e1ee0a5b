/**
 * A compile-time test: this file is type-checked under `--strict` (`npm run typecheck`) and never
 * run. Each `@ts-expect-error` marks a call the generated types must reject; if the types
 * regressed (a field became optional, a path parameter untyped, the schema `any`), the directive
 * would be unused and `tsc` would fail.
 */
import {
  createTodoClient,
  type CreateTask,
  type FieldError,
  type Priority,
  type Problem,
  type Recurrence,
  type Task,
  type TaskStatus,
  type UpdateTask,
} from "@todo-api/client";

/** `true` when `A` and `B` are the same type. */
type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when `T` is `true`. */
function expectType<T extends true>(proof?: T): void {
  void proof;
}

// The shapes, exactly.
expectType<Equals<Task["id"], number>>();
expectType<Equals<Task["description"], string | null>>();
expectType<Equals<Task["completed"], boolean>>();
expectType<Equals<TaskStatus, "all" | "pending" | "completed">>();
expectType<Equals<Task["priority"], Priority>>();
expectType<Equals<Priority, "low" | "medium" | "high">>();
expectType<Equals<Task["tags"], string[]>>();
expectType<Equals<Task["due_at"], string | null>>();
expectType<Equals<Task["recurrence"], Recurrence | null>>();
expectType<Equals<Recurrence["frequency"], "daily" | "weekly" | "monthly" | "yearly">>();
expectType<Equals<CreateTask["title"], string>>();
expectType<Equals<CreateTask["description"], string | null | undefined>>();
expectType<Equals<CreateTask["priority"], Priority | null | undefined>>();
expectType<Equals<CreateTask["tags"], string[] | null | undefined>>();
expectType<Equals<CreateTask["recurrence"], Recurrence | null | undefined>>();
expectType<Equals<Recurrence["interval"], number>>();
expectType<Equals<UpdateTask["title"], string | undefined>>();
expectType<Equals<UpdateTask["due_at"], string | null | undefined>>();
expectType<Equals<Problem["errors"], FieldError[] | undefined>>();

const todo = createTodoClient({ baseUrl: "http://localhost:8080", getToken: async () => "jwt" });

export async function typeTest(): Promise<void> {
  const got = await todo.GET("/api/{user_id}/tasks/{id}", {
    params: { path: { user_id: "alice", id: 1 } },
  });
  // Success and error are typed from the spec.
  expectType<Equals<typeof got.data, Task | undefined>>();
  expectType<Equals<typeof got.error, Problem | undefined>>();
  if (got.error) {
    expectType<Equals<typeof got.data, undefined>>();
  }

  const listed = await todo.GET("/api/{user_id}/tasks", {
    params: { path: { user_id: "alice" }, query: { status: "pending" } },
  });
  expectType<Equals<typeof listed.data, Task[] | undefined>>();

  await todo.POST("/api/{user_id}/tasks", {
    params: { path: { user_id: "alice" } },
    // @ts-expect-error: misspelled field (`titel`)
    body: { titel: "Buy milk" },
  });

  await todo.POST("/api/{user_id}/tasks", {
    params: { path: { user_id: "alice" } },
    // @ts-expect-error: `title` is required
    body: { description: "no title" },
  });

  await todo.GET("/api/{user_id}/tasks/{id}", {
    // @ts-expect-error: the `id` path parameter is missing
    params: { path: { user_id: "alice" } },
  });

  await todo.GET("/api/{user_id}/tasks/{id}", {
    // @ts-expect-error: `id` is a number
    params: { path: { user_id: "alice", id: "1" } },
  });

  await todo.GET("/api/{user_id}/tasks", {
    // @ts-expect-error: not a status
    params: { path: { user_id: "alice" }, query: { status: "done" } },
  });

  await todo.PATCH("/api/{user_id}/tasks/{id}/complete", {
    params: { path: { user_id: "alice", id: 1 } },
    // @ts-expect-error: `completed` is a boolean
    body: { completed: "yes" },
  });

  // @ts-expect-error: no such path
  await todo.GET("/api/{user_id}/todos", { params: { path: { user_id: "alice" } } });

  // @ts-expect-error: tasks are not replaced with POST on their own URL
  await todo.POST("/api/{user_id}/tasks/{id}", {
    params: { path: { user_id: "alice", id: 1 } },
  });

  if (got.data) {
    // @ts-expect-error: misspelled field on a response
    void got.data.titel;
  }

  // @ts-expect-error: the token getter is required
  createTodoClient({ baseUrl: "http://localhost:8080" });
}
