/** Terminal tables for a benchmark run: raw figures, peak RSS, tsgrad/peer ratios, checks. */
import type { MachineInfo } from "./machine.js";
import { median } from "./measure.js";
import type { Peak } from "./peak.js";
import {
  type CheckResult,
  type ChildResult,
  type Figure,
  type NodePeerName,
  type PeerName,
  type WorkloadName,
  basePeer,
  environmentOf,
  isWasmPeer,
} from "./protocol.js";
import type { WasmPeak, WasmPeakRun, WasmVariant } from "./wasm-peak.js";

/** One framework × workload child, as the run records it. */
export interface RunRecord {
  peer: PeerName;
  workload: WorkloadName;
  status: "ok" | "absent" | "failed" | "skipped";
  /** Why it is absent, failed or skipped. */
  reason?: string;
  /** A caveat on an "ok" result (e.g. a peer that ran below its best configuration). */
  caveat?: string;
  figures: Figure[];
  losses: number[];
  checks: CheckResult[];
  threadsUsed?: number;
  info?: Record<string, string | number | boolean>;
  maxRssMiB?: number;
  wallSeconds: number;
}

/** tsgrad's throughput divided by a peer's, for one figure measured in this run. */
export interface Ratio {
  tsgrad: PeerName;
  peer: PeerName;
  figure: string;
  /** With several rounds: the median of `rounds`. */
  ratio: number;
  /** The ratio within each round (both children of a round run back to back); one entry per round. */
  rounds: number[];
}

/** Three significant digits, without exponent notation for the magnitudes seen here. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
}

/** A text table: numeric columns right-aligned, the others left-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = header.map((_, i) =>
    rows.every((r) => /^[\d.,×%()\s-]*$|^(absent|failed|skipped)$/.test(r[i] ?? "")),
  );
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function childToRecord(
  peer: PeerName,
  workload: WorkloadName,
  r: ChildResult,
  wallSeconds: number,
): RunRecord {
  const rss = r.maxRssKiB === undefined ? {} : { maxRssMiB: r.maxRssKiB / 1024 };
  if (r.status !== "ok") {
    return {
      peer,
      workload,
      status: r.status,
      reason: r.reason,
      figures: [],
      losses: [],
      checks: [],
      wallSeconds,
      ...rss,
    };
  }
  return {
    peer,
    workload,
    status: "ok",
    figures: r.figures,
    losses: r.losses,
    checks: r.checks,
    threadsUsed: r.threadsUsed,
    info: r.info,
    wallSeconds,
    ...rss,
  };
}

/** The WebAssembly peers a tsgrad-wasm configuration is compared with. */
const WASM_PEERS: readonly NodePeerName[] = ["tfjs-wasm", "jax-js", "jax-js-workers"];

/**
 * Whether the report divides tsgrad configuration `t` by peer `p` (both as measured in the same
 * environment, Node or Chromium): the native and JS backends by every other framework, and the
 * native backend by the JS one (as before the wasm backend existed); the wasm backend by the
 * WebAssembly peers, by the JS backend it replaces in browsers, and at N threads by itself on
 * one (its thread scaling).
 */
export function compared(t: PeerName, p: PeerName): boolean {
  if (t === p || environmentOf(t) !== environmentOf(p)) return false;
  const bt = basePeer(t);
  const bp = basePeer(p);
  if (bt === "tsgrad-native" || bt === "tsgrad-js") {
    return !bp.startsWith("tsgrad") || (bt === "tsgrad-native" && bp === "tsgrad-js");
  }
  if (bt === "tsgrad-wasm" || bt === "tsgrad-wasm-1t") {
    return (
      WASM_PEERS.includes(bp) ||
      bp === "tsgrad-js" ||
      (bt === "tsgrad-wasm" && bp === "tsgrad-wasm-1t")
    );
  }
  return false;
}

/** Every tsgrad ÷ peer ratio available among one round's figures. */
function roundRatios(records: RunRecord[]): Omit<Ratio, "rounds">[] {
  const fig = new Map<string, number>();
  for (const r of records) for (const f of r.figures) fig.set(`${r.peer}|${f.name}`, f.median);
  const out: Omit<Ratio, "rounds">[] = [];
  const names = [...new Set(records.flatMap((r) => r.figures.map((f) => f.name)))];
  const peers = [...new Set(records.map((r) => r.peer))];
  for (const t of peers) {
    for (const r of records) {
      if (!compared(t, r.peer)) continue;
      for (const name of names) {
        const a = fig.get(`${t}|${name}`);
        const b = fig.get(`${r.peer}|${name}`);
        if (a !== undefined && b !== undefined && r.figures.some((f) => f.name === name)) {
          out.push({ tsgrad: t, peer: r.peer, figure: name, ratio: a / b });
        }
      }
    }
  }
  return out;
}

