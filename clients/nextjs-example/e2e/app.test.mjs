// The example app end to end, in Debian's Chromium (playwright-core), against the production
// build (`next build` first) and the real todo API verifying Better Auth's JWKS:
//   sign up a new user; create, edit, complete, filter and delete tasks through the UI; a 422's
//   field error shown next to its field (and the optimistic edit rolled back); a second page of
//   the same user shows the first page's changes live, within a second, without reloading; drag
//   tasks into another order (and move one with the keyboard): the order survives a reload and
//   reaches the second page live; lists: create one, add a task to it, switch between lists; sign
//   in again in a fresh browser; the task page rendered on the server with the plain client.
// Every UI claim is also checked against the API itself with the user's Better Auth token.
//
//   TODO_API_BIN   the server binary (default ../../target/debug/todo-api)
//   E2E_CHROMIUM   the browser (default /usr/bin/chromium)
//   E2E_ARTIFACTS  where screenshots go (default ../../artifacts/nextjs-example)

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { chromium } from "playwright-core";

import { repoRoot, startStack } from "../scripts/stack.mjs";

const apiBin = process.env.TODO_API_BIN ?? path.join(repoRoot, "target", "debug", "todo-api");
const executablePath = process.env.E2E_CHROMIUM ?? "/usr/bin/chromium";
const artifacts = process.env.E2E_ARTIFACTS ?? path.join(repoRoot, "artifacts", "nextjs-example");
const TIMEOUT = 15_000;

let stack;
let browser;
let dataDir;
const user = {
  name: "Ada Lovelace",
  email: `ada-${Date.now()}@example.com`,
  password: "correct horse battery staple",
};

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  dataDir = mkdtempSync(path.join(tmpdir(), "todo-example-e2e-"));
  stack = await startStack({ appMode: "start", api: [apiBin, "serve"], dataDir });
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
});

