import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { type XmlNode, allText, byClass, findAll, parseXml } from "./xml.js";

const { lineChart, scatterChart, confusionMatrixChart, barChart } = tg.report;

function tickLabels(svg: XmlNode, axis: "x-axis" | "y-axis"): string[] {
  return byClass(byClass(svg, axis)[0]!, "tick-label").map(allText);
}

/** Numbers in an SVG path's `d` attribute, as [x, y] pairs. */
function points(d: string): [number, number][] {
  const n = d.match(/-?[\d.]+/g)!.map(Number);
  return Array.from({ length: n.length / 2 }, (_, i) => [n[2 * i]!, n[2 * i + 1]!]);
}

describe("tg.report.lineChart", () => {
  const svgText = lineChart({
    title: 'Loss <train & "val">',
    series: [
      { name: "train", y: [2, 1.5, 1.2, 1.0, 0.9] },
      { name: "val", x: [0, 2, 4], y: [2.1, 1.4, 1.3], dash: "4 2" },
    ],
    x: { label: "epoch" },
    y: { label: "loss" },
  });
  const svg = parseXml(svgText);

  it("is well-formed SVG of the requested size", () => {
    expect(svg.name).toBe("svg");
    expect(svg.attrs).toMatchObject({
      xmlns: "http://www.w3.org/2000/svg",
      width: "640",
      height: "400",
    });
  });

  it("draws one path per series, through every point, in x order", () => {
    const series = byClass(svg, "series");
    expect(series.map((s) => s.attrs["data-name"])).toEqual(["train", "val"]);
    const train = points(byClass(series[0]!, "line")[0]!.attrs.d!);
    expect(train).toHaveLength(5);
    for (let i = 1; i < 5; i++) expect(train[i]![0]).toBeGreaterThan(train[i - 1]![0]);
    // Lower loss is drawn higher up the page (smaller y).
    expect(train[4]![1]).toBeGreaterThan(train[0]![1]);
    expect(byClass(series[1]!, "line")[0]!.attrs["stroke-dasharray"]).toBe("4 2");
    expect(byClass(series[0]!, "marker")).toHaveLength(5);
  });

  it("labels the ticks on 1-2-5 steps, titles the axes and escapes text", () => {
    expect(tickLabels(svg, "x-axis")).toEqual(["0", "1", "2", "3", "4"]);
    expect(tickLabels(svg, "y-axis")).toEqual(["0.8", "1", "1.2", "1.4", "1.6", "1.8", "2", "2.2"]);
    expect(byClass(svg, "axis-label").map(allText)).toEqual(["epoch", "loss"]);
    expect(allText(byClass(svg, "title")[0]!)).toBe('Loss <train & "val">');
    expect(svgText).toContain("Loss &lt;train &amp; &quot;val&quot;&gt;");
  });

  it("has a legend entry per series", () => {
    const entries = byClass(svg, "legend-entry").map(allText);
    expect(entries).toEqual(["train", "val"]);
    expect(
      parseXml(lineChart({ series: [{ name: "a", y: [1, 2] }], legend: "none" })).children.some(
        (c) => c.attrs.class === "legend",
      ),
    ).toBe(false);
  });

  it("uses decades with minor ticks on log axes", () => {
    const log = parseXml(
      lineChart({
        series: [{ name: "loss", x: [10, 100, 1000, 10000], y: [5, 2, 0.9, 0.4] }],
        x: { scale: "log" },
        y: { scale: "log" },
      }),
    );
    expect(tickLabels(log, "x-axis")).toEqual(["10", "100", "1000", "10000"]);
    // Less than two decades: 2 and 5 multiples are labelled too.
    expect(tickLabels(log, "y-axis")).toEqual(["0.2", "0.5", "1", "2", "5"]);
    const yTicks = findAll(byClass(log, "y-axis")[0]!, (n) => n.name === "line");
    expect(yTicks.length).toBeGreaterThan(10); // axis line + majors + 2…9 minors
    // Equal ratios are equal distances on a log axis.
    const [p0, p1, p2] = points(byClass(log, "line")[0]!.attrs.d!);
    expect(p1![0] - p0![0]).toBeCloseTo(p2![0] - p1![0], 1);
  });

  it("rejects non-positive data on a log axis, naming the series and the value", () => {
    expect(() =>
      lineChart({ series: [{ name: "loss", y: [1, 0.5, 0] }], y: { scale: "log" } }),
    ).toThrow(/lineChart: log y axis needs positive values, but series "loss" has 0 at index 2/);
    expect(() =>
      lineChart({ series: [{ name: "s", x: [-1, 1], y: [1, 2] }], x: { scale: "log" } }),
    ).toThrow(/log x axis needs positive values, but series "s" has -1 at index 0/);
    expect(() =>
      lineChart({ series: [{ name: "s", y: [1, 2] }], y: { scale: "log", min: 0 } }),
    ).toThrow(/finite positive/);
  });

  it("rejects non-finite values and mismatched lengths instead of drawing garbage", () => {
    expect(() => lineChart({ series: [{ name: "loss", y: [1, NaN] }] })).toThrow(
      /series "loss" y has NaN at index 1/,
    );
    expect(() => lineChart({ series: [{ name: "a", x: [1, 2, 3], y: [1, 2] }] })).toThrow(
      /3 x values but 2 y values/,
    );
    expect(() => lineChart({ series: [], width: 50 })).toThrow(/at least 120 × 100/);
  });

  it("accepts typed arrays and tensors as data", () => {
    const svgFromTensor = lineChart({
      series: [{ name: "t", x: tg.arange(4), y: new Float32Array([1, 2, 3, 4]) }],
    });
    expect(byClass(byClass(parseXml(svgFromTensor), "series")[0]!, "marker")).toHaveLength(4);
  });
});