/**
 * Every tsgrad ÷ peer ratio, from the records of each round (`rounds[r]` holds round r's
 * records). A ratio is taken within a round, where the two children ran minutes apart at most,
 * and the rounds' ratios are then summarised by their median: on a machine whose speed drifts
 * (a shared VM), that is steadier than dividing medians taken over the whole run. A pair enters
 * only if every round measured it.
 */
export function ratios(rounds: RunRecord[][]): Ratio[] {
  const per = rounds.map(roundRatios);
  const first = per[0] ?? [];
  const out: Ratio[] = [];
  for (const x of first) {
    const all = per.map(
      (rs) =>
        rs.find((y) => y.tsgrad === x.tsgrad && y.peer === x.peer && y.figure === x.figure)?.ratio,
    );
    if (all.some((v) => v === undefined)) continue;
    const values = all as number[];
    out.push({ ...x, ratio: median(values), rounds: values });
  }
  return out;
}

/**
 * One record per peer × workload from several rounds of the same children: each figure's median
 * is the median of the rounds' medians (min and max span every window; windows and steps add
 * up), peak RSS is the largest, losses are the first round's. A pair that failed in any round is
 * reported as that failure, naming the round. With one round the records are returned as they are.
 */
export function mergeRounds(rounds: RunRecord[][]): RunRecord[] {
  if (rounds.length <= 1) return rounds[0] ?? [];
  return rounds[0]!.map((rec) => {
    if (rec.status === "skipped") return rec;
    const same = rounds.map((rs) =>
      rs.find((r) => r.peer === rec.peer && r.workload === rec.workload),
    );
    const bad = same.findIndex((r) => r === undefined || r.status !== "ok");
    if (bad >= 0) {
      const r = same[bad];
      return {
        ...(r ?? rec),
        status: r?.status ?? "failed",
        reason: `round ${bad + 1} of ${rounds.length}: ${r?.reason ?? "not run"}`,
        figures: [],
      };
    }
    const runs = same as RunRecord[];
    const figures = rec.figures.map((f) => {
      const fs = runs.map((r) => r.figures.find((g) => g.name === f.name));
      const ok = fs.filter((g): g is Figure => g !== undefined);
      return {
        ...f,
        median: median(ok.map((g) => g.median)),
        min: Math.min(...ok.map((g) => g.min)),
        max: Math.max(...ok.map((g) => g.max)),
        windows: ok.reduce((a, g) => a + g.windows, 0),
        steps: ok.reduce((a, g) => a + g.steps, 0),
        secondsPerStep: median(ok.map((g) => g.secondsPerStep)),
        roundMedians: fs.map((g) => g?.median ?? Number.NaN),
      };
    });
    const rss = runs.map((r) => r.maxRssMiB).filter((x): x is number => x !== undefined);
    return {
      ...rec,
      figures,
      wallSeconds: runs.reduce((a, r) => a + r.wallSeconds, 0),
      ...(rss.length > 0 ? { maxRssMiB: Math.max(...rss) } : {}),
    };
  });
}

/**
 * A figure as a share of a peak: the median over rounds of (the round's figure ÷ the peak that
 * `peakOf` gives for that round and record), so that a slow round is read against its own slow
 * peak; undefined when any round lacks either.
 */
function shareOf(
  rounds: RunRecord[][],
  peer: PeerName,
  figure: string,
  peakOf: (round: number, r: RunRecord) => number | undefined,
): number | undefined {
  if (rounds.length === 0) return undefined;
  const shares = rounds.map((rs, i) => {
    const r = rs.find((x) => x.peer === peer && x.status === "ok");
    const f = r?.figures.find((x) => x.name === figure);
    const p = r && peakOf(i, r);
    return p && f ? f.median / p : undefined;
  });
  return shares.every((x) => x !== undefined) ? median(shares) : undefined;
}

/**
 * A figure as a share of the fp32 peak: the median over rounds of (the round's figure ÷ the peak
 * measured in that round), so that a slow round is read against its own slow peak; undefined when
 * any round lacks either.
 */
