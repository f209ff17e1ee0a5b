// A real Better Auth instance for todo-api's interop tests (tests/api/better_auth.rs).
//
// Better Auth with email and password sign-up, the built-in memory adapter and the jwt() plugin,
// served on 127.0.0.1 exactly as a Next.js app serves it: `/api/auth/*` (sign-up, `/token`,
// `/get-session` with its `set-auth-jwt` header, `/jwks`). Nothing here reaches the internet.
//
//   node server.mjs [--alg EdDSA|ES256|RS256|PS256|ES512] [--port 0]
//
// When ready it prints one JSON line on stdout: {"url":"http://127.0.0.1:PORT","alg":"EdDSA"}.
// The url is Better Auth's base URL: what the server under test gets as BETTER_AUTH_URL.
//
// Test-only controls, under /fixture/ (a real deployment has no such routes):
//   POST /fixture/sign    {"claims":{…},"foreign":false} -> {"token"}: Better Auth's own
//                         signJWT with the current key (or, with foreign, the key of another
//                         Better Auth deployment whose keys this JWKS does not publish)
//   POST /fixture/rotate  -> {"expired":[kid…]}: the current keys reach the end of their rotation
//                         interval; Better Auth mints a new key at the next signing and keeps
//                         publishing the old ones (grace period)
//   POST /fixture/retire  -> {"removed":[kid…]}: the grace period of expired keys is over; the
//                         JWKS stops publishing them
//   POST /fixture/keys    {"alg":"ES512"} -> {"kid"}: mints an extra key of that algorithm
//   GET  /fixture/stats   -> {"jwksRequests":n}: how often the JWKS was fetched

import http from "node:http";
import { parseArgs } from "node:util";

import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { createJwk, jwt } from "better-auth/plugins";

const ALGORITHMS = ["EdDSA", "ES256", "ES512", "RS256", "PS256"];

const { values: args } = parseArgs({
  options: {
    alg: { type: "string", default: "EdDSA" },
    port: { type: "string", default: "0" },
  },
});
if (!ALGORITHMS.includes(args.alg)) {
  console.error(`--alg must be one of ${ALGORITHMS.join(", ")}`);
  process.exit(2);
}

function keyPairConfig(alg) {
  return alg === "EdDSA" ? { alg, crv: "Ed25519" } : { alg };
}

function emptyDatabase() {
  return { user: [], session: [], account: [], verification: [], jwks: [] };
}

function createAuth(baseURL, db, alg) {
  const jwtOptions = { jwks: { keyPairConfig: keyPairConfig(alg) } };
  const auth = betterAuth({
    baseURL,
    // A fixed test secret: it only encrypts the private keys in this process's memory.
    secret: "todo-api-interop-fixture-secret-0123456789",
    database: memoryAdapter(db),
    emailAndPassword: { enabled: true },
    plugins: [jwt(jwtOptions)],
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    logger: { level: "error" },
  });
  return { auth, db, jwtOptions };
}

const jwksPath = "/api/auth/jwks";
let jwksRequests = 0;
let main;
let foreign;
let nodeHandler;

async function readJson(req) {
  let raw = "";
  for await (const chunk of req) raw += chunk;
  return raw ? JSON.parse(raw) : {};
}

function reply(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function fixture(req, res, path) {
  if (req.method === "GET" && path === "/fixture/stats") {
    return reply(res, 200, { jwksRequests });
  }
  if (req.method !== "POST") return reply(res, 405, { error: "method not allowed" });
  const body = await readJson(req);
  switch (path) {
    case "/fixture/sign": {
      const { auth } = body.foreign ? foreign : main;
      const { token } = await auth.api.signJWT({ body: { payload: body.claims ?? {} } });
      return reply(res, 200, { token });
    }
    case "/fixture/rotate": {
      const now = Date.now();
      const expired = [];
      for (const key of main.db.jwks) {
        if (!key.expiresAt || new Date(key.expiresAt).getTime() > now) {
          key.expiresAt = new Date(now - 1000);
          expired.push(key.id);
        }
      }
      return reply(res, 200, { expired });
    }
    case "/fixture/retire": {
      const now = Date.now();
      const removed = main.db.jwks
        .filter((key) => key.expiresAt && new Date(key.expiresAt).getTime() <= now)
        .map((key) => key.id);
      main.db.jwks = main.db.jwks.filter((key) => !removed.includes(key.id));
      return reply(res, 200, { removed });
    }
    case "/fixture/keys": {
      if (!ALGORITHMS.includes(body.alg)) return reply(res, 400, { error: "unknown alg" });
      const context = await main.auth.$context;
      const key = await createJwk(
        { context },
        { ...main.jwtOptions, jwks: { keyPairConfig: keyPairConfig(body.alg) } },
      );
      return reply(res, 200, { kid: key.id });
    }
    default:
      return reply(res, 404, { error: "no such fixture route" });
  }
}

const server = http.createServer((req, res) => {
  const path = new URL(req.url ?? "/", "http://fixture.invalid").pathname;
  if (path.startsWith("/fixture/")) {
    fixture(req, res, path).catch((err) => reply(res, 500, { error: String(err?.message ?? err) }));
    return;
  }
  if (path === jwksPath) jwksRequests += 1;
  nodeHandler(req, res);
});

server.listen(Number(args.port), "127.0.0.1", () => {
  const { port } = server.address();
  const baseURL = `http://127.0.0.1:${port}`;
  main = createAuth(baseURL, emptyDatabase(), args.alg);
  // Same issuer, different deployment: its tokens carry a kid this JWKS never publishes.
  foreign = createAuth(baseURL, emptyDatabase(), args.alg);
  nodeHandler = toNodeHandler(main.auth);
  process.stdout.write(`${JSON.stringify({ url: baseURL, alg: args.alg })}\n`);
});
