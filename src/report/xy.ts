/**
 * Line and scatter charts on numeric x/y axes (linear or log), as SVG strings. The scatter chart
 * also draws fitted curves (sampled from a function over the visible x range) and highlighted
 * points — together, a scaling-law plot: measured points, the fitted power law, and a held-out
 * prediction against its measured value.
 */
import { TsgradError } from "../tensor/errors.js";
import {
  type AxisOptions,
  type Rect,
  checkPositive,
  drawAxes,
  makeAxis,
  yLabelWidth,
} from "./axes.js";
import {
  type ChartOptions,
  type LegendEntry,
  type MarkerShape,
  type Numbers,
  PALETTE,
  chartSize,
  legend,
  legendWidth,
  marker,
  num,
  svgDocument,
  tag,
  text,
  titleText,
  toNumbers,
} from "./svg.js";

/** One data series. */
export interface Series {
  /** Legend text. */
  name: string;
  /** x values; default 0, 1, 2, … */
  x?: Numbers;
  /** y values, one per x. */
  y: Numbers;
  /** CSS colour; default from the palette by position. */
  color?: string;
  /** Point marker; `"none"` for a bare line. Line charts default to circles up to 40 points. */
  marker?: MarkerShape | "none";
  /** Join the points with a line (default: true in line charts, false in scatter charts). */
  line?: boolean;
  /** SVG dash pattern for the line, e.g. `"6 3"`. */
  dash?: string;
}

/** Options shared by line and scatter charts. */
export interface XYChartOptions extends ChartOptions {
  /** The x axis: label, linear/log, fixed min/max. */
  x?: AxisOptions;
  /** The y axis: label, linear/log, fixed min/max. */
  y?: AxisOptions;
  /** Legend to the right of the plot (default), inside its top-right corner, or none. */
  legend?: "right" | "inside" | "none";
}

/** Options of `lineChart`. */
export interface LineChartOptions extends XYChartOptions {
  series: Series[];
}

/** A curve y = f(x), drawn across the visible x range (e.g. a fitted power law). */
export interface FitCurve {
  name: string;
  f: (x: number) => number;
  color?: string;
  /** SVG dash pattern; default `"6 4"`. */
  dash?: string;
}

/** A specially marked point, e.g. a held-out prediction or its measured value. */
export interface Highlight {
  name: string;
  x: number;
  y: number;
  /** Default `"star"`. */
  marker?: MarkerShape;
  color?: string;
  /** Draw the marker as an outline (e.g. for a prediction). */
  hollow?: boolean;
  /** Text written next to the point. */
  label?: string;
  /** Draw a dashed connector from this point (e.g. from the prediction to the measurement). */
  from?: { x: number; y: number };
}

/** Options of `scatterChart`. */
export interface ScatterChartOptions extends XYChartOptions {
  series: Series[];
  fits?: FitCurve[];
  highlights?: Highlight[];
}

interface Resolved {
  name: string;
  xs: number[];
  ys: number[];
  color: string;
  marker: MarkerShape | null;
  line: boolean;
  dash?: string;
}

const MARKERS: MarkerShape[] = ["circle", "square", "triangle", "diamond", "cross"];

function resolve(op: string, series: readonly Series[], lines: boolean): Resolved[] {
  // Checked through `unknown`: for JS callers, and so the guard does not widen the type.
  const given: unknown = series;
  if (!Array.isArray(given)) throw new TsgradError(op, "series must be an array");
  return series.map((s, i) => {
    const ys = toNumbers(op, `series "${s.name}" y`, s.y);
    const xs = s.x === undefined ? ys.map((_, j) => j) : toNumbers(op, `series "${s.name}" x`, s.x);
    if (xs.length !== ys.length) {
      throw new TsgradError(
        op,
        `series "${s.name}" has ${xs.length} x values but ${ys.length} y values`,
      );
    }
    const defaultMarker = lines
      ? ys.length <= 40
        ? "circle"
        : null
      : MARKERS[i % MARKERS.length]!;
    return {
      name: s.name,
      xs,
      ys,
      color: s.color ?? PALETTE[i % PALETTE.length]!,
      marker: s.marker === "none" ? null : (s.marker ?? defaultMarker),
      line: s.line ?? lines,
      dash: s.dash,
    };
  });
}

