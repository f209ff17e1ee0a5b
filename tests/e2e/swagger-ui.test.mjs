// Swagger UI in a real browser (Debian's Chromium, driven by playwright-core): authorize with a
// token, create a task and list tasks with "Try it out", and keep a screenshot.
//
// Run by tests/e2e/run.sh against a running server:
//   E2E_BASE_URL  the server, e.g. http://127.0.0.1:41234
//   E2E_TOKEN     a token for E2E_USER (from `todo-api token --sub …`)
//   E2E_USER      the token's user
//   E2E_SCREENSHOT where to write the screenshot (PNG)
//   E2E_CHROMIUM  the browser (default /usr/bin/chromium)

import assert from "node:assert/strict";
import { mkdtemp, rm, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";

import { chromium } from "playwright-core";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (tests/e2e/run.sh sets it)`);
  return value;
}

const baseUrl = required("E2E_BASE_URL");
const token = required("E2E_TOKEN");
const user = required("E2E_USER");
const screenshot = required("E2E_SCREENSHOT");
const executablePath = process.env.E2E_CHROMIUM || "/usr/bin/chromium";

const TIMEOUT = 30_000;
const TASKS_PATH = "/api/{user_id}/tasks";

let context;
let profile;

before(async () => {
  profile = await mkdtemp(path.join(tmpdir(), "todo-api-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(TIMEOUT);
});

after(async () => {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** The operation block of `method` on `apiPath`, expanded. */
async function openOperation(page, method, apiPath) {
  const block = page.locator(`.opblock.opblock-${method}`, {
    has: page.locator(`.opblock-summary-path[data-path="${apiPath}"]`),
  });
  await assert.doesNotReject(block.waitFor(), `no ${method.toUpperCase()} ${apiPath} in Swagger UI`);
  if (!(await block.evaluate((el) => el.classList.contains("is-open")))) {
    await block.locator(".opblock-summary-path").click();
  }
  await block.locator(".opblock-body").waitFor();
  // tryItOutEnabled is on, so the form is editable already; click "Try it out" if it is not.
  const tryOut = block.locator("button.try-out__btn:not(.cancel)");
  if (await tryOut.count()) await tryOut.click();
  return block;
}

/** Clicks Execute and returns the status and body of the live response. */
async function execute(block) {
  await block.locator("button.execute").click();
  // The header row has a `.response-col_status` cell too ("Code"): read the body row.
  const status = block.locator(".live-responses-table tbody .response-col_status");
  await status.waitFor();
  const code = (await status.innerText()).trim();
  const body = await block
    .locator(".live-responses-table tbody .response-col_description .highlight-code pre")
    .innerText();
  return { code, body };
}

test("Swagger UI: authorize, create a task, see it listed", async () => {
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));

  await page.goto(`${baseUrl}/docs`);
  await page.locator(".information-container .title").waitFor();
  assert.match(await page.locator(".information-container .title").innerText(), /todo-api/);

  // Authorize with the bearer token.
  await page.locator("button.authorize").first().click();
  await page.locator("#auth-bearer-value").fill(token);
  await page.locator(".modal-ux button.modal-btn.authorize").click();
  await page.locator(".modal-ux button.btn-done").click();
  await page.locator(".modal-ux").waitFor({ state: "detached" });
  assert.ok(
    await page.locator("button.authorize.locked").count(),
    "the Authorize button shows the lock once a token is set",
  );

  // Create a task.
  const title = `Buy milk (e2e ${Date.now()})`;
  const create = await openOperation(page, "post", TASKS_PATH);
  await create.locator('input[placeholder="user_id"]').fill(user);
  await create
    .locator("textarea.body-param__text")
    .fill(JSON.stringify({ title, description: "From Swagger UI" }, null, 2));
  const created = await execute(create);
  assert.equal(created.code, "201", `create answered ${created.code}: ${created.body}`);
  const task = JSON.parse(created.body);
  assert.equal(task.title, title);
  assert.equal(task.user_id, user);

  // List the tasks: the new one is there.
  const list = await openOperation(page, "get", TASKS_PATH);
  await list.locator('input[placeholder="user_id"]').fill(user);
  const listed = await execute(list);
  assert.equal(listed.code, "200", `list answered ${listed.code}: ${listed.body}`);
  const tasks = JSON.parse(listed.body);
  assert.ok(Array.isArray(tasks), listed.body);
  assert.ok(
    tasks.some((t) => t.id === task.id && t.title === title),
    `task ${task.id} is not in the list: ${listed.body}`,
  );

  // The screenshot shows the list call: its request URL, the 200 and the body with the task.
  await list.locator(".opblock-summary").evaluate((el) => el.scrollIntoView({ block: "start" }));
  await list.locator(".request-url").evaluate((el) => el.scrollIntoView({ block: "start" }));
  await page.evaluate(() => window.scrollBy(0, -80));
  await mkdir(path.dirname(screenshot), { recursive: true });
  // The curl commands show the token: masked, the screenshot is a CI artifact.
  await page.screenshot({ path: screenshot, mask: [page.locator(".curl-command")] });
  assert.deepEqual(problems, []);
});
