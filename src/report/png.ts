/**
 * PNG rendering of the SVG charts through `@resvg/resvg-js` (a native module, loaded on first use
 * so that importing tsgrad in a browser does not try to load it), and figure files on disk.
 */
import type * as resvg from "@resvg/resvg-js";
import { TsgradError } from "../tensor/errors.js";
import { writeFileAtomic } from "../io/atomic.js";
import { errorMessage, nodeModule } from "../io/node.js";
import { FONT_FAMILY } from "./svg.js";

/** Options of `svgToPng`. */
export interface PngOptions {
  /** Output width in pixels (height follows the aspect ratio); default the SVG's own width. */
  width?: number;
  /** Background colour; default white. */
  background?: string;
  /**
   * Load the system's fonts (default true). Without fonts — or on a machine that has none — the
   * PNG is still produced, just without text.
   */
  systemFonts?: boolean;
  /** Extra font files (.ttf/.otf) to use, e.g. for a machine without system fonts. */
  fontFiles?: string[];
}

let resvgModule: typeof resvg | undefined;

function loadResvg(): typeof resvg {
  if (resvgModule === undefined) {
    const { createRequire } = nodeModule("svgToPng", "node:module");
    try {
      resvgModule = createRequire(import.meta.url)("@resvg/resvg-js") as typeof resvg;
    } catch (e) {
      throw new TsgradError("svgToPng", `cannot load @resvg/resvg-js (${errorMessage(e)})`);
    }
  }
  return resvgModule;
}

/**
 * Render an SVG string to PNG bytes.
 *
 * @example
 * const svg = tg.report.lineChart({ series: [{ name: "a", y: [1, 3, 2] }], width: 320, height: 200 });
 * const png = tg.report.svgToPng(svg, { width: 640 });
 * const view = new DataView(png.buffer, png.byteOffset);
 * console.log(png[1], png[2], png[3], view.getUint32(16), view.getUint32(20)); // 80 78 71 640 400
 */
export function svgToPng(svg: string, opts: PngOptions = {}): Uint8Array {
  const { Resvg } = loadResvg();
  if (
    opts.width !== undefined &&
    !(Number.isInteger(opts.width) && opts.width > 0 && opts.width <= 16384)
  ) {
    throw new TsgradError("svgToPng", `width must be an integer in 1..16384, got ${opts.width}`);
  }
  try {
    const r = new Resvg(svg, {
      fitTo: opts.width === undefined ? { mode: "original" } : { mode: "width", value: opts.width },
      background: opts.background ?? "white",
      font: {
        loadSystemFonts: opts.systemFonts ?? true,
        fontFiles: opts.fontFiles ?? [],
        defaultFontFamily: FONT_FAMILY.split(",")[0],
      },
      logLevel: "off",
    });
    const png = r.render().asPng();
    return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
  } catch (e) {
    throw new TsgradError("svgToPng", `could not render the SVG (${errorMessage(e)})`);
  }
}

/**
 * Write a chart to `path`, atomically: `.svg` as is, `.png` rendered with `svgToPng`.
 *
 * @example
 * const { mkdtempSync, statSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * const svg = tg.report.lineChart({ series: [{ name: "a", y: [1, 2] }] });
 * tg.report.saveFigure(dir + "/loss.svg", svg);
 * tg.report.saveFigure(dir + "/loss.png", svg);
 * console.log(statSync(dir + "/loss.png").size > 1000); // true
 */
export function saveFigure(path: string, svg: string, opts: PngOptions = {}): void {
  const ext = path.slice(path.lastIndexOf(".")).toLowerCase();
  if (ext === ".svg") writeFileAtomic(path, svg);
  else if (ext === ".png") writeFileAtomic(path, svgToPng(svg, opts));
  else throw new TsgradError("saveFigure", `${path}: the extension must be .svg or .png`);
}
