// todo-api's MCP server through the official TypeScript MCP client (Streamable HTTP): every
// tool, its effect through REST, every error case, isolation between users, and the 401 that
// points to the protected resource metadata.
//
// Run by tests/api/mcp.rs against a real server: MCP_BASE is its URL; ALICE_* and BOB_* are two
// users (ids and bearer tokens).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

import { connect, env, ok, refused, rest, restTask, restTasks, user } from './lib.mjs';

const base = env('MCP_BASE');
const alice = user('ALICE');
const bob = user('BOB');
const mcpUrl = new URL('/mcp', base);

const TOOLS = {
  add_task: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  list_tasks: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  get_task: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  update_task: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  complete_task: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  reopen_task: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  delete_task: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  clear_completed_tasks: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  list_tags: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  list_reminders: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  move_task: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  list_lists: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  create_list: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  update_list: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  delete_list: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
};

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'raw', version: '1' },
  },
};

/** POSTs an initialize to /mcp with these headers, as a client that has no token yet would. */
function postInitialize(headers) {
  return fetch(mcpUrl, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify(initialize),
  });
}

const iso = (value) => (value === null ? null : new Date(value).toISOString());

test('without a token: 401 naming the resource metadata, which names this resource', async () => {
  const response = await postInitialize({});
  assert.equal(response.status, 401);
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
  const { resourceMetadataUrl, error } = extractWWWAuthenticateParams(response);
  assert.equal(resourceMetadataUrl?.href, `${base}/.well-known/oauth-protected-resource`);
  assert.equal(error, undefined, 'no token is not an invalid token');

  // What an MCP client does next (the SDK's own discovery, which validates the document).
  const metadata = await discoverOAuthProtectedResourceMetadata(mcpUrl, { resourceMetadataUrl });
  assert.equal(metadata.resource, mcpUrl.href);
  assert.deepEqual(metadata.bearer_methods_supported, ['header']);
  assert.equal(metadata.authorization_servers, undefined, 'no BETTER_AUTH_URL: none named');
  // The same document where RFC 9728 puts it for the /mcp resource.
  const atPath = await discoverOAuthProtectedResourceMetadata(mcpUrl);
  assert.deepEqual(atPath, metadata);

  const forged = await postInitialize({ Authorization: 'Bearer not.a.jwt' });
  assert.equal(forged.status, 401);
  const forgedParams = extractWWWAuthenticateParams(forged);
  assert.equal(forgedParams.error, 'invalid_token');
  assert.equal(forgedParams.resourceMetadataUrl?.href, resourceMetadataUrl.href);

  // The SDK's client fails to connect, with the 401.
  await assert.rejects(connect(base, null), (err) => {
    assert.ok(err instanceof StreamableHTTPError || /401|Unauthorized/i.test(String(err)), String(err));
    return true;
  });
});

test('initialize, then the tools with schemas and annotations', async () => {
  const client = await connect(base, alice.token);
  assert.equal(client.getServerVersion()?.name, 'todo-api');
  assert.ok(client.getServerCapabilities()?.tools, 'tools capability');
  assert.match(client.getInstructions() ?? '', /list_tasks/);

  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), Object.keys(TOOLS).sort());
  for (const tool of tools) {
    assert.ok(tool.description.length > 40, `${tool.name} has a description a model can act on`);
    assert.equal(tool.inputSchema.type, 'object', tool.name);
    assert.equal(tool.outputSchema?.type, 'object', `${tool.name} declares its output`);
    assert.ok(tool.inputSchema.properties.user_id, `${tool.name} accepts user_id`);
    const { readOnlyHint, destructiveHint, idempotentHint } = tool.annotations;
    assert.deepEqual({ readOnlyHint, destructiveHint, idempotentHint }, TOOLS[tool.name], tool.name);
  }
  const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
  assert.deepEqual(byName.add_task.inputSchema.required, ['title']);
  assert.deepEqual(byName.complete_task.inputSchema.required, ['task_id']);
  assert.deepEqual(byName.list_tasks.inputSchema.properties.status.enum, [
    'all',
    'pending',
    'completed',
    null,
  ]);
  assert.deepEqual(byName.add_task.outputSchema.properties.task.properties.priority.enum, [
    'low',
    'medium',
    'high',
  ]);
  for (const field of ['task_id', 'status', 'title']) {
    assert.ok(byName.add_task.outputSchema.properties[field], `add_task returns ${field}`);
    assert.ok(byName.delete_task.outputSchema.properties[field], `delete_task returns ${field}`);
  }
  await client.close();
});

