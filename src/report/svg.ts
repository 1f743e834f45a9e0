/**
 * SVG building blocks shared by the charts: escaping, elements, markers, legends and the data
 * coercion that rejects non-finite values up front. Output is plain SVG 1.1 that browsers,
 * resvg (for PNG) and XML parsers all accept.
 */
import { TsgradError } from "../tensor/errors.js";
import { Tensor } from "../tensor/tensor.js";
import { contiguousData } from "../io/safetensors.js";

/** Numbers for a chart: a plain array, a typed array, or a 1-d tensor. */
export type Numbers = ArrayLike<number> | Tensor;

/** Marker shapes for points. */
export type MarkerShape = "circle" | "square" | "triangle" | "diamond" | "cross" | "star";

/** Size and title options shared by every chart. */
export interface ChartOptions {
  /** Drawn centred above the plot. */
  title?: string;
  /** Pixels; default 640. */
  width?: number;
  /** Pixels; default 400. */
  height?: number;
}

/** Tableau 10: distinguishable, and still readable in greyscale print. */
export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

/** Fonts most systems have (DejaVu on Linux, Arial/Helvetica elsewhere). */
export const FONT_FAMILY = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";
export const FONT_SIZE = 12;

/** Escape text for XML content and attribute values. */
export function escapeXml(s: string): string {
  return s
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/** A coordinate with at most two decimals. */
export function num(v: number): string {
  return String(Math.round(v * 100) / 100 || 0);
}

type Attrs = Record<string, string | number | undefined>;

/** An element; `children` are already-built markup (escape text with `escapeXml`). */
export function tag(name: string, attrs: Attrs, children?: string | readonly string[]): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === "number" ? num(v) : escapeXml(v!)}"`)
    .join("");
  if (children === undefined) return `<${name}${a}/>`;
  return `<${name}${a}>${typeof children === "string" ? children : children.join("")}</${name}>`;
}

/** A text element with escaped content. */
export function text(x: number, y: number, content: string, attrs: Attrs = {}): string {
  return tag("text", { x, y, ...attrs }, escapeXml(content));
}

/** Rough rendered width of `s` in pixels (average glyph ≈ 0.6 em), for layout only. */
export function textWidth(s: string, size = FONT_SIZE): number {
  return Array.from(s).length * size * 0.6;
}

/** The whole document: white background, default font, then the body. */
export function svgDocument(width: number, height: number, body: readonly string[]): string {
  return tag(
    "svg",
    {
      xmlns: "http://www.w3.org/2000/svg",
      width,
      height,
      viewBox: `0 0 ${num(width)} ${num(height)}`,
      "font-family": FONT_FAMILY,
      "font-size": FONT_SIZE,
    },
    [tag("rect", { width, height, fill: "white" }), ...body],
  );
}

/** A marker centred at (x, y) with radius `r`. */
export function marker(
  shape: MarkerShape,
  x: number,
  y: number,
  r: number,
  color: string,
  hollow = false,
): string {
  const paint = hollow
    ? { fill: "white", stroke: color, "stroke-width": 1.5 }
    : { fill: color, stroke: "white", "stroke-width": 0.75 };
  const poly = (pts: [number, number][]) =>
    tag("path", {
      class: "marker",
      d: `M${pts.map(([px, py]) => `${num(x + px)},${num(y + py)}`).join("L")}Z`,
      ...paint,
    });
  switch (shape) {
    case "circle":
      return tag("circle", { class: "marker", cx: x, cy: y, r, ...paint });
    case "square":
      return tag("rect", {
        class: "marker",
        x: x - r,
        y: y - r,
        width: 2 * r,
        height: 2 * r,
        ...paint,
      });
    case "triangle":
      return poly([
        [0, -1.2 * r],
        [1.1 * r, 0.8 * r],
        [-1.1 * r, 0.8 * r],
      ]);
    case "diamond":
      return poly([
        [0, -1.3 * r],
        [1.1 * r, 0],
        [0, 1.3 * r],
        [-1.1 * r, 0],
      ]);
    case "cross":
      return tag("path", {
        class: "marker",
        d: `M${num(x - r)},${num(y - r)}L${num(x + r)},${num(y + r)}M${num(x - r)},${num(y + r)}L${num(x + r)},${num(y - r)}`,
        stroke: color,
        "stroke-width": 2,
        fill: "none",
      });
    case "star": {
      const pts: [number, number][] = [];
      for (let i = 0; i < 10; i++) {
        const rad = i % 2 === 0 ? 1.6 * r : 0.7 * r;
        const a = -Math.PI / 2 + (i * Math.PI) / 5;
        pts.push([rad * Math.cos(a), rad * Math.sin(a)]);
      }
      return poly(pts);
    }
  }
}

/** One legend row: a line sample, a marker, or a filled swatch, then the name. */
export interface LegendEntry {
  name: string;
  color: string;
  line?: { dash?: string };
  marker?: { shape: MarkerShape; hollow?: boolean };
  swatch?: boolean;
}

/** Width the legend needs. */
export function legendWidth(entries: readonly LegendEntry[]): number {
  return entries.length ? Math.max(...entries.map((e) => textWidth(e.name))) + 36 : 0;
}

/** The legend with its top-left corner at (x, y). */
export function legend(entries: readonly LegendEntry[], x: number, y: number): string {
  const rows = entries.map((e, i) => {
    const cy = y + 10 + i * 20;
    const parts: string[] = [];
    if (e.swatch) {
      parts.push(tag("rect", { x, y: cy - 6, width: 22, height: 12, fill: e.color }));
    }
    if (e.line) {
      parts.push(
        tag("line", {
          x1: x,
          y1: cy,
          x2: x + 22,
          y2: cy,
          stroke: e.color,
          "stroke-width": 2,
          "stroke-dasharray": e.line.dash,
        }),
      );
    }
    if (e.marker) parts.push(marker(e.marker.shape, x + 11, cy, 4, e.color, e.marker.hollow));
    parts.push(text(x + 28, cy + 4, e.name));
    return tag("g", { class: "legend-entry" }, parts);
  });
  return tag("g", { class: "legend" }, rows);
}

/** Coerce chart data to finite numbers, naming the chart, the data and the index of a bad value. */
export function toNumbers(op: string, what: string, values: Numbers): number[] {
  const arr =
    values instanceof Tensor
      ? Array.from(contiguousData(values))
      : Array.from({ length: values.length }, (_, i) => values[i]!);
  arr.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new TsgradError(
        op,
        `${what} has ${String(v)} at index ${i}; charts need finite numbers`,
      );
    }
  });
  return arr;
}

/** Check the chart size options and fill in the defaults. */
export function chartSize(
  op: string,
  opts: ChartOptions,
  width = 640,
  height = 400,
): [number, number] {
  const w = opts.width ?? width;
  const h = opts.height ?? height;
  if (!(w >= 120 && h >= 100) || !Number.isFinite(w) || !Number.isFinite(h)) {
    throw new TsgradError(op, `width × height must be at least 120 × 100, got ${w} × ${h}`);
  }
  return [w, h];
}

/** The title element, if there is a title. */
export function titleText(title: string | undefined, width: number): string[] {
  if (title === undefined || title === "") return [];
  return [
    text(width / 2, 24, title, {
      class: "title",
      "text-anchor": "middle",
      "font-size": 15,
      "font-weight": "bold",
    }),
  ];
}
