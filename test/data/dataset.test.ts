import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { syntheticDataset } from "./helpers.js";

describe("tg.data.ImageDataset", () => {
  it("returns CHW views of the pixels and the labels", () => {
    const ds = syntheticDataset(5, [2, 3, 4]);
    expect(ds.length).toBe(5);
    expect(ds.shape).toEqual([5, 2, 3, 4]);
    const { image, label } = ds.get(3);
    expect(image.length).toBe(24);
    expect(image[0]).toBe(21); // (3 * 7 + 0) % 256
    expect(image.buffer).toBe(ds.pixels.buffer);
    expect(label).toBe(0);
  });

  it("rejects labels out of range, naming the label and its index", () => {
    const make = (labels: number[]) =>
      new tg.data.ImageDataset({
        pixels: new Uint8Array(3),
        labels,
        shape: [3, 1, 1, 1],
        classes: ["a", "b"],
        source: "mine",
      });
    expect(() => make([0, 1, 2])).toThrow("mine: label 2 at index 2 is out of range [0, 2)");
    expect(() => make([0, -1, 1])).toThrow("label -1 at index 1 is out of range [0, 2)");
    expect(() => make([0, 0.5, 1])).toThrow("label 0.5 at index 1");
  });

  it("rejects pixel and label counts that do not match the shape", () => {
    const init = { labels: [0, 0], classes: ["a"] };
    expect(
      () => new tg.data.ImageDataset({ ...init, pixels: new Uint8Array(7), shape: [2, 1, 2, 2] }),
    ).toThrow("shape [2,1,2,2] needs 8 pixels, got 7");
    expect(
      () => new tg.data.ImageDataset({ ...init, pixels: new Uint8Array(12), shape: [3, 1, 2, 2] }),
    ).toThrow("3 images but 2 labels");
  });

  it("takes subsets of subsets without copying pixels", () => {
    const ds = syntheticDataset(10, [1, 2, 2]);
    const a = ds.subset([9, 7, 5, 3]);
    const b = a.subset([3, 0]);
    expect(b.length).toBe(2);
    expect(b.pixels).toBe(ds.pixels);
    expect(Array.from(b.get(0).image)).toEqual(Array.from(ds.get(3).image));
    expect(Array.from(b.get(1).image)).toEqual(Array.from(ds.get(9).image));
    expect([b.label(0), b.label(1)]).toEqual([ds.label(3), ds.label(9)]);
    expect(() => a.subset([4])).toThrow("index 4 out of range for 4 images");
    const { pixels, labels } = b.toArrays();
    expect(Array.from(pixels)).toEqual([...ds.get(3).image, ...ds.get(9).image]);
    expect(Array.from(labels)).toEqual([0, 0]);
  });

  it("counts images per class", () => {
    expect(syntheticDataset(7, [1, 1, 1], 3).classCounts()).toEqual([3, 2, 2]);
  });
});

describe("tg.data.randomSplit", () => {
  it("splits by counts into disjoint subsets covering the dataset", () => {
    const ds = syntheticDataset(20, [1, 1, 1]);
    const parts = tg.data.randomSplit(ds, [12, 5, 3], new tg.Generator(1));
    expect(parts.map((p) => p.length)).toEqual([12, 5, 3]);
    const all = parts.flatMap((p) => Array.from(p.indices!));
    expect(all.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("splits by fractions, dealing the remainder from the first split on (as PyTorch)", () => {
    const ds = syntheticDataset(10, [1, 1, 1]);
    const parts = tg.data.randomSplit(ds, [0.33, 0.33, 0.34], new tg.Generator(0));
    // floor gives 3, 3, 3; the one left over goes to the first split.
    expect(parts.map((p) => p.length)).toEqual([4, 3, 3]);
  });

  it("is a function of the generator's seed", () => {
    const ds = syntheticDataset(50, [1, 1, 1]);
    const ids = (seed: number) =>
      Array.from(tg.data.randomSplit(ds, [40, 10], new tg.Generator(seed))[1]!.indices!);
    expect(ids(3)).toEqual(ids(3));
    expect(ids(3)).not.toEqual(ids(4));
  });

  it("rejects sizes that are neither counts of the dataset nor fractions of 1", () => {
    const ds = syntheticDataset(10, [1, 1, 1]);
    expect(() => tg.data.randomSplit(ds, [5, 4])).toThrow(
      "randomSplit: sizes [5, 4] must be counts summing to the dataset length 10 or fractions summing to 1",
    );
    expect(() => tg.data.randomSplit(ds, [0.5, 0.6])).toThrow("fractions summing to 1");
    expect(() => tg.data.randomSplit(ds, [11, -1])).toThrow("sizes must be non-negative");
  });
});
