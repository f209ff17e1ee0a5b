/**
 * Safe retries against real servers: a create whose answer is lost on the way (a proxy drops
 * it after the server committed) is retried with the same `Idempotency-Key` and creates one
 * task; a request during an outage (the server stopped, then started again) waits for it; a 429
 * from the server's own rate limit is retried after its `Retry-After`; unsafe requests are not
 * retried.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { createTodoClient, type RetryEvent, type Task, type TodoClient } from "@todo-api/client";

import { alice, baseUrl, uniqueTitle } from "./live.js";
import { startProxy, type Proxy } from "./support/proxy.js";
import { mintToken, startServer, type OwnServer } from "./support/server.js";

const user_id = alice.id;

function clientAt(url: string, retry: Parameters<typeof createTodoClient>[0]["retry"] = {}, extra = {}): TodoClient {
  return createTodoClient({ baseUrl: url, getToken: () => alice.token, retry, ...extra });
}

async function titled(client: TodoClient, title: string): Promise<Task[]> {
  const { data } = await client.GET("/api/{user_id}/tasks", { params: { path: { user_id }, query: { q: title } } });
  assert.ok(data);
  return data.filter((t) => t.title === title);
}

describe("retries through a proxy that loses answers", () => {
  let proxy: Proxy;
  before(async () => {
    proxy = await startProxy(baseUrl);
  });
  after(() => proxy.close());

  test("a create whose answer was lost is retried with the same key and creates once", async () => {
    const events: RetryEvent[] = [];
    const client = clientAt(proxy.url, { baseDelayMs: 50, onRetry: (e) => events.push(e) });
    const title = uniqueTitle("Lost answer");
    const before = proxy.seen.length;
    proxy.loseNextAnswer("POST");

    const { data, response } = await client.POST("/api/{user_id}/tasks", {
      params: { path: { user_id } },
      body: { title },
    });
    assert.equal(response.status, 201);
    assert.ok(data);

    const posts = proxy.seen.slice(before).filter((s) => s.method === "POST");
    assert.equal(posts.length, 2, "sent twice");
    assert.equal(posts[0]?.lost, true);
    assert.equal(posts[0]?.status, 201, "the server created it the first time");
    const keys = posts.map((p) => p.headers["idempotency-key"]);
    assert.ok(keys[0] && keys[0] === keys[1], `one Idempotency-Key for both: ${keys}`);
    assert.equal(JSON.parse(posts[0]?.body ?? "{}").id, data.id, "the retry got the original answer");
    assert.equal(events.length, 1);
    assert.ok("error" in (events[0]?.reason ?? {}));

    const stored = await titled(alice.client, title);
    assert.deepEqual(stored.map((t) => t.id), [data.id], "exactly one task");
  });

  test("without idempotency keys a create is not retried (it may have happened)", async () => {
    const client = clientAt(proxy.url, { baseDelayMs: 50 }, { idempotencyKeys: false });
    const title = uniqueTitle("Not retried");
    const before = proxy.seen.length;
    proxy.loseNextAnswer("POST");
    await assert.rejects(
      client.POST("/api/{user_id}/tasks", { params: { path: { user_id } }, body: { title } }),
    );
    assert.equal(proxy.seen.slice(before).length, 1);
    assert.equal((await titled(alice.client, title)).length, 1, "yet the server did create it");
  });

  test("a toggle (PATCH without a body) is not retried; setting completion is", async () => {
    const { data: task } = await alice.client.POST("/api/{user_id}/tasks", {
      params: { path: { user_id } },
      body: { title: uniqueTitle("Toggle") },
    });
    assert.ok(task);
    const client = clientAt(proxy.url, { baseDelayMs: 50 });
    const path = { params: { path: { user_id, id: task.id } } };

    let before = proxy.seen.length;
    proxy.loseNextAnswer("PATCH");
    await assert.rejects(client.PATCH("/api/{user_id}/tasks/{id}/complete", path));
    assert.equal(proxy.seen.length - before, 1);

    before = proxy.seen.length;
    proxy.loseNextAnswer("PATCH");
    const { data } = await client.PATCH("/api/{user_id}/tasks/{id}/complete", { ...path, body: { completed: false } });
    assert.equal(data?.completed, false);
    assert.equal(proxy.seen.length - before, 2);
  });
});

describe("retries across a server restart", () => {
  let server: OwnServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.dispose());

  test("requests sent while the server is down succeed once it is back", async () => {
    const events: RetryEvent[] = [];
    const client = clientAt(server.url, { attempts: 10, baseDelayMs: 100, maxDelayMs: 400, onRetry: (e) => events.push(e) });
    const title = uniqueTitle("During an outage");
    await server.stop();

    const created = client.POST("/api/{user_id}/tasks", { params: { path: { user_id } }, body: { title } });
    const listed = client.GET("/api/{user_id}/tasks", { params: { path: { user_id } } });
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.ok(events.length >= 2, "both kept trying while the server was down");
    await server.start();

    const [create, list] = await Promise.all([created, listed]);
    assert.equal(create.response.status, 201);
    assert.equal(list.response.status, 200);
    assert.ok(events.every((e) => "error" in e.reason));
    assert.equal((await titled(client, title)).length, 1);
  });

  test("gives up after the last attempt and rejects with the network error", async () => {
    const client = clientAt(server.url, { attempts: 3, baseDelayMs: 20 });
    await server.stop();
    try {
      let tries = 0;
      const counting = createTodoClient({
        baseUrl: server.url,
        getToken: () => alice.token,
        retry: { attempts: 3, baseDelayMs: 20 },
        fetch: (r) => {
          tries += 1;
          return fetch(r);
        },
      });
      await assert.rejects(counting.GET("/api/{user_id}/tasks", { params: { path: { user_id } } }), TypeError);
      assert.equal(tries, 3);
      await assert.rejects(client.GET("/health"));
    } finally {
      await server.start();
    }
  });
});

describe("429 from the server's rate limit", () => {
  let server: OwnServer;
  before(async () => {
    // 60 a minute: a burst of 60, then one a second (Retry-After: 1).
    server = await startServer({ RATE_LIMIT_PER_MINUTE: "60" });
  });
  after(() => server.dispose());

  test("a safe request waits Retry-After and succeeds; an unsafe one gets the 429", async () => {
    const token = mintToken("ratelimited");
    const noRetry = createTodoClient({ baseUrl: server.url, getToken: () => token, retry: false });
    let limited: Response | undefined;
    for (let i = 0; i < 100 && !limited; i += 1) {
      const { response } = await noRetry.GET("/api/{user_id}/tasks", { params: { path: { user_id: "ratelimited" } } });
      if (response.status === 429) limited = response;
    }
    assert.ok(limited, "the limit was reached");
    assert.equal(limited.headers.get("Retry-After"), "1");

    const events: RetryEvent[] = [];
    const client = createTodoClient({ baseUrl: server.url, getToken: () => token, retry: { onRetry: (e) => events.push(e) } });
    const started = Date.now();
    const { response } = await client.GET("/api/{user_id}/tasks", { params: { path: { user_id: "ratelimited" } } });
    assert.equal(response.status, 200);
    assert.ok(events.length >= 1);
    for (const e of events) {
      assert.deepEqual(e.reason, { status: 429 });
      assert.equal(e.delayMs, 1000, "the wait is the server's Retry-After");
    }
    assert.ok(Date.now() - started >= 1000 * events.length - 50, "it did wait");

    // Exhaust the limit again: a toggle is not safe to repeat, so the 429 comes back at once.
    let status = 0;
    for (let i = 0; i < 100 && status !== 429; i += 1) {
      status = (await noRetry.GET("/api/{user_id}/tasks", { params: { path: { user_id: "ratelimited" } } })).response
        .status;
    }
    assert.equal(status, 429);
    let sent = 0;
    const counting = createTodoClient({
      baseUrl: server.url,
      getToken: () => token,
      fetch: (r) => {
        sent += 1;
        return fetch(r);
      },
    });
    const toggle = await counting.PATCH("/api/{user_id}/tasks/{id}/complete", {
      params: { path: { user_id: "ratelimited", id: 1 } },
    });
    assert.equal(toggle.response.status, 429);
    assert.equal(toggle.error?.type, "urn:todo-api:problem:rate-limited");
    assert.equal(sent, 1);
  });
});
