/**
 * Before any test: bring dist/ up to date with src/ (an incremental `tsc` build, seconds when
 * little changed), because the tests that run the `tsgrad` command, the packed tarball and the
 * demo use the compiled code, as users do, and must not see a stale build. Outputs whose source
 * is gone are deleted too: an incremental build leaves them, and `npm pack` would ship them.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** dist/ files with no src/ file they were compiled from. */
function orphans(dist: string, src: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|d\.ts)(\.map)?$/.test(e.name)) {
        const stem = relative(dist, p).replace(/\.(js|d\.ts)(\.map)?$/, "");
        if (!existsSync(join(src, `${stem}.ts`))) out.push(p);
      }
    }
  };
  if (existsSync(dist)) walk(dist);
  return out;
}

export default function setup(): void {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit",
  });
  for (const p of orphans(join(root, "dist"), join(root, "src"))) rmSync(p);
}