describe("tg.report.scatterChart", () => {
  const n = [1e3, 3e3, 1e4, 3e4, 1e5];
  const svg = parseXml(
    scatterChart({
      series: [{ name: "measured", x: n, y: n.map((x) => 10 * x ** -0.2) }],
      fits: [{ name: "power law", f: (x) => 10 * x ** -0.2 }],
      highlights: [
        { name: "predicted", x: 1e6, y: 10 * 1e6 ** -0.2, marker: "diamond", hollow: true },
        {
          name: "measured (held out)",
          x: 1e6,
          y: 0.7,
          from: { x: 1e6, y: 10 * 1e6 ** -0.2 },
          label: "0.70",
        },
      ],
      x: { scale: "log", label: "N" },
      y: { scale: "log", label: "loss" },
    }),
  );

  it("draws markers without a line, the fitted curve, and the highlighted points with a connector", () => {
    const series = byClass(svg, "series")[0]!;
    expect(byClass(series, "line")).toHaveLength(0);
    expect(byClass(series, "marker")).toHaveLength(5);
    const fit = byClass(svg, "fit")[0]!;
    expect(fit.attrs["data-name"]).toBe("power law");
    // A power law is a straight line on log-log axes: its sampled points are collinear.
    const pts = points(byClass(fit, "line")[0]!.attrs.d!);
    const slope = (a: [number, number], b: [number, number]) => (b[1] - a[1]) / (b[0] - a[0]);
    expect(slope(pts[0]!, pts[50]!)).toBeCloseTo(slope(pts[100]!, pts[200]!), 2);
    const highlights = byClass(svg, "highlight");
    expect(highlights.map((h) => h.attrs["data-name"])).toEqual([
      "predicted",
      "measured (held out)",
    ]);
    expect(byClass(highlights[1]!, "connector")).toHaveLength(1);
    expect(allText(byClass(highlights[1]!, "point-label")[0]!)).toBe("0.70");
    expect(byClass(svg, "legend-entry").map(allText)).toEqual([
      "measured",
      "power law",
      "predicted",
      "measured (held out)",
    ]);
  });

  it("labels decades on both log axes", () => {
    expect(tickLabels(svg, "x-axis")).toEqual(["1e3", "1e4", "1e5", "1e6"]);
    expect(tickLabels(svg, "y-axis").length).toBeGreaterThanOrEqual(2);
  });

  it("rejects a non-positive highlight on a log axis", () => {
    expect(() =>
      scatterChart({ series: [], highlights: [{ name: "p", x: 1, y: -1 }], y: { scale: "log" } }),
    ).toThrow(/highlight "p" has -1/);
  });
});

