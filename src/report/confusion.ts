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

/**
 * A confusion matrix as a heatmap with class labels, counts in the cells and a colour bar.
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
    throw new TsgradError(
      op,
      `matrix must be square and non-empty, got rows of lengths [${rows.map((r) => r.length).join(",")}]`,
    );
  }
  rows.forEach((r, i) =>
    r.forEach((v, j) => {
      if (v < 0) throw new TsgradError(op, `matrix has a negative count ${v} at [${i}][${j}]`);
    }),
  );
  const labels = opts.labels ?? rows.map((_, i) => String(i));
  if (labels.length !== n) {
    throw new TsgradError(op, `${labels.length} labels for a ${n}×${n} matrix`);
  }

  const [W, H] = chartSize(op, opts, 520, 480);
  const rowSums = rows.map((r) => r.reduce((a, b) => a + b, 0));
  const max = Math.max(...rows.flat(), 0);
  const shade = (i: number, j: number) =>
    opts.normalize ? (rowSums[i] ? rows[i]![j]! / rowSums[i] : 0) : max ? rows[i]![j]! / max : 0;

  const labelW = Math.max(...labels.map((l) => textWidth(l)));
  const top = opts.title ? 44 : 16;
  const left = 16 + 22 + labelW + 8;
  const rotate = labelW > 60;
  const bottom = 16 + 22 + (rotate ? labelW * 0.72 : 18) + 6;
  const right = 70; // colour bar and its labels
  const cell = Math.min((W - left - right) / n, (H - top - bottom) / n);
  if (cell < 4) throw new TsgradError(op, `${W} × ${H} is too small for ${n} classes`);
  const size = cell * n;

  const cells: string[] = [];
  // Counts only where they fit; the colours still show the structure for many classes.
  const digits = Math.max(...rows.flat().map((v) => String(Math.round(v * 100) / 100).length));
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
  const yLabels = labels.map((l, i) =>
    text(left - 8, top + (i + 0.5) * cell + 4, l, { class: "tick-label", "text-anchor": "end" }),
  );
  const xLabels = labels.map((l, j) => {
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

  const xLabel = opts.xLabel ?? "Predicted";
  const yLabel = opts.yLabel ?? "True";
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
