/**
 * The React entry's optimistic move (`moveTaskMutation`, what `useMoveTask` runs) against the
 * live server, in a real TanStack `QueryClient` whose listings are observed as mounted
 * components observe them. A proxy holds the server's answer back, so the new order is checked
 * before it arrives; then the server's `position` replaces the guess and every cached listing
 * equals what the server answers. Real refusals (a 412 from a stale `If-Match`, a 422 for a list
 * that does not exist) put every task back as it was.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { MutationObserver, QueryClient, QueryObserver, type MutationOptions } from "@tanstack/react-query";

import { createTodoClient, type CreateTask, type Task, type TodoClient } from "@todo-api/client";
import {
  TASKS_PATH,
  createTaskMutation,
  createTodoQueryHooks,
  findCachedTask,
  moveTaskMutation,
  positionBetween,
  type MoveTaskVariables,
  type TaskListQuery,
  type TaskMutationContext,
} from "@todo-api/client/react";

import { baseUrl } from "./live.js";
import { startProxy, type Proxy } from "./support/proxy.js";
import { mintToken } from "./support/server.js";

let proxy: Proxy;

before(async () => {
  proxy = await startProxy(baseUrl);
});
after(async () => {
  await proxy.close();
});

/** A fresh user with a query cache of its own, its listings observed (so that they are active). */
async function session() {
  const userId = `move-${randomUUID()}`;
  const token = mintToken(userId);
  const client: TodoClient = createTodoClient({ baseUrl: proxy.url, getToken: () => token, retry: false });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
  const ctx: TaskMutationContext = { client, queryClient, userId };
  const hooks = createTodoQueryHooks(client);
  const observed: (() => void)[] = [];
  const keyOf = (query: TaskListQuery) =>
    hooks.queryOptions("get", TASKS_PATH, { params: { path: { user_id: userId }, query } });

  return {
    userId,
    client,
    queryClient,
    ctx,
    /** Fetches these listings and keeps them observed. */
    async watch(queries: TaskListQuery[]): Promise<void> {
      for (const query of queries) {
        const observer = new QueryObserver(queryClient, keyOf(query));
        observed.push(observer.subscribe(() => {}));
        await until(() => observer.getCurrentResult().isSuccess, `the listing ${JSON.stringify(query)}`);
      }
    },
    cached(query: TaskListQuery): Task[] {
      return queryClient.getQueryData<Task[]>(keyOf(query).queryKey) ?? [];
    },
    async server(query: TaskListQuery): Promise<Task[]> {
      const { data } = await client.GET(TASKS_PATH, { params: { path: { user_id: userId }, query } });
      assert.ok(data);
      return data;
    },
    async create(body: CreateTask): Promise<Task> {
      const { data, error } = await run(queryClient, createTaskMutation(ctx), body).done;
      assert.equal(error, undefined);
      return data as Task;
    },
    move(vars: MoveTaskVariables) {
      return run(queryClient, moveTaskMutation(ctx), vars);
    },
    /** Waits until no query is fetching (e.g. after the refetch a move asked for). */
    async idle(): Promise<void> {
      await sleep(50);
      await until(() => queryClient.isFetching() === 0, "the refetches");
    },
    close(): void {
      for (const unsubscribe of observed) unsubscribe();
      queryClient.clear();
    },
  };
}

