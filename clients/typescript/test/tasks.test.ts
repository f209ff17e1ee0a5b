/** The task operations through the generated client, against the live server. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import type { CreateTask, Task, TaskStatus } from "@todo-api/client";

import { alice, clientWith, uniqueTitle } from "./live.js";

const user_id = alice.id;

async function create(body: CreateTask): Promise<Task> {
  const { data, error, response } = await alice.client.POST("/api/{user_id}/tasks", {
    params: { path: { user_id } },
    body,
  });
  assert.equal(response.status, 201, JSON.stringify(error));
  assert.ok(data);
  return data;
}

async function get(id: number): Promise<Task> {
  const { data, error } = await alice.client.GET("/api/{user_id}/tasks/{id}", {
    params: { path: { user_id, id } },
  });
  assert.equal(error, undefined);
  assert.ok(data);
  return data;
}

async function list(status?: TaskStatus): Promise<Task[]> {
  const { data, error } = await alice.client.GET("/api/{user_id}/tasks", {
    params: { path: { user_id }, query: status ? { status } : {} },
  });
  assert.equal(error, undefined);
  assert.ok(data);
  return data;
}

async function toggle(id: number, completed?: boolean): Promise<Task> {
  const { data, error } = await alice.client.PATCH("/api/{user_id}/tasks/{id}/complete", {
    params: { path: { user_id, id } },
    ...(completed === undefined ? {} : { body: { completed } }),
  });
  assert.equal(error, undefined);
  assert.ok(data);
  return data;
}

function ids(tasks: Task[]): number[] {
  return tasks.map((task) => task.id);
}

describe("tasks", () => {
  test("create returns the new task, trimmed, with its Location", async () => {
    const title = uniqueTitle("Buy milk");
    const { data, error, response } = await alice.client.POST("/api/{user_id}/tasks", {
      params: { path: { user_id } },
      body: { title: `  ${title}  `, description: "two litres" },
    });
    assert.equal(error, undefined);
    assert.equal(response.status, 201);
    assert.ok(data);
    assert.ok(Number.isSafeInteger(data.id) && data.id > 0, `id ${data.id}`);
    assert.equal(data.user_id, user_id);
    assert.equal(data.title, title);
    assert.equal(data.description, "two litres");
    assert.equal(data.completed, false);
    assert.equal(data.created_at, data.updated_at);
    assert.ok(!Number.isNaN(Date.parse(data.created_at)), data.created_at);
    assert.equal(
      new URL(response.headers.get("Location") ?? "", response.url).pathname,
      `/api/${user_id}/tasks/${data.id}`,
    );
    assert.deepEqual(await get(data.id), data);
  });

  test("create without a description stores null", async () => {
    const task = await create({ title: uniqueTitle("No description") });
    assert.equal(task.description, null);
  });

  test("list filters by status, newest first", async () => {
    const pending = await create({ title: uniqueTitle("pending") });
    const done = await create({ title: uniqueTitle("done") });
    assert.equal((await toggle(done.id)).completed, true);

    const pendingIds = ids(await list("pending"));
    assert.ok(pendingIds.includes(pending.id));
    assert.ok(!pendingIds.includes(done.id));

    const completed = await list("completed");
    assert.ok(ids(completed).includes(done.id));
    assert.ok(!ids(completed).includes(pending.id));
    assert.ok(completed.every((task) => task.completed));

    for (const all of [await list("all"), await list()]) {
      const allIds = ids(all);
      assert.ok(allIds.includes(pending.id) && allIds.includes(done.id));
      assert.ok(allIds.indexOf(done.id) < allIds.indexOf(pending.id), "newest first");
      assert.ok(all.every((task) => task.user_id === user_id));
    }
  });

  test("update changes only the fields sent, and null clears the description", async () => {
    const task = await create({ title: uniqueTitle("Draft"), description: "first" });

    const retitled = uniqueTitle("Final");
    const { data: renamed, error } = await alice.client.PUT("/api/{user_id}/tasks/{id}", {
      params: { path: { user_id, id: task.id } },
      body: { title: retitled },
    });
    assert.equal(error, undefined);
    assert.ok(renamed);
    assert.equal(renamed.title, retitled);
    assert.equal(renamed.description, "first");
    assert.equal(renamed.created_at, task.created_at);

    const { data: cleared } = await alice.client.PUT("/api/{user_id}/tasks/{id}", {
      params: { path: { user_id, id: task.id } },
      body: { description: null },
    });
    assert.ok(cleared);
    assert.equal(cleared.title, retitled);
    assert.equal(cleared.description, null);
    assert.deepEqual(await get(task.id), cleared);
  });

  test("complete toggles without a body and sets with one", async () => {
    const task = await create({ title: uniqueTitle("Toggle me") });
    assert.equal((await toggle(task.id)).completed, true);
    assert.equal((await toggle(task.id)).completed, false);
    assert.equal((await toggle(task.id, true)).completed, true);
    assert.equal((await toggle(task.id, true)).completed, true, "setting is idempotent");
    assert.equal((await get(task.id)).completed, true);
  });

  test("delete answers 204, then the task is gone", async () => {
    const task = await create({ title: uniqueTitle("Delete me") });
    const { data, error, response } = await alice.client.DELETE("/api/{user_id}/tasks/{id}", {
      params: { path: { user_id, id: task.id } },
    });
    assert.equal(response.status, 204);
    assert.equal(error, undefined);
    assert.equal(data, undefined);

    const again = await alice.client.GET("/api/{user_id}/tasks/{id}", {
      params: { path: { user_id, id: task.id } },
    });
    assert.equal(again.response.status, 404);
    assert.ok(!ids(await list()).includes(task.id));
  });

  test("an explicit Authorization header wins over the getter", async () => {
    const client = clientWith(() => "not-a-jwt");
    const { error, response } = await client.GET("/api/{user_id}/tasks", {
      params: { path: { user_id } },
      headers: { Authorization: `Bearer ${alice.token}` },
    });
    assert.equal(error, undefined);
    assert.equal(response.status, 200);
  });
});