export function shareOfPeak(
  rounds: RunRecord[][],
  peaks: readonly Peak[],
  peer: PeerName,
  figure: string,
): number | undefined {
  if (peaks.length !== rounds.length) return undefined;
  return shareOf(rounds, peer, figure, (i) => {
    const p = peaks[i];
    return p && "gflops" in p ? p.gflops : undefined;
  });
}

/** The build a wasm peer's products ran in: relaxed SIMD (FMA) or plain SIMD. */
export function wasmVariantOf(r: RunRecord): WasmVariant {
  return r.info?.wasmSimd === "relaxed" ? "relaxed" : "simd";
}

/**
 * The Wasm SIMD peak a wasm peer's figure is read against: its environment's (Node or
 * Chromium), of the build it ran, at the threads it used; undefined when not measured.
 */
export function wasmPeakFor(
  runs: readonly WasmPeakRun[] | undefined,
  r: RunRecord,
): number | undefined {
  const run = runs?.find((p) => p.env === environmentOf(r.peer));
  if (run === undefined || "unavailable" in run) return undefined;
  const table = run[wasmVariantOf(r)];
  return typeof table === "string" ? undefined : table[String(r.threadsUsed ?? 1)];
}

/**
 * A wasm peer's figure as a share of the Wasm SIMD peak (`wasmPeakFor`) measured in the same
 * round, the median over rounds; undefined when any round lacks either.
 */
export function wasmShareOfPeak(
  rounds: RunRecord[][],
  wasmPeaks: readonly (readonly WasmPeakRun[])[],
  peer: PeerName,
  figure: string,
): number | undefined {
  if (wasmPeaks.length !== rounds.length) return undefined;
  return shareOf(rounds, peer, figure, (i, r) => wasmPeakFor(wasmPeaks[i], r));
}

/** The Wasm SIMD peaks of the rounds as a table: environment × build, one column per thread count. */
function wasmPeakTable(wasmPeaks: readonly (readonly WasmPeakRun[])[], ofRounds: string): string[] {
  const all = wasmPeaks.flat();
  if (all.length === 0) return [];
  const envs = [...new Set(all.map((p) => p.env))];
  const threads = [
    ...new Set(
      all.flatMap((p) =>
        "unavailable" in p
          ? []
          : [p.simd, p.relaxed].flatMap((t) => (typeof t === "string" ? [] : Object.keys(t))),
      ),
    ),
  ].sort((a, b) => Number(a) - Number(b));
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const env of envs) {
    const runs = all.filter((p) => p.env === env);
    const missing = runs.find(
      (p): p is { env: typeof env; unavailable: string } => "unavailable" in p,
    );
    if (missing) {
      notes.push(`  ${env}: unavailable: ${missing.unavailable}`);
      continue;
    }
    const ok = runs.filter((p): p is WasmPeak => !("unavailable" in p));
    for (const variant of ["simd", "relaxed"] as const) {
      const tables = ok.map((p) => p[variant]);
      const why = tables.find((t): t is string => typeof t === "string");
      if (why !== undefined) {
        notes.push(`  ${env} ${variant}: ${why}`);
        continue;
      }
      rows.push([
        env,
        variant,
        ...threads.map((n) => {
          const xs = tables.flatMap((t) =>
            typeof t === "string" || t[n] === undefined ? [] : [t[n]],
          );
          return xs.length > 0 ? fmt(median(xs)) : "";
        }),
      ]);
    }
  }
  const engines = [
    ...new Set(all.flatMap((p) => ("engine" in p ? [`${p.env}: ${p.engine}`] : []))),
  ];
  return [
    `Wasm SIMD peak, 12 f32x4 multiply-add chains per thread (bench/wasm-peak.c), GFLOP/s${ofRounds}`,
    ...(rows.length > 0 ? [table(["env", "build", ...threads.map((n) => `${n} thr`)], rows)] : []),
    ...engines.map((e) => `  ${e}`),
    ...notes,
    "",
  ];
}

