import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import "../../src/index.js";
import { topConfusions, writeImageReport } from "../../src/vision/report.js";

/** n classes, 10 right each, and class i mistaken for i + 1 (mod n) i % 7 times. */
function synthetic(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => {
    const row = new Array<number>(n).fill(0);
    row[i] = 10;
    row[(i + 1) % n]! += i % 7;
    return row;
  });
}

function summaryOf(n: number): Record<string, unknown> {
  return {
    testAccuracy: 0.5,
    bestValAccuracy: 0.5,
    wallSeconds: 1,
    imagesPerSec: 100,
    backend: "js",
    threads: 1,
    matmulPrecision: "highest",
    bf16Compute: false,
    parameters: 10,
    classes: Array.from({ length: n }, (_, i) => `c${i}`),
    confusion: synthetic(n),
  };
}

const metrics = [
  { step: 50, epoch: 0, trainLoss: 2, lr: 0.1, imagesPerSec: 100 },
  { step: 100, epoch: 1, trainLossEpoch: 1.5, valLoss: 1.6, valAccuracy: 0.4, lr: 0.1 },
];

describe("topConfusions", () => {
  it("lists the largest off-diagonal counts, largest first, with their share of the true class", () => {
    const m = [
      [5, 3, 0],
      [1, 8, 3],
      [0, 0, 9],
    ];
    expect(topConfusions(m, 2)).toEqual([
      { truth: 0, predicted: 1, count: 3, share: 3 / 8 },
      { truth: 1, predicted: 2, count: 3, share: 3 / 12 },
    ]);
    // Zero counts are not confusions.
    expect(topConfusions(m, 10)).toHaveLength(3);
  });
});

describe("the image report with many classes (issue 19, item 14)", () => {
  for (const n of [200, 1000]) {
    it(`is written for ${n} classes, with the most frequent confusions as a table`, () => {
      const dir = mkdtempSync(`${tmpdir()}/tsgrad-report-`);
      writeImageReport(dir, { model: "mlp" }, summaryOf(n), metrics);
      for (const f of ["report.html", "report.md", "figures/confusion.png"]) {
        expect(existsSync(`${dir}/${f}`), f).toBe(true);
      }
      const md = readFileSync(`${dir}/report.md`, "utf8");
      expect(md).toContain("The 20 most frequent confusions");
      // Class i is mistaken i % 7 times: the top is 6, first for class 6 (mistaken for c7).
      expect(md).toMatch(/\| c6 \| c7 \| 6 \|/);
    }, 120_000);
  }
});
