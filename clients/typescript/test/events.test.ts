/**
 * `subscribe` and `sync` against real servers: every kind of write arrives once and in order; a
 * stream cut during a burst of writes resumes with `Last-Event-ID` and loses nothing; a token
 * that expires within seconds ends the stream with `reauth` and the client reconnects with a new
 * one; a commit larger than `EVENTS_MAX_LAG` makes the server send `resync` and the client catches
 * up through `/changes`; a cursor older than `CHANGES_RETENTION` (410) makes `sync` rebuild; the
 * synced map equals `GET /tasks?status=all` after concurrent writers; other users' changes never
 * arrive.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

import {
  createTodoClient,
  parseEventStream,
  subscribe,
  type Change,
  type Task,
  type TodoClient,
} from "@todo-api/client";

import { baseUrl } from "./live.js";
import { startProxy, type Proxy } from "./support/proxy.js";
import { mintToken, startServer, type OwnServer } from "./support/server.js";

/** Everything a test opened, closed after the tests even when one fails. */
const opened: { close(): void }[] = [];
after(() => {
  for (const o of opened) o.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(20);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** `promise`, or a failure naming `what` after `ms`: a step that hangs says which one it is. */
async function within<T>(what: string, promise: Promise<T>, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A fresh user of `url`, with a client. */
function newUser(url: string, extra: Partial<Parameters<typeof createTodoClient>[0]> = {}) {
  const id = `sync-${randomUUID()}`;
  const token = mintToken(id);
  return { id, client: createTodoClient({ baseUrl: url, getToken: () => token, ...extra }) };
}

async function create(client: TodoClient, user_id: string, title: string): Promise<Task> {
  const { data, error } = await client.POST("/api/{user_id}/tasks", { params: { path: { user_id } }, body: { title } });
  assert.ok(data, JSON.stringify(error));
  return data;
}

async function all(client: TodoClient, user_id: string): Promise<Task[]> {
  const { data } = await client.GET("/api/{user_id}/tasks", { params: { path: { user_id }, query: { status: "all" } } });
  assert.ok(data);
  return data;
}

/** Collects a subscription's changes. */
function collect(client: TodoClient, user_id: string, extra: Partial<Parameters<typeof subscribe>[1]> = {}) {
  const changes: Change[] = [];
  const cursors: string[] = [];
  const errors: unknown[] = [];
  let ready = 0;
  const sub = subscribe(client, {
    user_id,
    onChange: (change, cursor) => {
      changes.push(change);
      cursors.push(cursor);
    },
    onReady: () => (ready += 1),
    onError: (e) => errors.push(e),
    ...extra,
  });
  opened.push(sub);
  return { sub, changes, cursors, errors, ready: () => ready };
}

const describeChange = (c: Change) =>
  c.type === "upsert"
    ? `upsert ${c.task.id} ${c.task.title} ${c.task.completed}`
    : c.type === "list_upsert"
      ? `list_upsert ${c.list.id} ${c.list.name}`
      : `${c.type} ${c.id}`;

describe("parseEventStream", () => {
  test("follows the SSE rules: CRLF, CR, comments, multi-line data, ids that persist", async () => {
    const text =
      ": hello\r\nevent: ready\r\nid: 1\r\ndata: {\"a\":1}\r\n\r\n" +
      "data: line one\rdata: line two\r\r" +
      ":heartbeat\n\nevent: change\ndata:no-space\nid: 2\n\n" +
      "event: ignored-without-data\n\n";
    const bytes = new TextEncoder().encode(text);
    // Split into 3-byte chunks, so that fields and line ends cross chunk boundaries.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 3) controller.enqueue(bytes.slice(i, i + 3));
        controller.close();
      },
    });
    const events = [];
    for await (const event of parseEventStream(body)) events.push(event);
    assert.deepEqual(events, [
      { event: "ready", data: '{"a":1}', id: "1" },
      { event: "message", data: "line one\nline two", id: "1" },
      { event: "change", data: "no-space", id: "2" },
    ]);
  });

  test("ends, with the reason, when its signal aborts while the body is silent", async () => {
    const bytes = new TextEncoder().encode("data: first\n\n");
    // One event, then nothing, never closed: only the signal can end the read.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
      },
    });
    const controller = new AbortController();
    const events: { event: string; data: string; id: string | undefined }[] = [];
    const reason = new Error("closed");
    await assert.rejects(
      (async () => {
        for await (const event of parseEventStream(body, undefined, controller.signal)) {
          events.push(event);
          controller.abort(reason);
        }
      })(),
      (error) => error === reason,
    );
    assert.deepEqual(events, [{ event: "message", data: "first", id: undefined }]);
  });
});

