/**
 * Experiment reports: one builder, two outputs. HTML is a single self-contained file (CSS and
 * SVG figures inline) to open in a browser; Markdown references the figures as files next to it,
 * for a repository. Both are written atomically.
 */
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { Tensor } from "../tensor/tensor.js";
import { writeFileAtomic } from "../io/atomic.js";
import { nodeModule } from "../io/node.js";
import { type PngOptions, saveFigure } from "./png.js";
import { escapeXml } from "./svg.js";

type Block =
  | { kind: "heading"; text: string; level: 2 | 3 }
  | { kind: "paragraph"; text: string }
  | { kind: "keyValues"; entries: [string, unknown][]; caption?: string }
  | { kind: "table"; columns: string[]; rows: unknown[][]; caption?: string }
  | { kind: "figure"; name: string; svg: string; caption?: string };

/** Options of `Report.toMarkdown` / `Report.saveMarkdown`. */
export interface MarkdownOptions {
  /** Folder for figure files, relative to the Markdown file; default `"figures"`. */
  figureDir?: string;
  /** Also write each figure as PNG and reference the PNG (for viewers without SVG). */
  png?: boolean;
  /** PNG rendering options. */
  pngOptions?: PngOptions;
}

/**
 * A value as table text: numbers to 4 significant digits (integers in full), one-element
 * tensors as their value, missing values as "—".
 *
 * @example
 * console.log(tg.report.formatValue(0.912345), tg.report.formatValue(60000), tg.report.formatValue(null)); // "0.9123" "60000" "—"
 */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") {
    if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
    return String(Number(v.toPrecision(4)));
  }
  if (typeof v === "string") return v;
  if (typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (v instanceof Tensor) {
    return v.size === 1 ? formatValue(v.reshape([]).item()) : `tensor ${fmtShape(v.shape)}`;
  }
  return JSON.stringify(v);
}

