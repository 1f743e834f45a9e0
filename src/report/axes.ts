/** Numeric axes for the charts: domain and ticks from the data, mapping to pixels, drawing. */
import { TsgradError } from "../tensor/errors.js";
import { formatTicks, linearTicks, logTicks } from "./ticks.js";
import { FONT_SIZE, tag, text, textWidth } from "./svg.js";

/** How values map to positions along an axis. */
export type ScaleKind = "linear" | "log";

/** Options for one numeric axis. */
export interface AxisOptions {
  /** Axis title. */
  label?: string;
  /** `"linear"` (default) or `"log"` (base 10; all data must be positive). */
  scale?: ScaleKind;
  /** Fix the low end instead of fitting the data. */
  min?: number;
  /** Fix the high end instead of fitting the data. */
  max?: number;
}

/** A resolved axis. */
export interface Axis {
  kind: ScaleKind;
  domain: [number, number];
  major: number[];
  minor: number[];
  labeled: number[];
  /** Position of `v` as a fraction of the axis length (0 at domain[0]). */
  frac(v: number): number;
}

/**
 * Fit an axis to `values` (already checked finite, and positive on log axes). `name` names the
 * axis in errors. `pad` widens a data-fitted end by that fraction of the span (in log space on
 * log axes), so that markers at the extremes are not cut by the frame.
 */
export function makeAxis(
  op: string,
  name: string,
  values: readonly number[],
  opts: AxisOptions = {},
  pad = 0,
): Axis {
  const kind = opts.scale ?? "linear";
  if (kind !== "linear" && kind !== "log") {
    throw new TsgradError(
      op,
      `${name} axis scale must be "linear" or "log", got ${JSON.stringify(kind)}`,
    );
  }
  for (const [k, v] of [
    ["min", opts.min],
    ["max", opts.max],
  ] as const) {
    if (v !== undefined && (!Number.isFinite(v) || (kind === "log" && v <= 0))) {
      throw new TsgradError(
        op,
        `${name} axis ${k} must be a finite${kind === "log" ? " positive" : ""} number, got ${v}`,
      );
    }
  }
  let lo = opts.min ?? (values.length ? Math.min(...values) : kind === "log" ? 1 : 0);
  let hi = opts.max ?? (values.length ? Math.max(...values) : kind === "log" ? 10 : 1);
  if (opts.min !== undefined && opts.max === undefined && hi < lo) hi = lo;
  if (opts.max !== undefined && opts.min === undefined && lo > hi) lo = hi;
  if (lo > hi) throw new TsgradError(op, `${name} axis min ${lo} is above max ${hi}`);
  if (pad > 0 && values.length) {
    if (kind === "log") {
      const f = lo === hi ? 1.1 : (hi / lo) ** pad;
      if (opts.min === undefined) lo /= f;
      if (opts.max === undefined) hi *= f;
    } else {
      const d = lo === hi ? Math.abs(lo) * 0.1 || 1 : (hi - lo) * pad;
      if (opts.min === undefined) lo -= d;
      if (opts.max === undefined) hi += d;
    }
  }

  if (kind === "log") {
    const t = logTicks(lo, hi);
    const domain: [number, number] = [opts.min ?? t.domain[0], opts.max ?? t.domain[1]];
    const inside = (v: number) => v >= domain[0] * (1 - 1e-9) && v <= domain[1] * (1 + 1e-9);
    const [l0, l1] = [Math.log10(domain[0]), Math.log10(domain[1])];
    return {
      kind,
      domain,
      major: t.major.filter(inside),
      minor: t.minor.filter(inside),
      labeled: t.labeled.filter(inside),
      frac: (v) => (l1 === l0 ? 0.5 : (Math.log10(v) - l0) / (l1 - l0)),
    };
  }
  const t = linearTicks(lo, hi);
  const domain: [number, number] = [opts.min ?? t.domain[0], opts.max ?? t.domain[1]];
  const ticks = t.ticks.filter(
    (v) => v >= domain[0] - 1e-9 * t.step && v <= domain[1] + 1e-9 * t.step,
  );
  const span = domain[1] - domain[0];
  return {
    kind,
    domain,
    major: ticks,
    minor: [],
    labeled: ticks,
    frac: (v) => (span === 0 ? 0.5 : (v - domain[0]) / span),
  };
}

