/** The probes, through the generated client, against the live server. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { clientWith } from "./live.js";

const anonymous = clientWith(() => null);

test("the probes answer without a token", async () => {
  const health = await anonymous.GET("/health");
  assert.deepEqual(health.data, { status: "ok" });

  const ready = await anonymous.GET("/ready");
  assert.equal(ready.error, undefined);
  assert.deepEqual(ready.data, { status: "ready", database: "ok", jwks: "disabled" });
});
