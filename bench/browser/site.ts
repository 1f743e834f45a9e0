/**
 * The browser bench site, built into a fresh temporary folder for each run (so that it always
 * holds the current sources): esbuild bundles of the page and of one worker per framework, the
 * tfjs wasm binaries copied from `node_modules/@tensorflow/tfjs-backend-wasm/dist`, and both
 * builds of `wasm-peak.c`. Everything comes from the repository and node_modules: the page
 * fetches nothing from the network.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wasmBinaryDir } from "../lib/tfjs-bundle.js";
import { buildWasmPeak } from "../lib/wasm-peak-build.js";

/** The worker bundle that measures each framework. */
export const WORKER_SCRIPTS = {
  tsgrad: "worker-tsgrad.js",
  tfjs: "worker-tfjs.js",
  jax: "worker-jax.js",
} as const;

export interface Site {
  dir: string;
  /** Bundle sizes in bytes, by file. */
  sizes: Record<string, number>;
  /** Why the Wasm SIMD peak module is missing ("" when it was built). */
  peakError: string;
}

const HTML = `<!doctype html>
<html>
  <head>
    <meta charset="utf-8" />
    <title>tsgrad browser bench</title>
    <link rel="icon" href="data:," />
    <script type="module" src="page.js"></script>
  </head>
  <body>
    tsgrad browser bench: driven by bench/browser/driver.ts.
  </body>
</html>
`;

export async function buildSite(root: string): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), "tsgrad-bench-browser-"));
  const here = join(root, "bench", "browser");
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: {
      page: join(here, "page.ts"),
      "worker-tsgrad": join(here, "worker-tsgrad.ts"),
      "worker-tfjs": join(here, "worker-tfjs.ts"),
      "worker-jax": join(here, "worker-jax.ts"),
    },
    absWorkingDir: root,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outdir: dir,
    metafile: true,
    logLevel: "error",
  });
  const sizes: Record<string, number> = {};
  for (const [file, out] of Object.entries(result.metafile.outputs)) {
    sizes[file.split("/").pop()!] = out.bytes;
  }
  writeFileSync(join(dir, "index.html"), HTML);
  const tfjsDir = join(dir, "tfjs");
  mkdirSync(tfjsDir);
  const wasmDir = wasmBinaryDir(root);
  for (const f of readdirSync(wasmDir).filter((f) => f.endsWith(".wasm"))) {
    copyFileSync(join(wasmDir, f), join(tfjsDir, f));
  }
  let peakError = "";
  try {
    const peak = await buildWasmPeak(join(root, "bench", "wasm-peak.c"));
    mkdirSync(join(dir, "peak"));
    writeFileSync(join(dir, "peak", "simd.wasm"), peak.simd);
    writeFileSync(join(dir, "peak", "relaxed.wasm"), peak.relaxed);
  } catch (e) {
    peakError = (e as Error).message;
  }
  return { dir, sizes, peakError };
}
