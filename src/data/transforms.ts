/**
 * Image transforms, declared as data (`{ kind: "randomCrop", size: 28, padding: 2 }`) so a list
 * of them can be posted to a worker thread and replayed there bit for bit. Each transform maps a
 * CHW image to a CHW image; random ones draw from the per-sample generator the DataLoader
 * derives from (seed, epoch, position), so augmentation is reproducible.
 *
 * The semantics follow torchvision: `toTensor` scales uint8 to float32 in [0, 1];
 * `normalize` computes `(x - mean[c]) / std[c]`; `randomCrop` zero-pads then crops a uniformly
 * placed window; `randomHorizontalFlip` mirrors the columns with probability `p`.
 */
import { TsgradError } from "../tensor/errors.js";
import type { Generator } from "../tensor/random.js";

/** A CHW image: uint8 pixels before `toTensor`, float32 after. */
export interface Image {
  data: Uint8Array | Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** uint8 → float32 in [0, 1]. */
export interface ToTensorSpec {
  kind: "toTensor";
}
/** Per-channel `(x - mean) / std` on float images (one value applies to every channel). */
export interface NormalizeSpec {
  kind: "normalize";
  mean: readonly number[];
  std: readonly number[];
}
/**
 * Pad with zeros, then crop `size` at a uniformly random position. `padding` is one number for
 * all sides, `[leftRight, topBottom]`, or `[left, top, right, bottom]` (torchvision's order).
 */
export interface RandomCropSpec {
  kind: "randomCrop";
  size: number | readonly [number, number];
  padding?: number | readonly [number, number] | readonly [number, number, number, number];
}
/** Mirror left-right with probability `p` (default 0.5). */
export interface RandomHorizontalFlipSpec {
  kind: "randomHorizontalFlip";
  p?: number;
}

/** A built-in transform, as plain data (structured-cloneable, so it can run in a worker). */
export type TransformSpec = ToTensorSpec | NormalizeSpec | RandomCropSpec | RandomHorizontalFlipSpec;

/**
 * A user transform. Functions cannot be sent to a worker thread, so a loader whose transforms
 * include one builds its batches on the main thread.
 */
export type TransformFn = (image: Image, generator: Generator) => Image;

export type Transform = TransformSpec | TransformFn;

/**
 * The `toTensor` transform.
 *
 * @example
 * console.log(tg.data.toTensor()); // { kind: "toTensor" }
 */
export function toTensor(): ToTensorSpec {
  return { kind: "toTensor" };
}

/**
 * The `normalize` transform.
 *
 * @example
 * const img = { data: new Float32Array([0.5, 1]), channels: 1, height: 1, width: 2 };
 * const out = tg.data.applyTransforms(img, [tg.data.normalize([0.5], [0.25])], new tg.Generator(0));
 * console.log(Array.from(out.data)); // [0, 2]
 */
export function normalize(mean: readonly number[], std: readonly number[]): NormalizeSpec {
  return { kind: "normalize", mean: [...mean], std: [...std] };
}

/**
 * The `randomCrop` transform.
 *
 * @example
 * console.log(tg.data.randomCrop(28, 2)); // { kind: "randomCrop", size: 28, padding: 2 }
 */
export function randomCrop(
  size: RandomCropSpec["size"],
  padding: NonNullable<RandomCropSpec["padding"]> = 0,
): RandomCropSpec {
  return { kind: "randomCrop", size, padding };
}

/**
 * The `randomHorizontalFlip` transform.
 *
 * @example
 * const img = { data: new Uint8Array([1, 2, 3]), channels: 1, height: 1, width: 3 };
 * const out = tg.data.applyTransforms(img, [tg.data.randomHorizontalFlip(1)], new tg.Generator(0));
 * console.log(Array.from(out.data)); // [3, 2, 1]
 */
export function randomHorizontalFlip(p = 0.5): RandomHorizontalFlipSpec {
  return { kind: "randomHorizontalFlip", p };
}

function cropSize(spec: RandomCropSpec): [number, number] {
  return typeof spec.size === "number" ? [spec.size, spec.size] : [spec.size[0], spec.size[1]];
}

/** [left, top, right, bottom]. */
function cropPadding(spec: RandomCropSpec): [number, number, number, number] {
  const p = spec.padding ?? 0;
  if (typeof p === "number") return [p, p, p, p];
  if (p.length === 2) return [p[0], p[1], p[0], p[1]];
  return [p[0], p[1], p[2], p[3]];
}

const isInt = (v: unknown, min: number): boolean =>
  typeof v === "number" && Number.isInteger(v) && v >= min;

/**
 * Check a transform list against an input image shape `[C, H, W]` and return the output shape.
 * Everything a transform could reject is rejected here, once, before any batch is built.
 * A list without `toTensor` is fine: the DataLoader converts to float at the end.
 *
 * @example
 * const t = [tg.data.randomCrop(24, 0), tg.data.toTensor(), tg.data.normalize([0.5], [0.5])];
 * console.log(tg.data.transformedShape(t, [1, 28, 28])); // [1, 24, 24]
 */
export function transformedShape(
  transforms: readonly Transform[],
  shape: readonly [number, number, number],
): [number, number, number] | null {
  const c = shape[0];
  let [, h, w] = shape;
  let float = false;
  for (const [i, t] of transforms.entries()) {
    const where = `transforms[${i}]`;
    if (typeof t === "function") return null; // unknown until it runs
    if (t === null || typeof t !== "object") {
      throw new TsgradError(where, `expected a transform object or function, got ${String(t)}`);
    }
    switch (t.kind) {
      case "toTensor":
        if (float) throw new TsgradError(where, "toTensor on an image that is already float");
        float = true;
        break;
      case "normalize": {
        if (!float) {
          throw new TsgradError(where, "normalize needs a float image: put toTensor before it");
        }
        const { mean, std } = t;
        for (const [what, v] of [
          ["mean", mean],
          ["std", std],
        ] as const) {
          if (!Array.isArray(v) || (v.length !== 1 && v.length !== c)) {
            throw new TsgradError(
              where,
              `normalize ${what} needs 1 or ${c} values for a ${c}-channel image, got ${JSON.stringify(v)}`,
            );
          }
        }
        if (std.some((s) => !(s > 0)) || mean.some((m) => !Number.isFinite(m))) {
          throw new TsgradError(
            where,
            `normalize needs finite means and positive stds, got mean ${JSON.stringify(mean)} std ${JSON.stringify(std)}`,
          );
        }
        break;
      }
      case "randomCrop": {
        const [th, tw] = cropSize(t);
        const pad = cropPadding(t);
        if (!isInt(th, 1) || !isInt(tw, 1) || !pad.every((p) => isInt(p, 0))) {
          throw new TsgradError(
            where,
            `randomCrop needs a positive integer size and non-negative integer padding, got size ${JSON.stringify(t.size)} padding ${JSON.stringify(t.padding)}`,
          );
        }
        const ph = h + pad[1] + pad[3];
        const pw = w + pad[0] + pad[2];
        if (th > ph || tw > pw) {
          throw new TsgradError(
            where,
            `randomCrop size [${th},${tw}] is larger than the padded image [${ph},${pw}]`,
          );
        }
        h = th;
        w = tw;
        break;
      }
      case "randomHorizontalFlip": {
        const p = t.p ?? 0.5;
        if (!(p >= 0 && p <= 1)) {
          throw new TsgradError(where, `randomHorizontalFlip p must be in [0, 1], got ${p}`);
        }
        break;
      }
      default:
        throw new TsgradError(
          where,
          `unknown transform kind ${JSON.stringify((t as { kind: unknown }).kind)}`,
        );
    }
  }
  return [c, h, w];
}

function like(data: Uint8Array | Float32Array, n: number): Uint8Array | Float32Array {
  return data instanceof Float32Array ? new Float32Array(n) : new Uint8Array(n);
}

function crop(img: Image, spec: RandomCropSpec, g: Generator): Image {
  const [th, tw] = cropSize(spec);
  const [left, top, right, bottom] = cropPadding(spec);
  const { channels: c, height: h, width: w, data } = img;
  // Window origin in padded coordinates, drawn as torchvision does: top first, then left.
  const i = g.int(0, h + top + bottom - th + 1);
  const j = g.int(0, w + left + right - tw + 1);
  const out = like(data, c * th * tw);
  // Padded row i+r is source row i+r-top; copy the part of each output row that is inside
  // the source image, the rest stays zero (the padding).
  const c0 = Math.max(0, left - j);
  const c1 = Math.min(tw, left + w - j);
  for (let ch = 0; ch < c; ch++) {
    for (let r = 0; r < th; r++) {
      const sr = i + r - top;
      if (sr < 0 || sr >= h || c1 <= c0) continue;
      const src = ch * h * w + sr * w + (j - left);
      out.set(data.subarray(src + c0, src + c1), ch * th * tw + r * tw + c0);
    }
  }
  return { data: out, channels: c, height: th, width: tw };
}

function flip(img: Image, spec: RandomHorizontalFlipSpec, g: Generator): Image {
  // Always draw, so the stream position after this transform does not depend on the outcome.
  if (!(g.uniform() < (spec.p ?? 0.5))) return img;
  const { channels: c, height: h, width: w, data } = img;
  const out = like(data, data.length);
  for (let row = 0; row < c * h; row++) {
    const base = row * w;
    for (let x = 0; x < w; x++) out[base + x] = data[base + w - 1 - x]!;
  }
  return { ...img, data: out };
}

function toFloat(img: Image): Image {
  const out = new Float32Array(img.data.length);
  const src = img.data;
  for (let k = 0; k < src.length; k++) out[k] = src[k]! / 255;
  return { ...img, data: out };
}

function norm(img: Image, spec: NormalizeSpec): Image {
  const { channels: c, height: h, width: w, data } = img;
  const out = new Float32Array(data.length);
  const plane = h * w;
  for (let ch = 0; ch < c; ch++) {
    const m = spec.mean.length === 1 ? spec.mean[0]! : spec.mean[ch]!;
    const s = spec.std.length === 1 ? spec.std[0]! : spec.std[ch]!;
    for (let k = ch * plane; k < (ch + 1) * plane; k++) out[k] = (data[k]! - m) / s;
  }
  return { ...img, data: out };
}

/**
 * Run `transforms` on one image, drawing randomness from `generator`. Inputs are never
 * modified. Validate the list with `transformedShape` first (the DataLoader does).
 *
 * @example
 * const img = { data: new Uint8Array([10, 20, 30, 40]), channels: 1, height: 2, width: 2 };
 * const out = tg.data.applyTransforms(img, [tg.data.randomCrop(2, 1)], new tg.Generator(3));
 * console.log(out.height, out.width, out.data.length); // 2 2 4
 */
export function applyTransforms(
  image: Image,
  transforms: readonly Transform[],
  generator: Generator,
): Image {
  let img = image;
  for (const t of transforms) {
    if (typeof t === "function") {
      img = t(img, generator);
      continue;
    }
    switch (t.kind) {
      case "toTensor":
        img = toFloat(img);
        break;
      case "normalize":
        img = norm(img, t);
        break;
      case "randomCrop":
        img = crop(img, t, generator);
        break;
      case "randomHorizontalFlip":
        img = flip(img, t, generator);
        break;
    }
  }
  return img;
}
