/**
 * A compile-time test of the kit's types (`npm run typecheck`; never run): the change and event
 * unions narrow on their discriminants, the problem helpers narrow, and the React mutations take
 * exactly their variables. Each `@ts-expect-error` marks what the types must reject.
 */
import {
  createTodoClient,
  fieldErrors,
  isProblemOf,
  type Change,
  type Problem,
  type StreamEvent,
  type Task,
} from "@todo-api/client";
import {
  completeTaskMutation,
  deleteTaskMutation,
  moveTaskMutation,
  updateTaskMutation,
  type CompleteTaskVariables,
  type MoveTaskVariables,
  type TaskMutationContext,
  type UpdateTaskVariables,
} from "@todo-api/client/react";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(proof?: T): void {
  void proof;
}

// A change narrows on `type`.
declare const change: Change;
if (change.type === "upsert") {
  expectType<Equals<typeof change.task, Task>>();
} else if (change.type === "delete") {
  expectType<Equals<typeof change.id, number>>();
  // @ts-expect-error a deletion carries no task
  void change.task;
} else if (change.type === "list_upsert") {
  expectType<Equals<typeof change.list.position, string>>();
} else {
  expectType<Equals<typeof change.type, "list_delete">>();
  expectType<Equals<typeof change.id, number>>();
}

// A stream event narrows on `event`.
declare const event: StreamEvent;
if (event.event === "change") {
  const inner: Change = event.data;
  void inner;
} else if (event.event === "ready") {
  expectType<Equals<typeof event.data.cursor, string>>();
}

// The problem helpers narrow an unknown error.
declare const error: unknown;
if (isProblemOf(error, "validation")) {
  expectType<Equals<typeof error, Problem>>();
}
// @ts-expect-error not a kind of problem this API sends
isProblemOf(error, "teapot");
const fields: Partial<Record<string, string>> = fieldErrors(error);
void fields;

// subscribe needs the user and a handler.
const todo = createTodoClient({ baseUrl: "http://127.0.0.1:8080", getToken: () => "t" });
todo.subscribe({ user_id: "u", onChange: (c, cursor: string) => void [c, cursor] });
// @ts-expect-error onChange is required
todo.subscribe({ user_id: "u" });

// The mutations' variables.
declare const ctx: TaskMutationContext;
const complete: CompleteTaskVariables = { id: 1, completed: true };
// @ts-expect-error completion is set, not toggled: `completed` is required
const toggle: CompleteTaskVariables = { id: 1 };
const rename: UpdateTaskVariables = { id: 1, changes: { title: "t" } };
// @ts-expect-error not a field of UpdateTask
const wrong: UpdateTaskVariables = { id: 1, changes: { titel: "t" } };
const first: MoveTaskVariables = { id: 1, after: null };
const intoList: MoveTaskVariables = { id: 1, list_id: 2, parent_id: null, after: 3, ifMatch: '"v1"' };
// @ts-expect-error `after` is a task id, not a position
const byKey: MoveTaskVariables = { id: 1, after: "a0" };
void [complete, toggle, rename, wrong, first, intoList, byKey];
void [completeTaskMutation(ctx), deleteTaskMutation(ctx), updateTaskMutation(ctx), moveTaskMutation(ctx)];
