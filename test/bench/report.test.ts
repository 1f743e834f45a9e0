import { describe, expect, it } from "vitest";
import type { Figure, PeerName, WorkloadName } from "../../bench/lib/protocol.ts";
import { type RunRecord, mergeRounds, ratios, renderReport } from "../../bench/lib/report.ts";
import type { MachineInfo } from "../../bench/lib/machine.ts";

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