describe("subscribe, on the shared server", () => {
  test("every kind of write arrives once, in order, and nobody else's", async () => {
    const alice = newUser(baseUrl);
    const bob = newUser(baseUrl);
    const a = collect(alice.client, alice.id);
    const b = collect(bob.client, bob.id);
    await until(() => a.ready() === 1 && b.ready() === 1, "both streams open");

    const path = (id: number) => ({ params: { path: { user_id: alice.id, id } } });
    const t1 = await create(alice.client, alice.id, "one");
    const t2 = await create(alice.client, alice.id, "two");
    await alice.client.PUT("/api/{user_id}/tasks/{id}", { ...path(t1.id), body: { title: "one, renamed" } });
    await alice.client.PATCH("/api/{user_id}/tasks/{id}/complete", { ...path(t2.id), body: { completed: true } });
    await alice.client.DELETE("/api/{user_id}/tasks/{id}", path(t1.id));
    const { data: cleared } = await alice.client.DELETE("/api/{user_id}/tasks", {
      params: { path: { user_id: alice.id }, query: { status: "completed" } },
    });
    assert.equal(cleared?.deleted, 1);
    const bobs = await create(bob.client, bob.id, "bob's own");

    const expected = [
      `upsert ${t1.id} one false`,
      `upsert ${t2.id} two false`,
      `upsert ${t1.id} one, renamed false`,
      `upsert ${t2.id} two true`,
      `delete ${t1.id}`,
      `delete ${t2.id}`,
    ];
    await until(() => a.changes.length >= expected.length && b.changes.length >= 1, "the changes");
    await sleep(300); // anything extra would show up now
    assert.deepEqual(a.changes.map(describeChange), expected);
    assert.deepEqual(b.changes.map(describeChange), [`upsert ${bobs.id} bob's own false`], "only bob's own");
    assert.equal(new Set(a.cursors).size, a.cursors.length, "each change has its own cursor");
    a.sub.close();
    b.sub.close();
    await Promise.all([a.sub.done, b.sub.done]);
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  test("a task created in one client reaches another's stream within a second", async () => {
    const user = newUser(baseUrl);
    const s = collect(user.client, user.id);
    await until(() => s.ready() === 1, "the stream");
    const started = Date.now();
    const task = await create(user.client, user.id, "fast");
    await until(() => s.changes.length === 1, "the event", 1000);
    assert.ok(Date.now() - started < 1000);
    assert.deepEqual(s.changes[0], { type: "upsert", task });
    s.sub.close();
  });

  test("close ends the stream even after a garbage collection (nodejs/undici#4068)", async () => {
    // Node's fetch loses the abort of a cloned Request once it is collected, which left a
    // closed stream reading for ever; the client cancels its reader itself.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const user = newUser(baseUrl);
    const s = collect(user.client, user.id);
    await until(() => s.ready() === 1, "the stream");
    for (let i = 0; i < 3; i += 1) {
      gc();
      await sleep(50);
    }
    s.sub.close();
    await within("the closed stream to end", s.sub.done, 5000);
    assert.deepEqual(s.errors, []);
  });
});

describe("subscribe through a proxy that cuts streams", () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy(baseUrl);
  });
  after(() => proxy.close());

  test("a stream cut during a burst of writes resumes with Last-Event-ID: nothing lost, nothing repeated", async () => {
    const user = newUser(baseUrl);
    const streamed = createTodoClient({ baseUrl: proxy.url, getToken: () => mintToken(user.id) });
    const s = collect(streamed, user.id, { reconnect: { baseDelayMs: 50, maxDelayMs: 200 } });
    await until(() => s.ready() === 1, "the stream");

    const created: number[] = [];
    const writer = (async () => {
      for (let i = 0; i < 40; i += 1) created.push((await create(user.client, user.id, `burst ${i}`)).id);
    })();
    let cuts = 0;
    while (created.length < 40) {
      await sleep(60);
      cuts += proxy.cutStreams();
    }
    await writer;
    await until(() => s.changes.length >= 40, "every change", 15_000);
    await sleep(300);
    assert.ok(cuts >= 2, `cut ${cuts} times`);
    assert.deepEqual(
      s.changes.map((c) => (c.type === "upsert" ? c.task.id : -1)),
      created,
      "each create once, in order",
    );
    const streams = proxy.seen.filter((r) => r.path.startsWith(`/api/${user.id}/events`));
    assert.ok(streams.length >= 3);
    assert.equal(streams[0]?.headers["last-event-id"], undefined);
    assert.ok(streams.slice(1).every((r) => typeof r.headers["last-event-id"] === "string"), "every reconnect resumes");
    s.sub.close();
  });

  test("a token that expires ends the stream with reauth; the client reconnects with a new token", async () => {
    const user = newUser(baseUrl);
    const issued: string[] = [];
    const streamed = createTodoClient({
      baseUrl: proxy.url,
      getToken: () => {
        const token = mintToken(user.id, "3s");
        issued.push(token);
        return token;
      },
      tokenCache: { refreshBeforeSeconds: 0 },
    });
    const s = collect(streamed, user.id);
    await until(() => s.ready() === 1, "the stream");
    const before = await create(user.client, user.id, "before expiry");
    await until(() => s.changes.length === 1, "the first change");
    await until(() => s.ready() === 2, "a second stream after reauth", 8000);
    const afterwards = await create(user.client, user.id, "after expiry");
    await until(() => s.changes.length === 2, "the change after reauth");
    assert.deepEqual(
      s.changes.map((c) => (c.type === "upsert" ? c.task.id : -1)),
      [before.id, afterwards.id],
    );
    const streams = proxy.seen.filter((r) => r.path.startsWith(`/api/${user.id}/events`));
    assert.ok(streams.length >= 2);
    assert.notEqual(streams[0]?.headers.authorization, streams[1]?.headers.authorization, "a new token");
    assert.equal(streams[1]?.headers["last-event-id"], s.cursors[0], "resumed after the last change");
    assert.ok(issued.length >= 2);
    assert.deepEqual(s.errors, [], "reauth is not an error");
    s.sub.close();
  });
});

