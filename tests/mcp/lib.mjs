// Shared by the MCP client tests: the environment the Rust test passes, an MCP client made with
// the official SDK, and REST calls to check what the tools did.
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** A required environment variable. */
export function env(name) {
  const value = process.env[name];
  assert.ok(value, `${name} must be set (the Rust test in tests/api/mcp.rs sets it)`);
  return value;
}

/** A user of the server under test: their id and a bearer token for them. */
export function user(prefix) {
  return { id: env(`${prefix}_ID`), token: env(`${prefix}_TOKEN`) };
}

/**
 * An MCP client connected to `${base}/mcp` with `token`. `fetch` replaces the transport's
 * (e.g. to spread requests over several servers).
 */
export async function connect(base, token, { fetch } = {}) {
  const client = new Client({ name: 'todo-api-tests', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL('/mcp', base), {
    requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
    ...(fetch ? { fetch } : {}),
  });
  await client.connect(transport);
  return client;
}

/** Calls `name` and asserts a successful result; returns its structured content. */
export async function ok(client, name, args = {}) {
  const result = await client.callTool({ name, arguments: args });
  assert.notEqual(result.isError, true, `${name} failed: ${JSON.stringify(result.content)}`);
  assert.ok(result.structuredContent, `${name} returns structured content`);
  const text = result.content.find((c) => c.type === 'text');
  assert.deepEqual(JSON.parse(text.text), result.structuredContent, 'the text is the same JSON');
  return result.structuredContent;
}

/**
 * Calls `name` and asserts a tool error (a result with isError, not a protocol error) whose
 * message matches `pattern`; returns the message.
 */
export async function refused(client, name, args, pattern) {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, true, `${name}(${JSON.stringify(args)}) should be refused`);
  assert.equal(result.structuredContent, undefined);
  const message = result.content.map((c) => c.text).join('\n');
  assert.match(message, pattern);
  return message;
}

/** A REST request as `who`; returns the response. */
export async function rest(base, who, method, path, body) {
  return fetch(new URL(path, base), {
    method,
    headers: {
      Authorization: `Bearer ${who.token}`,
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
}

/** `who`'s task `id` through REST, or null when REST says 404. */
export async function restTask(base, who, id) {
  const response = await rest(base, who, 'GET', `/api/${encodeURIComponent(who.id)}/tasks/${id}`);
  if (response.status === 404) return null;
  assert.equal(response.status, 200);
  return response.json();
}

/** All of `who`'s tasks through REST. */
export async function restTasks(base, who) {
  const response = await rest(base, who, 'GET', `/api/${encodeURIComponent(who.id)}/tasks`);
  assert.equal(response.status, 200);
  return response.json();
}
