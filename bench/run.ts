/**
 * `npm run bench`: tsgrad measured against its peers, in one run.
 *
 * For each workload (sgemm, CNN training, the AlexNet recipe's step, an LSTM LM step) and each
 * peer (tsgrad on its native, wasm and JS backends, PyTorch, tfjs wasm/cpu, jax-js with and
 * without workers), one child process measures one figure set and reports its peak RSS; with
 * `--browser`, the same frameworks also run in headless Chromium, one tab and Web Worker per
 * pair (`browser/driver.ts`). This process runs the pairs one after another (never two at once:
 * they would share the cores), measures the CPU's fp32 FMA peak and each engine's Wasm SIMD peak
 * in every round that times sgemm, prints raw figures and tsgrad ÷ peer ratios, and writes
 * everything to `bench/results/<date>-<commit>.json`. Peers that cannot run are reported as
 * absent with the reason. `--check` trains each peer a few steps instead of timing it and
 * verifies the loss goes down (and the sgemm results, patched kernels and peak modules are
 * right). See bench/README.md for every flag.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { alexnetSpec } from "./lib/alexnet-spec.js";
import { gitInfo, loadAverage, machineInfo, packageVersions } from "./lib/machine.js";
import { type Peak, measurePeak } from "./lib/peak.js";
import {
  BROWSER_PEERS,
  type CheckResult,
  type ChildRequest,
  type ChildResult,
  type ModelSpec,
  PEERS,
  type PeerName,
  RESULT_MARKER,
  WORKLOADS,
  type WorkloadName,
  basePeer,
  environmentOf,
  isWasmPeer,
} from "./lib/protocol.js";
import { type RunRecord, childToRecord, mergeRounds, ratios, renderReport } from "./lib/report.js";
import { cnnSpec, lstmFlopsPerToken, modelFlopsPerImage, support } from "./lib/specs.js";
import { buildTfjsBundle } from "./lib/tfjs-bundle.js";
import type { WasmPeakRun } from "./lib/wasm-peak.js";
import { nodeRelaxedSimdFlags } from "./lib/wasm-peak-build.js";
import type { BrowserBench } from "./browser/driver.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
/** Where Debian's OpenBLAS package puts the libblas.so.3 it provides. */
const DEBIAN_OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread";

const HELP = `npm run bench -- [options]

  --workloads a,b     sgemm,cnn,alexnet,lstm (default: all)
  --peers a,b         ${PEERS.join(",")},
                      ${BROWSER_PEERS.join(",")}
                      or the groups "node" and "chromium" (default: node, and chromium with
                      --browser); naming a chromium/ peer runs the browser
  --browser           also measure in headless Chromium: tsgrad-wasm (1 and --threads threads),
                      tfjs-wasm (threaded SIMD) and jax-js, each in a Web Worker of a
                      cross-origin-isolated page, and the browser's Wasm SIMD peak
  --chromium PATH     the Chromium binary (default /usr/bin/chromium)
  --relaxed-simd      run the Node children with --experimental-wasm-relaxed-simd (Node 20 needs
                      it; newer Nodes have relaxed SIMD on): tsgrad-wasm then loads its relaxed
                      build and jax-js emits relaxed_madd. The Wasm SIMD peak is always measured
                      with and without relaxed SIMD where the engine can run it
  --all               also run the optional pairs (tfjs-cpu training, tfjs-wasm on alexnet,
                      the browser peers on alexnet)
  --threads N         threads for the multi-threaded peers (default 2); tsgrad-wasm-1t runs on 1
  --bf16              bfloat16 products where a peer has them: tsgrad native at matmul
                      precision "medium" (AVX512-BF16/AMX), PyTorch under torch.autocast("cpu",
                      bfloat16); peers that stay in float32 are marked
  --rounds N          measure every pair N times, round-robin (default 1): figures are the
                      median of the rounds, ratios the median of per-round ratios
  --check             train a few steps per peer and check the loss falls (no timing, no JSON)
  --check-steps N     steps under --check (default 6)
  --sizes a,b         sgemm sizes (default 256,512,1024)
  --budget S          timed seconds to aim for per figure (default 3)
  --window S          seconds per timed window, at least one step (default 0.5)
  --min-windows N     timed windows per figure when they fit in --max-seconds (default 3)
  --max-seconds S     cap on timed seconds per figure, after one window (default 60)
  --warmup S          warm-up seconds, at least one step, at most three (default 1)
  --timeout S         kill a child after S seconds (default 1200)
  --python PATH       Python with torch (default /usr/bin/python3)
  --torch-blas DIR    directory with the libblas.so.3 PyTorch should load (default: Debian's
                      OpenBLAS in ${DEBIAN_OPENBLAS} when installed)
  --clock-ghz X       CPU clock for the nominal fp32 peak (default: /proc/cpuinfo, else 2.1);
                      sgemm is read against the peak fma-peak.cc measures in each round, and
                      against the nominal one only where that cannot be built (no g++)
  --out FILE          results file (default bench/results/<date>-<commit>.json)
  --no-save           do not write a results file
  --quiet             do not echo the children's progress lines

Also in bench/: prefetch.ts, the DataLoader prefetch micro-benchmark (npx tsx bench/prefetch.ts).`;