describe("resync and expired cursors, on servers of the test's own", () => {
  let server: OwnServer;
  before(async () => {
    server = await startServer({ EVENTS_MAX_LAG: "3", CHANGES_RETENTION: "1s" });
  });
  after(() => server.dispose());

  test("a commit of more than EVENTS_MAX_LAG changes: resync, caught up through /changes", async () => {
    const user = newUser(server.url);
    const requests: string[] = [];
    const spied = createTodoClient({
      baseUrl: server.url,
      getToken: () => mintToken(user.id),
      fetch: (r) => {
        requests.push(new URL(r.url).pathname);
        return fetch(r);
      },
    });
    const made: Task[] = [];
    for (let i = 0; i < 5; i += 1) {
      const task = await create(user.client, user.id, `done ${i}`);
      await user.client.PATCH("/api/{user_id}/tasks/{id}/complete", {
        params: { path: { user_id: user.id, id: task.id } },
        body: { completed: true },
      });
      made.push(task);
    }
    const s = collect(spied, user.id, { reconnect: { baseDelayMs: 50 } });
    await until(() => s.ready() === 1, "the stream");
    await user.client.DELETE("/api/{user_id}/tasks", {
      params: { path: { user_id: user.id }, query: { status: "completed" } },
    });
    await until(() => s.changes.length >= 5, "the five deletions");
    const late = await create(user.client, user.id, "after the resync");
    await until(() => s.changes.length >= 6, "the next change, on a new stream");
    assert.deepEqual(
      s.changes.map(describeChange),
      [...made.map((t) => `delete ${t.id}`), `upsert ${late.id} after the resync false`],
    );
    assert.ok(requests.includes(`/api/${user.id}/changes`), "caught up through /changes");
    assert.equal(requests.filter((p) => p === `/api/${user.id}/events`).length, 2);
    s.sub.close();
  });

  test("sync: a cursor older than CHANGES_RETENTION (410) rebuilds the map", async () => {
    const proxy = await startProxy(server.url);
    try {
      const user = newUser(server.url);
      const keep = await create(user.client, user.id, "kept");
      const gone = await create(user.client, user.id, "deleted while away");
      const viaProxy = createTodoClient({ baseUrl: proxy.url, getToken: () => mintToken(user.id) });
      const statuses: string[] = [];
      const synced = viaProxy.sync({
        user_id: user.id,
        onStatus: (st) => statuses.push(st),
        reconnect: { baseDelayMs: 100, maxDelayMs: 1000 },
      });
      opened.push(synced);
      await within("the first sync", synced.ready);
      await until(() => statuses.includes("open"), "the stream");
      assert.deepEqual([...synced.tasks.keys()].sort(), [keep.id, gone.id].sort());
      const cursor = synced.cursor;

      // The client is cut off; meanwhile a task is deleted and another added, and the server
      // restarts after the retention window (it compacts the feed at start).
      proxy.refusing = true;
      proxy.cutStreams();
      await user.client.DELETE("/api/{user_id}/tasks/{id}", { params: { path: { user_id: user.id, id: gone.id } } });
      const added = await create(user.client, user.id, "added while away");
      await sleep(1100);
      await within("the server to stop", server.stop());
      await within("the server to start again", server.start(), 60_000);
      // The tombstone goes at the next compaction (at start, then every second here).
      let expiredType: string | undefined;
      await until(async () => {
        const answer = await within(
          "GET /changes with the old cursor",
          user.client.GET("/api/{user_id}/changes", {
            params: { path: { user_id: user.id }, query: { since: cursor ?? "" } },
          }),
        );
        expiredType = answer.error?.type;
        return answer.response.status === 410;
      }, "the cursor to expire");
      assert.equal(expiredType, "urn:todo-api:problem:cursor-expired");

      proxy.refusing = false;
      await until(() => !synced.tasks.has(gone.id) && synced.tasks.has(added.id), "the rebuilt map", 20_000);
      assert.deepEqual([...synced.tasks.keys()].sort(), [keep.id, added.id].sort());
      const events = proxy.seen.filter((r) => r.path.startsWith(`/api/${user.id}/events`));
      assert.ok(events.some((r) => r.status === 410), "the stream was refused with 410");
      const later = await within("a create after the rebuild", create(user.client, user.id, "after the rebuild"));
      await until(() => synced.tasks.has(later.id), "live again after the rebuild");
      synced.close();
      await within("the closed sync to end", synced.done);
    } finally {
      await within("the proxy to close", proxy.close());
    }
  });
});

