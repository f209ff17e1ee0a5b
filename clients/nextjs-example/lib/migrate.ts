/** Creates or updates Better Auth's tables in its SQLite database (run once at server start). */
import { getMigrations } from "better-auth/db/migration";

import { auth } from "./auth";

export async function migrateAuthDatabase(): Promise<void> {
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
}
