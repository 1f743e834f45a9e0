import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const dir = mkdtempSync(join(tmpdir(), "tsgrad-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Width and height from the IHDR chunk, after checking the signature and chunk type. */
function pngSize(png: Uint8Array): [number, number] {
  expect(Array.from(png.subarray(0, 8))).toEqual(SIGNATURE);
  expect(new TextDecoder().decode(png.subarray(12, 16))).toBe("IHDR");
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return [v.getUint32(16), v.getUint32(20)];
}

const chart = tg.report.lineChart({
  title: "Loss",
  series: [{ name: "train", y: [3, 2, 1.5, 1.2] }],
  width: 400,
  height: 300,
});
const hasFonts = existsSync("/usr/share/fonts") && readdirSync("/usr/share/fonts").length > 0;

describe("tg.report.svgToPng", () => {
  it("renders a PNG at the SVG's size, or scaled to a requested width", () => {
    expect(pngSize(tg.report.svgToPng(chart))).toEqual([400, 300]);
    expect(pngSize(tg.report.svgToPng(chart, { width: 800 }))).toEqual([800, 600]);
  });

  it("still renders, without text, when no fonts are available", () => {
    const bare = tg.report.svgToPng(chart, { systemFonts: false });
    expect(pngSize(bare)).toEqual([400, 300]);
    if (hasFonts) {
      // With fonts the text is drawn, so the pixels (and the deterministic encoding) differ.
      expect(Buffer.from(tg.report.svgToPng(chart)).equals(Buffer.from(bare))).toBe(false);
    }
  });

  it("renders every chart type", () => {
    const charts = [
      tg.report.scatterChart({
        series: [{ name: "p", x: [1, 10], y: [1, 2] }],
        x: { scale: "log" },
      }),
      tg.report.confusionMatrixChart({
        matrix: [
          [3, 1],
          [0, 4],
        ],
      }),
      tg.report.barChart({
        groups: ["a", "b"],
        series: [{ name: "s", values: [1, 2], errors: [0.1, 0.2] }],
      }),
    ];
    for (const svg of charts) {
      expect(pngSize(tg.report.svgToPng(svg)).every((n) => n > 0)).toBe(true);
    }
  });

  it("throws a TsgradError for input that is not SVG", () => {
    expect(() => tg.report.svgToPng("<html></html>")).toThrow(/svgToPng: could not render the SVG/);
    expect(() => tg.report.svgToPng(chart, { width: 0 })).toThrow(/width must be an integer/);
  });
});

describe("tg.report.saveFigure", () => {
  it("writes .svg as text and .png as an image, and refuses other extensions", () => {
    tg.report.saveFigure(join(dir, "f/loss.svg"), chart);
    tg.report.saveFigure(join(dir, "f/loss.png"), chart, { width: 200 });
    expect(readFileSync(join(dir, "f/loss.svg"), "utf8")).toBe(chart);
    expect(pngSize(readFileSync(join(dir, "f/loss.png")))).toEqual([200, 150]);
    expect(() => tg.report.saveFigure(join(dir, "f/loss.jpg"), chart)).toThrow(
      /must be \.svg or \.png/,
    );
  });
});
