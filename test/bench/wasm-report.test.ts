/**
 * The bench's wasm peers in the report: which tsgrad ÷ peer ratios are taken (same environment,
 * the WebAssembly peers), which Wasm SIMD peak a wasm peer's sgemm is read against (its engine,
 * build and thread count, in its own round), and the benchmark matrix for the new peers.
 */
import { describe, expect, it } from "vitest";
import type { MachineInfo } from "../../bench/lib/machine.js";
import type { Figure, PeerName, WorkloadName } from "../../bench/lib/protocol.js";
import {
  type RunRecord,
  compared,
  ratios,
  renderReport,
  wasmPeakFor,
  wasmShareOfPeak,
} from "../../bench/lib/report.js";
import { support } from "../../bench/lib/specs.js";
import { type WasmPeakRun, referenceChains } from "../../bench/lib/wasm-peak.js";

function rec(
  peer: PeerName,
  workload: WorkloadName,
  median: number,
  threadsUsed: number,
  wasmSimd?: "simd" | "relaxed",
): RunRecord {
  const name = workload === "sgemm" ? "sgemm-1024" : workload;
  const figure: Figure = {
    name,
    unit: workload === "sgemm" ? "GFLOP/s" : "images/s",
    median,
    min: median,
    max: median,
    windows: 3,
    steps: 9,
    itemsPerStep: 64,
    secondsPerStep: 64 / median,
    flopsPerStep: 64 * 82e6,
  };
  return {
    peer,
    workload,
    status: "ok",
    figures: [figure],
    losses: [2.3, 2.2],
    checks: [],
    threadsUsed,
    ...(wasmSimd ? { info: { wasmSimd } } : {}),
    wallSeconds: 5,
  };
}

const peak = (env: "node" | "chromium", scale: number): WasmPeakRun => ({
  env,
  engine: env,
  simd: { "1": 30 * scale, "2": 60 * scale },
  relaxed: env === "node" ? "no relaxed SIMD" : { "1": 40 * scale, "2": 80 * scale },
});

describe("which ratios the report takes", () => {
  it("divides tsgrad-wasm by the WebAssembly peers and the JS backend, in its own environment", () => {
    expect(compared("tsgrad-wasm", "tfjs-wasm")).toBe(true);
    expect(compared("tsgrad-wasm-1t", "jax-js")).toBe(true);
    expect(compared("tsgrad-wasm", "jax-js-workers")).toBe(true);
    expect(compared("tsgrad-wasm", "tsgrad-js")).toBe(true);
    expect(compared("tsgrad-wasm", "tsgrad-wasm-1t")).toBe(true);
    expect(compared("tsgrad-wasm-1t", "tsgrad-wasm")).toBe(false);
    expect(compared("tsgrad-wasm", "pytorch")).toBe(false);
    expect(compared("chromium/tsgrad-wasm", "chromium/tfjs-wasm")).toBe(true);
    expect(compared("chromium/tsgrad-wasm", "tfjs-wasm")).toBe(false);
    expect(compared("tsgrad-wasm", "chromium/tfjs-wasm")).toBe(false);
  });

  it("keeps the native and JS backends' ratios as they were, without the wasm backend", () => {
    expect(compared("tsgrad-native", "pytorch")).toBe(true);
    expect(compared("tsgrad-native", "tsgrad-js")).toBe(true);
    expect(compared("tsgrad-js", "tsgrad-native")).toBe(false);
    expect(compared("tsgrad-native", "tsgrad-wasm")).toBe(false);
    expect(compared("tsgrad-js", "tsgrad-wasm")).toBe(false);
    expect(compared("tsgrad-js", "tfjs-wasm")).toBe(true);
  });

  it("takes the ratios within each environment's own figures", () => {
    const round = [
      rec("tsgrad-wasm", "cnn", 200, 2, "simd"),
      rec("tfjs-wasm", "cnn", 50, 1, "simd"),
      rec("chromium/tsgrad-wasm", "cnn", 150, 2, "relaxed"),
      rec("chromium/tfjs-wasm", "cnn", 100, 2, "simd"),
    ];
    const rs = ratios([round]).map((r) => [r.tsgrad, r.peer, r.ratio]);
    expect(rs).toEqual([
      ["tsgrad-wasm", "tfjs-wasm", 4],
      ["chromium/tsgrad-wasm", "chromium/tfjs-wasm", 1.5],
    ]);
  });
});