function xyChart(
  op: string,
  series: Resolved[],
  fits: readonly FitCurve[],
  highlights: readonly Highlight[],
  opts: XYChartOptions,
): string {
  const [W, H] = chartSize(op, opts);
  const xOpts = opts.x ?? {};
  const yOpts = opts.y ?? {};
  const hl = highlights.map((h, i) => {
    const pts = [h.x, h.y, ...(h.from ? [h.from.x, h.from.y] : [])];
    toNumbers(op, `highlight "${h.name}"`, pts);
    return { ...h, color: h.color ?? PALETTE[(series.length + fits.length + i) % PALETTE.length]! };
  });
  const xsAll = [
    ...series.flatMap((s) => s.xs),
    ...hl.flatMap((h) => [h.x, ...(h.from ? [h.from.x] : [])]),
  ];
  const ysAll = [
    ...series.flatMap((s) => s.ys),
    ...hl.flatMap((h) => [h.y, ...(h.from ? [h.from.y] : [])]),
  ];
  for (const [axisName, o, get] of [
    ["x", xOpts, (s: Resolved) => s.xs],
    ["y", yOpts, (s: Resolved) => s.ys],
  ] as const) {
    if (o.scale !== "log") continue;
    for (const s of series) checkPositive(op, axisName, `series "${s.name}"`, get(s));
    for (const h of hl) {
      const vals = axisName === "x" ? [h.x, h.from?.x ?? 1] : [h.y, h.from?.y ?? 1];
      checkPositive(op, axisName, `highlight "${h.name}"`, vals);
    }
  }
  // Scatter plots keep points off the frame; line charts use the data range as is.
  const pad = series.some((s) => s.line) ? 0 : 0.05;
  const xAxis = makeAxis(op, "x", xsAll, xOpts, pad);
  const yAxis = makeAxis(op, "y", ysAll, yOpts, pad);

  const entries: LegendEntry[] = [
    ...series.map((s) => ({
      name: s.name,
      color: s.color,
      line: s.line ? { dash: s.dash } : undefined,
      marker: s.marker ? { shape: s.marker } : undefined,
    })),
    ...fits.map((f, i) => ({
      name: f.name,
      color: f.color ?? PALETTE[(series.length + i) % PALETTE.length]!,
      line: { dash: f.dash ?? "6 4" },
    })),
    ...hl.map((h) => ({
      name: h.name,
      color: h.color,
      marker: { shape: h.marker ?? "star", hollow: h.hollow },
    })),
  ];
  const legendMode = opts.legend ?? "right";
  if (legendMode !== "none" && legendMode !== "right" && legendMode !== "inside") {
    throw new TsgradError(
      op,
      `legend must be "right", "inside" or "none", got ${JSON.stringify(legendMode)}`,
    );
  }
  const top = opts.title ? 40 : 14;
  const left = 16 + (yOpts.label ? 22 : 0) + yLabelWidth(yAxis) + 10;
  const right = 18 + (legendMode === "right" && entries.length ? legendWidth(entries) + 12 : 0);
  const bottom = 30 + (xOpts.label ? 22 : 0);
  const rect: Rect = { x: left, y: top, w: W - left - right, h: H - top - bottom };
  if (rect.w < 40 || rect.h < 40) {
    throw new TsgradError(op, `${W} × ${H} leaves no room for the plot; make the chart larger`);
  }
  const px = (v: number) => rect.x + xAxis.frac(v) * rect.w;
  const py = (v: number) => rect.y + rect.h - yAxis.frac(v) * rect.h;

  const body: string[] = [
    ...titleText(opts.title, W),
    tag(
      "defs",
      {},
      tag(
        "clipPath",
        { id: "plot-area" },
        tag("rect", { x: rect.x, y: rect.y, width: rect.w, height: rect.h }),
      ),
    ),
    ...drawAxes(rect, { axis: xAxis, label: xOpts.label }, { axis: yAxis, label: yOpts.label }),
  ];

  fits.forEach((f, i) => {
    const [d0, d1] = xAxis.domain;
    let d = "";
    let pen = false;
    for (let k = 0; k <= 200; k++) {
      const t = k / 200;
      const xv = xAxis.kind === "log" ? d0 * (d1 / d0) ** t : d0 + (d1 - d0) * t;
      const yv = f.f(xv);
      // Break the curve where it is undefined or cannot be drawn on a log axis.
      if (!Number.isFinite(yv) || (yAxis.kind === "log" && yv <= 0)) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${num(px(xv))},${num(py(yv))}`;
      pen = true;
    }
    const color = f.color ?? PALETTE[(series.length + i) % PALETTE.length]!;
    body.push(
      tag("g", { class: "fit", "data-name": f.name, "clip-path": "url(#plot-area)" }, [
        tag("path", {
          class: "line",
          d,
          fill: "none",
          stroke: color,
          "stroke-width": 2,
          "stroke-dasharray": f.dash ?? "6 4",
        }),
      ]),
    );
  });

  for (const s of series) {
    const parts: string[] = [];
    if (s.line && s.xs.length > 0) {
      const d = s.xs.map((xv, j) => `${j ? "L" : "M"}${num(px(xv))},${num(py(s.ys[j]!))}`).join("");
      parts.push(
        tag("path", {
          class: "line",
          d,
          fill: "none",
          stroke: s.color,
          "stroke-width": 2,
          "stroke-linejoin": "round",
          "stroke-dasharray": s.dash,
          "clip-path": "url(#plot-area)",
        }),
      );
    }
    if (s.marker) {
      const shape = s.marker;
      parts.push(
        tag(
          "g",
          { class: "markers" },
          s.xs.map((xv, j) => marker(shape, px(xv), py(s.ys[j]!), 3.5, s.color)),
        ),
      );
    }
    body.push(tag("g", { class: "series", "data-name": s.name }, parts));
  }

  for (const h of hl) {
    const parts: string[] = [];
    if (h.from) {
      parts.push(
        tag("line", {
          class: "connector",
          x1: px(h.from.x),
          y1: py(h.from.y),
          x2: px(h.x),
          y2: py(h.y),
          stroke: "#555",
          "stroke-width": 1.25,
          "stroke-dasharray": "3 3",
        }),
      );
    }
    parts.push(marker(h.marker ?? "star", px(h.x), py(h.y), 5.5, h.color, h.hollow));
    if (h.label) parts.push(text(px(h.x) + 10, py(h.y) - 8, h.label, { class: "point-label" }));
    body.push(tag("g", { class: "highlight", "data-name": h.name }, parts));
  }

  if (legendMode === "right" && entries.length) {
    body.push(legend(entries, rect.x + rect.w + 18, rect.y));
  } else if (legendMode === "inside" && entries.length) {
    const lw = legendWidth(entries);
    const lx = rect.x + rect.w - lw - 8;
    body.push(
      tag("rect", {
        x: lx - 6,
        y: rect.y + 6,
        width: lw + 4,
        height: entries.length * 20 + 8,
        fill: "white",
        "fill-opacity": 0.85,
        stroke: "#ccc",
      }),
      legend(entries, lx, rect.y + 10),
    );
  }
  return svgDocument(W, H, body);
}

/**
 * A line chart of one or more series, with legend, markers and linear or log axes.
 *
 * @example
 * const svg = tg.report.lineChart({
 *   title: "Training loss",
 *   series: [{ name: "train", y: [2.3, 1.1, 0.7, 0.5] }, { name: "val", y: [2.4, 1.3, 0.9, 0.8] }],
 *   x: { label: "epoch" },
 *   y: { label: "loss", scale: "log" },
 * });
 * console.log(svg.startsWith("<svg"), svg.includes("Training loss")); // true true
 */
export function lineChart(opts: LineChartOptions): string {
  return xyChart("lineChart", resolve("lineChart", opts.series, true), [], [], opts);
}

/**
 * A scatter chart, with optional fitted curves and highlighted points — for instance a log–log
 * scaling-law plot with measured points, the fitted power law, and a held-out prediction
 * connected to its measured value.
 *
 * @example
 * const n = [1e3, 1e4, 1e5], loss = [3.1, 2.2, 1.56];
 * const svg = tg.report.scatterChart({
 *   series: [{ name: "measured", x: n, y: loss }],
 *   fits: [{ name: "fit 9.8·N^-0.15", f: (x) => 9.8 * x ** -0.15 }],
 *   highlights: [
 *     { name: "predicted", x: 1e6, y: 1.2, marker: "diamond", hollow: true },
 *     { name: "held out", x: 1e6, y: 1.25, from: { x: 1e6, y: 1.2 } },
 *   ],
 *   x: { label: "parameters", scale: "log" },
 *   y: { label: "loss", scale: "log" },
 * });
 * console.log(svg.includes('class="fit"'), svg.includes('class="highlight"')); // true true
 */
export function scatterChart(opts: ScatterChartOptions): string {
  const fits = opts.fits ?? [];
  for (const f of fits) {
    if (typeof f.f !== "function") {
      throw new TsgradError("scatterChart", `fit "${f.name}" needs a function f(x)`);
    }
  }
  return xyChart(
    "scatterChart",
    resolve("scatterChart", opts.series, false),
    fits,
    opts.highlights ?? [],
    opts,
  );
}
