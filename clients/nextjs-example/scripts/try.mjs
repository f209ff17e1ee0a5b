// One command to try the example: installs what is missing, then runs the todo API
// (`cargo run`, SQLite) and the Next.js app (`next dev`) together, wired with Better Auth's JWKS.
//
//   node clients/nextjs-example/scripts/try.mjs     (or `npm run try` in clients/nextjs-example)
//
// Then open http://localhost:3000 and sign up. Ctrl-C stops both. Data (both SQLite files and
// Better Auth's secret) is kept in clients/nextjs-example/.data between runs.
// APP_PORT (3000) and API_PORT (8080) change the ports.

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { exampleDir, repoRoot, startStack } from "./stack.mjs";

function npmCi(dir) {
  if (existsSync(path.join(dir, "node_modules"))) return;
  console.log(`npm ci in ${path.relative(repoRoot, dir)} …`);
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, stdio: "inherit" });
}

npmCi(path.join(repoRoot, "clients", "typescript"));
npmCi(exampleDir);

const dataDir = path.join(exampleDir, ".data");
mkdirSync(dataDir, { recursive: true });
const secretFile = path.join(dataDir, "better-auth-secret");
if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString("hex"), { mode: 0o600 });

console.log("building the API and starting both (the first build of the API takes a few minutes) …");
const stack = await startStack({
  appMode: "dev",
  api: ["cargo", "run", "--quiet", "--", "serve"],
  dataDir,
  host: "localhost",
  appPort: Number(process.env.APP_PORT ?? 3000),
  apiPort: Number(process.env.API_PORT ?? 8080),
  secret: readFileSync(secretFile, "utf8").trim(),
  echo: true,
});

console.log(`\n  The app:  ${stack.appUrl}   (sign up, then add tasks)`);
console.log(`  The API:  ${stack.apiUrl}/docs\n  Ctrl-C stops both.\n`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await stack.stop();
    process.exit(0);
  });
}