/** Throw unless every value can go on a log axis. */
export function checkPositive(
  op: string,
  axisName: string,
  what: string,
  values: readonly number[],
): void {
  const i = values.findIndex((v) => v <= 0);
  if (i >= 0) {
    throw new TsgradError(
      op,
      `log ${axisName} axis needs positive values, but ${what} has ${values[i]} at index ${i}`,
    );
  }
}

/** The plotting area in pixels. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Width of the widest tick label on a y axis. */
export function yLabelWidth(axis: Axis): number {
  return Math.max(0, ...formatTicks(axis.labeled).map((s) => textWidth(s)));
}

/** Grid lines, axis lines, ticks, tick labels and axis titles for numeric x and/or y axes. */
export function drawAxes(
  rect: Rect,
  x: { axis: Axis; label?: string } | null,
  y: { axis: Axis; label?: string } | null,
): string[] {
  const out: string[] = [];
  const grid: string[] = [];
  const px = (v: number) => rect.x + x!.axis.frac(v) * rect.w;
  const py = (v: number) => rect.y + rect.h - y!.axis.frac(v) * rect.h;
  const bottom = rect.y + rect.h;
  if (x) {
    const { axis } = x;
    const ticks: string[] = [];
    for (const v of axis.minor) {
      if (axis.kind === "log") {
        grid.push(tag("line", { x1: px(v), y1: rect.y, x2: px(v), y2: bottom, stroke: "#f0f0f0" }));
      }
      ticks.push(tag("line", { x1: px(v), y1: bottom, x2: px(v), y2: bottom + 3, stroke: "#333" }));
    }
    for (const v of axis.major) {
      grid.push(tag("line", { x1: px(v), y1: rect.y, x2: px(v), y2: bottom, stroke: "#dddddd" }));
      ticks.push(tag("line", { x1: px(v), y1: bottom, x2: px(v), y2: bottom + 5, stroke: "#333" }));
    }
    const names = formatTicks(axis.labeled);
    const labels = axis.labeled.map((v, i) =>
      text(px(v), bottom + 18, names[i]!, { class: "tick-label", "text-anchor": "middle" }),
    );
    out.push(
      tag("g", { class: "axis x-axis" }, [
        tag("line", { x1: rect.x, y1: bottom, x2: rect.x + rect.w, y2: bottom, stroke: "#333" }),
        ...ticks,
        ...labels,
      ]),
    );
    if (x.label) {
      out.push(
        text(rect.x + rect.w / 2, bottom + 38, x.label, {
          class: "axis-label",
          "text-anchor": "middle",
        }),
      );
    }
  }
  if (y) {
    const { axis } = y;
    const ticks: string[] = [];
    for (const v of axis.minor) {
      if (axis.kind === "log") {
        grid.push(
          tag("line", { x1: rect.x, y1: py(v), x2: rect.x + rect.w, y2: py(v), stroke: "#f0f0f0" }),
        );
      }
      ticks.push(tag("line", { x1: rect.x - 3, y1: py(v), x2: rect.x, y2: py(v), stroke: "#333" }));
    }
    for (const v of axis.major) {
      grid.push(
        tag("line", { x1: rect.x, y1: py(v), x2: rect.x + rect.w, y2: py(v), stroke: "#dddddd" }),
      );
      ticks.push(tag("line", { x1: rect.x - 5, y1: py(v), x2: rect.x, y2: py(v), stroke: "#333" }));
    }
    const names = formatTicks(axis.labeled);
    const labels = axis.labeled.map((v, i) =>
      text(rect.x - 8, py(v) + FONT_SIZE * 0.35, names[i]!, {
        class: "tick-label",
        "text-anchor": "end",
      }),
    );
    out.push(
      tag("g", { class: "axis y-axis" }, [
        tag("line", { x1: rect.x, y1: rect.y, x2: rect.x, y2: bottom, stroke: "#333" }),
        ...ticks,
        ...labels,
      ]),
    );
    if (y.label) {
      const lx = rect.x - yLabelWidth(axis) - 22;
      const ly = rect.y + rect.h / 2;
      out.push(
        text(lx, ly, y.label, {
          class: "axis-label",
          "text-anchor": "middle",
          transform: `rotate(-90 ${Math.round(lx)} ${Math.round(ly)})`,
        }),
      );
    }
  }
  return [tag("g", { class: "grid" }, grid), ...out];
}