test('every tool, with its effect through REST', async (t) => {
  const client = await connect(base, alice.token);
  const path = (id) => `/api/${encodeURIComponent(alice.id)}/tasks/${id}`;

  const call = await ok(client, 'add_task', { title: '  Call mom  ', description: 'about Sunday' });
  assert.equal(call.status, 'created');
  assert.equal(call.title, 'Call mom', 'trimmed, as REST trims');
  assert.equal(typeof call.task_id, 'number');
  assert.equal((await restTask(base, alice, call.task_id)).description, 'about Sunday');

  const weekly = await ok(client, 'add_task', {
    title: 'Water the plants',
    priority: 'high',
    tags: ['Home', 'plants'],
    due_at: '2030-01-06T10:00:00+01:00',
    remind_at: '2030-01-06T09:30:00+01:00',
    recurrence: { frequency: 'weekly' },
    user_id: alice.id,
  });
  const stored = await restTask(base, alice, weekly.task_id);
  assert.equal(stored.priority, 'high');
  assert.deepEqual(stored.tags, ['Home', 'plants']);
  assert.equal(iso(stored.due_at), '2030-01-06T09:00:00.000Z');
  assert.equal(iso(stored.remind_at), '2030-01-06T08:30:00.000Z');
  assert.deepEqual(stored.recurrence, { frequency: 'weekly', interval: 1 });
  assert.deepEqual(weekly.task.tags, stored.tags);

  const late = await ok(client, 'add_task', {
    title: 'Renew passport',
    due_at: '2020-01-01T00:00:00Z',
    remind_at: '2019-12-31T12:00:00Z',
    tags: ['admin'],
  });

  await t.test('list_tasks: status, search, tags, priorities, due ranges, overdue, sort', async () => {
    const all = await ok(client, 'list_tasks');
    assert.equal(all.total, 3);
    assert.equal(all.more, false);
    assert.ok(!Number.isNaN(Date.parse(all.now)));
    assert.deepEqual(
      all.tasks.map((task) => task.id),
      [late.task_id, weekly.task_id, call.task_id],
      'newest first, as REST lists',
    );
    const titles = async (args) => (await ok(client, 'list_tasks', args)).tasks.map((x) => x.title);
    assert.deepEqual(await titles({ q: 'MOM' }), ['Call mom']);
    assert.deepEqual(await titles({ tags: ['home'] }), ['Water the plants']);
    assert.deepEqual(await titles({ priorities: ['high', 'low'] }), ['Water the plants']);
    assert.deepEqual(await titles({ due_after: '2025-01-01T00:00:00Z' }), ['Water the plants']);
    assert.deepEqual(await titles({ due_before: '2025-01-01T00:00:00Z' }), ['Renew passport']);
    assert.deepEqual(await titles({ overdue: true }), ['Renew passport']);
    assert.deepEqual(await titles({ status: 'completed' }), []);
    assert.deepEqual(await titles({ sort: 'title' }), ['Call mom', 'Renew passport', 'Water the plants']);
    assert.deepEqual(await titles({ sort: 'title', order: 'desc', limit: 1 }), ['Water the plants']);
    const page = await ok(client, 'list_tasks', { limit: 2 });
    assert.equal(page.tasks.length, 2);
    assert.equal(page.total, 3);
    assert.equal(page.more, true);
  });

  await t.test('get_task', async () => {
    const { task } = await ok(client, 'get_task', { task_id: call.task_id });
    const stored = await restTask(base, alice, call.task_id);
    assert.equal(task.id, stored.id);
    assert.equal(task.title, stored.title);
    assert.equal(task.updated_at, stored.updated_at, 'the same timestamps as REST');
  });

  await t.test('update_task: given fields change, null clears, the rest stays', async () => {
    const updated = await ok(client, 'update_task', {
      task_id: call.task_id,
      title: 'Call mom and dad',
      description: null,
      tags: ['family'],
    });
    assert.equal(updated.status, 'updated');
    assert.equal(updated.title, 'Call mom and dad');
    const stored = await restTask(base, alice, call.task_id);
    assert.equal(stored.title, 'Call mom and dad');
    assert.equal(stored.description, null);
    assert.deepEqual(stored.tags, ['family']);
    assert.equal(stored.priority, 'medium');
  });

  await t.test('complete_task creates the next occurrence of a recurring task', async () => {
    const done = await ok(client, 'complete_task', { task_id: weekly.task_id });
    assert.equal(done.status, 'completed');
    assert.equal(done.task.completed, true);
    assert.ok(done.next_occurrence, 'the next occurrence');
    assert.equal(iso(done.next_occurrence.due_at), '2030-01-13T09:00:00.000Z');
    const stored = await restTask(base, alice, weekly.task_id);
    assert.equal(stored.completed, true);
    assert.equal(stored.next_occurrence_id, done.next_occurrence.id);
    assert.equal((await restTask(base, alice, done.next_occurrence.id)).completed, false);

    const again = await ok(client, 'complete_task', { task_id: weekly.task_id });
    assert.equal(again.status, 'completed');
    assert.equal(again.next_occurrence, null, 'completing again changes nothing');
    assert.equal((await restTasks(base, alice)).length, 4);
  });

  await t.test('reopen_task', async () => {
    const reopened = await ok(client, 'reopen_task', { task_id: weekly.task_id });
    assert.equal(reopened.status, 'reopened');
    assert.equal((await restTask(base, alice, weekly.task_id)).completed, false);
    await ok(client, 'complete_task', { task_id: weekly.task_id });
  });

  await t.test('list_tags and list_reminders', async () => {
    const { tags } = await ok(client, 'list_tags');
    assert.deepEqual(tags, [
      { tag: 'admin', count: 1 },
      { tag: 'family', count: 1 },
      { tag: 'Home', count: 2 },
      { tag: 'plants', count: 2 },
    ]);
    const due = await ok(client, 'list_reminders');
    assert.deepEqual(due.tasks.map((x) => x.id), [late.task_id], 'pending, reminder passed');
    const later = await ok(client, 'list_reminders', { before: '2030-12-31T00:00:00Z' });
    assert.equal(later.tasks.length, 2, 'and the next occurrence, reminded 2030-01-13');
    assert.equal(iso(later.before), '2030-12-31T00:00:00.000Z');
  });

  await t.test('delete_task and clear_completed_tasks', async () => {
    const deleted = await ok(client, 'delete_task', { task_id: late.task_id });
    assert.deepEqual(deleted, { task_id: late.task_id, status: 'deleted', title: 'Renew passport' });
    assert.equal(await restTask(base, alice, late.task_id), null);
    assert.equal((await rest(base, alice, 'GET', path(late.task_id))).status, 404);

    const cleared = await ok(client, 'clear_completed_tasks');
    assert.equal(cleared.deleted, 1, 'the completed weekly task');
    assert.equal(await restTask(base, alice, weekly.task_id), null);
    const left = (await restTasks(base, alice)).map((x) => x.title).sort();
    assert.deepEqual(left, ['Call mom and dad', 'Water the plants']);
  });
  await client.close();
});

