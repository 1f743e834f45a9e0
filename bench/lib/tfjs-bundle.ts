/**
 * TensorFlow.js as one ES-module bundle: tfjs-core with all its gradients, and the cpu and wasm
 * backends — what the `@tensorflow/tfjs` package ships, built here from the three installed
 * packages with esbuild (which tsx brings along).
 *
 * Why: tfjs-core's Node entry (`tf-core.node.js`) registers no gradients. They exist only in its
 * ES-module build, which Node cannot load as is (extensionless relative imports), and loading it
 * beside the Node entry would put a second copy of the library in the process: measured, +81 MiB
 * peak RSS, against the tfjs peer. One bundle holds one copy, so the tfjs figures (RSS included)
 * are those of a normal tfjs install.
 */
import { createRequire } from "node:module";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const PACKAGES = [
  "@tensorflow/tfjs-core",
  "@tensorflow/tfjs-backend-cpu",
  "@tensorflow/tfjs-backend-wasm",
] as const;

/** The bundle's entry: tfjs-core's API, its gradients, both backends as namespaces. */
const ENTRY = `export * from "@tensorflow/tfjs-core/dist/index.js";
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
export * as wasmBackend from "@tensorflow/tfjs-backend-wasm/dist/index.js";
export * as cpuBackend from "@tensorflow/tfjs-backend-cpu/dist/index.js";
`;

/**
 * The Emscripten glue inside the wasm backend is CommonJS (`require("fs")`, `__dirname`); give it
 * both in the ES-module output. (The .wasm files are located with setWasmPaths, not __dirname.)
 */
const BANNER = [
  'import { createRequire as __benchCreateRequire } from "node:module";',
  'import { fileURLToPath as __benchFileURLToPath } from "node:url";',
  'import { dirname as __benchDirname } from "node:path";',
  "const require = __benchCreateRequire(import.meta.url);",
  "const __filename = __benchFileURLToPath(import.meta.url);",
  "const __dirname = __benchDirname(__filename);",
].join("\n");

/** Build (or reuse) the bundle in the OS temp directory; returns its path. */
export async function buildTfjsBundle(root: string): Promise<string> {
  const req = createRequire(join(root, "package.json"));
  const versions = PACKAGES.map((p) => {
    const pkg = JSON.parse(readFileSync(req.resolve(`${p}/package.json`), "utf8")) as {
      version: string;
    };
    return `${p.split("/")[1]}@${pkg.version}`;
  });
  const dir = join(tmpdir(), "tsgrad-bench");
  const out = join(dir, `tfjs-${versions.join("-")}.mjs`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, "tfjs-entry.mjs");
  writeFileSync(entry, ENTRY);
  const esbuild = await import("esbuild");
  await esbuild.build({
    entryPoints: [entry],
    absWorkingDir: root,
    nodePaths: [join(root, "node_modules")],
    bundle: true,
    format: "esm",
    platform: "node",
    // The backends import "@tensorflow/tfjs-core": take its ES build, the one the entry uses,
    // so there is a single copy (the default "main" would pull in the Node bundle as well).
    mainFields: ["module", "main"],
    banner: { js: BANNER },
    outfile: out,
    logLevel: "error",
  });
  return out;
}

/** The directory holding the wasm backend's .wasm binaries (for `setWasmPaths`). */
export function wasmBinaryDir(root: string): string {
  const req = createRequire(join(root, "package.json"));
  return `${dirname(req.resolve("@tensorflow/tfjs-backend-wasm/package.json"))}/dist/`;
}
