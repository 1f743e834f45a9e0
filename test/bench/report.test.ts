import { describe, expect, it } from "vitest";
import type { Figure, PeerName, WorkloadName } from "../../bench/lib/protocol.js";
import { type MachineInfo, machineInfo } from "../../bench/lib/machine.js";
import { type Peak, parsePeak } from "../../bench/lib/peak.js";
import {
  type RunRecord,
  mergeRounds,
  ratios,
  renderReport,
  shareOfPeak,
} from "../../bench/lib/report.js";

function fig(name: string, median: number, min = median, max = median): Figure {
  return {
    name,
    unit: "tokens/s",
    median,
    min,
    max,
    windows: 3,
    steps: 9,
    itemsPerStep: 1024,
    secondsPerStep: 1024 / median,
    flopsPerStep: 1e9,
  };
}

function rec(peer: PeerName, workload: WorkloadName, median: number, rss = 100): RunRecord {
  return {
    peer,
    workload,
    status: "ok",
    figures: [fig(workload, median, median - 1, median + 1)],
    losses: [9, 8],
    checks: [],
    maxRssMiB: rss,
    wallSeconds: 5,
  };
}

describe("bench rounds", () => {
  // Round 2 ran on a machine twice as slow: the per-round ratio stays 1.25, while dividing the
  // medians of unequal spells would not.
  const rounds: RunRecord[][] = [
    [rec("tsgrad-native", "lstm", 2500, 480), rec("pytorch", "lstm", 2000, 650)],
    [rec("tsgrad-native", "lstm", 1250, 470), rec("pytorch", "lstm", 1000, 660)],
    [rec("tsgrad-native", "lstm", 2200, 490), rec("pytorch", "lstm", 2000, 640)],
  ];

  it("takes ratios within each round and reports their median", () => {
    const [r] = ratios(rounds);
    expect(r?.tsgrad).toBe("tsgrad-native");
    expect(r?.peer).toBe("pytorch");
    expect(r?.rounds).toEqual([1.25, 1.25, 1.1]);
    expect(r?.ratio).toBe(1.25);
  });

  it("merges figures: median of round medians, min/max over all, summed windows, largest RSS", () => {
    const merged = mergeRounds(rounds);
    expect(merged).toHaveLength(2);
    const t = merged[0]!;
    expect(t.figures[0]?.median).toBe(2200);
    expect(t.figures[0]?.roundMedians).toEqual([2500, 1250, 2200]);
    expect(t.figures[0]?.min).toBe(1249);
    expect(t.figures[0]?.max).toBe(2501);
    expect(t.figures[0]?.windows).toBe(9);
    expect(t.maxRssMiB).toBe(490);
    expect(t.wallSeconds).toBe(15);
  });

  it("reports a pair that failed in any round as failed, naming the round, with no ratio", () => {
    const broken = rounds.map((rs) => [...rs]);
    broken[1]![1] = {
      ...broken[1]![1]!,
      status: "failed",
      reason: "timed out",
      figures: [],
    };
    const merged = mergeRounds(broken);
    expect(merged[1]?.status).toBe("failed");
    expect(merged[1]?.reason).toBe("round 2 of 3: timed out");
    expect(ratios(broken)).toEqual([]);
  });

  it("one round is the plain run", () => {
    expect(mergeRounds([rounds[0]!])).toBe(rounds[0]);
    expect(ratios([rounds[0]!])[0]?.ratio).toBe(1.25);
  });

  it("prints the rounds' range next to each ratio", () => {
    const machine = { peakGflops: 268.8 } as MachineInfo;
    const text = renderReport(rounds, machine, ["tsgrad-native", "pytorch"], false);
    expect(text).toContain("median of 3 rounds");
    expect(text).toMatch(/tsgrad-native ÷ pytorch\s+1\.25× \(1\.10-1\.25\)/);
    expect(text).toMatch(/tsgrad-native\s+2200/);
  });
});

describe("sgemm against the measured peak", () => {
  const sg = (peer: PeerName, gflops: number): RunRecord => ({
    ...rec(peer, "sgemm", gflops),
    figures: [{ ...fig("sgemm-1024", gflops), unit: "GFLOP/s" }],
  });
  // Round 2 ran on a machine half as fast: its sgemm is read against its own halved peak.
  const rounds: RunRecord[][] = [
    [sg("tsgrad-native", 161), sg("pytorch", 150)],
    [sg("tsgrad-native", 80.5), sg("pytorch", 75)],
    [sg("tsgrad-native", 138), sg("pytorch", 150)],
  ];
  const peaks: Peak[] = [{ gflops: 230 }, { gflops: 115 }, { gflops: 230 }];
  const machine = { peakGflops: 332.3 } as MachineInfo;

  it("divides each round's figure by that round's peak and takes the median", () => {
    expect(shareOfPeak(rounds, peaks, "tsgrad-native", "sgemm-1024")).toBeCloseTo(0.7, 12);
    expect(shareOfPeak(rounds, peaks, "pytorch", "sgemm-1024")).toBeCloseTo(150 / 230, 12);
    expect(shareOfPeak(rounds, peaks.slice(0, 2), "pytorch", "sgemm-1024")).toBeUndefined();
    const noPeak = [peaks[0]!, { unavailable: "g++: not found" }, peaks[2]!];
    expect(shareOfPeak(rounds, noPeak, "pytorch", "sgemm-1024")).toBeUndefined();
  });

  it("prints the share of the measured peak, or of the nominal one and why", () => {
    const text = renderReport(rounds, machine, ["tsgrad-native", "pytorch"], false, peaks);
    expect(text).toContain("fp32 FMA peak measured in the same round, 230, 115, 230 GFLOP/s");
    expect(text).toMatch(/tsgrad-native\s+138 \(70\.0%\)/);
    const missing: Peak[] = [peaks[0]!, { unavailable: "g++: not found" }, peaks[2]!];
    const fallback = renderReport(rounds, machine, ["tsgrad-native"], false, missing);
    expect(fallback).toContain("nominal 332 GFLOP/s fp32 peak; measured peak unavailable: g++");
    expect(fallback).toMatch(/tsgrad-native\s+138 \(41\.5%\)/);
  });

  it("reads fma-peak's figure", () => {
    expect(
      parsePeak("2 threads, 16 lanes: 230.1 GFLOP/s (checksum 39)\nbest: 234.1 GFLOP/s\n"),
    ).toBe(234.1);
    expect(parsePeak("Illegal instruction")).toBeUndefined();
  });
});

describe("nominal peak", () => {
  const cpu = (vendor: string, family: number, flags: string) =>
    `vendor_id\t: ${vendor}\ncpu family\t: ${family}\nmodel name\t: X\ncpu MHz\t\t: 2600.000\nflags\t\t: ${flags}\n`;

  it("counts 512-bit FMA on Intel and Zen 5, 256-bit on Zen 4", () => {
    expect(machineInfo(undefined, cpu("GenuineIntel", 6, "avx2 fma avx512f")).flopsPerCycle).toBe(
      64,
    );
    expect(machineInfo(undefined, cpu("AuthenticAMD", 25, "avx2 fma avx512f")).flopsPerCycle).toBe(
      32,
    );
    expect(machineInfo(undefined, cpu("AuthenticAMD", 26, "avx2 fma avx512f")).flopsPerCycle).toBe(
      64,
    );
    expect(machineInfo(undefined, cpu("AuthenticAMD", 23, "avx2 fma")).flopsPerCycle).toBe(32);
    expect(machineInfo(2.1, cpu("GenuineIntel", 6, "avx2 fma")).clockGHz).toBe(2.1);
  });
});