/** Runs a mutation the way `useMutation` does; resolves when it settled. */
function run<TData, TErr, TVars, TCtx>(
  queryClient: QueryClient,
  options: MutationOptions<TData, TErr, TVars, TCtx>,
  vars: TVars,
) {
  const observer = new MutationObserver(queryClient, options);
  const done = observer.mutate(vars).then(
    (data) => ({ data, error: undefined as unknown }),
    (error: unknown) => ({ data: undefined, error }),
  );
  const state = { settled: false };
  void done.then(() => (state.settled = true));
  return { done, state };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    if (condition()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

const titles = (tasks: Task[]) => tasks.map((t) => t.title);

/** Asserts that every listing holds exactly what the server answers for it. */
async function sameAsServer(s: Awaited<ReturnType<typeof session>>, queries: TaskListQuery[]): Promise<void> {
  for (const query of queries) {
    assert.deepEqual(s.cached(query), await s.server(query), `listing ${JSON.stringify(query)}`);
  }
}

const INBOX: TaskListQuery = { list_id: "inbox", parent_id: "none", sort: "position" };
const ORDERED: TaskListQuery[] = [
  INBOX,
  { sort: "position" },
  { parent_id: "none", sort: "position", order: "desc" },
  { status: "pending", sort: "position" },
];
const OTHERS: TaskListQuery[] = [{}, { sort: "title" }, { status: "completed" }];

describe("moving a task in a TanStack QueryClient", () => {
  test("the new order shows at once in every listing sorted by position, then the server's position replaces the guess", async () => {
    const s = await session();
    try {
      for (const title of ["A", "B", "C", "D"]) await s.create({ title });
      await s.watch([...ORDERED, ...OTHERS]);
      const [a, , , d] = s.cached(INBOX) as [Task, Task, Task, Task];
      assert.deepEqual(titles(s.cached(INBOX)), ["A", "B", "C", "D"]);
      const byCreation = titles(s.cached({}));

      // D right after A: shown before the server answers.
      const release = proxy.holdNextAnswer("POST");
      const { done, state } = s.move({ id: d.id, after: a.id });
      await until(() => titles(s.cached(INBOX)).join() === "A,D,B,C", "the optimistic order");
      assert.equal(state.settled, false, "the answer is still held");
      assert.deepEqual(titles(s.cached({ sort: "position" })), ["A", "D", "B", "C"]);
      assert.deepEqual(titles(s.cached({ parent_id: "none", sort: "position", order: "desc" })), ["C", "B", "D", "A"]);
      assert.deepEqual(titles(s.cached({ status: "pending", sort: "position" })), ["A", "D", "B", "C"]);
      assert.deepEqual(titles(s.cached({})), byCreation, "a listing by creation keeps its order");
      const guess = findCachedTask(s.queryClient, s.userId, d.id);
      assert.notEqual(guess?.position, d.position);
      release();
      const { data, error } = await done;
      assert.equal(error, undefined);
      const answer = data as Task;
      assert.deepEqual(findCachedTask(s.queryClient, s.userId, d.id), answer, "the server's position replaced the guess");
      assert.deepEqual(titles(s.cached(INBOX)), ["A", "D", "B", "C"]);
      await sameAsServer(s, [...ORDERED, ...OTHERS]);

      // First (`after: null`) and last (no `after`).
      const b = s.cached(INBOX).find((t) => t.title === "B") as Task;
      await s.move({ id: b.id, after: null }).done;
      assert.deepEqual(titles(s.cached(INBOX)), ["B", "A", "D", "C"]);
      await s.move({ id: a.id }).done;
      assert.deepEqual(titles(s.cached(INBOX)), ["B", "D", "C", "A"]);
      await s.idle();
      await sameAsServer(s, [...ORDERED, ...OTHERS]);
    } finally {
      s.close();
    }
  });

  test("quick successive moves land in the order they were made", async () => {
    const s = await session();
    try {
      for (const title of ["one", "two", "three", "four", "five"]) await s.create({ title });
      await s.watch(ORDERED);
      const one = s.cached(INBOX)[0] as Task;
      // "one" moved down four times in a row (as a user pressing "move down"), none awaited.
      const moves = [];
      for (let i = 0; i < 4; i += 1) {
        const next = s.cached(INBOX);
        const at = next.findIndex((t) => t.id === one.id);
        moves.push(s.move({ id: one.id, after: (next[at + 1] as Task).id }).done);
        await until(() => s.cached(INBOX).findIndex((t) => t.id === one.id) === at + 1, "the optimistic step");
      }
      assert.deepEqual(titles(s.cached(INBOX)), ["two", "three", "four", "five", "one"]);
      for (const { error } of await Promise.all(moves)) assert.equal(error, undefined);
      await s.idle();
      assert.deepEqual(titles(await s.server(INBOX)), ["two", "three", "four", "five", "one"]);
      await sameAsServer(s, ORDERED);
    } finally {
      s.close();
    }
  });

  test("to another list and under another parent: the listings filtered by list and parent follow, with the subtasks and counts", async () => {
    const s = await session();
    try {
      const { data: list } = await s.client.POST("/api/{user_id}/lists", {
        params: { path: { user_id: s.userId } },
        body: { name: "Errands" },
      });
      assert.ok(list);
      const parent = await s.create({ title: "Groceries" });
      const child = await s.create({ title: "Milk", parent_id: parent.id });
      const loose = await s.create({ title: "Bread" });
      const inList: TaskListQuery = { list_id: String(list.id), sort: "position" };
      const underParent: TaskListQuery = { parent_id: String(parent.id), sort: "position" };
      const queries: TaskListQuery[] = [INBOX, inList, underParent, { sort: "position" }, { list_id: "inbox" }];
      await s.watch(queries);
      assert.deepEqual(titles(s.cached(INBOX)), ["Groceries", "Bread"]);
      assert.deepEqual(titles(s.cached(inList)), []);

      // The parent to the list: it leaves the inbox with its subtask, at once.
      const release = proxy.holdNextAnswer("POST");
      const toList = s.move({ id: parent.id, list_id: list.id });
      await until(() => titles(s.cached(inList)).join() === "Groceries,Milk", "the optimistic list move");
      assert.deepEqual(titles(s.cached(INBOX)), ["Bread"]);
      assert.deepEqual(titles(s.cached({ list_id: "inbox" })), ["Bread"], "the subtask left the inbox too");
      assert.equal(findCachedTask(s.queryClient, s.userId, child.id)?.list_id, list.id);
      release();
      assert.equal((await toList.done).error, undefined);
      await s.idle();
      await sameAsServer(s, queries);

      // Bread under Groceries, first: the parent's counts change at once.
      const release2 = proxy.holdNextAnswer("POST");
      const under = s.move({ id: loose.id, parent_id: parent.id, after: null });
      await until(() => titles(s.cached(underParent)).join() === "Bread,Milk", "the optimistic parent move");
      assert.equal(findCachedTask(s.queryClient, s.userId, parent.id)?.subtask_count, 2);
      assert.deepEqual(titles(s.cached(INBOX)), []);
      assert.deepEqual(titles(s.cached(inList)).sort(), ["Bread", "Groceries", "Milk"], "Bread went into the list");
      release2();
      assert.equal((await under.done).error, undefined);
      await s.idle();
      assert.deepEqual(titles(s.cached(underParent)), ["Bread", "Milk"]);
      for (const query of queries) {
        assert.deepEqual(
          s.cached(query).map((t) => [t.id, t.list_id, t.parent_id, t.position]),
          (await s.server(query)).map((t) => [t.id, t.list_id, t.parent_id, t.position]),
          `listing ${JSON.stringify(query)}`,
        );
      }
      const stored = (await s.server({})).find((t) => t.id === parent.id);
      assert.equal(stored?.subtask_count, 2);
    } finally {
      s.close();
    }
  });

  test("when the server renumbers the siblings (keys grown too long), the listings are fetched again", async () => {
    const s = await session();
    try {
      for (const title of ["start", "end", "left", "right"]) await s.create({ title });
      await s.watch(ORDERED);
      const [start, , left, right] = s.cached(INBOX) as [Task, Task, Task, Task];
      // Two tasks moved in turn right after the first: each lands in a gap half the size of
      // the last, so the keys grow until the server gives the sibling set fresh short keys.
      let longest = 0;
      let renumbered = false;
      for (let i = 0; i < 400 && !renumbered; i += 1) {
        const mover = i % 2 === 0 ? left : right;
        const { data, error } = await s.move({ id: mover.id, after: start.id }).done;
        assert.equal(error, undefined);
        const key = (data as Task).position;
        renumbered = key.length < longest - 8;
        longest = Math.max(longest, key.length);
      }
      assert.ok(renumbered, `the server renumbered the siblings (longest key: ${longest} characters)`);
      await s.idle();
      await sameAsServer(s, ORDERED);
    } finally {
      s.close();
    }
  });

  test("a move refused for a stale If-Match (412) is shown, then rolled back", async () => {
    const s = await session();
    try {
      for (const title of ["first", "second", "third"]) await s.create({ title });
      await s.watch([...ORDERED, ...OTHERS]);
      const third = s.cached(INBOX)[2] as Task;
      const read = await s.client.GET("/api/{user_id}/tasks/{id}", {
        params: { path: { user_id: s.userId, id: third.id } },
      });
      const etag = read.response.headers.get("ETag");
      assert.ok(etag);
      // Another client changes the task: the ETag this page holds is stale.
      const other = createTodoClient({ baseUrl, getToken: () => mintToken(s.userId) });
      await other.PUT("/api/{user_id}/tasks/{id}", {
        params: { path: { user_id: s.userId, id: third.id } },
        body: { description: "changed elsewhere" },
      });
      const snapshot = [...ORDERED, ...OTHERS].map((q) => s.cached(q));

      const release = proxy.holdNextAnswer("POST");
      const { done } = s.move({ id: third.id, after: null, ifMatch: etag });
      await until(() => titles(s.cached(INBOX)).join() === "third,first,second", "the optimistic order");
      release();
      const { error } = await done;
      assert.equal((error as { status?: number }).status, 412);
      assert.equal((error as { type?: string }).type, "urn:todo-api:problem:precondition-failed");
      [...ORDERED, ...OTHERS].forEach((q, i) =>
        assert.deepEqual(s.cached(q), snapshot[i], `rolled back in ${JSON.stringify(q)}`),
      );
      assert.deepEqual(titles(await s.server(INBOX)), ["first", "second", "third"], "the server did not move it");
    } finally {
      s.close();
    }
  });

  test("a move refused with a 422 (no such list) puts the task, its subtasks and counts back", async () => {
    const s = await session();
    try {
      const parent = await s.create({ title: "Trip" });
      await s.create({ title: "Passport", parent_id: parent.id });
      await s.create({ title: "Tickets", parent_id: parent.id });
      const queries: TaskListQuery[] = [INBOX, { sort: "position" }, { parent_id: String(parent.id), sort: "position" }, { list_id: "inbox" }];
      await s.watch(queries);
      const snapshot = queries.map((q) => s.cached(q));

      const release = proxy.holdNextAnswer("POST");
      const { done } = s.move({ id: parent.id, list_id: 987_654_321 });
      await until(() => titles(s.cached({ list_id: "inbox" })).length === 0, "the optimistic move out of the inbox");
      release();
      const { error } = await done;
      assert.equal((error as { status?: number }).status, 422);
      assert.ok((error as { errors?: { field?: string }[] }).errors?.some((e) => e.field === "list_id"));
      queries.forEach((q, i) => assert.deepEqual(s.cached(q), snapshot[i], `rolled back in ${JSON.stringify(q)}`));
      await sameAsServer(s, queries);
    } finally {
      s.close();
    }
  });
});

describe("positionBetween", () => {
  test("sorts strictly between its bounds, for keys as the server writes them", async () => {
    const s = await session();
    try {
      for (const title of ["p", "q", "r"]) await s.create({ title });
      const keys = (await s.server(INBOX)).map((t) => t.position);
      const bounds: [string | null, string | null][] = [
        [null, keys[0] ?? null],
        [keys[0] ?? null, keys[1] ?? null],
        [keys[2] ?? null, null],
        [null, null],
        ["a0", "a0V"],
        ["a0V", "a1"],
        ["Zz", "a0"],
      ];
      for (const [lo, hi] of bounds) {
        let low = lo;
        // Twenty times into the same gap, as twenty moves between the same two tasks would.
        for (let i = 0; i < 20; i += 1) {
          const key = positionBetween(low, hi);
          assert.ok((low === null || low < key) && (hi === null || key < hi), `${low} < ${key} < ${hi}`);
          low = key;
        }
      }
    } finally {
      s.close();
    }
  });
});