/** The few details of a peer's reported configuration that tell how it ran. */
function configuration(r: RunRecord): string {
  const i = r.info ?? {};
  const parts: string[] = [];
  if (typeof i.variant === "string") parts.push(`wasm build ${i.variant}`);
  if (typeof i.wasmKernels === "string") {
    const n = (k: unknown) => (typeof k === "string" && k !== "" ? k.split(" ").length : 0);
    parts.push(
      `wasm kernels ${n(i.wasmKernels)}, fused ${n(i.wasmFused)}, optimizer ${n(i.wasmOptimizer)}`,
    );
  }
  if (typeof i.threadsError === "string") parts.push(i.threadsError);
  if (typeof i.build === "string") parts.push(`${i.build} build`);
  if (typeof i.wasmSimd === "string" && typeof i.variant !== "string") {
    parts.push(`products in ${i.wasmSimd} SIMD`);
  }
  if (typeof i.workers === "string") parts.push(`workers: ${i.workers}`);
  if (typeof i.blas === "string") parts.push(`BLAS ${i.blas}`);
  if (typeof i.isa === "string") parts.push(i.isa);
  return parts.join("; ");
}

/**
 * The whole terminal report. `peaks`, one per round, are the fp32 peaks measured in the rounds
 * (`peak.ts`); without them sgemm is read against the machine's nominal peak.
 */
