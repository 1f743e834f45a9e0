/**
 * The generated API reference (`npm run docs:api`, TypeDoc over the public entry) builds without
 * a warning: every type the public API mentions is exported and documented where it is used, and
 * every `{@link}` resolves. (That every export has a runnable example is test/exports.test.ts.)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

describe("the API reference", () => {
  it("builds with TypeDoc without warnings", () => {
    const root = fileURLToPath(new URL("..", import.meta.url));
    const out = mkdtempSync(join(tmpdir(), "tsgrad-api-"));
    try {
      // The bin is not in typedoc's exports map: find it beside its package.json.
      const pkg = createRequire(import.meta.url).resolve("typedoc/package.json");
      const typedoc = join(pkg, "..", "bin", "typedoc");
      // typedoc.json sets treatWarningsAsErrors: a warning fails the build.
      const r = spawnSync(process.execPath, [typedoc, "--out", out], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
      });
      expect(r.stdout + r.stderr).not.toMatch(/\[warning\]|\[error\]/);
      expect(r.status).toBe(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