test('every bad call is a tool error a model can correct, and changes nothing', async () => {
  const client = await connect(base, alice.token);
  const before = await restTasks(base, alice);
  const [anyTask] = before;
  assert.ok(anyTask, 'the previous test left tasks');

  await refused(client, 'complete_task', { task_id: 987654321 }, /No task with id 987654321.*list_tasks/);
  await refused(client, 'get_task', { task_id: -1 }, /No task with id -1/);
  await refused(client, 'delete_task', { task_id: 987654321 }, /No task with id/);
  await refused(client, 'update_task', { task_id: 987654321, title: 'x' }, /No task with id/);
  await refused(client, 'add_task', { title: '   ' }, /`title` must not be empty/);
  await refused(client, 'add_task', { title: 'x'.repeat(201) }, /`title` must be at most 200 characters/);
  await refused(client, 'add_task', { title: 'a\u0000b' }, /`title` must not contain the NUL/);
  await refused(
    client,
    'add_task',
    { title: 'Dentist', due_at: '2030-03-01T10:00:00Z', remind_at: '2030-03-01T11:00:00Z' },
    /`remind_at` must not be after due_at/,
  );
  await refused(
    client,
    'add_task',
    { title: 'Gym', recurrence: { frequency: 'daily' } },
    /`recurrence` needs a due_at/,
  );
  await refused(
    client,
    'add_task',
    { title: 'Gym', due_at: '2030-03-01T10:00:00Z', recurrence: { frequency: 'daily', interval: 0 } },
    /interval must be 1 to 1000/,
  );
  await refused(client, 'add_task', { title: 'Gym', due_at: 'tomorrow' }, /`due_at` must be an RFC 3339 timestamp/);
  await refused(client, 'add_task', { title: 'Tagged', tags: ['a', 'A'] }, /`tags` tag 2: `A` is repeated/);
  await refused(client, 'add_task', { title: 5 }, /`title` invalid type: integer `5`, expected a string/);
  await refused(client, 'add_task', { description: 'no title' }, /missing field `title`/);
  await refused(client, 'add_task', { title: 'x', titel: 'y' }, /unknown field `titel`/);
  await refused(client, 'add_task', { title: 'x', priority: 'urgent' }, /`priority` unknown variant `urgent`/);
  await refused(client, 'update_task', { task_id: anyTask.id }, /change nothing/);
  await refused(client, 'update_task', { task_id: anyTask.id, title: null }, /`title` cannot be null/);
  await refused(
    client,
    'update_task',
    { task_id: anyTask.id, due_at: '2030-03-01T10:00:00Z', remind_at: '2030-03-02T10:00:00Z' },
    /`remind_at` must not be after due_at/,
  );
  await refused(client, 'list_tasks', { limit: 0 }, /`limit` must be 1 to 1000/);
  await refused(client, 'list_tasks', { q: 'q'.repeat(201) }, /`q` must be at most 200 characters/);
  await refused(client, 'list_tasks', { status: 'done' }, /`status` unknown variant `done`/);
  await refused(client, 'list_reminders', { before: 'soon' }, /`before` must be an RFC 3339/);
  await refused(client, 'list_tags', { extra: true }, /unknown field `extra`/);

  // user_id: only the signed-in user's own id is accepted.
  await refused(client, 'add_task', { title: 'For Bob', user_id: bob.id }, /`user_id` is not the signed-in user/);
  await refused(client, 'list_tasks', { user_id: bob.id }, /`user_id` is not the signed-in user/);
  await refused(client, 'add_task', { title: 'For 42', user_id: 42 }, /`user_id` must be a string/);
  await ok(client, 'list_tasks', { user_id: alice.id });

  assert.deepEqual(await restTasks(base, alice), before, 'nothing changed');

  // An unknown tool is the one protocol error: the request names nothing this server has.
  await assert.rejects(client.callTool({ name: 'drop_database', arguments: {} }), (err) => {
    assert.ok(err instanceof McpError, String(err));
    assert.equal(err.code, -32602);
    return true;
  });
  await client.close();
});