describe("tg.report.confusionMatrixChart", () => {
  it("draws n×n cells with counts, class labels on both axes and a colour bar", () => {
    const svg = parseXml(
      confusionMatrixChart({
        matrix: tg.tensor([
          [5, 1, 0],
          [2, 7, 1],
          [0, 0, 9],
        ]),
        labels: ["a<b", "c", "d"],
      }),
    );
    expect(byClass(svg, "cell")).toHaveLength(9);
    expect(byClass(svg, "count").map(allText)).toEqual([
      "5",
      "1",
      "0",
      "2",
      "7",
      "1",
      "0",
      "0",
      "9",
    ]);
    expect(tickLabels(svg, "y-axis")).toEqual(["a<b", "c", "d"]);
    expect(tickLabels(svg, "x-axis")).toEqual(["a<b", "c", "d"]);
    expect(byClass(svg, "axis-label").map(allText)).toEqual(["Predicted", "True"]);
    expect(byClass(svg, "colorbar")).toHaveLength(1);
    // The largest count gets the darkest cell.
    const fills = byClass(svg, "cell").map((c) => c.attrs.fill!);
    expect(fills[8]).toBe("rgb(8,48,107)");
  });

  it("colours by row share when normalised", () => {
    const svg = parseXml(
      confusionMatrixChart({
        matrix: [
          [1, 0],
          [50, 50],
        ],
        normalize: true,
      }),
    );
    const fills = byClass(svg, "cell").map((c) => c.attrs.fill!);
    // Row 0 is 100% correct, row 1 only 50%: the (0,0) cell is darker than the (1,1) cell.
    expect(fills[0]).toBe("rgb(8,48,107)");
    expect(fills[3]).not.toBe(fills[0]);
  });

  it("rejects non-square matrices, negative counts and wrong label counts", () => {
    expect(() => confusionMatrixChart({ matrix: [[1, 2]] })).toThrow(/square/);
    expect(() =>
      confusionMatrixChart({
        matrix: [
          [1, -2],
          [0, 1],
        ],
      }),
    ).toThrow(/negative count -2 at \[0\]\[1\]/);
    expect(() => confusionMatrixChart({ matrix: [[1]], labels: ["a", "b"] })).toThrow(
      /2 labels for a 1×1/,
    );
    expect(() => confusionMatrixChart({ matrix: tg.zeros([2, 2, 2]) })).toThrow(/must be 2-d/);
  });
});

describe("tg.report.confusionMatrixChart with many classes (issue 19, item 14)", () => {
  /** n classes, 10 right each, and class i mistaken for i + 1 (mod n) i % 3 times. */
  const synthetic = (n: number) =>
    Array.from({ length: n }, (_, i) => {
      const row = new Array<number>(n).fill(0);
      row[i] = 10;
      row[(i + 1) % n]! += i % 3;
      return row;
    });

  it("groups 200 classes in pairs on the report's old 640 × 600 canvas instead of failing", () => {
    const m = synthetic(200);
    const svg = parseXml(confusionMatrixChart({ matrix: m, width: 640, height: 600 }));
    const cells = byClass(svg, "cell");
    expect(cells).toHaveLength(100 * 100);
    // Too small for numbers: the colours carry the structure.
    expect(byClass(svg, "count")).toHaveLength(0);
    expect(byClass(svg, "axis-label").map(allText)).toEqual([
      "Predicted (classes in groups of 2)",
      "True (classes in groups of 2)",
    ]);
    const y = tickLabels(svg, "y-axis");
    expect(y[0]).toBe("0–1");
    // Thinned so that labels 14 px apart do not overlap on ~4.8 px cells: every third one.
    expect(y[1]).toBe("6–7");
    // Block (b, b) sums 2 × 10 right answers plus class 2b mistaken for 2b + 1 ((2b) % 3 times);
    // the largest is 22 (2b % 3 = 2, e.g. b = 1), drawn in the darkest colour.
    const fill = (i: number, j: number) => cells[i * 100 + j]!.attrs.fill;
    expect(fill(1, 1)).toBe("rgb(8,48,107)");
    expect(fill(0, 0)).not.toBe(fill(1, 1)); // 20
    expect(fill(0, 50)).toBe("rgb(247,251,255)"); // 0
  });

  it("draws 1,000 classes (a million counts) as 100 × 100 groups of 10 without overflowing", () => {
    const m = synthetic(1000);
    // The image report's canvas for 1,000 classes.
    const opts = { matrix: m, labels: m.map((_, i) => `class ${i}`), width: 1640, height: 1600 };
    const text = confusionMatrixChart(opts);
    const svg = parseXml(text);
    expect(byClass(svg, "cell")).toHaveLength(100 * 100);
    expect(tickLabels(svg, "x-axis")[0]).toBe("0–9");
    expect(text.length).toBeLessThan(2_000_000);
    // The default 520 × 480 has room for fewer than 100 cells of 4 px: groups of 12, 84 of them.
    const small = parseXml(confusionMatrixChart({ matrix: m }));
    expect(byClass(small, "cell")).toHaveLength(84 * 84);
    expect(tickLabels(small, "y-axis")[0]).toBe("0–11");
  });

  it("writes every class of a mid-sized matrix but thins labels that would overlap", () => {
    const svg = parseXml(confusionMatrixChart({ matrix: synthetic(60) }));
    expect(byClass(svg, "cell")).toHaveLength(3600);
    const y = tickLabels(svg, "y-axis");
    // Every k-th class, k > 1, starting at the first.
    const k = Number(y[1]);
    expect(k).toBeGreaterThan(1);
    expect(y).toEqual(Array.from({ length: Math.ceil(60 / k) }, (_, i) => String(i * k)));
  });

  it("still refuses a canvas with no room for even one cell", () => {
    expect(() =>
      confusionMatrixChart({
        matrix: [
          [1, 0],
          [0, 1],
        ],
        title: "t",
        width: 120,
        height: 100,
      }),
    ).toThrow(/120 × 100 is too small for a 2×2 matrix/);
  });
});