describe("sync", () => {
  test("the map equals GET /tasks?status=all after concurrent writers", async () => {
    const user = newUser(baseUrl);
    for (let i = 0; i < 5; i += 1) await create(user.client, user.id, `seed ${i}`);
    let updates = 0;
    const synced = user.client.sync({ user_id: user.id, onUpdate: () => (updates += 1) });
    opened.push(synced);
    await synced.ready;
    assert.equal(synced.tasks.size, 5);

    const writer = async (n: number) => {
      for (let i = 0; i < 15; i += 1) {
        const task = await create(user.client, user.id, `w${n}-${i}`);
        const path = { params: { path: { user_id: user.id, id: task.id } } };
        if (i % 3 === 0) await user.client.DELETE("/api/{user_id}/tasks/{id}", path);
        else if (i % 3 === 1) await user.client.PATCH("/api/{user_id}/tasks/{id}/complete", { ...path, body: { completed: true } });
        else await user.client.PUT("/api/{user_id}/tasks/{id}", { ...path, body: { title: `w${n}-${i} edited` } });
      }
    };
    await Promise.all([writer(1), writer(2), writer(3)]);

    const expected = await all(user.client, user.id);
    await until(
      () => synced.tasks.size === expected.length && expected.every((t) => JSON.stringify(synced.tasks.get(t.id)) === JSON.stringify(t)),
      "the map to catch up",
    );
    assert.deepEqual(
      [...synced.tasks.values()].sort((x, y) => x.id - y.id),
      [...expected].sort((x, y) => x.id - y.id),
    );
    assert.ok(updates > 1);
    synced.close();
    await synced.done;
  });
});
