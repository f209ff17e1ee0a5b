/** Errors come back as typed RFC 9457 problems, against the live server. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  errorMessage,
  fieldErrors,
  isProblem,
  isProblemOf,
  problemKind,
  problemStatuses,
  type Problem,
} from "@todo-api/client";

import { alice, bob, clientWith, uniqueTitle } from "./live.js";

/** Checks the common shape of a problem answer and returns its body. */
function problem(
  result: { error?: Problem; response: Response },
  status: number,
  slug: string,
): Problem {
  const { error, response } = result;
  assert.equal(response.status, status);
  assert.equal(response.headers.get("Content-Type"), "application/problem+json");
  assert.ok(error, `a ${status} problem body`);
  assert.equal(error.status, status);
  assert.equal(error.type, `urn:todo-api:problem:${slug}`);
  assert.ok(error.title.length > 0);
  assert.ok(error.detail.length > 0);
  return error;
}

async function aliceTask(): Promise<number> {
  const { data } = await alice.client.POST("/api/{user_id}/tasks", {
    params: { path: { user_id: alice.id } },
    body: { title: uniqueTitle("Alice's") },
  });
  assert.ok(data);
  return data.id;
}

describe("problems", () => {
  test("401 without a token, with a Bearer challenge", async () => {
    const result = await clientWith(async () => null).GET("/api/{user_id}/tasks", {
      params: { path: { user_id: alice.id } },
    });
    const body = problem(result, 401, "unauthorized");
    assert.equal(body.errors, undefined);
    assert.equal(result.data, undefined);
    assert.equal(result.response.headers.get("WWW-Authenticate"), "Bearer");
  });

  test("401 with a token the server does not accept", async () => {
    const result = await clientWith(() => "not-a-jwt").POST("/api/{user_id}/tasks", {
      params: { path: { user_id: alice.id } },
      body: { title: uniqueTitle("never stored") },
    });
    problem(result, 401, "unauthorized");
    assert.match(result.response.headers.get("WWW-Authenticate") ?? "", /^Bearer error="invalid_token"/);
  });

  test("403 on another user's path", async () => {
    const result = await bob.client.GET("/api/{user_id}/tasks", {
      params: { path: { user_id: alice.id } },
    });
    problem(result, 403, "forbidden");
  });

  test("404 for a task that does not exist", async () => {
    const id = await aliceTask();
    await alice.client.DELETE("/api/{user_id}/tasks/{id}", {
      params: { path: { user_id: alice.id, id } },
    });
    const result = await alice.client.PUT("/api/{user_id}/tasks/{id}", {
      params: { path: { user_id: alice.id, id } },
      body: { title: "gone" },
    });
    problem(result, 404, "not-found");
  });

  test("404 for another user's task, on their own path", async () => {
    const id = await aliceTask();
    for (const result of [
      await bob.client.GET("/api/{user_id}/tasks/{id}", {
        params: { path: { user_id: bob.id, id } },
      }),
      await bob.client.PATCH("/api/{user_id}/tasks/{id}/complete", {
        params: { path: { user_id: bob.id, id } },
      }),
      await bob.client.DELETE("/api/{user_id}/tasks/{id}", {
        params: { path: { user_id: bob.id, id } },
      }),
    ]) {
      problem(result, 404, "not-found");
    }
    const { data } = await alice.client.GET("/api/{user_id}/tasks/{id}", {
      params: { path: { user_id: alice.id, id } },
    });
    assert.equal(data?.completed, false, "untouched");
  });

  test("422 names each invalid field", async () => {
    const result = await alice.client.POST("/api/{user_id}/tasks", {
      params: { path: { user_id: alice.id } },
      body: { title: "   ", description: "x".repeat(1001) },
    });
    const body = problem(result, 422, "validation");
    assert.deepEqual(body.errors?.map((e) => e.field).sort(), ["description", "title"]);
    assert.ok(body.errors?.every((e) => e.detail.length > 0));
  });

  test("422 for an update that changes nothing", async () => {
    const id = await aliceTask();
    const result = await alice.client.PUT("/api/{user_id}/tasks/{id}", {
      params: { path: { user_id: alice.id, id } },
      body: {},
    });
    const body = problem(result, 422, "validation");
    assert.deepEqual(body.errors?.map((e) => e.field), ["body"]);
  });

  test("the helpers branch on the kind and map field errors, for real answers", async () => {
    const invalid = await alice.client.POST("/api/{user_id}/tasks", {
      params: { path: { user_id: alice.id } },
      body: { title: "x".repeat(201), tags: ["ok", "y".repeat(40)] },
    });
    const error = invalid.error;
    assert.ok(isProblem(error));
    assert.equal(problemKind(error), "validation");
    assert.ok(isProblemOf(invalid.error, "validation"));
    assert.ok(!isProblemOf(invalid.error, "not-found"));
    assert.equal(problemStatuses.validation, invalid.response.status);
    const fields = fieldErrors(error);
    assert.deepEqual(Object.keys(fields).sort(), ["tags", "title"]);
    assert.equal(fields.title, error.errors?.find((e) => e.field === "title")?.detail);
    assert.equal(errorMessage(error), error.detail);

    const missing = await alice.client.GET("/api/{user_id}/tasks/{id}", {
      params: { path: { user_id: alice.id, id: 9_007_199_254_740_000 } },
    });
    assert.ok(isProblemOf(missing.error, "not-found"));
    assert.equal(problemStatuses["not-found"], missing.response.status);
    assert.deepEqual(fieldErrors(missing.error), {});

    // Not problems: a network error, another server's JSON, nothing.
    const network = new TypeError("fetch failed");
    assert.equal(problemKind(network), undefined);
    assert.equal(errorMessage(network), "fetch failed");
    assert.equal(problemKind({ type: "https://example.com/x", title: "t", status: 400, detail: "d" }), undefined);
    assert.ok(!isProblem(undefined));
  });
});
