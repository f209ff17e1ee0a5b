/**
 * Servers of the tests' own, for what the shared one cannot show: an outage (stop it, start it
 * again on the same port and database) or a setting such as a rate limit. The real binary
 * (`TODO_API_BIN`, set by ci.sh) with the shared secret (`BETTER_AUTH_SECRET`) and a throwaway
 * SQLite file; tokens minted by the same binary.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

function required(name: string): string {
  const value = process.env[name]?.trim();
  if (!value) throw new Error(`${name} is not set (clients/typescript/ci.sh sets it)`);
  return value;
}

/** The server binary. */
export const serverBin = (): string => required("TODO_API_BIN");
/** The secret the servers verify tokens with. */
const secret = (): string => required("BETTER_AUTH_SECRET");

/** A token for `sub` from `todo-api token`, valid for `ttl` (e.g. `3s`, `1h`). */
export function mintToken(sub: string, ttl = "1h", withSecret: string = secret()): string {
  return execFileSync(serverBin(), ["token", "--sub", sub, "--ttl", ttl], {
    env: { ...process.env, BETTER_AUTH_SECRET: withSecret },
    encoding: "utf8",
  }).trim();
}

/**
 * A token for `sub` signed with the server's secret whose `exp` passed `agoSeconds` ago (past
 * the server's 30 s clock leeway): the binary's own token, its times moved back and re-signed.
 */
export function expiredToken(sub: string, agoSeconds = 120): string {
  const [header, payload] = mintToken(sub).split(".");
  const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8"));
  const now = Math.floor(Date.now() / 1000);
  claims.iat = now - agoSeconds - 60;
  if ("nbf" in claims) claims.nbf = claims.iat;
  claims.exp = now - agoSeconds;
  const body = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const signature = createHmac("sha256", Buffer.from(secret(), "utf8")).update(body).digest("base64url");
  return `${body}.${signature}`;
}

/** A server process of the test's own. */
export interface OwnServer {
  url: string;
  port: number;
  /** Stops the process (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and database. */
  start(): Promise<void>;
  /** Stops it and removes its database. */
  dispose(): Promise<void>;
}

/** Starts the binary on a free port (or `port`) with a fresh SQLite database and `env`. */
export async function startServer(env: Record<string, string> = {}): Promise<OwnServer> {
  const dir = mkdtempSync(path.join(tmpdir(), "todo-api-client-test-"));
  let child: ChildProcess | undefined;
  let port = 0;
  let log = "";

  const start = async (): Promise<void> => {
    log = "";
    const proc = spawn(serverBin(), ["serve"], {
      env: {
        ...process.env,
        DATABASE_URL: `sqlite://${dir}/todo.db`,
        HOST: "127.0.0.1",
        PORT: String(port),
        RUST_LOG: "info",
        NO_COLOR: "1",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    const address = await new Promise<number>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
        if (m) resolve(Number(m[1]));
      };
      proc.stdout?.on("data", onData);
      proc.stderr?.on("data", onData);
      proc.once("exit", (code) => reject(new Error(`the server exited (${code}) during start-up:\n${log}`)));
      setTimeout(() => reject(new Error(`the server did not start within 30 s:\n${log}`)), 30_000).unref();
    });
    port = address;
    for (let i = 0; i < 300; i += 1) {
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the server on ${port} did not become ready:\n${log}`);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    // SIGTERM: a graceful shutdown (SHUTDOWN_GRACE, 10 s by default); past 20 s, SIGKILL.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        process.stderr.write(`the server did not exit within 20 s of SIGTERM; killing it\n${log.slice(-2000)}\n`);
        proc.kill("SIGKILL");
      }, 20_000);
      proc.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill("SIGTERM");
    });
  };

  await start();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
