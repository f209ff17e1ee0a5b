/**
 * Better Auth, on the server: email and password sign-in, its own tables in SQLite
 * (better-sqlite3), and the JWT plugin, whose short-lived tokens (EdDSA, published at
 * `/api/auth/jwks`) the todo API verifies with nothing but `BETTER_AUTH_URL` set on its side.
 *
 * Settings (environment): `BETTER_AUTH_URL` (this app's origin, e.g. http://localhost:3000),
 * `BETTER_AUTH_SECRET` (32+ random bytes), `AUTH_DATABASE_PATH` (default `auth.db`).
 */
import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { jwt } from "better-auth/plugins";

export const auth = betterAuth({
  // `next build` loads this module too: it gets a throwaway in-memory database.
  database: new Database(
    process.env.NEXT_PHASE === "phase-production-build" ? ":memory:" : (process.env.AUTH_DATABASE_PATH ?? "auth.db"),
  ),
  emailAndPassword: { enabled: true, autoSignIn: true, minPasswordLength: 8 },
  plugins: [jwt()],
  telemetry: { enabled: false },
});
