// A client with a token the server did not issue itself (e.g. from Better Auth) manages that
// user's tasks.
//
// Run by tests/api/mcp.rs: MCP_BASE is the server's URL; ALICE_* is the signed-in user.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { connect, env, ok, restTask, user } from './lib.mjs';

const base = env('MCP_BASE');
const alice = user('ALICE');

test('the signed-in user manages their tasks', async () => {
  const client = await connect(base, alice.token);
  const added = await ok(client, 'add_task', { title: 'Call mom', user_id: alice.id });
  assert.equal(added.status, 'created');
  const { tasks } = await ok(client, 'list_tasks', { status: 'pending' });
  assert.deepEqual(tasks.map((t) => t.id), [added.task_id]);
  assert.equal((await ok(client, 'complete_task', { task_id: added.task_id })).status, 'completed');
  await client.close();
  const stored = await restTask(base, alice, added.task_id);
  assert.equal(stored.user_id, alice.id);
  assert.equal(stored.completed, true);
});