describe("the Wasm SIMD peak a wasm peer is read against", () => {
  it("is its environment's, of the build it ran, at its thread count", () => {
    const runs = [peak("node", 1), peak("chromium", 1)];
    expect(wasmPeakFor(runs, rec("tsgrad-wasm", "sgemm", 30, 2, "simd"))).toBe(60);
    expect(wasmPeakFor(runs, rec("tsgrad-wasm-1t", "sgemm", 20, 1, "simd"))).toBe(30);
    expect(wasmPeakFor(runs, rec("chromium/tsgrad-wasm", "sgemm", 30, 2, "relaxed"))).toBe(80);
    expect(wasmPeakFor(runs, rec("chromium/tfjs-wasm", "sgemm", 30, 2, "simd"))).toBe(60);
    // Node ran without relaxed SIMD: a relaxed figure there has no peak to be read against.
    expect(wasmPeakFor(runs, rec("jax-js", "sgemm", 10, 1, "relaxed"))).toBeUndefined();
    expect(
      wasmPeakFor([{ env: "node", unavailable: "no clang" }], rec("jax-js", "sgemm", 10, 1)),
    ).toBe(undefined);
  });

  it("divides each round's figure by that round's peak and prints it in the sgemm table", () => {
    // Round 2 ran at half speed, peaks included: the share stays 50%.
    const rounds = [
      [rec("tsgrad-wasm", "sgemm", 30, 2, "simd"), rec("tfjs-wasm", "sgemm", 15, 1, "simd")],
      [rec("tsgrad-wasm", "sgemm", 15, 2, "simd"), rec("tfjs-wasm", "sgemm", 7.5, 1, "simd")],
    ];
    const wasmPeaks = [[peak("node", 1)], [peak("node", 0.5)]];
    expect(wasmShareOfPeak(rounds, wasmPeaks, "tsgrad-wasm", "sgemm-1024")).toBeCloseTo(0.5, 12);
    expect(wasmShareOfPeak(rounds, wasmPeaks, "tfjs-wasm", "sgemm-1024")).toBeCloseTo(0.5, 12);
    expect(wasmShareOfPeak(rounds, wasmPeaks.slice(0, 1), "tfjs-wasm", "sgemm-1024")).toBe(
      undefined,
    );
    const machine = { peakGflops: 100 } as MachineInfo;
    const text = renderReport(
      rounds,
      machine,
      ["tsgrad-wasm", "tfjs-wasm"],
      false,
      [{ gflops: 200 }, { gflops: 100 }],
      wasmPeaks,
    );
    expect(text).toMatch(/tsgrad-wasm\s+2\s+simd\s+22\.5 \(50\.0%\)/);
    expect(text).toMatch(/tfjs-wasm\s+1\s+simd\s+11\.3 \(50\.0%\)/);
    expect(text).toMatch(/node\s+simd\s+22\.5\s+45\.0/);
    expect(text).toContain("node relaxed: no relaxed SIMD");
    expect(text).toMatch(/tsgrad-wasm ÷ tfjs-wasm \(2 vs 1 thr\)\s+2\.00×/);
  });
});

describe("the benchmark matrix for the wasm and browser peers", () => {
  it("runs tsgrad-wasm everywhere, jax-js on the LSTM, and leaves AlexNet in the browser to --all", () => {
    for (const w of ["sgemm", "cnn", "alexnet", "lstm"] as const) {
      expect(support("tsgrad-wasm", w).run).toBe("default");
      expect(support("tsgrad-wasm-1t", w).run).toBe("default");
    }
    expect(support("jax-js", "lstm").run).toBe("default");
    expect(support("chromium/jax-js", "lstm").run).toBe("default");
    expect(support("chromium/jax-js", "alexnet").run).toBe("never");
    expect(support("chromium/tsgrad-wasm", "alexnet").run).toBe("optional");
    expect(support("chromium/tfjs-wasm", "cnn").run).toBe("default");
    expect(support("tfjs-cpu", "cnn").run).toBe("optional");
    expect(support("tfjs-cpu", "sgemm").run).toBe("default");
  });
});

describe("the peak module's reference", () => {
  it("follows the float32 chains to their fixed point, fused or not", () => {
    // 12 chains × 4 lanes starting near 1, each a ← a·0.999999 + 1e-7: still ~1 after 1000 rounds.
    expect(referenceChains(1000, false)).toBeCloseTo(47.957108, 5);
    expect(referenceChains(0, false)).toBeCloseTo(48, 4);
    expect(Math.abs(referenceChains(1000, true) - referenceChains(1000, false))).toBeLessThan(1e-4);
  });
});
