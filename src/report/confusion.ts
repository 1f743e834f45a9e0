/** Confusion-matrix heatmap: rows are true classes, columns predicted classes, counts in cells. */
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { Tensor } from "../tensor/tensor.js";
import {
  type ChartOptions,
  chartSize,
  svgDocument,
  tag,
  text,
  textWidth,
  titleText,
  toNumbers,
} from "./svg.js";

/** Options of `confusionMatrixChart`. */
export interface ConfusionMatrixOptions extends ChartOptions {
  /** Square matrix of counts, `matrix[true][predicted]`: nested arrays or a 2-d tensor. */
  matrix: readonly (readonly number[])[] | Tensor;
  /** Class names; default 0, 1, 2, … */
  labels?: readonly string[];
  /** Colour each cell by its share of the row (per-class recall) instead of by count. */
  normalize?: boolean;
  /** Default "Predicted". */
  xLabel?: string;
  /** Default "True". */
  yLabel?: string;
}

// Light to dark blue (ColorBrewer "Blues" end points and middle).
const STOPS: [number, number, number][] = [
  [247, 251, 255],
  [107, 174, 214],
  [8, 48, 107],
];

/** Heat colour for t in [0, 1]. */
function heat(t: number): string {
  const u = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(u));
  const f = u - i;
  const c = STOPS[i]!.map((a, k) => Math.round(a + (STOPS[i + 1]![k]! - a) * f));
  return `rgb(${c.join(",")})`;
}

/** Classes per axis drawn one cell each; above this, consecutive classes share a cell. */
const MAX_DRAWN = 100;
/** The smallest cell drawn, in pixels: below it, consecutive classes share a cell. */
const MIN_CELL = 4;
/** Tick labels closer than this (pixels) would overlap: only every k-th one is written. */
const LABEL_PITCH = 14;

/** Largest value of a possibly huge list (spreading a million numbers into Math.max overflows). */
function maxOf(xs: Iterable<number>, init: number): number {
  let m = init;
  for (const x of xs) if (x > m) m = x;
  return m;
}

/**
 * Sum `rows` into blocks of `g` consecutive classes on both axes (the last block may be smaller).
 */
function groupRows(rows: readonly number[][], g: number): number[][] {
  const n = rows.length;
  const m = Math.ceil(n / g);
  const out = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  rows.forEach((r, i) => {
    const o = out[Math.floor(i / g)]!;
    r.forEach((v, j) => {
      o[Math.floor(j / g)]! += v;
    });
  });
  return out;
}

/**
 * A confusion matrix as a heatmap with class labels, counts in the cells and a colour bar.
 *
 * Many classes degrade gracefully instead of failing: counts are written only where they fit, tick
 * labels are thinned so they do not overlap, and above 100 classes per axis — or when the canvas
 * would make cells smaller than 4 pixels — consecutive classes share a cell, labelled by their
 * index range ("0–9"), with the summed counts (the axis labels say so). Read exact counts of such
 * a matrix from the data (e.g. the largest off-diagonal entries), not from the picture.
 *
 * @example
 * const svg = tg.report.confusionMatrixChart({
 *   matrix: [[50, 2], [5, 43]],
 *   labels: ["cat", "dog"],
 *   title: "Validation",
 * });
 * console.log(svg.includes(">43<"), svg.includes(">dog<")); // true true
 */
