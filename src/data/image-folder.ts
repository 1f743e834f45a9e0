/**
 * The folder-of-images layout of torchvision's `ImageFolder`: `root/<class>/<image>.png|jpg|jpeg`.
 * Classes are the subfolder names sorted by code point (Python's `sorted`), label `i` being the
 * i-th; files within a class are taken in the same sorted order. Images are decoded with pngjs
 * and jpeg-js (chosen by their magic bytes, not their extension) and converted to grey or RGB
 * the way Pillow's `convert("L")` / `convert("RGB")` do (alpha is dropped). Node only.
 */
import type * as JpegModule from "jpeg-js";
import type * as PngModule from "pngjs";
import { TsgradError } from "../tensor/errors.js";
import { ImageDataset, sharedBytes } from "./dataset.js";
import { nodeFs, nodePath, nodeRequire } from "./node.js";

/** A decoded image: RGBA bytes, row-major (as both decoders return them). */
export interface DecodedImage {
  rgba: Uint8Array;
  width: number;
  height: number;
}

const EXTENSIONS = [".png", ".jpg", ".jpeg"];

/**
 * Decode PNG or JPEG bytes to RGBA. `name` (the file) is named in the error for anything that
 * is not a decodable PNG or JPEG. Node only.
 *
 * @example
 * const { PNG } = process.getBuiltinModule("node:module").createRequire(`${process.cwd()}/`)("pngjs");
 * const png = new PNG({ width: 2, height: 1 });
 * png.data.set([255, 0, 0, 255, 0, 0, 255, 255]);
 * const img = tg.data.decodeImage(PNG.sync.write(png), "two-pixels.png");
 * console.log(img.width, img.height, Array.from(img.rgba.subarray(0, 4))); // 2 1 [255, 0, 0, 255]
 */
export function decodeImage(bytes: Uint8Array, name = "<image bytes>"): DecodedImage {
  const require = nodeRequire(name);
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  try {
    if (isPng) {
      const { PNG } = require("pngjs") as typeof PngModule;
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { rgba: png.data, width: png.width, height: png.height };
    }
    if (isJpeg) {
      const jpeg = require("jpeg-js") as typeof JpegModule;
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
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
  const fs = nodeFs(root);
  const path = nodePath(root);
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
    const images = fs
      .readdirSync(dir)
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
    const img = decodeImage(fs.readFileSync(file), file);
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
