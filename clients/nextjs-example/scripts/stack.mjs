// Starts the example app and the todo API side by side, wired as in production:
//   - the app (Next.js) serves Better Auth at /api/auth, with its own secret and SQLite file;
//   - the API verifies Better Auth's tokens with its JWKS (BETTER_AUTH_URL = the app's origin;
//     it never gets the app's secret) and lets the app's origin call it (CORS_ORIGINS).
// Used by scripts/try.mjs (next dev, cargo run) and by the browser test (next start, the built
// binary). Only Node's standard library: it runs before or without `npm ci`.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const exampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const repoRoot = path.resolve(exampleDir, "../..");

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(what, url, child, timeoutMs, logs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}):\n${logs()}`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs / 1000} s:\n${logs()}`);
}

function launch(name, command, args, options, echo) {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const take = (chunk) => {
    const text = chunk.toString();
    log = (log + text).slice(-20_000);
    if (echo) process.stdout.write(text.replace(/^(?=.)/gm, `[${name}] `));
  };
  child.stdout.on("data", take);
  child.stderr.on("data", take);
  return { child, logs: () => log };
}

function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Starts the app, then the API.
 * @param {object} o
 * @param {"dev" | "start"} o.appMode `next dev` or `next start` (after `next build`)
 * @param {string[]} o.api the API's command line, e.g. ["target/debug/todo-api", "serve"]
 * @param {string} o.dataDir where the two SQLite files go
 * @param {string} [o.host] the host both origins use (default 127.0.0.1)
 * @param {number} [o.appPort] default: a free port
 * @param {number} [o.apiPort] default: a free port
 * @param {string} [o.secret] Better Auth's secret (default: random)
 * @param {boolean} [o.echo] print both logs, prefixed
 */
export async function startStack(o) {
  const host = o.host ?? "127.0.0.1";
  const appPort = o.appPort ?? (await freePort());
  const apiPort = o.apiPort ?? (await freePort());
  const appUrl = `http://${host}:${appPort}`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  mkdirSync(o.dataDir, { recursive: true });

  const baseEnv = { ...process.env };
  delete baseEnv.BETTER_AUTH_SECRET;
  delete baseEnv.BETTER_AUTH_URL;

  const next = path.join(exampleDir, "node_modules", ".bin", "next");
  const app = launch(
    "app",
    next,
    [o.appMode, "--port", String(appPort), "--hostname", host === "localhost" ? "127.0.0.1" : host],
    {
      cwd: exampleDir,
      env: {
        ...baseEnv,
        BETTER_AUTH_URL: appUrl,
        BETTER_AUTH_SECRET: o.secret ?? randomBytes(32).toString("hex"),
        AUTH_DATABASE_PATH: path.join(o.dataDir, "auth.db"),
        TODO_API_URL: apiUrl,
        NEXT_TELEMETRY_DISABLED: "1",
      },
    },
    o.echo,
  );
  let api;
  const stopAll = async () => {
    await Promise.all([stop(api?.child), stop(app.child)]);
  };
  try {
    // The JWKS answers once Better Auth is up (its first key is made on demand).
    await waitFor("the Next.js app", `${appUrl}/api/auth/jwks`, app.child, 180_000, app.logs);
    const [command, ...args] = o.api;
    api = launch(
      "api",
      command,
      args,
      {
        cwd: repoRoot,
        env: {
          ...baseEnv,
          DATABASE_URL: `sqlite://${path.join(o.dataDir, "todo.db")}`,
          HOST: "127.0.0.1",
          PORT: String(apiPort),
          BETTER_AUTH_URL: appUrl,
          CORS_ORIGINS: appUrl,
          NO_COLOR: "1",
        },
      },
      o.echo,
    );
    // Ready = the database answers and Better Auth's keys are loaded.
    await waitFor("the todo API", `${apiUrl}/ready`, api.child, 600_000, api.logs);
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    appUrl,
    apiUrl,
    logs: () => `--- app ---\n${app.logs()}\n--- api ---\n${api.logs()}`,
    stop: stopAll,
  };
}
