/**
 * The batch kernel shared by the DataLoader's main-thread path and its worker threads: given
 * which storage images make up a batch, build the float32 `[B, C, H, W]` pixels. It is a pure
 * function of (pixels, storage indices, transforms, seed, epoch, position), which is what makes
 * worker batches bit-identical to main-thread ones and a resumed run identical to an
 * uninterrupted one. Kept free of tensor imports so the worker loads little.
 * Internal to tg.data (not exported from the public entry).
 */
import { TsgradError } from "../tensor/errors.js";
import { Generator } from "../tensor/random.js";
import { type Image, type Transform, applyTransforms } from "./transforms.js";

/** The dataset pixels a batch is cut from: uint8 NCHW storage and the per-image shape. */
export interface PixelSource {
  pixels: Uint8Array;
  channels: number;
  height: number;
  width: number;
}

// murmur3's 32-bit mixing steps: a cheap hash with good avalanche, so nearby (epoch, position)
// pairs give unrelated generator seeds.
function mix(h: number, word: number): number {
  let k = Math.imul(word | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** A 32-bit hash of a list of non-negative integers below 2^53. */
export function hashSeed(...words: number[]): number {
  let h = 0x5eed5eed;
  for (const w of words) h = mix(mix(h, w >>> 0), Math.floor(w / 2 ** 32) >>> 0);
  h ^= words.length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// Domain tags keep the shuffle stream and the augmentation streams apart.
const SHUFFLE = 1;
const AUGMENT = 2;

/** The order of an epoch: a seeded permutation of 0..n-1 when shuffling, else the identity. */
export function epochOrder(n: number, shuffle: boolean, seed: number, epoch: number): Int32Array {
  if (shuffle) return new Generator(hashSeed(SHUFFLE, seed, epoch)).permutation(n);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

/** The generator for the sample at `position` of epoch `epoch`'s order. */
export function sampleGenerator(seed: number, epoch: number, position: number): Generator {
  return new Generator(hashSeed(AUGMENT, seed, epoch, position));
}

/**
 * Build the float32 pixels of one batch. `storage[b]` is the storage index of the batch's b-th
 * image and `position + b` its position in the epoch's order (which seeds its augmentation).
 * Returns the pixels and the per-image output shape; every image must come out the same shape.
 */
export function buildBatchPixels(
  src: PixelSource,
  storage: ArrayLike<number>,
  transforms: readonly Transform[],
  seed: number,
  epoch: number,
  position: number,
): { data: Float32Array; shape: [number, number, number] } {
  const { pixels, channels, height, width } = src;
  const size = channels * height * width;
  let out: Float32Array | null = null;
  let shape: [number, number, number] = [channels, height, width];
  let per = size;
  for (let b = 0; b < storage.length; b++) {
    const k = storage[b]!;
    const input: Image = {
      data: pixels.subarray(k * size, (k + 1) * size),
      channels,
      height,
      width,
    };
    const img =
      transforms.length === 0
        ? input
        : applyTransforms(input, transforms, sampleGenerator(seed, epoch, position + b));
    if (out === null) {
      shape = [img.channels, img.height, img.width];
      per = img.channels * img.height * img.width;
      out = new Float32Array(storage.length * per);
    } else if (img.channels !== shape[0] || img.height !== shape[1] || img.width !== shape[2]) {
      throw new TsgradError(
        "DataLoader",
        `transforms gave image ${position + b} of the epoch shape [${img.channels},${img.height},${img.width}], but earlier images [${shape.join(",")}]`,
      );
    }
    if (img.data.length !== per) {
      throw new TsgradError(
        "DataLoader",
        `a transform returned ${img.data.length} values for a [${shape.join(",")}] image`,
      );
    }
    const at = b * per;
    const d = img.data;
    // Still uint8 when the list had no toTensor: the loader's implicit conversion to [0, 1].
    if (d instanceof Uint8Array) for (let q = 0; q < per; q++) out[at + q] = d[q]! / 255;
    else out.set(d, at);
  }
  return { data: out ?? new Float32Array(0), shape };
}
