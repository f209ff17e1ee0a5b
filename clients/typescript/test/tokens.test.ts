/**
 * The token cache against the live server: a token is fetched once and remembered until shortly
 * before its `exp`, concurrent requests share one refresh, and a 401 refreshes once and retries
 * once. Tokens come from the server's own `todo-api token` (one expires within seconds).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createTodoClient, tokenExpiry, type TodoClient, type TokenGetter } from "@todo-api/client";

import { alice, baseUrl } from "./live.js";
import { expiredToken, mintToken } from "./support/server.js";

const user_id = alice.id;

/** What went over the wire: the token each request carried and the status it got. */
interface Exchange {
  token: string | undefined;
  status: number;
}

function spied(getToken: TokenGetter, options: { refreshBeforeSeconds?: number } = {}) {
  const exchanges: Exchange[] = [];
  let calls = 0;
  const client: TodoClient = createTodoClient({
    baseUrl,
    getToken: async () => {
      calls += 1;
      return getToken();
    },
    tokenCache: options,
    fetch: async (request) => {
      const token = request.headers.get("Authorization")?.replace(/^Bearer /, "");
      const response = await fetch(request);
      exchanges.push({ token, status: response.status });
      return response;
    },
  });
  return { client, exchanges, calls: () => calls };
}

async function list(client: TodoClient): Promise<number> {
  const { response } = await client.GET("/api/{user_id}/tasks", { params: { path: { user_id } } });
  return response.status;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("token cache", () => {
  test("the token is fetched once and reused until shortly before its exp", async () => {
    // Valid 4 s; replaced 2 s before it expires.
    const { client, exchanges, calls } = spied(() => mintToken(user_id, "4s"), {
      refreshBeforeSeconds: 2,
    });
    const started = Date.now();
    for (let i = 0; i < 5; i += 1) assert.equal(await list(client), 200);
    assert.equal(calls(), 1, "one getter call for five requests");
    const first = exchanges[0]?.token;
    assert.ok(first);
    assert.ok(exchanges.every((e) => e.token === first));

    const firstExp = tokenExpiry(first);
    assert.ok(firstExp && firstExp > started && firstExp <= started + 5000, "exp read from the JWT");
    await sleep(Math.max(0, firstExp - 2000 - Date.now()) + 200);

    assert.equal(await list(client), 200);
    assert.equal(calls(), 2, "a new token once the old one is about to expire");
    const second = exchanges.at(-1)?.token;
    assert.ok(second && second !== first);
    assert.ok((tokenExpiry(second) ?? 0) > firstExp);
    assert.ok(exchanges.every((e) => e.status === 200), "no request ever got a 401");
  });

  test("concurrent requests wait for one refresh", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { client, exchanges, calls } = spied(async () => {
      await gate;
      return mintToken(user_id);
    });
    const pending = Array.from({ length: 20 }, () => list(client));
    await sleep(50);
    release();
    assert.deepEqual(await Promise.all(pending), Array(20).fill(200));
    assert.equal(calls(), 1);
    assert.equal(new Set(exchanges.map((e) => e.token)).size, 1);
  });

  test("a rejected token is refreshed once and every waiting request retried once", async () => {
    // First a token the server does not trust (another secret, far from expiry), then a good one.
    const tokens = [mintToken(user_id, "1h", "another-secret-that-is-at-least-32-bytes-long"), mintToken(user_id)];
    const { client, exchanges, calls } = spied(() => tokens.shift() ?? "none left");
    const statuses = await Promise.all(Array.from({ length: 5 }, () => list(client)));
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
    assert.equal(calls(), 2, "one refresh for five 401s");
    assert.equal(exchanges.filter((e) => e.status === 401).length, 5);
    assert.equal(exchanges.filter((e) => e.status === 200).length, 5);
  });

  test("an expired token is replaced after the server's 401", async () => {
    const tokens = [expiredToken(user_id), mintToken(user_id)];
    const { client, exchanges, calls } = spied(() => tokens.shift() ?? "none left");
    assert.equal(await list(client), 200);
    assert.equal(calls(), 2);
    assert.deepEqual(
      exchanges.map((e) => e.status),
      [401, 200],
    );
  });

  test("a second 401 is the answer: one refresh, one retry, no loop", async () => {
    const { client, exchanges, calls } = spied(() =>
      mintToken(user_id, "1h", `wrong-${Math.random()}-secret-of-at-least-32-bytes`),
    );
    const { error, response } = await client.GET("/api/{user_id}/tasks", { params: { path: { user_id } } });
    assert.equal(response.status, 401);
    assert.equal(error?.type, "urn:todo-api:problem:unauthorized");
    assert.equal(calls(), 2);
    assert.equal(exchanges.length, 2);
  });

  test("the same token back from the getter is not sent again", async () => {
    const bad = mintToken(user_id, "1h", "another-secret-that-is-at-least-32-bytes-long");
    const { client, exchanges, calls } = spied(() => bad);
    assert.equal(await list(client), 401);
    assert.equal(calls(), 2);
    assert.equal(exchanges.length, 1);
  });

  test("tokenCache: false asks the getter before every request", async () => {
    const token = mintToken(user_id);
    let calls = 0;
    const client = createTodoClient({
      baseUrl,
      tokenCache: false,
      getToken: async () => {
        calls += 1;
        return token;
      },
    });
    for (const expected of [1, 2, 3]) {
      assert.equal(await list(client), 200);
      assert.equal(calls, expected);
    }
  });
});
