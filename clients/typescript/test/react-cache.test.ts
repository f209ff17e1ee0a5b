/**
 * The React entry's cache logic against the live server, without a browser: the optimistic
 * mutations of `@todo-api/client/react` run in a real TanStack `QueryClient` (the same options
 * `useCompleteTask` & co. pass to `useMutation`). A proxy holds the server's answer back, so the
 * optimistic state is observed before it arrives; errors are real refusals (422, 401) that roll
 * the change back; and after a series of changes every cached listing equals what the server
 * answers for the same filters and sort.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { MutationObserver, QueryClient, QueryObserver, type MutationOptions } from "@tanstack/react-query";

import { createTodoClient, type CreateTask, type Task, type TodoClient } from "@todo-api/client";
import {
  TASKS_PATH,
  completeTaskMutation,
  createTaskMutation,
  createTodoQueryHooks,
  deleteTaskMutation,
  findCachedTask,
  startLiveTasks,
  updateTaskMutation,
  type TaskListQuery,
  type TaskMutationContext,
} from "@todo-api/client/react";

import { baseUrl } from "./live.js";
import { startProxy, type Proxy } from "./support/proxy.js";
import { mintToken } from "./support/server.js";

const QUERIES: TaskListQuery[] = [
  {},
  { status: "pending" },
  { status: "completed" },
  { tag: ["home"] },
  { status: "pending", tag: ["home", "urgent"] },
  { sort: "title" },
  { sort: "due_date" },
  { sort: "priority", order: "asc" },
  { priority: ["high"] },
  { q: "milk" },
  { list_id: "inbox", parent_id: "none", sort: "position" },
  { parent_id: "none", sort: "position", order: "desc" },
];

let proxy: Proxy;
let userId: string;
let client: TodoClient;
let queryClient: QueryClient;
let ctx: TaskMutationContext;

before(async () => {
  proxy = await startProxy(baseUrl);
  userId = `react-${randomUUID()}`;
  const token = mintToken(userId);
  client = createTodoClient({ baseUrl: proxy.url, getToken: () => token, retry: false });
  queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
  ctx = { client, queryClient, userId };
});
after(async () => {
  queryClient.clear();
  await proxy.close();
});

function listKey(query: TaskListQuery) {
  return createTodoQueryHooks(client).queryOptions("get", TASKS_PATH, { params: { path: { user_id: userId }, query } });
}

async function prefetchAll(): Promise<void> {
  for (const query of QUERIES) await queryClient.fetchQuery(listKey(query));
}

function cached(query: TaskListQuery): Task[] {
  return queryClient.getQueryData<Task[]>(listKey(query).queryKey) ?? [];
}

async function serverList(query: TaskListQuery): Promise<Task[]> {
  const { data } = await client.GET(TASKS_PATH, { params: { path: { user_id: userId }, query } });
  assert.ok(data);
  return data;
}

/** Runs a mutation the way `useMutation` does; resolves when it settled. */
function run<TData, TErr, TVars, TCtx>(options: MutationOptions<TData, TErr, TVars, TCtx>, vars: TVars) {
  const observer = new MutationObserver(queryClient, options);
  const done = observer.mutate(vars).then(
    (data) => ({ data, error: undefined as unknown }),
    (error: unknown) => ({ data: undefined, error }),
  );
  const state = { settled: false };
  void done.then(() => (state.settled = true));
  return { observer, done, state };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function create(body: CreateTask) {
  const { data, error } = await run(createTaskMutation(ctx), body).done;
  assert.equal(error, undefined);
  return data as Task;
}

const ids = (tasks: Task[]) => tasks.map((t) => t.id);

describe("optimistic task mutations in a TanStack QueryClient", () => {
  test("a completion shows at once in every listing, then the server's version replaces it", async () => {
    const task = await create({ title: "Buy milk", tags: ["home"] });
    await prefetchAll();
    assert.ok(ids(cached({ status: "pending" })).includes(task.id));

    const release = proxy.holdNextAnswer("PATCH");
    const { done, state } = run(completeTaskMutation(ctx), { id: task.id, completed: true });
    await until(() => !ids(cached({ status: "pending" })).includes(task.id), "the optimistic completion");
    // The answer is still held by the proxy: the cache shows it done before the answer.
    assert.equal(state.settled, false);
    assert.ok(ids(cached({ status: "completed" })).includes(task.id));
    assert.equal(cached({ tag: ["home"] }).find((t) => t.id === task.id)?.completed, true);
    const optimistic = findCachedTask(queryClient, userId, task.id);
    release();
    const { data, error } = await done;
    assert.equal(error, undefined);
    const answer = data as Task;
    assert.equal(answer.completed, true);
    const final = findCachedTask(queryClient, userId, task.id);
    assert.notEqual(final, optimistic, "replaced by the server's answer");
    assert.deepEqual(final, answer);
  });

  test("an update the server refuses (422) is shown, then rolled back", async () => {
    const task = await create({ title: "Call mom", tags: ["family"] });
    await prefetchAll();
    const before = findCachedTask(queryClient, userId, task.id);
    const tooLong = "x".repeat(201);

    const release = proxy.holdNextAnswer("PUT");
    const { done } = run(updateTaskMutation(ctx), { id: task.id, changes: { title: tooLong } });
    await until(() => cached({}).find((t) => t.id === task.id)?.title === tooLong, "the optimistic title");
    assert.equal(cached({ sort: "title" }).find((t) => t.id === task.id)?.title, tooLong);
    release();
    const { error } = await done;
    assert.equal((error as { type?: string }).type, "urn:todo-api:problem:validation");
    assert.deepEqual(findCachedTask(queryClient, userId, task.id), before);
    for (const query of QUERIES) {
      assert.ok(cached(query).every((t) => t.title !== tooLong), `rolled back in ${JSON.stringify(query)}`);
    }
  });

  test("a delete refused (401: the session ended) puts the task back where it was", async () => {
    const task = await create({ title: "Keep me", priority: "high" });
    await prefetchAll();
    const order = ids(cached({}));
    const signedOut: TaskMutationContext = {
      ...ctx,
      client: createTodoClient({ baseUrl: proxy.url, getToken: () => "expired-session", retry: false }),
    };
    const release = proxy.holdNextAnswer("DELETE");
    const { done } = run(deleteTaskMutation(signedOut), { id: task.id });
    await until(() => !ids(cached({})).includes(task.id), "the optimistic delete");
    assert.ok(!ids(cached({ priority: ["high"] })).includes(task.id));
    release();
    const { error } = await done;
    assert.equal((error as { status?: number }).status, 401);
    assert.deepEqual(ids(cached({})), order, "back in its place");
    assert.ok(ids(cached({ priority: ["high"] })).includes(task.id));
    assert.ok((await serverList({})).some((t) => t.id === task.id), "the server still has it");
  });

  test("deleting a task already deleted elsewhere succeeds (404 means gone)", async () => {
    const task = await create({ title: "Deleted twice" });
    await prefetchAll();
    await client.DELETE("/api/{user_id}/tasks/{id}", { params: { path: { user_id: userId, id: task.id } } });
    const { error } = await run(deleteTaskMutation(ctx), { id: task.id }).done;
    assert.equal(error, undefined);
    assert.ok(QUERIES.every((q) => !ids(cached(q)).includes(task.id)));
  });

  test("after many changes every cached listing is what the server answers", async () => {
    const day = 24 * 3600 * 1000;
    const made: Task[] = [];
    for (const [i, body] of [
      { title: "Oat milk", tags: ["home"], priority: "low" as const, due_at: new Date(Date.now() + 3 * day).toISOString() },
      { title: "apples", tags: ["home", "urgent"], priority: "high" as const },
      { title: "Zebra crossing", tags: ["urgent"], due_at: new Date(Date.now() + day).toISOString() },
      { title: "milk again", priority: "high" as const, due_at: new Date(Date.now() + 2 * day).toISOString() },
    ].entries()) {
      made.push(await create(body));
      if (i === 1) await prefetchAll(); // some listings are cached before some creates, some after
    }
    const [oat, apples, zebra, milk] = made as [Task, Task, Task, Task];
    await run(completeTaskMutation(ctx), { id: apples.id, completed: true }).done;
    await run(updateTaskMutation(ctx), { id: zebra.id, changes: { tags: ["home", "urgent"], priority: "high" } }).done;
    await run(updateTaskMutation(ctx), { id: oat.id, changes: { title: "Almond milk", due_at: null } }).done;
    await run(deleteTaskMutation(ctx), { id: milk.id }).done;
    await run(completeTaskMutation(ctx), { id: apples.id, completed: false }).done;

    for (const query of QUERIES) {
      assert.deepEqual(ids(cached(query)), ids(await serverList(query)), `listing ${JSON.stringify(query)}`);
      assert.deepEqual(cached(query), await serverList(query), `contents of ${JSON.stringify(query)}`);
    }
  });
});

describe("live updates in a TanStack QueryClient", () => {
  test("a burst of changes from another client reaches every listing, with no refetch per change", async () => {
    const id = `live-${randomUUID()}`;
    const token = mintToken(id);
    const requests: string[] = [];
    const watched = createTodoClient({
      baseUrl,
      getToken: () => token,
      fetch: (r) => {
        requests.push(`${r.method} ${new URL(r.url).pathname}`);
        return fetch(r);
      },
    });
    const other = createTodoClient({ baseUrl, getToken: () => token });
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
    const hooks = createTodoQueryHooks(watched);
    const keyOf = (query: TaskListQuery) =>
      hooks.queryOptions("get", TASKS_PATH, { params: { path: { user_id: id }, query } });
    // Listings and the tags, each observed (as a mounted component would), so that they are active.
    const observers = [...QUERIES.map((q) => new QueryObserver(qc, keyOf(q))),
      new QueryObserver(qc, hooks.queryOptions("get", "/api/{user_id}/tags", { params: { path: { user_id: id } } }))];
    const unsubscribe = observers.map((o) => o.subscribe(() => {}));
    await until(() => observers.every((o) => o.getCurrentResult().isSuccess), "the first fetches");

    const statuses: string[] = [];
    const stop = startLiveTasks(watched, qc, id, (st) => statuses.push(st));
    try {
      await until(() => statuses.includes("open"), "the stream");
      await until(() => observers.every((o) => !o.getCurrentResult().isFetching), "the refetch after opening");
      const before = requests.length;

      const made: Task[] = [];
      for (let i = 0; i < 12; i += 1) {
        const { data } = await other.POST("/api/{user_id}/tasks", {
          params: { path: { user_id: id } },
          body: { title: `milk ${i}`, tags: i % 2 ? ["home"] : ["home", "urgent"], priority: i % 3 ? "low" : "high" },
        });
        assert.ok(data);
        made.push(data);
      }
      for (const task of made.slice(0, 4)) {
        await other.PATCH("/api/{user_id}/tasks/{id}/complete", {
          params: { path: { user_id: id, id: task.id } },
          body: { completed: true },
        });
      }
      for (const task of made.slice(4, 6)) {
        await other.DELETE("/api/{user_id}/tasks/{id}", { params: { path: { user_id: id, id: task.id } } });
      }

      const server = async (query: TaskListQuery) =>
        (await other.GET(TASKS_PATH, { params: { path: { user_id: id }, query } })).data ?? [];
      const expected = await Promise.all(QUERIES.map(server));
      await until(
        () => QUERIES.every((q, i) => JSON.stringify(qc.getQueryData(keyOf(q).queryKey)) === JSON.stringify(expected[i])),
        "every listing to equal the server's",
      );
      await sleep(300); // let the coalesced refetch of the tags happen, if it is going to
      const during = requests.slice(before);
      assert.deepEqual(
        during.filter((r) => r.startsWith("GET") && r.endsWith("/tasks")),
        [],
        "no listing was refetched",
      );
      const tagFetches = during.filter((r) => r.endsWith("/tags")).length;
      assert.ok(tagFetches >= 1 && tagFetches <= 4, `the tags refetched once per burst, not per change: ${tagFetches}`);
    } finally {
      stop();
      for (const u of unsubscribe) u();
      qc.clear();
    }
  });
});