const { values: opt } = parseArgs({
  options: {
    workloads: { type: "string" },
    peers: { type: "string" },
    browser: { type: "boolean", default: false },
    chromium: { type: "string" },
    "relaxed-simd": { type: "boolean", default: false },
    all: { type: "boolean", default: false },
    threads: { type: "string", default: "2" },
    rounds: { type: "string", default: "1" },
    bf16: { type: "boolean", default: false },
    check: { type: "boolean", default: false },
    "check-steps": { type: "string", default: "6" },
    sizes: { type: "string", default: "256,512,1024" },
    budget: { type: "string", default: "3" },
    window: { type: "string", default: "0.5" },
    "min-windows": { type: "string", default: "3" },
    "max-seconds": { type: "string", default: "60" },
    warmup: { type: "string", default: "1" },
    timeout: { type: "string", default: "1200" },
    python: { type: "string", default: "/usr/bin/python3" },
    "torch-blas": { type: "string" },
    "clock-ghz": { type: "string" },
    out: { type: "string" },
    "no-save": { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

if (opt.help) {
  console.log(HELP);
  process.exit(0);
}

function fail(msg: string): never {
  console.error(`bench: ${msg}\n\n${HELP}`);
  process.exit(2);
}

function num(name: string, v: string, integer = false): number {
  const x = Number(v);
  if (!Number.isFinite(x) || x <= 0 || (integer && !Number.isInteger(x))) {
    fail(`--${name} needs a positive ${integer ? "integer" : "number"}, got "${v}"`);
  }
  return x;
}

function list<T extends string>(name: string, v: string | undefined, all: readonly T[]): T[] {
  if (v === undefined) return [...all];
  const xs = v.split(",").map((s) => s.trim());
  for (const x of xs) {
    if (!all.includes(x as T)) fail(`--${name}: unknown "${x}"; known: ${all.join(", ")}`);
  }
  return all.filter((a) => xs.includes(a));
}

/** The peers asked for: names, or the groups "node" and "chromium" (see --help). */
function selectPeers(v: string | undefined): PeerName[] {
  const all: PeerName[] = [...PEERS, ...BROWSER_PEERS];
  if (v === undefined) return opt.browser ? all : [...PEERS];
  const wanted = new Set<string>();
  for (const x of v.split(",").map((s) => s.trim())) {
    if (x === "node") PEERS.forEach((p) => wanted.add(p));
    else if (x === "chromium") BROWSER_PEERS.forEach((p) => wanted.add(p));
    else if ((all as string[]).includes(x)) wanted.add(x);
    else fail(`--peers: unknown "${x}"; known: node, chromium, ${all.join(", ")}`);
  }
  return all.filter((p) => wanted.has(p));
}

const workloads = list("workloads", opt.workloads, WORKLOADS);
const peers = selectPeers(opt.peers);
const threads = num("threads", opt.threads, true);
const rounds = num("rounds", opt.rounds, true);
if (opt.check && rounds > 1) fail("--rounds repeats timed runs; --check times nothing");
const sizes = opt.sizes.split(",").map((s) => num("sizes", s, true));
const timeoutSeconds = num("timeout", opt.timeout);
const clock = opt["clock-ghz"] === undefined ? undefined : num("clock-ghz", opt["clock-ghz"]);
const timing = {
  budget: num("budget", opt.budget),
  windowSeconds: num("window", opt.window),
  minWindows: num("min-windows", opt["min-windows"], true),
  maxSeconds: num("max-seconds", opt["max-seconds"]),
  warmupSeconds: num("warmup", opt.warmup),
};

/** PyTorch's BLAS: an explicit directory, else Debian's OpenBLAS when it is installed. */
const torchBlas =
  opt["torch-blas"] ??
  (existsSync(`${DEBIAN_OPENBLAS}/libblas.so.3`) ? DEBIAN_OPENBLAS : undefined);
if (torchBlas !== undefined && !existsSync(`${torchBlas}/libblas.so.3`)) {
  fail(`--torch-blas ${torchBlas}: no libblas.so.3 there`);
}

/** The threads a peer computes on: tsgrad-wasm-1t on one, every other one on --threads. */
function threadsFor(peer: PeerName): number {
  return basePeer(peer) === "tsgrad-wasm-1t" ? 1 : threads;
}

/** Node's flags for relaxed SIMD, or why --relaxed-simd cannot have it. */
const relaxedFlags = opt["relaxed-simd"] ? nodeRelaxedSimdFlags() : [];
if (typeof relaxedFlags === "string") fail(`--relaxed-simd: ${relaxedFlags}`);

/** PyTorch's best configuration here (PEERS.md), as environment variables. */
function torchEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // OpenBLAS 0.3.21 does not know the Xeon (Emerald Rapids) and would fall back to its
    // Prescott kernels; on an AMD EPYC (Zen 4) it picks its Zen kernels itself and SkylakeX's
    // are as fast (sgemm 1024 at 2 threads: 183 vs 185 GFLOP/s). Passive OpenMP threads leave
    // the other core to OpenBLAS's own between kernels: with OpenMP's default spin PyTorch's
    // LSTM step ran 1,580 tokens/s instead of 4,076 on that EPYC.
    OPENBLAS_CORETYPE: "SkylakeX",
    OMP_WAIT_POLICY: "PASSIVE",
    OMP_NUM_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
  };
  if (torchBlas !== undefined) {
    env.LD_LIBRARY_PATH = [torchBlas, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  }
  return env;
}

function childCommand(
  peer: PeerName,
  req: ChildRequest,
): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  const json = JSON.stringify(req);
  if (peer === "pytorch") {
    const env = torchEnv();
    return { cmd: opt.python, args: [join(HERE, "peers", "torch_peer.py"), json], env };
  }
  return {
    cmd: process.execPath,
    args: [...relaxedFlags, "--import", "tsx", join(HERE, "child.ts"), json],
    // OpenMP's wait policy is left to tsgrad's loader (passive unless the environment says
    // otherwise), so that `GOMP_SPINCOUNT=3000 npm run bench` measures that opt-in.
    env: { ...process.env, TSGRAD_NUM_THREADS: String(req.threads) },
  };
}

/**
 * Run a process to completion, echoing its stderr (unless --quiet): the JSON on its
 * `RESULT_MARKER` line, or why there is none.
 */
function runMarked(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeout: number,
): Promise<{ json: string } | { failure: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    const stderr: string[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeout * 1000);
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    let partial = "";
    child.stderr.on("data", (d: Buffer) => {
      const lines = (partial + d.toString()).split("\n");
      partial = lines.pop()!;
      for (const l of lines) {
        stderr.push(l);
        if (!opt.quiet) console.error(`  ${l}`);
      }
    });
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ failure: `cannot start ${cmd}: ${e.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split("\n").find((l) => l.startsWith(RESULT_MARKER));
      if (line) return resolve({ json: line.slice(RESULT_MARKER.length) });
      const tail = stderr
        .filter((l) => l.trim())
        .slice(-3)
        .join(" | ");
      resolve({
        failure: timedOut
          ? `timed out after ${timeout} s (--timeout)`
          : `exited with ${signal ?? `code ${code}`} and no result${tail ? `: ${tail}` : ""}`,
      });
    });
  });
}

/** Run one child to completion; its result, or why there is none. */
async function runChild(peer: PeerName, req: ChildRequest): Promise<ChildResult> {
  const { cmd, args, env } = childCommand(peer, req);
  const out = await runMarked(cmd, args, env, timeoutSeconds);
  if ("json" in out) return JSON.parse(out.json) as ChildResult;
  const absent = out.failure.startsWith("cannot start");
  return { status: absent ? "absent" : "failed", reason: out.failure };
}

/**
 * This Node's Wasm SIMD peak at 1 and --threads threads (`wasm-peak.ts`, in a child started with
 * relaxed SIMD where Node has a flag for it, so that both builds run), or its checks.
 */
async function nodeWasmPeak(check: boolean): Promise<WasmPeakRun> {
  const flags = nodeRelaxedSimdFlags();
  const args = [
    ...(typeof flags === "string" ? [] : flags),
    "--import",
    "tsx",
    join(HERE, "wasm-peak.ts"),
    "--json",
    "--threads",
    [...new Set([1, threads])].join(","),
    ...(check ? ["--check"] : []),
  ];
  const out = await runMarked(process.execPath, args, process.env, 600);
  return "json" in out
    ? (JSON.parse(out.json) as WasmPeakRun)
    : { env: "node", unavailable: out.failure };
}

/**
 * Peak RSS (MiB) of each runtime doing nothing, to read the peers' figures against: the Node
 * children run under tsx (the peers are TypeScript), whose loader thread costs some memory, and
 * PyTorch's children start from `import torch`.
 */
async function runtimeBaselines(): Promise<Record<string, number | string>> {
  const probes: [string, string, string[], NodeJS.ProcessEnv][] = [
    ["node", process.execPath, ["-e", "console.log(process.resourceUsage().maxRSS)"], process.env],
    [
      "node+tsx",
      process.execPath,
      ["--import", "tsx", "-e", "console.log(process.resourceUsage().maxRSS)"],
      process.env,
    ],
    [
      "python+torch",
      opt.python,
      ["-c", "import resource, torch; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
      torchEnv(),
    ],
  ];
  const out: Record<string, number | string> = {};
  for (const [name, cmd, args, env] of probes) {
    out[name] = await new Promise((resolve) => {
      execFile(cmd, args, { cwd: ROOT, env }, (err, stdout) => {
        const kib = Number(stdout.trim());
        resolve(
          err || !(kib > 0) ? `unavailable (${err?.message.split("\n")[0] ?? stdout})` : kib / 1024,
        );
      });
    });
  }
  return out;
}

/** Learning-rate multiplier for the SGD workload under --check (see modelFor). */
const CHECK_SGD_LR_SCALE = 10;

function modelFor(w: WorkloadName): ModelSpec | undefined {
  if (w === "cnn") return cnnSpec();
  if (w !== "alexnet") return undefined;
  const spec = alexnetSpec();
  // At the recipe's lr 0.01 the AlexNet loss falls ~1e-4 per step from ln 10, below the noise
  // dropout adds, so a few --check steps could not show it training; ×10 makes the fall clear.
  // The step's cost does not depend on the learning rate: timed runs use the recipe's.
  if (opt.check && spec.optimizer.kind === "sgd") spec.optimizer.lr *= CHECK_SGD_LR_SCALE;
  return spec;
}

/**
 * A caveat on a result: a peer that demonstrably ran below its best configuration, or one that
 * stayed in float32 under --bf16.
 */
function caveat(r: RunRecord): string | undefined {
  if (opt.bf16 && r.status === "ok" && r.info?.bf16 !== true) {
    return "computed in float32: --bf16 asked for bfloat16 products, which this peer has no path for";
  }
  const blas = r.info?.blas;
  if (r.peer === "pytorch" && typeof blas === "string" && !blas.includes("openblas")) {
    return (
      `PyTorch loaded ${blas}, not OpenBLAS: its matmuls run on Debian's reference BLAS, far below ` +
      "its best configuration. Install libopenblas0-pthread (apt) or pass --torch-blas DIR"
    );
  }
  return undefined;
}

