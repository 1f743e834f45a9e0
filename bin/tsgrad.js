#!/usr/bin/env node
// The `tsgrad` command: runs the TypeScript CLI through tsx's loader (no build step).
import { register } from "tsx/esm/api";

// `tsgrad … | head` closes stdout early: that is not an error.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
