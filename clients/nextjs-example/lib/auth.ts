/**
 * Better Auth, on the server: email and password sign-in, its own tables in SQLite
 * (better-sqlite3), and the JWT plugin, whose short-lived tokens (EdDSA, published at
 * `/api/auth/jwks`) the todo API verifies with nothing but `BETTER_AUTH_URL` set on its side.
 *
 * Settings (environment): `BETTER_AUTH_URL` (this app's origin, e.g. http://localhost:3000),
 * `BETTER_AUTH_SECRET` (32+ random bytes), `AUTH_DATABASE_PATH` (default `auth.db`).
 */
import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { jwt } from "better-auth/plugins";

// `next build` loads this module too, and serves no request: it gets a throwaway in-memory
// database and a throwaway secret (so Better Auth does not warn of a missing one). At run time
// the secret is BETTER_AUTH_SECRET's, which Better Auth reads itself.
const building = process.env.NEXT_PHASE === "phase-production-build";

export const auth = betterAuth({
  database: new Database(building ? ":memory:" : (process.env.AUTH_DATABASE_PATH ?? "auth.db")),
  ...(building ? { secret: randomBytes(32).toString("hex") } : {}),
  emailAndPassword: { enabled: true, autoSignIn: true, minPasswordLength: 8 },
  plugins: [jwt()],
  telemetry: { enabled: false },
});
