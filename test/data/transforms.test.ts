import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

/** A 1-channel h×w uint8 image with values 1..h*w (so 0 only ever comes from padding). */
function counting(h: number, w: number, channels = 1): tg.data.Image {
  const data = Uint8Array.from({ length: channels * h * w }, (_, i) => i + 1);
  return { data, channels, height: h, width: w };
}

/** Reference zero padding (left, top, right, bottom) as nested rows per channel. */
function padded(img: tg.data.Image, [l, t, r, b]: [number, number, number, number]): number[][][] {
  const out: number[][][] = [];
  for (let c = 0; c < img.channels; c++) {
    const rows: number[][] = [];
    for (let y = -t; y < img.height + b; y++) {
      const row: number[] = [];
      for (let x = -l; x < img.width + r; x++) {
        const inside = y >= 0 && y < img.height && x >= 0 && x < img.width;
        row.push(inside ? img.data[c * img.height * img.width + y * img.width + x]! : 0);
      }
      rows.push(row);
    }
    out.push(rows);
  }
  return out;
}

/** All (top, left) where `out` equals a th×tw window of the padded image. */
function windowsMatching(out: tg.data.Image, pad: number[][][]): string[] {
  const hits: string[] = [];
  for (let i = 0; i + out.height <= pad[0]!.length; i++) {
    for (let j = 0; j + out.width <= pad[0]![0]!.length; j++) {
      let ok = true;
      for (let c = 0; c < out.channels && ok; c++)
        {for (let y = 0; y < out.height && ok; y++)
          {for (let x = 0; x < out.width && ok; x++)
            {ok = out.data[(c * out.height + y) * out.width + x] === pad[c]![i + y]![j + x];}}}
      if (ok) hits.push(`${i},${j}`);
    }
  }
  return hits;
}

describe("tg.data.randomCrop", () => {
  it("cuts a window of the zero-padded image, reaching every position across seeds", () => {
    const img = counting(4, 5, 2);
    const pad = padded(img, [2, 2, 2, 2]);
    const seen = new Set<string>();
    for (let seed = 0; seed < 400; seed++) {
      const out = tg.data.applyTransforms(img, [tg.data.randomCrop(4, 2)], new tg.Generator(seed));
      expect([out.channels, out.height, out.width]).toEqual([2, 4, 4]);
      const hits = windowsMatching(out, pad);
      expect(hits.length).toBeGreaterThan(0);
      hits.forEach((h) => seen.add(h));
    }
    // Padded 8×9, window 4×4: 5 × 6 = 30 origins.
    expect(seen.size).toBe(30);
  });

  it("honours asymmetric [left, top, right, bottom] padding and rectangular sizes", () => {
    const img = counting(3, 3);
    const pad = padded(img, [0, 3, 1, 0]);
    const seen = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const t = tg.data.randomCrop([5, 2], [0, 3, 1, 0]);
      const out = tg.data.applyTransforms(img, [t], new tg.Generator(seed));
      expect([out.height, out.width]).toEqual([5, 2]);
      windowsMatching(out, pad).forEach((h) => seen.add(h));
    }
    // Padded 6×4, window 5×2: 2 × 3 origins.
    expect([...seen].sort()).toEqual(["0,0", "0,1", "0,2", "1,0", "1,1", "1,2"]);
  });

  it("is the identity when the size equals the image and there is no padding", () => {
    const img = counting(3, 4);
    const out = tg.data.applyTransforms(img, [tg.data.randomCrop([3, 4])], new tg.Generator(5));
    expect(Array.from(out.data)).toEqual(Array.from(img.data));
  });

  it("works on float images and leaves the input untouched", () => {
    const img = { data: new Float32Array([0.5, 0.25, 1, 2]), channels: 1, height: 2, width: 2 };
    const out = tg.data.applyTransforms(img, [tg.data.randomCrop(2, 1)], new tg.Generator(0));
    expect(out.data).toBeInstanceOf(Float32Array);
    expect(Array.from(img.data)).toEqual([0.5, 0.25, 1, 2]);
  });
});