test("alice's token never reaches bob's tasks", async () => {
  const created = await rest(base, bob, 'POST', `/api/${encodeURIComponent(bob.id)}/tasks`, {
    title: "Bob's surprise party",
    tags: ['secret'],
  });
  assert.equal(created.status, 201);
  const bobs = await created.json();

  const client = await connect(base, alice.token);
  const listed = await ok(client, 'list_tasks', { q: 'surprise' });
  assert.deepEqual(listed.tasks, []);
  assert.ok(!(await ok(client, 'list_tags')).tags.some((t) => t.tag === 'secret'));
  const id = { task_id: bobs.id };
  await refused(client, 'get_task', id, /No task with id/);
  await refused(client, 'update_task', { ...id, title: 'Hijacked' }, /No task with id/);
  await refused(client, 'complete_task', id, /No task with id/);
  await refused(client, 'reopen_task', id, /No task with id/);
  await refused(client, 'delete_task', id, /No task with id/);
  await ok(client, 'clear_completed_tasks');
  await client.close();

  const stored = await restTask(base, bob, bobs.id);
  assert.equal(stored.title, "Bob's surprise party");
  assert.equal(stored.completed, false);

  // Bob, through MCP, sees his task and none of Alice's.
  const asBob = await connect(base, bob.token);
  const { tasks } = await ok(asBob, 'list_tasks');
  assert.deepEqual(tasks.map((x) => x.title), ["Bob's surprise party"]);
  await asBob.close();
});