export function confusionMatrixChart(opts: ConfusionMatrixOptions): string {
  const op = "confusionMatrixChart";
  let rows: number[][];
  if (opts.matrix instanceof Tensor) {
    const m = opts.matrix;
    if (m.ndim !== 2) {
      throw new TsgradError(op, `matrix must be 2-d, got shape ${fmtShape(m.shape)}`);
    }
    const flat = toNumbers(op, "matrix", m);
    rows = Array.from({ length: m.shape[0]! }, (_, i) =>
      flat.slice(i * m.shape[1]!, (i + 1) * m.shape[1]!),
    );
  } else {
    rows = opts.matrix.map((r, i) => toNumbers(op, `matrix row ${i}`, r));
  }
  const n = rows.length;
  if (n === 0 || rows.some((r) => r.length !== n)) {
    const lengths = rows.length > 20 ? `${rows.length} rows` : rows.map((r) => r.length).join(",");
    throw new TsgradError(
      op,
      `matrix must be square and non-empty, got rows of lengths [${lengths}]`,
    );
  }
  rows.forEach((r, i) =>
    r.forEach((v, j) => {
      if (v < 0) throw new TsgradError(op, `matrix has a negative count ${v} at [${i}][${j}]`);
    }),
  );
  if (opts.labels !== undefined && opts.labels.length !== n) {
    throw new TsgradError(op, `${opts.labels.length} labels for a ${n}×${n} matrix`);
  }

  const [W, H] = chartSize(op, opts, 520, 480);
  const top = opts.title ? 44 : 16;
  const right = 70; // colour bar and its labels
  const layout = (names: readonly string[], blocks: number) => {
    const labelW = maxOf(
      names.map((l) => textWidth(l)),
      0,
    );
    const rotate = labelW > 60;
    const left = 16 + 22 + labelW + 8;
    const bottom = 16 + 22 + (rotate ? labelW * 0.72 : 18) + 6;
    const room = Math.min(W - left - right, H - top - bottom);
    return { labelW, rotate, left, room, cell: room / blocks };
  };
  let labels = opts.labels ?? rows.map((_, i) => String(i));
  let g = 1;
  let lay = layout(labels, n);
  if (n > MAX_DRAWN || lay.cell < MIN_CELL) {
    // Range labels are at most as wide as "<n-1>–<n-1>"; size the margins for that.
    lay = layout([`${n - 1}–${n - 1}`], 1);
    const blocks = Math.min(MAX_DRAWN, n, Math.floor(lay.room / MIN_CELL));
    if (blocks < 1) {
      throw new TsgradError(op, `${W} × ${H} is too small for a ${n}×${n} matrix`);
    }
    g = Math.ceil(n / blocks);
    if (g > 1) {
      rows = groupRows(rows, g);
      labels = rows.map((_, b) => `${b * g}–${Math.min(n, (b + 1) * g) - 1}`);
    }
    lay = layout(labels, rows.length);
  }
  const { labelW, rotate, left } = lay;
  const cell = lay.cell;
  const m = rows.length;
  const size = cell * m;
  const rowSums = rows.map((r) => r.reduce((a, b) => a + b, 0));
  const max = maxOf(
    rows.map((r) => maxOf(r, 0)),
    0,
  );
  const shade = (i: number, j: number) =>
    opts.normalize ? (rowSums[i] ? rows[i]![j]! / rowSums[i] : 0) : max ? rows[i]![j]! / max : 0;
  const stride = Math.max(1, Math.ceil(LABEL_PITCH / cell));

  const cells: string[] = [];
  // Counts only where they fit; the colours still show the structure for many classes.
  const digits = maxOf(
    rows.map((r) =>
      maxOf(
        r.map((v) => String(Math.round(v * 100) / 100).length),
        1,
      ),
    ),
    1,
  );
  const fontSize = Math.min(13, cell / 2.2, (cell * 1.6) / Math.max(1, digits));
  rows.forEach((r, i) =>
    r.forEach((v, j) => {
      const x = left + j * cell;
      const y = top + i * cell;
      const t = shade(i, j);
      cells.push(
        tag("rect", {
          class: "cell",
          x,
          y,
          width: cell,
          height: cell,
          fill: heat(t),
          stroke: "white",
          "stroke-width": 1,
        }),
      );
      if (fontSize >= 7) {
        cells.push(
          text(x + cell / 2, y + cell / 2 + fontSize * 0.35, String(Math.round(v * 100) / 100), {
            class: "count",
            "text-anchor": "middle",
            "font-size": Math.round(fontSize * 10) / 10,
            fill: t > 0.55 ? "white" : "#222",
          }),
        );
      }
    }),
  );
  const shown = labels.flatMap((l, i) => (i % stride === 0 ? [[l, i] as const] : []));
  const yLabels = shown.map(([l, i]) =>
    text(left - 8, top + (i + 0.5) * cell + 4, l, { class: "tick-label", "text-anchor": "end" }),
  );
  const xLabels = shown.map(([l, j]) => {
    const x = left + (j + 0.5) * cell;
    const y = top + size + 16;
    return rotate
      ? text(x, y, l, {
          class: "tick-label",
          "text-anchor": "end",
          transform: `rotate(-45 ${Math.round(x)} ${Math.round(y)})`,
        })
      : text(x, y, l, { class: "tick-label", "text-anchor": "middle" });
  });

  // Colour bar: 0 at the bottom, the maximum (count or share) at the top.
  const barX = left + size + 16;
  const steps = 24;
  const bar: string[] = [];
  for (let k = 0; k < steps; k++) {
    bar.push(
      tag("rect", {
        x: barX,
        y: top + (size * (steps - 1 - k)) / steps,
        width: 12,
        height: size / steps + 0.5,
        fill: heat((k + 0.5) / steps),
      }),
    );
  }
  const topLabel = opts.normalize ? "100%" : String(Math.round(max * 100) / 100);
  bar.push(
    tag("rect", { x: barX, y: top, width: 12, height: size, fill: "none", stroke: "#999" }),
    text(barX + 16, top + 9, topLabel, { class: "tick-label" }),
    text(barX + 16, top + size, opts.normalize ? "0%" : "0", { class: "tick-label" }),
  );

  const grouped = g > 1 ? ` (classes in groups of ${g})` : "";
  const xLabel = (opts.xLabel ?? "Predicted") + grouped;
  const yLabel = (opts.yLabel ?? "True") + grouped;
  const ly = top + size / 2;
  const lx = 18;
  return svgDocument(W, H, [
    ...titleText(opts.title, W),
    tag("g", { class: "cells" }, cells),
    tag("g", { class: "axis y-axis" }, yLabels),
    tag("g", { class: "axis x-axis" }, xLabels),
    tag("g", { class: "colorbar" }, bar),
    text(left + size / 2, top + size + 16 + (rotate ? labelW * 0.72 : 4) + 20, xLabel, {
      class: "axis-label",
      "text-anchor": "middle",
    }),
    text(lx, ly, yLabel, {
      class: "axis-label",
      "text-anchor": "middle",
      transform: `rotate(-90 ${lx} ${Math.round(ly)})`,
    }),
  ]);
}