export function renderReport(
  rounds: RunRecord[][],
  machine: MachineInfo,
  peers: readonly PeerName[],
  check: boolean,
  peaks: readonly Peak[] = [],
  wasmPeaks: readonly (readonly WasmPeakRun[])[] = [],
): string {
  const records = mergeRounds(rounds);
  const n = rounds.length;
  const ofRounds = n > 1 ? `, median of ${n} rounds` : "";
  const out: string[] = [];
  // Under --check nothing is timed: only the checks and what could not run are reported.
  const timed = check ? [] : records;
  const get = (p: PeerName, w: WorkloadName) => timed.find((r) => r.peer === p && r.workload === w);
  const mark = (r: RunRecord | undefined) => (r?.caveat ? "*" : "");
  const statusCell = (r: RunRecord | undefined) => (r === undefined ? "" : r.status);

  const sgemm = timed.filter((r) => r.workload === "sgemm");
  if (sgemm.length > 0) {
    const sizes = [
      ...new Set(sgemm.flatMap((r) => r.figures.map((f) => f.name.replace("sgemm-", "")))),
    ];
    const sgemmRounds = rounds.map((rs) => rs.filter((r) => r.workload === "sgemm"));
    const measured = peaks.flatMap((p) => ("gflops" in p ? [p.gflops] : []));
    const useMeasured = measured.length === rounds.length && measured.length > 0;
    const sgemmRecords = peers
      .map((p) => get(p, "sgemm"))
      .filter((r): r is RunRecord => r !== undefined);
    const anyWasm = sgemmRecords.some((r) => isWasmPeer(r.peer));
    const rows = sgemmRecords.map((r) => [
      r.peer + mark(r),
      String(r.threadsUsed ?? ""),
      ...(anyWasm ? [isWasmPeer(r.peer) ? wasmVariantOf(r) : ""] : []),
      ...sizes.map((n) => {
        const f = r.figures.find((x) => x.name === `sgemm-${n}`);
        if (!f) return statusCell(r);
        // A wasm peer against its engine's Wasm SIMD peak; the others against the CPU's.
        const share = isWasmPeer(r.peer)
          ? wasmShareOfPeak(sgemmRounds, wasmPeaks, r.peer, f.name)
          : useMeasured
            ? shareOfPeak(sgemmRounds, peaks, r.peer, f.name)
            : f.median / machine.peakGflops;
        return `${fmt(f.median)} (${share === undefined ? "?" : fmt(100 * share)}%)`;
      }),
      r.maxRssMiB ? fmt(r.maxRssMiB) : "",
    ]);
    const unavailable = peaks.find((p): p is { unavailable: string } => "unavailable" in p);
    const against = useMeasured
      ? `% of the fp32 FMA peak measured in the same round, ${measured.map(fmt).join(", ")} GFLOP/s`
      : `% of the nominal ${fmt(machine.peakGflops)} GFLOP/s fp32 peak` +
        (unavailable ? `; measured peak unavailable: ${unavailable.unavailable}` : "");
    out.push(
      `sgemm, float32 C = A·B: GFLOP/s (${against})${ofRounds}`,
      ...(anyWasm
        ? [
            'wasm peers (column "wasm": the build their products ran in): % of the Wasm SIMD peak of ' +
              "their engine and build at their thread count, measured in the same round (below)",
          ]
        : []),
      table(
        ["peer", "thr", ...(anyWasm ? ["wasm"] : []), ...sizes.map((n) => `n=${n}`), "RSS MiB"],
        rows,
      ),
      "",
      ...wasmPeakTable(wasmPeaks, ofRounds),
    );
  }

  const training: WorkloadName[] = ["cnn", "alexnet", "lstm"];
  const present = training.filter((w) => timed.some((r) => r.workload === w));
  if (present.length > 0) {
    const unit = (w: WorkloadName) => (w === "lstm" ? "tokens/s" : "images/s");
    const rows = peers
      .filter((p) => present.some((w) => get(p, w)))
      .map((p) => [
        p + (present.some((w) => get(p, w)?.caveat) ? "*" : ""),
        ...present.flatMap((w) => {
          const r = get(p, w);
          const f = r?.figures[0];
          if (!r || !f) return [statusCell(r), "", ""];
          const gf = (f.median * f.flopsPerStep) / f.itemsPerStep / 1e9;
          return [fmt(f.median), fmt(gf), r.maxRssMiB ? fmt(r.maxRssMiB) : ""];
        }),
      ]);
    out.push(
      `training throughput (median of timed windows${ofRounds}), achieved GFLOP/s, peak RSS MiB`,
      table(["peer", ...present.flatMap((w) => [`${w} ${unit(w)}`, "GFLOP/s", "RSS"])], rows),
      "",
    );
  }

  const rs = ratios(rounds);
  if (rs.length > 0) {
    const figs = [...new Set(rs.map((r) => r.figure))];
    const pairs = [...new Set(rs.map((r) => `${r.tsgrad}|${r.peer}`))];
    const rows = pairs.map((pair) => {
      const [t, p] = pair.split("|") as [PeerName, PeerName];
      const caveat = records.some((r) => r.peer === p && r.caveat);
      // Peers at different thread counts (tfjs-wasm has one in Node) say so in the label.
      const thr = (x: PeerName) => records.find((r) => r.peer === x && r.threadsUsed)?.threadsUsed;
      const [tt, tp] = [thr(t), thr(p)];
      const threads = tt && tp && tt !== tp ? ` (${tt} vs ${tp} thr)` : "";
      return [
        `${t} ÷ ${p}${caveat ? "*" : ""}${threads}`,
        ...figs.map((f) => {
          const x = rs.find((r) => r.tsgrad === t && r.peer === p && r.figure === f);
          if (!x) return "";
          const span =
            n > 1 ? ` (${fmt(Math.min(...x.rounds))}-${fmt(Math.max(...x.rounds))})` : "";
          return `${fmt(x.ratio)}×${span}`;
        }),
      ];
    });
    out.push(
      n > 1
        ? `ratios, tsgrad ÷ peer throughput: median of the ${n} rounds' ratios (range), each taken within one round (>1: tsgrad is faster)`
        : "ratios, tsgrad ÷ peer throughput measured in this run (>1: tsgrad is faster)",
      table(["", ...figs], rows),
      "",
    );
  }

  const caveats = records.filter((r) => r.caveat);
  for (const r of caveats) out.push(`* ${r.peer} ${r.workload}: ${r.caveat}`);
  if (caveats.length > 0) out.push("");

  const missing = records.filter((r) => r.status !== "ok");
  if (missing.length > 0) {
    out.push("not measured");
    for (const r of missing) out.push(`  ${r.peer} ${r.workload}: ${r.status}: ${r.reason ?? ""}`);
    out.push("");
  }

  const configured = peers.flatMap((p) => {
    const r = records.find((x) => x.peer === p && x.status === "ok" && x.info);
    return r ? [[p, String(r.threadsUsed ?? ""), configuration(r)]] : [];
  });
  if (configured.length > 0) {
    out.push(
      "configuration each peer reported (threads it computed on, build, kernels)",
      table(["peer", "thr", "configuration"], configured),
      "",
    );
  }

  const checks = records.flatMap((r) =>
    r.checks.map((c) => [r.peer, r.workload, c.ok ? "ok" : "FAIL", c.name, c.detail]),
  );
  if (checks.length > 0) {
    out.push("checks", table(["peer", "workload", "", "check", "detail"], checks), "");
  }
  const trains = records.filter(
    (r) => r.status === "ok" && r.losses.length >= 2 && r.checks.length === 0,
  );
  if (trains.length > 0) {
    out.push(
      "loss, first → last step of the timed run",
      ...trains.map(
        (r) =>
          `  ${r.peer} ${r.workload}: ${fmt(r.losses[0]!)} → ${fmt(r.losses[r.losses.length - 1]!)}`,
      ),
      "",
    );
  }
  return out.join("\n");
}
