// One MCP client, its requests spread over two servers on one database (as a load balancer
// would): the server keeps no session, so either answers any request.
//
// Run by tests/api/mcp.rs: MCP_BASES is the two servers' URLs (comma-separated); ALICE_* is a
// user.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { connect, env, ok, restTask, user } from './lib.mjs';

const bases = env('MCP_BASES').split(',');
const alice = user('ALICE');

test('two servers answer one client alternately', async () => {
  assert.equal(bases.length, 2);
  const posts = [];
  let next = 0;
  // The transport's fetch, sending each request to the next server in turn.
  const alternate = (url, init) => {
    const target = new URL(new URL(url).pathname, bases[next++ % bases.length]);
    if ((init?.method ?? 'GET') === 'POST') posts.push(target.origin);
    return fetch(target, init);
  };

  const client = await connect(bases[0], alice.token, { fetch: alternate });
  const { tools } = await client.listTools();
  assert.ok(tools.some((t) => t.name === 'add_task'));

  const ids = [];
  for (const title of ['First', 'Second', 'Third', 'Fourth']) {
    ids.push((await ok(client, 'add_task', { title })).task_id);
  }
  await ok(client, 'complete_task', { task_id: ids[0] });
  await ok(client, 'update_task', { task_id: ids[1], priority: 'high' });
  const listed = await ok(client, 'list_tasks', { sort: 'title' });
  assert.deepEqual(listed.tasks.map((t) => t.title), ['First', 'Fourth', 'Second', 'Third']);
  assert.equal(listed.tasks[0].completed, true);
  await client.close();

  for (const origin of bases.map((b) => new URL(b).origin)) {
    assert.ok(
      posts.filter((p) => p === origin).length >= 3,
      `${origin} answered several requests: ${posts.join(' ')}`,
    );
  }
  // Each server sees what the other wrote.
  for (const base of bases) {
    assert.equal((await restTask(base, alice, ids[0])).completed, true);
    assert.equal((await restTask(base, alice, ids[1])).priority, 'high');
  }
});
