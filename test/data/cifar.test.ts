import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { tempDir } from "./helpers.js";

/** `labels.length` CIFAR-10 records; pixel p of record r is (r + p) % 256. */
function records(labels: number[], labelBytes = 1): Uint8Array {
  const rec = labelBytes + 3072;
  const out = new Uint8Array(labels.length * rec);
  labels.forEach((y, r) => {
    out[r * rec + labelBytes - 1] = y;
    for (let p = 0; p < 3072; p++) out[r * rec + labelBytes + p] = (r + p) % 256;
  });
  return out;
}

describe("tg.data.parseCifar", () => {
  it("splits records into labels and CHW pixels", () => {
    const { pixels, labels, shape } = tg.data.parseCifar(records([3, 9, 0]));
    expect(shape).toEqual([3, 3, 32, 32]);
    expect(Array.from(labels)).toEqual([3, 9, 0]);
    // Record 1, channel 2 (blue), row 0, column 5 is byte 2048 + 5 of its image.
    expect(pixels[3072 + 2048 + 5]).toBe((1 + 2053) % 256);
  });

  it("reads the fine label of two-label-byte (CIFAR-100 style) records", () => {
    const bytes = records([42, 99], 2);
    bytes[0] = 7; // coarse label of record 0, ignored by default
    const { labels } = tg.data.parseCifar(bytes, { labelBytes: 2, numClasses: 100 });
    expect(Array.from(labels)).toEqual([42, 99]);
    const coarse = tg.data.parseCifar(bytes, { labelBytes: 2, labelIndex: 0, numClasses: 100 });
    expect(Array.from(coarse.labels)).toEqual([7, 0]);
  });

  it("rejects a length that is not whole records, and out-of-range labels", () => {
    expect(() => tg.data.parseCifar(new Uint8Array(3000), {}, "b.bin")).toThrow(
      "b.bin: expected a non-zero multiple of 3073-byte records (1 label + 3072 pixels), got 3000 bytes (0.98 records)",
    );
    expect(() => tg.data.parseCifar(records([1, 2, 10]), {}, "b.bin")).toThrow(
      "b.bin: label 10 in record 2 is out of range [0, 10)",
    );
  });
});

describe("tg.data.readCifarFiles", () => {
  it("concatenates batches in the order given, raw or gzip", () => {
    const dir = tempDir("cifar");
    writeFileSync(join(dir, "a.bin"), records([1, 2]));
    writeFileSync(join(dir, "b.bin.gz"), gzipSync(records([5])));
    const ds = tg.data.readCifarFiles([join(dir, "a.bin"), join(dir, "b.bin.gz")], tg.data.CIFAR10_CLASSES);
    expect(ds.shape).toEqual([3, 3, 32, 32]);
    expect([0, 1, 2].map((i) => ds.label(i))).toEqual([1, 2, 5]);
    expect(ds.get(2).image[10]).toBe(10); // record 0 of b.bin
  });
});

describe("tg.data.loadCifar10", () => {
  it("loads the binary release layout, taking class names from batches.meta.txt", () => {
    const root = tempDir("cifar10");
    const dir = join(root, "cifar-10-batches-bin");
    const { mkdirSync } = process.getBuiltinModule("node:fs");
    mkdirSync(dir);
    for (const [i, f] of [...tg.data.CIFAR10_FILES.train, ...tg.data.CIFAR10_FILES.test].entries()) {
      writeFileSync(join(dir, f), records([i, i]));
    }
    writeFileSync(join(dir, "batches.meta.txt"), tg.data.CIFAR10_CLASSES.map((c) => c.toUpperCase()).join("\n") + "\n\n");
    const train = tg.data.loadCifar10({ data: root });
    const test = tg.data.loadCifar10({ data: root, train: false });
    expect(train.length).toBe(10);
    expect(train.classCounts()).toEqual([2, 2, 2, 2, 2, 0, 0, 0, 0, 0]);
    expect(test.shape).toEqual([2, 3, 32, 32]);
    expect(test.classes[test.label(0)]).toBe("DOG");
  });

  it("names batches.meta.txt when it lists no class names or cannot be read", () => {
    const root = tempDir("cifar10-meta");
    const dir = join(root, "cifar-10-batches-bin");
    const { mkdirSync } = process.getBuiltinModule("node:fs");
    mkdirSync(dir);
    for (const f of [...tg.data.CIFAR10_FILES.train, ...tg.data.CIFAR10_FILES.test]) {
      writeFileSync(join(dir, f), records([1]));
    }
    const meta = join(dir, "batches.meta.txt");
    writeFileSync(meta, "\n \n");
    expect(() => tg.data.loadCifar10({ data: root })).toThrow(
      `${meta}: lists 0 class names, expected 1 to 256`,
    );
    rmSync(meta);
    mkdirSync(meta);
    expect(() => tg.data.loadCifar10({ data: root })).toThrow(
      new RegExp(`^${meta}: cannot read the class names: EISDIR`),
    );
  });
});