describe("tg.report.barChart", () => {
  it("draws a bar per (group, series), error bars spanning mean ± error, and group labels", () => {
    const svg = parseXml(
      barChart({
        groups: ["SGD", "Adam", "AdamW"],
        series: [
          { name: "MLP", values: [0.9, 0.92, 0.93], errors: [0.01, 0.02, 0.01] },
          {
            name: "CNN",
            values: [0.97, 0.98, 0.985],
            intervals: [
              [0.96, 0.975],
              [0.975, 0.985],
              [0.98, 0.99],
            ],
          },
        ],
        y: { label: "accuracy" },
      }),
    );
    expect(byClass(svg, "bar")).toHaveLength(6);
    expect(byClass(svg, "error-bar")).toHaveLength(6);
    expect(tickLabels(svg, "x-axis")).toEqual(["SGD", "Adam", "AdamW"]);
    expect(tickLabels(svg, "y-axis")[0]).toBe("0");
    expect(byClass(svg, "legend-entry").map(allText)).toEqual(["MLP", "CNN"]);
    // Heights are proportional to the values (bars start at 0).
    const h = byClass(svg, "bar").map((b) => Number(b.attrs.height));
    expect(h[1]! / h[0]!).toBeCloseTo(0.92 / 0.9, 2);
    // The error bar of the first bar spans 2 × 0.01 in value units.
    const [lo, hi] = points(byClass(svg, "error-bar")[0]!.attrs.d!);
    expect(Math.abs(lo![1] - hi![1]) / h[0]!).toBeCloseTo(0.02 / 0.9, 2);
  });

  it("marks zero when bars go negative", () => {
    const svg = parseXml(
      barChart({ groups: ["a", "b"], series: [{ name: "d", values: [-1, 2] }] }),
    );
    expect(byClass(svg, "zero")).toHaveLength(1);
  });

  it("rejects mismatched lengths, reversed intervals and negative errors", () => {
    expect(() => barChart({ groups: ["a"], series: [{ name: "s", values: [1, 2] }] })).toThrow(
      /2 values for 1 groups/,
    );
    expect(() =>
      barChart({ groups: ["a"], series: [{ name: "s", values: [1], intervals: [[2, 1]] }] }),
    ).toThrow(/reversed/);
    expect(() =>
      barChart({ groups: ["a"], series: [{ name: "s", values: [1], errors: [-0.1] }] }),
    ).toThrow(/negative error/);
  });
});