/** Escape Markdown syntax in plain text so it renders literally. */
function md(s: string): string {
  return s.replace(/[\\`*_[\]<>#|&]/g, (c) => `\\${c}`).replace(/\s*\n\s*/g, " ");
}

const CSS = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.5}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ddd;padding:.3rem .7rem;text-align:left}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{caption-side:bottom;color:#666;font-size:.9rem;padding-top:.3rem}
figure{margin:1.5rem 0}figcaption{color:#666;font-size:.9rem}svg{max-width:100%;height:auto}`;

/**
 * A report builder: add headings, paragraphs, a key–value summary, tables and SVG figures in
 * order, then render or save as HTML or Markdown. Text is plain (escaped), not markup.
 *
 * @example
 * const r = new tg.report.Report("MNIST baseline")
 *   .paragraph("Two epochs of SGD.")
 *   .keyValues({ "test accuracy": 0.9812, epochs: 2 })
 *   .table(["epoch", "loss"], [[1, 0.31], [2, 0.12]])
 *   .figure("loss", tg.report.lineChart({ series: [{ name: "loss", y: [0.31, 0.12] }] }), "Training loss");
 * const html = r.toHtml();
 * console.log(html.includes("<h1>MNIST baseline</h1>"), html.includes("<svg")); // true true
 * console.log(r.toMarkdown().includes("![Training loss](figures/loss.svg)")); // true
 */
export class Report {
  private readonly blocks: Block[] = [];

  constructor(readonly title: string) {}

  /** A section heading (level 2) or sub-heading (level 3). */
  heading(text: string, level: 2 | 3 = 2): this {
    if (level !== 2 && level !== 3) {
      throw new TsgradError("Report.heading", `level must be 2 or 3, got ${String(level)}`);
    }
    this.blocks.push({ kind: "heading", text, level });
    return this;
  }

  /** A paragraph of plain text. */
  paragraph(text: string): this {
    this.blocks.push({ kind: "paragraph", text });
    return this;
  }

  /** A summary of named values (e.g. final metrics, config), as a two-column table. */
  keyValues(values: Readonly<Record<string, unknown>>, caption?: string): this {
    this.blocks.push({ kind: "keyValues", entries: Object.entries(values), caption });
    return this;
  }

  /** A table; every row must have one cell per column. */
  table(columns: readonly string[], rows: readonly (readonly unknown[])[], caption?: string): this {
    rows.forEach((r, i) => {
      if (r.length !== columns.length) {
        throw new TsgradError(
          "Report.table",
          `row ${i} has ${r.length} cells for ${columns.length} columns`,
        );
      }
    });
    this.blocks.push({
      kind: "table",
      columns: [...columns],
      rows: rows.map((r) => [...r]),
      caption,
    });
    return this;
  }

  /** An SVG figure (from the chart functions); `name` becomes its file name in Markdown. */
  figure(name: string, svg: string, caption?: string): this {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw new TsgradError(
        "Report.figure",
        `name ${JSON.stringify(name)} must be letters, digits, ".", "_", "-"`,
      );
    }
    if (this.blocks.some((b) => b.kind === "figure" && b.name === name)) {
      throw new TsgradError("Report.figure", `there is already a figure named "${name}"`);
    }
    if (!svg.trimStart().startsWith("<svg")) {
      throw new TsgradError("Report.figure", `figure "${name}" is not an SVG document`);
    }
    this.blocks.push({ kind: "figure", name, svg, caption });
    return this;
  }

  /** The report as one self-contained HTML page. */
  toHtml(): string {
    const e = escapeXml;
    const cell = (v: unknown) =>
      typeof v === "number"
        ? `<td class="num">${e(formatValue(v))}</td>`
        : `<td>${e(formatValue(v))}</td>`;
    const caption = (c?: string) => (c ? `<caption>${e(c)}</caption>` : "");
    let figures = 0;
    const body = this.blocks.map((b) => {
      switch (b.kind) {
        case "heading":
          return `<h${b.level}>${e(b.text)}</h${b.level}>`;
        case "paragraph":
          return `<p>${e(b.text)}</p>`;
        case "keyValues":
          return `<table class="summary">${caption(b.caption)}<tbody>${b.entries
            .map(([k, v]) => `<tr><th>${e(k)}</th>${cell(v)}</tr>`)
            .join("")}</tbody></table>`;
        case "table":
          return (
            `<table>${caption(b.caption)}<thead><tr>${b.columns.map((c) => `<th>${e(c)}</th>`).join("")}</tr></thead>` +
            `<tbody>${b.rows.map((r) => `<tr>${r.map(cell).join("")}</tr>`).join("")}</tbody></table>`
          );
        case "figure": {
          // Element ids (clip paths) must be unique in one page: prefix them per figure.
          const p = `fig${++figures}-`;
          const svg = b.svg
            .replace(/\sid="([^"]+)"/g, ` id="${p}$1"`)
            .replace(/url\(#([^)]+)\)/g, `url(#${p}$1)`)
            .replace(/href="#([^"]+)"/g, `href="#${p}$1"`);
          const fc = b.caption ? `<figcaption>${e(b.caption)}</figcaption>` : "";
          return `<figure id="${e(b.name)}">${svg}${fc}</figure>`;
        }
      }
    });
    return [
      "<!DOCTYPE html>",
      '<html lang="en">',
      "<head>",
      '<meta charset="utf-8"/>',
      '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
      `<title>${e(this.title)}</title>`,
      `<style>${CSS}</style>`,
      "</head>",
      "<body>",
      `<h1>${e(this.title)}</h1>`,
      ...body,
      "</body>",
      "</html>",
      "",
    ].join("\n");
  }

  /** The report as Markdown; figures are referenced as `<figureDir>/<name>.svg` (or `.png`). */
  toMarkdown(opts: MarkdownOptions = {}): string {
    const dir = opts.figureDir ?? "figures";
    const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
    const out = [`# ${md(this.title)}`];
    for (const b of this.blocks) {
      switch (b.kind) {
        case "heading":
          out.push(`${"#".repeat(b.level)} ${md(b.text)}`);
          break;
        case "paragraph":
          out.push(md(b.text));
          break;
        case "keyValues":
          out.push(b.entries.map(([k, v]) => `- **${md(k)}:** ${md(formatValue(v))}`).join("\n"));
          if (b.caption) out.push(`*${md(b.caption)}*`);
          break;
        case "table": {
          const align = b.columns.map((_, j) =>
            b.rows.length && b.rows.every((r) => typeof r[j] === "number") ? "---:" : "---",
          );
          out.push(
            [
              row(b.columns.map(md)),
              row(align),
              ...b.rows.map((r) => row(r.map((v) => md(formatValue(v))))),
            ].join("\n"),
          );
          if (b.caption) out.push(`*${md(b.caption)}*`);
          break;
        }
        case "figure": {
          const file = `${dir}/${b.name}.${opts.png ? "png" : "svg"}`;
          out.push(`![${md(b.caption ?? b.name)}](${file})`);
          if (b.caption) out.push(`*${md(b.caption)}*`);
          break;
        }
      }
    }
    return out.join("\n\n") + "\n";
  }

  /** Write the HTML page to `path` (atomically). */
  saveHtml(path: string): void {
    writeFileAtomic(path, this.toHtml());
  }

  /**
   * Write the Markdown to `path` and each figure to `<dirname(path)>/<figureDir>/<name>.svg`
   * (plus `.png` with `png: true`), all atomically.
   */
  saveMarkdown(path: string, opts: MarkdownOptions = {}): void {
    const paths = nodeModule("Report.saveMarkdown", "node:path");
    const dir = paths.join(paths.dirname(path), opts.figureDir ?? "figures");
    for (const b of this.blocks) {
      if (b.kind !== "figure") continue;
      saveFigure(paths.join(dir, `${b.name}.svg`), b.svg);
      if (opts.png) saveFigure(paths.join(dir, `${b.name}.png`), b.svg, opts.pngOptions);
    }
    writeFileAtomic(path, this.toMarkdown(opts));
  }
}