describe("tg.data.randomHorizontalFlip", () => {
  it("mirrors every row of every channel when it fires", () => {
    const img = counting(2, 3, 2);
    const out = tg.data.applyTransforms(img, [tg.data.randomHorizontalFlip(1)], new tg.Generator(0));
    expect(Array.from(out.data)).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10]);
    const never = tg.data.applyTransforms(img, [tg.data.randomHorizontalFlip(0)], new tg.Generator(0));
    expect(Array.from(never.data)).toEqual(Array.from(img.data));
  });

  it("fires with probability p", () => {
    const img = counting(1, 2);
    let flips = 0;
    for (let seed = 0; seed < 2000; seed++) {
      const out = tg.data.applyTransforms(img, [tg.data.randomHorizontalFlip(0.3)], new tg.Generator(seed));
      if (out.data[0] === 2) flips++;
    }
    // Binomial(2000, 0.3): mean 600, sd 20.5.
    expect(Math.abs(flips - 600)).toBeLessThan(80);
  });
});

describe("tg.data.toTensor", () => {
  it("scales uint8 to float32 in [0, 1]", () => {
    const img = { data: new Uint8Array([0, 51, 255]), channels: 1, height: 1, width: 3 };
    const out = tg.data.applyTransforms(img, [tg.data.toTensor()], new tg.Generator(0));
    expect(out.data).toBeInstanceOf(Float32Array);
    expect(Array.from(out.data)).toEqual([0, Math.fround(0.2), 1]);
  });
});

describe("tg.data.normalize", () => {
  it("applies per-channel (x - mean) / std", () => {
    const img = { data: new Float32Array([1, 2, 3, 4]), channels: 2, height: 1, width: 2 };
    const out = tg.data.applyTransforms(img, [tg.data.normalize([1, 2], [0.5, 4])], new tg.Generator(0));
    expect(Array.from(out.data)).toEqual([0, 2, 0.25, 0.5]);
  });
});

describe("tg.data.transformedShape", () => {
  it("follows crops through the list", () => {
    const t = [tg.data.randomCrop([20, 24], 2), tg.data.randomHorizontalFlip(), tg.data.toTensor()];
    expect(tg.data.transformedShape(t, [3, 32, 32])).toEqual([3, 20, 24]);
    expect(tg.data.transformedShape([(x: tg.data.Image) => x], [1, 2, 2])).toBeNull();
  });

  it("rejects every malformed transform before any image is touched", () => {
    const s = (t: tg.data.Transform[], shape: [number, number, number] = [3, 8, 8]) => () =>
      tg.data.transformedShape(t, shape);
    expect(s([tg.data.normalize([0.5], [0.5])])).toThrow(
      "transforms[0]: normalize needs a float image: put toTensor before it",
    );
    expect(s([tg.data.toTensor(), tg.data.normalize([0, 0], [1, 1])])).toThrow(
      "transforms[1]: normalize mean needs 1 or 3 values for a 3-channel image, got [0,0]",
    );
    expect(s([tg.data.toTensor(), tg.data.normalize([0], [0])])).toThrow("positive stds");
    expect(s([tg.data.toTensor(), tg.data.toTensor()])).toThrow("already float");
    expect(s([tg.data.randomCrop(13, 2)])).toThrow(
      "transforms[0]: randomCrop size [13,13] is larger than the padded image [12,12]",
    );
    expect(s([tg.data.randomCrop(4, -1)])).toThrow("non-negative integer padding");
    expect(s([tg.data.randomHorizontalFlip(1.5)])).toThrow("p must be in [0, 1], got 1.5");
    expect(s([{ kind: "resize" } as unknown as tg.data.TransformSpec])).toThrow(
      'unknown transform kind "resize"',
    );
  });
});
