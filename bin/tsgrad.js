#!/usr/bin/env node
// The `tsgrad` command: runs the compiled CLI (dist/cli/main.js, built by `npm run build`).
import { existsSync } from "node:fs";

// `tsgrad … | head` closes stdout early: that is not an error.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  console.error(
    "tsgrad: dist/ is missing: this is a checkout that was never built. Run `npm run build` " +
      "(npm ci and npm install run it for you).",
  );
  process.exit(1);
}
const { main: run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
