/** Next.js calls `register` once when the server starts: Better Auth's tables are made then. */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { migrateAuthDatabase } = await import("./lib/migrate");
    await migrateAuthDatabase();
  }
}
