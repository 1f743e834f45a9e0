/** Grouped bar chart with error bars (mean ± interval), e.g. accuracy per method over seeds. */
import { TsgradError } from "../tensor/errors.js";
import { type AxisOptions, type Rect, drawAxes, makeAxis, yLabelWidth } from "./axes.js";
import {
  type ChartOptions,
  type Numbers,
  PALETTE,
  chartSize,
  legend,
  legendWidth,
  svgDocument,
  tag,
  text,
  textWidth,
  titleText,
  toNumbers,
} from "./svg.js";

/** One bar per group. */
export interface BarSeries {
  /** Legend text. */
  name: string;
  /** One value (e.g. a mean) per group. */
  values: Numbers;
  /** Symmetric error bar half-widths (value ± error), one per group. */
  errors?: Numbers;
  /** Explicit intervals `[low, high]` per group (e.g. a bootstrap CI); overrides `errors`. */
  intervals?: readonly (readonly [number, number])[];
  color?: string;
}

/** Options of `barChart`. */
export interface BarChartOptions extends ChartOptions {
  /** Group names along the x axis. */
  groups: readonly string[];
  /** One bar per series in each group. */
  series: readonly BarSeries[];
  /** x axis title. */
  xLabel?: string;
  /** The value axis (linear; 0 is always included). */
  y?: Omit<AxisOptions, "scale">;
  /** Legend to the right (default) or none. */
  legend?: "right" | "none";
}

/**
 * A grouped bar chart with optional error bars.
 *
 * @example
 * const svg = tg.report.barChart({
 *   groups: ["MLP", "CNN"],
 *   series: [
 *     { name: "SGD", values: [0.91, 0.97], errors: [0.01, 0.004] },
 *     { name: "Adam", values: [0.93, 0.98], intervals: [[0.91, 0.95], [0.975, 0.985]] },
 *   ],
 *   y: { label: "accuracy", min: 0.8, max: 1 },
 * });
 * console.log((svg.match(/class="bar"/g) ?? []).length, (svg.match(/class="error-bar"/g) ?? []).length); // 4 4
 */
