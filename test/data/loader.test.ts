import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { syntheticDataset } from "./helpers.js";

type Batch = tg.data.Batch;

/** A batch as plain data, with x as its exact float32 bit patterns. */
function snapshot(b: Batch): { x: number[]; y: number[]; shape: readonly number[]; index: number } {
  const x = b.x.data as Float32Array;
  return {
    x: Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length)),
    y: Array.from(b.y.data),
    shape: b.x.shape,
    index: b.index,
  };
}

async function collect(stream: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of stream) out.push(b);
  return out;
}

const AUGMENT: tg.data.TransformSpec[] = [
  tg.data.randomCrop(6, 2),
  tg.data.randomHorizontalFlip(),
  tg.data.toTensor(),
  tg.data.normalize([0.5, 0.4], [0.2, 0.3]),
];

describe("tg.data.DataLoader", () => {
  it("collates batches in dataset order: x float32 [B, C, H, W] in [0, 1], y int32 [B]", () => {
    const ds = syntheticDataset(10, [2, 3, 3]);
    const loader = new tg.data.DataLoader(ds, { batchSize: 4 });
    expect(loader.length).toBe(3);
    const batches = [...loader];
    expect(batches.map((b) => b.x.shape)).toEqual([
      [4, 2, 3, 3],
      [4, 2, 3, 3],
      [2, 2, 3, 3],
    ]);
    expect(batches[0]!.x.dtype).toBe("float32");
    expect(batches[0]!.y.dtype).toBe("int32");
    const b = batches[1]!;
    expect(Array.from(b.indices)).toEqual([4, 5, 6, 7]);
    expect(Array.from(b.y.data)).toEqual([1, 2, 0, 1]);
    const image5 = Array.from(ds.get(5).image, (v) => Math.fround(v / 255));
    expect(Array.from(b.x.data.subarray(18, 36))).toEqual(image5);
  });

  it("drops the short last batch with dropLast", () => {
    const ds = syntheticDataset(10, [1, 2, 2]);
    const loader = new tg.data.DataLoader(ds, { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect([...loader].map((b) => b.x.shape[0])).toEqual([4, 4]);
    expect(new tg.data.DataLoader(ds, { batchSize: 5, dropLast: true }).length).toBe(2);
    expect(new tg.data.DataLoader(ds, { batchSize: 11, dropLast: true }).length).toBe(0);
  });

  it("shuffles each epoch into a different permutation, fixed by (seed, epoch)", () => {
    const ds = syntheticDataset(30, [1, 1, 1]);
    const a = new tg.data.DataLoader(ds, { batchSize: 7, shuffle: true, seed: 11 });
    const b = new tg.data.DataLoader(ds, { batchSize: 7, shuffle: true, seed: 11 });
    const epoch0 = [...a].flatMap((x) => Array.from(x.indices));
    const epoch1 = [...a].flatMap((x) => Array.from(x.indices));
    expect([...epoch0].sort((p, q) => p - q)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(epoch1).not.toEqual(epoch0);
    expect(a.epoch).toBe(2);
    // Another loader with the same seed, asked for epoch 1 directly, agrees.
    expect(Array.from(b.order(1))).toEqual(epoch1);
    const other = new tg.data.DataLoader(ds, { shuffle: true, seed: 12 });
    expect(Array.from(other.order(0))).not.toEqual(epoch0);
  });

  it("takes its default seed from the default generator, so tg.manualSeed fixes it", () => {
    const ds = syntheticDataset(20, [1, 1, 1]);
    tg.manualSeed(5);
    const a = new tg.data.DataLoader(ds, { shuffle: true });
    tg.manualSeed(5);
    const b = new tg.data.DataLoader(ds, { shuffle: true });
    expect(a.seed).toBe(b.seed);
    expect(Array.from(a.order(0))).toEqual(Array.from(b.order(0)));
  });

  it("gives every sample its own augmentation, identical across loaders with one seed", () => {
    const ds = syntheticDataset(12, [2, 6, 6]);
    const opts = { batchSize: 5, shuffle: true, seed: 3, transforms: AUGMENT };
    const a = [...new tg.data.DataLoader(ds, opts).batches(4)].map(snapshot);
    const b = [...new tg.data.DataLoader(ds, opts).batches(4)].map(snapshot);
    expect(a).toEqual(b);
    const c = [...new tg.data.DataLoader(ds, { ...opts, seed: 4 }).batches(4)].map(snapshot);
    expect(c).not.toEqual(a);
    // Same image in two epochs: the order changes and so does its augmentation.
    const e5 = [...new tg.data.DataLoader(ds, opts).batches(5)].map(snapshot);
    expect(e5).not.toEqual(a);
  });

  it("resumes at (epoch, batch k) with exactly the batches of an uninterrupted run", () => {
    const ds = syntheticDataset(23, [2, 6, 6]);
    const opts = { batchSize: 4, shuffle: true, seed: 9, transforms: AUGMENT, workers: 0 };
    const run = new tg.data.DataLoader(ds, opts);
    const uninterrupted = [...run, ...run, ...run].map(snapshot); // epochs 0, 1, 2
    const perEpoch = run.length;
    for (const [epoch, k] of [
      [1, 0],
      [1, 3],
      [2, 5],
      [2, perEpoch],
    ] as const) {
      const fresh = new tg.data.DataLoader(ds, opts);
      const resumed = [...fresh.batches(epoch, k)].map(snapshot);
      expect(resumed).toEqual(uninterrupted.slice(epoch * perEpoch + k, (epoch + 1) * perEpoch));
      expect(fresh.batch(epoch, Math.min(k, perEpoch - 1))).toBeDefined();
    }
  });

  it("builds bit-identical batches in worker threads, with augmentation and 2 workers", async () => {
    const ds = syntheticDataset(50, [2, 6, 6]);
    const opts = { batchSize: 8, shuffle: true, seed: 21, transforms: AUGMENT };
    const mainThread = [...new tg.data.DataLoader(ds, { ...opts, workers: 0 }).batches(3)].map(snapshot);
    const loader = new tg.data.DataLoader(ds, { ...opts, workers: 2, prefetch: 3 });
    try {
      const viaWorkers = (await collect(loader.batches(3))).map(snapshot);
      expect(viaWorkers).toEqual(mainThread);
      expect(loader.workerFailure).toBeNull();
      expect(loader.stats).toEqual({ workerBatches: loader.length, mainThreadBatches: 0 });
      // Resume through the worker path, and a second epoch reusing the same workers.
      const resumed = (await collect(loader.batches(3, 4))).map(snapshot);
      expect(resumed).toEqual(mainThread.slice(4));
      const epoch0 = (await collect(loader)).map(snapshot);
      expect(epoch0).toEqual([...new tg.data.DataLoader(ds, { ...opts, workers: 0 })].map(snapshot));
      expect(loader.stats.mainThreadBatches).toBe(0);
    } finally {
      await loader.close();
    }
  });

  it("stops cleanly when the consumer breaks out early, and iterates again afterwards", async () => {
    const ds = syntheticDataset(40, [1, 4, 4]);
    const loader = new tg.data.DataLoader(ds, { batchSize: 4, prefetch: 4 });
    try {
      let seen = 0;
      for await (const b of loader.batches(0)) {
        if (++seen === 2) break;
        expect(b.index).toBe(0);
      }
      const again = (await collect(loader.batches(0))).map(snapshot);
      expect(again).toEqual([...loader.batches(0)].map(snapshot));
    } finally {
      await loader.close();
    }
  });

  it("falls back to the main thread with the same batches when a worker dies mid-epoch", async () => {
    const ds = syntheticDataset(30, [2, 6, 6]);
    const opts = { batchSize: 3, shuffle: true, seed: 2, transforms: AUGMENT };
    const loader = new tg.data.DataLoader(ds, opts);
    try {
      const got: Batch[] = [];
      for await (const b of loader.batches(1)) {
        got.push(b);
        if (got.length === 2) {
          (loader as unknown as { pool: { fail(reason: string): void } }).pool.fail("simulated crash");
        }
      }
      expect(got.map(snapshot)).toEqual([...loader.batches(1)].map(snapshot));
      expect(loader.workerFailure).toBe("simulated crash");
      expect(loader.stats.workerBatches).toBeGreaterThanOrEqual(2);
    } finally {
      await loader.close();
    }
  });

  it("builds on the main thread when workers are disabled or a transform is a function", async () => {
    const ds = syntheticDataset(9, [1, 3, 3]);
    const off = new tg.data.DataLoader(ds, { batchSize: 4, workers: 0 });
    expect((await collect(off)).length).toBe(3);
    expect(off.stats).toEqual({ workerBatches: 0, mainThreadBatches: 3 });
    const invert: tg.data.TransformFn = (img) => ({
      ...img,
      data: Uint8Array.from(img.data, (v) => 255 - v),
    });
    const custom = new tg.data.DataLoader(ds, { batchSize: 9, transforms: [invert] });
    const [b] = await collect(custom);
    expect(custom.stats.mainThreadBatches).toBe(1);
    expect(b!.x.data[0]).toBeCloseTo(1 - ds.get(0).image[0]! / 255, 6);
  });

  it("rejects bad options, epochs and batch indices", () => {
    const ds = syntheticDataset(10, [1, 4, 4]);
    expect(() => new tg.data.DataLoader(ds, { batchSize: 0 })).toThrow(
      "DataLoader: batchSize must be an integer >= 1, got 0",
    );
    expect(() => new tg.data.DataLoader(ds, { seed: -1 })).toThrow("seed must be an integer >= 0");
    expect(() => new tg.data.DataLoader(ds, { transforms: [tg.data.randomCrop(9)] })).toThrow(
      "randomCrop size [9,9] is larger than the padded image [4,4]",
    );
    const loader = new tg.data.DataLoader(ds, { batchSize: 4 });
    expect(() => loader.batches(-1)).toThrow("epoch must be a non-negative integer, got -1");
    expect(() => loader.batches(0, 4)).toThrow("startBatch 4 out of range: an epoch has 3 batches");
    expect(() => loader.batch(0, 3)).toThrow("batch index 3 out of range: an epoch has 3 batches");
  });

  it("reports a transform that changes image shapes within a batch, naming the shapes", () => {
    const ds = syntheticDataset(4, [1, 2, 2]);
    let calls = 0;
    const grow: tg.data.TransformFn = (img) =>
      calls++ === 1 ? { ...img, width: 1, data: img.data.subarray(0, 2) } : img;
    const loader = new tg.data.DataLoader(ds, { batchSize: 4, transforms: [grow] });
    expect(() => loader.batch(0, 0)).toThrow(
      "DataLoader: transforms gave image 1 of the epoch shape [1,2,1], but earlier images [1,2,2]",
    );
  });
});
