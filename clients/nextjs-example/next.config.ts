import type { NextConfig } from "next";

const config: NextConfig = {
  // better-sqlite3 is a native module: loaded by Node, never bundled (Next's default list has it).
  serverExternalPackages: ["better-sqlite3"],
};

export default config;