async function main(): Promise<void> {
  const machine = machineInfo(clock);
  const git = gitInfo(ROOT);
  const loadStart = loadAverage();
  const started = new Date();
  console.log(
    `tsgrad bench${opt.check ? " --check" : ""}${opt.bf16 ? " --bf16" : ""}: ${started.toISOString()}, commit ${git.commit}` +
      `${git.dirty ? " (uncommitted changes)" : ""}, --threads ${threads}`,
  );
  console.log(
    `${machine.cpuModel}, ${machine.cores} cores [${machine.isa.join(" ")}], ` +
      `nominal fp32 peak ${machine.cores} × ${machine.flopsPerCycle} FLOP/cycle × ${machine.clockGHz} GHz = ` +
      `${machine.peakGflops.toFixed(1)} GFLOP/s (clock: ${machine.clockSource})`,
  );
  console.log(
    `load average ${loadStart.map((x) => x.toFixed(2)).join(" ")} (1/5/15 min): ` +
      `${loadStart[0] > 0.5 ? "the machine is busy, figures will be noisy" : "quiet"}`,
  );
  const cnn = cnnSpec();
  console.log(
    `work per item: CNN ${(modelFlopsPerImage(cnn) / 1e6).toFixed(2)} MFLOP/image, AlexNet ` +
      `${(modelFlopsPerImage(alexnetSpec()) / 1e6).toFixed(1)} MFLOP/image, LSTM LM ` +
      `${(lstmFlopsPerToken() / 1e6).toFixed(2)} MFLOP/token (forward + backward)`,
  );
  if (opt.check && workloads.includes("alexnet")) {
    console.log(`--check: AlexNet trains at ${CHECK_SGD_LR_SCALE}× the recipe's learning rate`);
  }
  if (peers.includes("pytorch")) {
    console.log(`PyTorch BLAS: ${torchBlas ? `${torchBlas}/libblas.so.3` : "system libblas.so.3"}`);
  }
  console.log("");

  if (peers.some((p) => p.startsWith("tfjs"))) {
    // Built once here, so that no child spends time or memory on it (they reuse the file).
    try {
      console.error(`tfjs bundle: ${relative(ROOT, await buildTfjsBundle(ROOT))}`);
    } catch (e) {
      console.error(
        `tfjs bundle: build failed (${(e as Error).message}); tfjs children will say why`,
      );
    }
  }

  const baselines = await runtimeBaselines();
  console.log(
    "idle runtime peak RSS: " +
      Object.entries(baselines)
        .map(([k, v]) => `${k} ${typeof v === "number" ? `${v.toFixed(0)} MiB` : v}`)
        .join(", "),
  );

  // The browser starts at the first browser pair and serves the whole run (each pair gets a tab
  // of its own); it is loaded only then, so that a Node-only run needs no Playwright.
  let browser: BrowserBench | undefined;
  let browserError = "";
  let browserEngine = "";
  const browserLog = (m: string) => {
    if (!opt.quiet) console.error(`  ${m}`);
  };
  const getBrowser = async (): Promise<BrowserBench | undefined> => {
    if (browser === undefined && browserError === "") {
      try {
        const { BrowserBench } = await import("./browser/driver.js");
        browser = await BrowserBench.start(ROOT, {
          ...(opt.chromium ? { executablePath: opt.chromium } : {}),
          log: browserLog,
        });
        browserEngine = browser.engine;
      } catch (e) {
        browserError = `cannot start the browser bench: ${(e as Error).message.split("\n")[0]}`;
        console.error(browserError);
      }
    }
    return browser;
  };
  const peakThreads = [...new Set([1, threads])];
  const wantsPeak = (env: "node" | "chromium") =>
    peers.some((p) => environmentOf(p) === env && isWasmPeer(p));

  // --check: the peak modules must compute what they claim, where the wasm peers run.
  const peakChecks: { env: string; checks: CheckResult[]; unavailable?: string }[] = [];
  if (opt.check) {
    for (const env of ["node", "chromium"] as const) {
      if (!wantsPeak(env)) continue;
      const b = env === "chromium" ? await getBrowser() : undefined;
      const run: WasmPeakRun =
        env === "node"
          ? await nodeWasmPeak(true)
          : b
            ? await b.peak(peakThreads, true)
            : { env, unavailable: browserError };
      peakChecks.push(
        "unavailable" in run
          ? { env, checks: [], unavailable: run.unavailable }
          : { env, checks: run.checks ?? [] },
      );
    }
  }

  // Round-robin: every pair once per round, so that a slow spell of the machine falls on every
  // peer alike rather than on whichever ran during it.
  const roundRecords: RunRecord[][] = [];
  const peaks: Peak[] = [];
  const wasmPeaks: WasmPeakRun[][] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const records: RunRecord[] = [];
      roundRecords.push(records);
      for (const workload of workloads) {
        const timedSgemm = workload === "sgemm" && !opt.check;
        const roundPeaks: WasmPeakRun[] = [];
        if (timedSgemm) {
          // Right before the sgemm children, so that they are read against this moment's speed.
          const peak = await measurePeak(join(HERE, "fma-peak.cc"), threads);
          peaks.push(peak);
          console.error(
            `fp32 FMA peak, ${threads} threads: ` +
              ("gflops" in peak ? `${peak.gflops.toFixed(1)} GFLOP/s` : peak.unavailable),
          );
          wasmPeaks.push(roundPeaks);
          if (wantsPeak("node")) roundPeaks.push(await nodeWasmPeak(false));
        }
        for (const peer of peers) {
          const s = support(peer, workload);
          const skip =
            basePeer(peer) === "tsgrad-wasm-1t" && threads === 1
              ? "tsgrad-wasm runs on one thread at --threads 1"
              : s.run === "never" || (s.run === "optional" && !opt.all)
                ? s.why
                : undefined;
          if (skip !== undefined) {
            records.push({
              peer,
              workload,
              status: "skipped",
              reason: skip,
              figures: [],
              losses: [],
              checks: [],
              wallSeconds: 0,
            });
            continue;
          }
          const req: ChildRequest = {
            peer,
            workload,
            threads: threadsFor(peer),
            check: opt.check,
            checkSteps: num("check-steps", opt["check-steps"], true),
            timing,
            sizes,
            ...(opt.bf16 ? { bf16: true } : {}),
          };
          const model = modelFor(workload);
          if (model) req.model = model;
          const inBrowser = environmentOf(peer) === "chromium";
          const b = inBrowser ? await getBrowser() : undefined;
          if (b && timedSgemm && !roundPeaks.some((p) => p.env === "chromium")) {
            // The browser's peak, right before its sgemm pairs, as for Node's.
            roundPeaks.push(await b.peak(peakThreads, false));
          }
          console.error(
            `${peer} × ${workload}${rounds > 1 ? ` (round ${round}/${rounds})` : ""} …`,
          );
          const t0 = performance.now();
          const result: ChildResult = !inBrowser
            ? await runChild(peer, req)
            : b
              ? await b.runPair(req, timeoutSeconds)
              : { status: "absent", reason: browserError };
          const rec = childToRecord(peer, workload, result, (performance.now() - t0) / 1000);
          const c = caveat(rec);
          if (c) rec.caveat = c;
          records.push(rec);
          if (rec.status !== "ok") console.error(`  → ${rec.status}: ${rec.reason}`);
        }
      }
    }
  } finally {
    await browser?.close();
  }
  const records = mergeRounds(roundRecords);
  const loadEnd = loadAverage();

  console.log("");
  console.log(renderReport(roundRecords, machine, peers, opt.check, peaks, wasmPeaks));
  for (const p of peakChecks) {
    if (p.unavailable !== undefined) {
      console.log(`Wasm SIMD peak (${p.env}): unavailable: ${p.unavailable}`);
    }
    for (const c of p.checks) console.log(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
  }
  if (peakChecks.length > 0) console.log("");
  if (opt.bf16) {
    console.log(
      "--bf16: products in bfloat16 except where marked *; the fp32 peak does not bound them\n",
    );
  }
  console.log(
    `load average at the end ${loadEnd.map((x) => x.toFixed(2)).join(" ")}; ` +
      `wall time ${((Date.now() - started.getTime()) / 1000).toFixed(0)} s`,
  );

  const failedChecks =
    records.some((r) => r.checks.some((c) => !c.ok)) ||
    peakChecks.some((p) => p.checks.some((c) => !c.ok));
  if (opt.check) {
    if (failedChecks) process.exitCode = 1;
    return;
  }
  if (opt["no-save"]) return;
  const torchInfo = records.find((r) => r.peer === "pytorch" && r.info)?.info;
  const result = {
    schema: "tsgrad-bench/1",
    date: started.toISOString(),
    commit: git.commit,
    dirty: git.dirty,
    command: process.argv.slice(2),
    threads,
    rounds,
    bf16: opt.bf16,
    machine,
    measuredPeakGflops: peaks.map((p) => ("gflops" in p ? p.gflops : p.unavailable)),
    // Per round: each environment's Wasm SIMD peak by build and thread count.
    wasmPeakGflops: wasmPeaks,
    relaxedSimdFlag: opt["relaxed-simd"],
    versions: {
      ...packageVersions(ROOT),
      node: process.version,
      ...(browserEngine ? { chromium: browserEngine } : {}),
      ...(torchInfo ? { torch: String(torchInfo.torch), python: String(torchInfo.python) } : {}),
    },
    loadAverage: { start: loadStart, end: loadEnd },
    idleRuntimeRssMiB: baselines,
    timing,
    work: {
      cnnFlopsPerImage: modelFlopsPerImage(cnn),
      alexnetFlopsPerImage: modelFlopsPerImage(alexnetSpec()),
      lstmFlopsPerToken: lstmFlopsPerToken(),
    },
    runs: records,
    ratios: ratios(roundRecords),
  };
  const file =
    opt.out ?? join(HERE, "results", `${started.toISOString().slice(0, 10)}-${git.commit}.json`);
  let path = file;
  for (let i = 2; opt.out === undefined && existsSync(path); i++) {
    path = file.replace(/\.json$/, `-${i}.json`);
  }
  mkdirSync(dirname(path), { recursive: true });
  // Written as prettier formats it, so `npm run format:check` accepts committed results.
  const prettier = await import("prettier");
  const config = (await prettier.resolveConfig(path)) ?? {};
  writeFileSync(path, await prettier.format(JSON.stringify(result), { ...config, parser: "json" }));
  console.log(`results: ${relative(process.cwd(), path)}`);
}

await main();