after(async () => {
  await browser?.close();
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A page that fails the test on any uncaught error in the browser. */
async function newPage(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.errors = [];
  page.on("pageerror", (error) => page.errors.push(error.message));
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** The API, called directly with the signed-in user's Better Auth token (from the session cookie). */
async function api(context, method, apiPath, body) {
  const tokenAnswer = await context.request.get(`${stack.appUrl}/api/auth/token`);
  assert.equal(tokenAnswer.status(), 200, "Better Auth issues a token for the session");
  const { token } = await tokenAnswer.json();
  const response = await fetch(`${stack.apiUrl}${apiPath}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: response.status === 204 ? null : await response.json() };
}

async function userId(context) {
  const answer = await context.request.get(`${stack.appUrl}/api/auth/get-session`);
  return (await answer.json()).user.id;
}

const taskRow = (page, title) => page.getByTestId("task").filter({ has: page.getByTestId("title").getByText(title, { exact: true }) });

/** A task's row by id: it stays the same row while it is edited (when its title is an input). */
async function rowOf(page, title) {
  const id = await taskRow(page, title).getAttribute("data-task-id");
  return page.locator(`[data-testid="task"][data-task-id="${id}"]`);
}

async function titles(page) {
  return page.getByTestId("task-list").getByTestId("title").allInnerTexts();
}

/** Waits until the page shows exactly these titles, in this order. */
async function waitForOrder(page, expected, timeout = TIMEOUT) {
  await page
    .waitForFunction(
      (want) =>
        JSON.stringify(
          [...document.querySelectorAll('[data-testid="task-list"] [data-testid="title"]')].map((e) => e.textContent),
        ) === want,
      JSON.stringify(expected),
      { timeout },
    )
    .catch(() => {});
  assert.deepEqual(await titles(page), expected);
}

/** The inbox's top-level tasks in the user's order, as the API has them. */
async function serverOrder(context) {
  const id = await userId(context);
  const { status, body } = await api(context, "GET", `/api/${id}/tasks?list_id=inbox&parent_id=none&sort=position`);
  assert.equal(status, 200);
  return body.map((t) => t.title);
}

async function addTask(page, title, tags = "", priority = "medium") {
  const form = page.getByTestId("new-task");
  await form.locator('input[name="title"]').fill(title);
  await form.locator('input[name="tags"]').fill(tags);
  await form.locator('select[name="priority"]').selectOption(priority);
  await form.getByRole("button", { name: "Add" }).click();
}

describe("the example app in Chromium", () => {
  let context;
  let page;

  before(async () => {
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    page = await newPage(context);
  });
  after(() => context?.close());

  test("sign up: Better Auth's errors next to their field, then the task page", async () => {
    await page.goto(stack.appUrl);
    await page.waitForURL("**/sign-in");
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.waitForURL("**/sign-up");

    await page.locator('input[name="name"]').fill(user.name);
    await page.locator('input[name="email"]').fill(user.email);
    await page.locator('input[name="password"]').fill("short");
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.getByTestId("error-password").waitFor();
    assert.match(await page.getByTestId("error-password").innerText(), /password/i);
    await shot(page, "01-sign-up-error");

    await page.locator('input[name="password"]').fill(user.password);
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.waitForURL("**/tasks");
    assert.equal(await page.getByTestId("user-email").innerText(), user.email);
    assert.deepEqual(await titles(page), []);
  });

  test("create tasks; a 422 is shown next to its field", async () => {
    await addTask(page, "Buy milk", "home, errands", "high");
    await taskRow(page, "Buy milk").waitFor();
    await addTask(page, "Call mom", "family");
    await taskRow(page, "Call mom").waitFor();
    assert.deepEqual(await titles(page), ["Buy milk", "Call mom"], "in the user's order: a new task goes last");
    assert.deepEqual(await taskRow(page, "Buy milk").getByTestId("tag").allInnerTexts(), ["home", "errands"]);

    // The API refuses a 201-character title and a 40-character tag: 422, one error per field.
    const form = page.getByTestId("new-task");
    await addTask(page, "x".repeat(201), `ok, ${"t".repeat(40)}`);
    await form.getByTestId("error-title").waitFor();
    await form.getByTestId("error-tags").waitFor();
    assert.match(await form.getByTestId("error-title").innerText(), /200/);
    assert.equal(await form.locator('input[name="title"]').inputValue(), "x".repeat(201), "the input is kept");
    assert.equal(await form.getByTestId("error-banner").count(), 0, "field errors only, no banner");
    await shot(page, "02-validation-error");

    const id = await userId(context);
    const stored = await api(context, "GET", `/api/${id}/tasks`);
    assert.equal(stored.status, 200);
    assert.deepEqual(
      stored.body.map((t) => [t.title, t.tags, t.priority]),
      [
        ["Call mom", ["family"], "medium"],
        ["Buy milk", ["home", "errands"], "high"],
      ],
    );
  });

  test("edit a task; an invalid edit shows its error and rolls back", async () => {
    const row = await rowOf(page, "Buy milk");
    await row.getByTestId("edit").click();
    await row.locator('input[name="title"]').fill("Buy oat milk");
    await row.getByRole("button", { name: "Save" }).click();
    await taskRow(page, "Buy oat milk").waitFor();

    const edited = await rowOf(page, "Buy oat milk");
    await edited.getByTestId("edit").click();
    await edited.locator('input[name="title"]').fill("   ");
    await edited.getByRole("button", { name: "Save" }).click();
    await edited.getByTestId("error-title").waitFor();
    await shot(page, "03-edit-error");
    await edited.getByRole("button", { name: "Cancel" }).click();
    await taskRow(page, "Buy oat milk").getByTestId("title").waitFor();
    assert.deepEqual(await titles(page), ["Buy oat milk", "Call mom"], "rolled back to the saved title");

    const id = await userId(context);
    const { body } = await api(context, "GET", `/api/${id}/tasks`);
    assert.deepEqual(body.map((t) => t.title), ["Call mom", "Buy oat milk"]);
  });

  test("complete a task and filter by status and tag", async () => {
    // A click, then the row's new state: the checkbox is controlled, and its optimistic update
    // lands once the kit has cancelled a refetch in flight (a live change of the step before can
    // have started one), a moment after the click: Playwright's `check()` wants it at once.
    await taskRow(page, "Call mom").getByTestId("complete").click();
    await page.locator('[data-testid="task"][data-completed="true"]').waitFor();
    assert.equal(await taskRow(page, "Call mom").getAttribute("data-completed"), "true");

    await page.getByTestId("filter-completed").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="task"]').length === 1);
    assert.deepEqual(await titles(page), ["Call mom"]);
    await page.getByTestId("filter-pending").click();
    await taskRow(page, "Buy oat milk").waitFor();
    assert.deepEqual(await titles(page), ["Buy oat milk"]);

    await page.getByTestId("filter-all").click();
    await page.getByTestId("filter-tag").selectOption("family");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="task"]').length === 1);
    assert.deepEqual(await titles(page), ["Call mom"]);
    await shot(page, "04-filtered-by-tag");
    await page.getByTestId("filter-tag").selectOption("");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="task"]').length === 2);

    const id = await userId(context);
    const { body } = await api(context, "GET", `/api/${id}/tasks?status=completed`);
    assert.deepEqual(body.map((t) => t.title), ["Call mom"]);
  });

  test("delete a task", async () => {
    const id = await userId(context);
    const { body: before } = await api(context, "GET", `/api/${id}/tasks`);
    const mom = before.find((t) => t.title === "Call mom");
    await taskRow(page, "Call mom").getByTestId("delete").click();
    await taskRow(page, "Call mom").waitFor({ state: "detached" });
    assert.deepEqual(await titles(page), ["Buy oat milk"]);
    assert.equal((await api(context, "GET", `/api/${id}/tasks/${mom.id}`)).status, 404);
    await shot(page, "05-after-delete");
  });

  test("a second page shows the first page's changes live, without reloading", async () => {
    const second = await newPage(context);
    await second.goto(`${stack.appUrl}/tasks`);
    await second.locator('[data-testid="live"][data-state="open"]').waitFor();
    await page.locator('[data-testid="live"][data-state="open"]').waitFor();
    let loads = 0;
    second.on("load", () => (loads += 1));

    // Created in the first page: in the second within a second.
    await addTask(page, "Water the plants", "home");
    await taskRow(page, "Water the plants").waitFor();
    const created = Date.now();
    await taskRow(second, "Water the plants").waitFor({ timeout: 1000 });
    const latency = Date.now() - created;
    await shot(second, "06-second-page-live");

    // Completed in the second page: checked in the first.
    // Clicked, not `check()`ed: see "complete a task" above.
    await taskRow(second, "Water the plants").getByTestId("complete").click();
    await second.locator('[data-testid="task"][data-completed="true"]').filter({ hasText: "Water the plants" }).waitFor();
    await page.locator('[data-testid="task"][data-completed="true"]').filter({ hasText: "Water the plants" }).waitFor({ timeout: 1000 });

    // Renamed in the first, deleted in the second.
    const row = await rowOf(page, "Water the plants");
    await row.getByTestId("edit").click();
    await row.locator('input[name="title"]').fill("Water the garden");
    await row.getByRole("button", { name: "Save" }).click();
    await taskRow(second, "Water the garden").waitFor({ timeout: 1000 });
    await taskRow(second, "Water the garden").getByTestId("delete").click();
    await taskRow(page, "Water the garden").waitFor({ state: "detached", timeout: 1000 });

    // A change from outside the browser (the API called directly) arrives too.
    const id = await userId(context);
    await api(context, "POST", `/api/${id}/tasks`, { title: "Added by an assistant", tags: ["home"] });
    await taskRow(page, "Added by an assistant").waitFor({ timeout: 1000 });
    await taskRow(second, "Added by an assistant").waitFor({ timeout: 1000 });
    assert.deepEqual(await titles(second), await titles(page));
    assert.equal(loads, 0, "the second page never reloaded");
    assert.deepEqual(second.errors, []);
    await shot(page, "07-first-page-live");
    console.log(`live: the second page showed the first page's task ${latency} ms after it was shown in the first`);
    await second.close();
  });

  test("drag tasks into another order: shown at once, kept after a reload, live in a second page", async () => {
    for (const title of ["Pay rent", "Book dentist", "Walk the dog"]) {
      await addTask(page, title);
      await taskRow(page, title).waitFor();
    }
    const start = ["Buy oat milk", "Added by an assistant", "Pay rent", "Book dentist", "Walk the dog"];
    await waitForOrder(page, start);
    assert.deepEqual(await serverOrder(context), start);

    const second = await newPage(context);
    await second.goto(`${stack.appUrl}/tasks`);
    await second.locator('[data-testid="live"][data-state="open"]').waitFor();
    await waitForOrder(second, start);
    let loads = 0;
    second.on("load", () => (loads += 1));

    // The last task dragged onto the first: it takes the first place.
    await taskRow(page, "Walk the dog").getByTestId("drag-handle").dragTo(taskRow(page, "Buy oat milk"));
    const dragged = ["Walk the dog", "Buy oat milk", "Added by an assistant", "Pay rent", "Book dentist"];
    await waitForOrder(page, dragged);
    await waitForOrder(second, dragged, 2000);

    // Dragged down: "Buy oat milk" onto "Pay rent" goes right below it.
    await taskRow(page, "Buy oat milk").getByTestId("drag-handle").dragTo(taskRow(page, "Pay rent"));
    const down = ["Walk the dog", "Added by an assistant", "Pay rent", "Buy oat milk", "Book dentist"];
    await waitForOrder(page, down);
    await waitForOrder(second, down, 2000);
    await shot(page, "08-reordered-by-drag");

    // The keyboard's way: "move up" on the last task, pressed with Enter.
    await taskRow(page, "Book dentist").getByTestId("move-up").focus();
    await page.keyboard.press("Enter");
    const keyed = ["Walk the dog", "Added by an assistant", "Pay rent", "Book dentist", "Buy oat milk"];
    await waitForOrder(page, keyed);
    await waitForOrder(second, keyed, 2000);
    assert.equal(await taskRow(page, "Walk the dog").getByTestId("move-up").isDisabled(), true, "the first cannot go up");
    await shot(second, "09-second-page-reordered-live");

    // The server has the same order, and a reload shows it.
    assert.deepEqual(await serverOrder(context), keyed);
    await page.reload();
    await page.locator('[data-testid="live"][data-state="open"]').waitFor();
    assert.deepEqual(await titles(page), keyed, "the order survives a reload");
    assert.equal(loads, 0, "the second page never reloaded");
    assert.deepEqual(second.errors, []);
    assert.deepEqual(page.errors, []);
    await second.close();
  });

  test("lists: create one, add a task to it, switch back to the inbox", async () => {
    const inbox = await titles(page);
    const form = page.getByTestId("new-list");
    await form.locator('input[name="list-name"]').fill("Errands");
    await form.getByRole("button", { name: "Add list" }).click();
    await page.locator('[data-testid="list-tab"][aria-pressed="true"]').filter({ hasText: "Errands" }).waitFor();
    await waitForOrder(page, []);
    await addTask(page, "Post a parcel");
    await taskRow(page, "Post a parcel").waitFor();
    await shot(page, "10-list");

    const id = await userId(context);
    const { body: lists } = await api(context, "GET", `/api/${id}/lists`);
    assert.deepEqual(lists.map((l) => [l.name, l.task_count]), [["Errands", 1]]);
    const { body: inList } = await api(context, "GET", `/api/${id}/tasks?list_id=${lists[0].id}`);
    assert.deepEqual(inList.map((t) => t.title), ["Post a parcel"]);

    await page.getByTestId("list-tab").filter({ hasText: "Inbox" }).click();
    await waitForOrder(page, inbox);
    assert.deepEqual(page.errors, []);
  });

  test("the task page is rendered on the server with the user's tasks", async () => {
    const html = await (await context.request.get(`${stack.appUrl}/tasks`)).text();
    for (const text of ["Buy oat milk", "Added by an assistant", user.email]) {
      assert.ok(html.includes(text), `the server-rendered HTML shows ${text}`);
    }
    assert.deepEqual(page.errors, []);
  });

  test("sign in again in a fresh browser", async () => {
    const fresh = await browser.newContext();
    try {
      const other = await newPage(fresh);
      await other.goto(`${stack.appUrl}/tasks`);
      await other.waitForURL("**/sign-in");
      await other.locator('input[name="email"]').fill(user.email);
      await other.locator('input[name="password"]').fill("not the password");
      await other.getByRole("button", { name: "Sign in" }).click();
      await other.getByTestId(/error-(form|email|password)/).first().waitFor();
      await other.locator('input[name="password"]').fill(user.password);
      await other.getByRole("button", { name: "Sign in" }).click();
      await other.waitForURL("**/tasks");
      await taskRow(other, "Buy oat milk").waitFor();
      assert.deepEqual(other.errors, []);
    } finally {
      await fresh.close();
    }
  });
});
