/**
 * The WebAssembly SIMD peak of this Node (`lib/wasm-peak.ts`): `npm run bench` runs it as a
 * child, with `--experimental-wasm-relaxed-simd` where Node needs that flag for relaxed SIMD, so
 * that both builds are measured. By hand:
 *
 *   node --experimental-wasm-relaxed-simd --import tsx bench/wasm-peak.ts [--threads 1,2] [--check]
 *
 * Prints one line per figure on stderr and, with `--json`, one `RESULT_MARKER` line on stdout.
 */
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { RESULT_MARKER } from "./lib/protocol.js";
import { type PeakWorker, type WasmPeakRun, measureWasmPeak } from "./lib/wasm-peak.js";
import { buildWasmPeak } from "./lib/wasm-peak-build.js";

const HERE = dirname(fileURLToPath(import.meta.url));

const { values: opt } = parseArgs({
  options: {
    threads: { type: "string", default: `1,${os.availableParallelism()}` },
    check: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});

function spawn(source: string): PeakWorker {
  const w = new Worker(source, { eval: true });
  return {
    post: (m) => w.postMessage(m),
    onMessage: (f) => w.on("message", f),
    onError: (f) => w.once("error", (e) => f(e.message)),
    terminate: () => void w.terminate(),
  };
}

const threads = [...new Set(opt.threads.split(",").map(Number))].filter((n) => n >= 1);
let result: WasmPeakRun;
try {
  const bytes = await buildWasmPeak(join(HERE, "wasm-peak.c"));
  result = await measureWasmPeak({
    env: "node",
    engine: `Node ${process.version} (V8 ${process.versions.v8})`,
    bytes,
    threads,
    check: opt.check,
    spawn,
    log: (m) => process.stderr.write(`  ${m}\n`),
  });
} catch (e) {
  result = { env: "node", unavailable: (e as Error).message };
  process.stderr.write(`  node wasm peak unavailable: ${result.unavailable}\n`);
}
if (opt.json) process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
else if ("checks" in result) for (const c of result.checks ?? []) console.log(c);
