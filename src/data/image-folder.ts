/**
 * The folder-of-images layout of torchvision's `ImageFolder`: `root/<class>/<image>.png|jpg|jpeg`.
 * Classes are the subfolder names sorted by code point (Python's `sorted`), label `i` being the
 * i-th; files within a class are taken in the same sorted order. Images are decoded with pngjs
 * and jpeg-js (chosen by their magic bytes, not their extension) and converted to grey or RGB
 * the way Pillow's `convert("L")` / `convert("RGB")` do (alpha is dropped). Node only.
 */
import type * as JpegModule from "jpeg-js";
import type * as PngModule from "pngjs";
import type * as ZlibModule from "node:zlib";
import { TsgradError } from "../tensor/errors.js";
import { ImageDataset, sharedBytes } from "./dataset.js";
import { nodeModule, nodeRequire } from "../io/node.js";

/**
 * A decoded image: RGBA bytes, row-major (as both decoders return them, and as a browser canvas's
 * `getImageData()` holds them: `{ rgba: d.data, width: d.width, height: d.height }`).
 */
export interface DecodedImage {
  rgba: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

const EXTENSIONS = [".png", ".jpg", ".jpeg"];

/** How a browser gets a `DecodedImage` without the Node decoders. */
const CANVAS =
  "draw the image on a canvas and use its pixels: const d = ctx.getImageData(0, 0, w, h); " +
  "{ rgba: d.data, width: d.width, height: d.height }";

/**
 * The most pixels a decoded image may have: Pillow's `Image.MAX_IMAGE_PIXELS`, above which it
 * warns of a decompression bomb. A corrupt header can declare 4 billion pixels.
 */
const MAX_IMAGE_PIXELS = 89_478_485;

/** Adam7's passes: x and y of the first pixel, x and y steps. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/**
 * Check a PNG's declared size against the limit and its image data against that size before
 * decoding: pngjs allocates the declared image up front and silently leaves pixels its data does
 * not cover, so a 60-byte file whose header says 30000×30000 would take minutes and gigabytes and
 * then "succeed". The data is inflated (at most one byte past the declared size) to count it.
 */
function checkPng(bytes: Uint8Array, name: string, zlib: typeof ZlibModule): void {
  const fail = (message: string): never => {
    throw new TsgradError(name, `cannot decode PNG (corrupt file?): ${message}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 33 || view.getUint32(12) !== 0x49484452) fail("no IHDR chunk first");
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[bytes[25]!];
  if (width === 0 || height === 0) fail(`image of ${width}×${height} pixels`);
  if (width * height > MAX_IMAGE_PIXELS) {
    fail(`${width}×${height} pixels is more than the limit of ${MAX_IMAGE_PIXELS}`);
  }
  if (channels === undefined) return; // pngjs names the bad colour type
  const bpp = channels * bytes[24]!;
  let expected = 0;
  for (const [x0, y0, dx, dy] of bytes[28] === 1 ? ADAM7 : [[0, 0, 1, 1] as const]) {
    const w = Math.max(0, Math.ceil((width - x0) / dx));
    const h = Math.max(0, Math.ceil((height - y0) / dy));
    if (w > 0) expected += h * (1 + Math.ceil((w * bpp) / 8));
  }
  const parts: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    if (view.getUint32(at + 4) === 0x49444154) {
      parts.push(bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length)));
    }
    at += 12 + length;
  }
  let inflated: number;
  try {
    inflated = zlib.inflateSync(Buffer.concat(parts), {
      maxOutputLength: expected + 1,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    }).length;
  } catch (e) {
    if ((e as { code?: string }).code !== "ERR_BUFFER_TOO_LARGE") {
      return fail(`image data does not inflate: ${(e as Error).message}`);
    }
    inflated = expected + 1;
  }
  if (inflated !== expected) {
    fail(
      `a ${width}×${height} image needs ${expected} bytes of image data, its IDAT chunks hold ` +
        (inflated > expected ? "more" : String(inflated)),
    );
  }
}

/**
 * Check a JPEG's declared size before decoding, as `checkPng`: jpeg-js, too, allocates the
 * declared image and decodes missing data as blank. Every scan codes at least one bit per
 * minimum coded unit (a DC difference), so a file shorter than that many bits is truncated.
 */
function checkJpeg(bytes: Uint8Array, name: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 2; at + 4 <= bytes.length && bytes[at] === 0xff; ) {
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2; // markers without a segment
      continue;
    }
    const isSof = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (isSof && at + 10 <= bytes.length) {
      const height = view.getUint16(at + 5);
      const width = view.getUint16(at + 7);
      const components = bytes[at + 9]!;
      let hMax = 1;
      let vMax = 1;
      for (let c = 0; c < components && at + 12 + 3 * c <= bytes.length; c++) {
        const sampling = bytes[at + 11 + 3 * c]!;
        hMax = Math.max(hMax, sampling >> 4);
        vMax = Math.max(vMax, sampling & 15);
      }
      const fail = (message: string): never => {
        throw new TsgradError(name, `cannot decode JPEG (corrupt file?): ${message}`);
      };
      if (width * height > MAX_IMAGE_PIXELS) {
        fail(`${width}×${height} pixels is more than the limit of ${MAX_IMAGE_PIXELS}`);
      }
      const units = Math.ceil(width / (8 * hMax)) * Math.ceil(height / (8 * vMax));
      if (bytes.length < units / 8) {
        fail(
          `a ${width}×${height} image needs at least ${Math.ceil(units / 8)} bytes of coded data, the file has ${bytes.length}`,
        );
      }
      return;
    }
    at += 2 + view.getUint16(at + 2);
  }
}

/**
 * Decode PNG or JPEG bytes to RGBA. `name` (the file) is named in the error for anything that
 * is not a decodable PNG or JPEG. Node only: a browser decodes images itself (draw them on a
 * canvas and take `getImageData()`, see `DecodedImage`).
 *
 * @example
 * const { PNG } = process.getBuiltinModule("node:module").createRequire(`${process.cwd()}/`)("pngjs");
 * const png = new PNG({ width: 2, height: 1 });
 * png.data.set([255, 0, 0, 255, 0, 0, 255, 255]);
 * const img = tg.data.decodeImage(PNG.sync.write(png), "two-pixels.png");
 * console.log(img.width, img.height, Array.from(img.rgba.subarray(0, 4))); // 2 1 [255, 0, 0, 255]
 */
export function decodeImage(bytes: Uint8Array, name = "<image bytes>"): DecodedImage {
  const require = nodeRequire(name, CANVAS);
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (isPng) checkPng(bytes, name, nodeModule(name, "node:zlib", CANVAS));
  if (isJpeg) checkJpeg(bytes, name);
  try {
    if (isPng) {
      const { PNG } = require("pngjs") as typeof PngModule;
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { rgba: png.data, width: png.width, height: png.height };
    }
    if (isJpeg) {
      const jpeg = require("jpeg-js") as typeof JpegModule;
      const img = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
      });
      return { rgba: img.data, width: img.width, height: img.height };
    }
  } catch (e) {
    throw new TsgradError(
      name,
      `cannot decode ${isPng ? "PNG" : "JPEG"} (corrupt file?): ${(e as Error).message}`,
    );
  }
  throw new TsgradError(name, "is neither a PNG nor a JPEG (unrecognised magic bytes)");
}

/**
 * Write RGBA pixels into `out` as CHW: 1 channel = Pillow's ITU-R 601-2 luma
 * `(19595 R + 38470 G + 7471 B + 2^15) >> 16`, 3 channels = R, G, B.
 *
 * @example
 * const img = { rgba: new Uint8Array([255, 0, 0, 255]), width: 1, height: 1 };
 * console.log(Array.from(tg.data.toChw(img, 3)), Array.from(tg.data.toChw(img, 1))); // [255, 0, 0] [76]
 */
export function toChw(img: DecodedImage, channels: 1 | 3, out: Uint8Array = new Uint8Array(channels * img.width * img.height), at = 0): Uint8Array {
  const { rgba } = img;
  const plane = img.width * img.height;
  for (let p = 0; p < plane; p++) {
    const r = rgba[4 * p]!;
    const g = rgba[4 * p + 1]!;
    const b = rgba[4 * p + 2]!;
    if (channels === 1) {
      out[at + p] = (19595 * r + 38470 * g + 7471 * b + 0x8000) >>> 16;
    } else {
      out[at + p] = r;
      out[at + plane + p] = g;
      out[at + 2 * plane + p] = b;
    }
  }
  return out;
}

/** For each output pixel along one axis: the first input pixel it reads and the weights. */
function resampleWeights(inSize: number, outSize: number): { start: Int32Array; w: Float64Array[] } {
  const scale = inSize / outSize;
  // Triangle filter; when shrinking, its support widens to cover every input pixel (antialiasing).
  const support = Math.max(1, scale);
  const start = new Int32Array(outSize);
  const w: Float64Array[] = [];
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(inSize, Math.ceil(center + support));
    const row = new Float64Array(hi - lo);
    let total = 0;
    for (let j = lo; j < hi; j++) {
      const v = Math.max(0, 1 - Math.abs(j + 0.5 - center) / support);
      row[j - lo] = v;
      total += v;
    }
    for (let k = 0; k < row.length; k++) row[k]! /= total;
    start[i] = lo;
    w.push(row);
  }
  return { start, w };
}

/**
 * Resize RGBA pixels to `width` × `height` with a triangle (bilinear) filter that widens when
 * shrinking, so a large picture is averaged rather than sampled (Pillow's `BILINEAR`,
 * torchvision's `Resize` with antialiasing).
 *
 * @example
 * const img = { rgba: new Uint8Array([0, 0, 0, 255, 200, 200, 200, 255]), width: 2, height: 1 };
 * const out = tg.data.resizeImage(img, 1, 1);
 * console.log(out.width, Array.from(out.rgba)); // 1 [100, 100, 100, 255]
 */
export function resizeImage(img: DecodedImage, width: number, height: number): DecodedImage {
  for (const [what, v] of [
    ["width", width],
    ["height", height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new TsgradError("resizeImage", `${what} must be a positive integer, got ${v}`);
    }
  }
  if (img.width < 1 || img.height < 1 || img.rgba.length !== 4 * img.width * img.height) {
    throw new TsgradError(
      "resizeImage",
      `expected ${img.width}×${img.height} RGBA pixels (${4 * img.width * img.height} bytes), got ${img.rgba.length} bytes`,
    );
  }
  const cols = resampleWeights(img.width, width);
  const rows = resampleWeights(img.height, height);
  // Horizontal pass into floats, then vertical pass into bytes.
  const mid = new Float64Array(4 * width * img.height);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < width; x++) {
      const w = cols.w[x]!;
      const s0 = cols.start[x]!;
      for (let c = 0; c < 4; c++) {
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k]! * img.rgba[4 * (y * img.width + s0 + k) + c]!;
        mid[4 * (y * width + x) + c] = acc;
      }
    }
  }
  const rgba = new Uint8Array(4 * width * height);
  for (let y = 0; y < height; y++) {
    const w = rows.w[y]!;
    const s0 = rows.start[y]!;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k]! * mid[4 * ((s0 + k) * width + x) + c]!;
        rgba[4 * (y * width + x) + c] = Math.min(255, Math.max(0, Math.round(acc)));
      }
    }
  }
  return { rgba, width, height };
}

/**
 * The centred square of a picture (its shorter side), as torchvision's `CenterCrop` takes it.
 *
 * @example
 * const img = { rgba: new Uint8Array(4 * 3 * 1).map((_, i) => i), width: 3, height: 1 };
 * console.log(Array.from(tg.data.centerSquare(img).rgba)); // [4, 5, 6, 7]
 */
export function centerSquare(img: DecodedImage): DecodedImage {
  const side = Math.min(img.width, img.height);
  if (img.width === side && img.height === side) return img;
  const x0 = (img.width - side) >> 1;
  const y0 = (img.height - side) >> 1;
  const rgba = new Uint8Array(4 * side * side);
  for (let y = 0; y < side; y++) {
    const from = 4 * ((y0 + y) * img.width + x0);
    rgba.set(img.rgba.subarray(from, from + 4 * side), 4 * y * side);
  }
  return { rgba, width: side, height: side };
}

/** Options of `loadImageFolder`. */
export interface ImageFolderOptions {
  /** 1 = grey, 3 = RGB (default 3); images are converted as needed. */
  channels?: 1 | 3;
  /**
   * Required image size, `[height, width]` or one number for square images. Default: the size of
   * the first image. Images are not resized; any other size is an error naming the file.
   */
  size?: number | readonly [number, number];
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Load `root/<class>/*.{png,jpg,jpeg}` into an `ImageDataset` `[N, channels, H, W]`, every image
 * the same size. Node only.
 *
 * @example
 * const { PNG } = process.getBuiltinModule("node:module").createRequire(`${process.cwd()}/`)("pngjs");
 * const { mkdtempSync, mkdirSync, writeFileSync } = process.getBuiltinModule("node:fs");
 * const { tmpdir } = process.getBuiltinModule("node:os");
 * const root = mkdtempSync(`${tmpdir()}/tsgrad-doc-folder-`);
 * for (const [cls, grey] of [["dark", 10], ["light", 240]]) {
 *   mkdirSync(`${root}/${cls}`);
 *   const png = new PNG({ width: 4, height: 3 });
 *   png.data.fill(grey);
 *   writeFileSync(`${root}/${cls}/a.png`, PNG.sync.write(png));
 * }
 * const ds = tg.data.loadImageFolder(root, { channels: 1 });
 * console.log(ds.shape, ds.classes, ds.get(1).image[0]); // [2, 1, 3, 4] ["dark", "light"] 240
 */
export function loadImageFolder(root: string, options: ImageFolderOptions = {}): ImageDataset {
  const fs = nodeModule(root, "node:fs");
  const path = nodeModule(root, "node:path");
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3) {
    throw new TsgradError(root, `channels must be 1 (grey) or 3 (RGB), got ${String(channels)}`);
  }
  let entries: { name: string; isDirectory(): boolean }[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch (e) {
    throw new TsgradError(root, `cannot list the image folder: ${(e as Error).message}`);
  }
  const classes = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort(byCodePoint);
  if (classes.length === 0) {
    throw new TsgradError(root, "has no class subfolders (expected root/<class>/<image>.png|jpg)");
  }
  const files: { file: string; label: number }[] = [];
  for (const [label, cls] of classes.entries()) {
    const dir = path.join(root, cls);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch (e) {
      throw new TsgradError(dir, `cannot list the class folder: ${(e as Error).message}`);
    }
    const images = names
      .filter((f) => EXTENSIONS.includes(path.extname(f).toLowerCase()))
      .sort(byCodePoint);
    if (images.length === 0) {
      throw new TsgradError(dir, `class folder "${cls}" holds no .png, .jpg or .jpeg files`);
    }
    for (const f of images) files.push({ file: path.join(dir, f), label });
  }
  let size: [number, number] | null =
    options.size === undefined
      ? null
      : typeof options.size === "number"
        ? [options.size, options.size]
        : [options.size[0], options.size[1]];
  let sizeFrom = "the requested size";
  let pixels: Uint8Array | null = null;
  const labels = new Int32Array(files.length);
  for (const [i, { file, label }] of files.entries()) {
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      throw new TsgradError(file, `cannot read the image: ${(e as Error).message}`);
    }
    const img = decodeImage(bytes, file);
    if (size === null) {
      size = [img.height, img.width];
      sizeFrom = `the first image (${files[0]!.file})`;
    }
    if (img.height !== size[0] || img.width !== size[1]) {
      throw new TsgradError(
        file,
        `image is ${img.height}x${img.width} (HxW) but ${sizeFrom} is ${size[0]}x${size[1]}; resize the images to one size first`,
      );
    }
    const per = channels * size[0] * size[1];
    pixels ??= sharedBytes(files.length * per);
    toChw(img, channels, pixels, i * per);
    labels[i] = label;
  }
  return new ImageDataset({
    pixels: pixels!,
    labels,
    shape: [files.length, channels, size![0], size![1]],
    classes,
    source: root,
  });
}