export function barChart(opts: BarChartOptions): string {
  const op = "barChart";
  const groups = opts.groups;
  const G = groups.length;
  if (G === 0 || opts.series.length === 0) {
    throw new TsgradError(op, "needs at least one group and one series");
  }
  const series = opts.series.map((s, i) => {
    const values = toNumbers(op, `series "${s.name}" values`, s.values);
    if (values.length !== G) {
      throw new TsgradError(op, `series "${s.name}" has ${values.length} values for ${G} groups`);
    }
    let intervals: [number, number][] | null = null;
    if (s.intervals !== undefined) {
      if (s.intervals.length !== G) {
        throw new TsgradError(
          op,
          `series "${s.name}" has ${s.intervals.length} intervals for ${G} groups`,
        );
      }
      intervals = s.intervals.map(([lo, hi], j) => {
        toNumbers(op, `series "${s.name}" interval ${j}`, [lo, hi]);
        if (lo > hi) {
          throw new TsgradError(op, `series "${s.name}" interval ${j} is reversed: [${lo}, ${hi}]`);
        }
        return [lo, hi];
      });
    } else if (s.errors !== undefined) {
      const errs = toNumbers(op, `series "${s.name}" errors`, s.errors);
      if (errs.length !== G) {
        throw new TsgradError(op, `series "${s.name}" has ${errs.length} errors for ${G} groups`);
      }
      const neg = errs.findIndex((e) => e < 0);
      if (neg >= 0) {
        throw new TsgradError(
          op,
          `series "${s.name}" has a negative error ${errs[neg]} at index ${neg}`,
        );
      }
      intervals = values.map((v, j) => [v - errs[j]!, v + errs[j]!]);
    }
    return { name: s.name, values, intervals, color: s.color ?? PALETTE[i % PALETTE.length]! };
  });

  const [W, H] = chartSize(op, opts);
  const yOpts = opts.y ?? {};
  const all = [0, ...series.flatMap((s) => [...s.values, ...(s.intervals ?? []).flat()])];
  const yAxis = makeAxis(op, "y", all, { ...yOpts, scale: "linear" });
  const entries = series.map((s) => ({ name: s.name, color: s.color, swatch: true }));
  const legendMode = opts.legend ?? "right";
  if (legendMode !== "right" && legendMode !== "none") {
    throw new TsgradError(
      op,
      `legend must be "right" or "none", got ${JSON.stringify(legendMode)}`,
    );
  }
  const showLegend = legendMode === "right";
  const top = opts.title ? 40 : 14;
  const left = 16 + (yOpts.label ? 22 : 0) + yLabelWidth(yAxis) + 10;
  const right = 18 + (showLegend ? legendWidth(entries) + 12 : 0);
  const band = (W - left - right) / G;
  const groupW = Math.max(...groups.map((g) => textWidth(g)));
  const rotate = groupW > band * 0.95;
  const bottom = 30 + (rotate ? groupW * 0.72 : 0) + (opts.xLabel ? 22 : 0);
  const rect: Rect = { x: left, y: top, w: W - left - right, h: H - top - bottom };
  if (rect.w < 40 || rect.h < 40) {
    throw new TsgradError(op, `${W} × ${H} leaves no room for the plot`);
  }
  const py = (v: number) => rect.y + rect.h - yAxis.frac(v) * rect.h;
  // Bars start at 0, or at the axis edge when 0 is outside a user-fixed range.
  const base = Math.min(Math.max(0, yAxis.domain[0]), yAxis.domain[1]);
  const barW = (band * 0.8) / series.length;

  const bars: string[] = [];
  series.forEach((s, k) => {
    const parts: string[] = [];
    s.values.forEach((v, j) => {
      const x = rect.x + j * band + band * 0.1 + k * barW;
      const clampV = Math.min(Math.max(v, yAxis.domain[0]), yAxis.domain[1]);
      const [y0, y1] = [py(base), py(clampV)];
      parts.push(
        tag("rect", {
          class: "bar",
          x,
          y: Math.min(y0, y1),
          width: barW * 0.92,
          height: Math.abs(y1 - y0),
          fill: s.color,
        }),
      );
      const iv = s.intervals?.[j];
      if (iv) {
        const cx = x + (barW * 0.92) / 2;
        const cap = Math.min(6, barW * 0.25);
        const [lo, hi] = [py(iv[0]), py(iv[1])];
        parts.push(
          tag("path", {
            class: "error-bar",
            d: `M${cx},${lo}L${cx},${hi}M${cx - cap},${lo}L${cx + cap},${lo}M${cx - cap},${hi}L${cx + cap},${hi}`,
            stroke: "#222",
            "stroke-width": 1.25,
            fill: "none",
          }),
        );
      }
    });
    bars.push(
      tag("g", { class: "series", "data-name": s.name, "clip-path": "url(#plot-area)" }, parts),
    );
  });

  const bottomY = rect.y + rect.h;
  const groupLabels = groups.map((g, j) => {
    const x = rect.x + (j + 0.5) * band;
    return rotate
      ? text(x, bottomY + 16, g, {
          class: "tick-label",
          "text-anchor": "end",
          transform: `rotate(-45 ${Math.round(x)} ${Math.round(bottomY + 16)})`,
        })
      : text(x, bottomY + 18, g, { class: "tick-label", "text-anchor": "middle" });
  });
  const body = [
    ...titleText(opts.title, W),
    tag(
      "defs",
      {},
      tag(
        "clipPath",
        { id: "plot-area" },
        tag("rect", { x: rect.x, y: rect.y - 1, width: rect.w, height: rect.h + 2 }),
      ),
    ),
    ...drawAxes(rect, null, { axis: yAxis, label: yOpts.label }),
    tag("line", { x1: rect.x, y1: bottomY, x2: rect.x + rect.w, y2: bottomY, stroke: "#333" }),
    ...bars,
    // Bars hang from 0 when it lies inside the range: mark it.
    ...(yAxis.domain[0] < 0 && yAxis.domain[1] > 0
      ? [
          tag("line", {
            class: "zero",
            x1: rect.x,
            y1: py(0),
            x2: rect.x + rect.w,
            y2: py(0),
            stroke: "#333",
          }),
        ]
      : []),
    tag("g", { class: "axis x-axis" }, groupLabels),
  ];
  if (opts.xLabel) {
    body.push(
      text(rect.x + rect.w / 2, H - 10, opts.xLabel, {
        class: "axis-label",
        "text-anchor": "middle",
      }),
    );
  }
  if (showLegend) body.push(legend(entries, rect.x + rect.w + 18, rect.y));
  return svgDocument(W, H, body);
}
