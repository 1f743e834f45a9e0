/**
 * The DataLoader: batches, seeded shuffling, augmentation, and prefetching in worker threads.
 *
 * Determinism contract: the order of epoch `e` is a function of (seed, e), and the augmentation
 * of the sample at position `p` of that order is drawn from a generator seeded by (seed, e, p).
 * Nothing depends on what was iterated before, so `loader.batches(e, k)` yields exactly the
 * batches an uninterrupted run would see from batch `k` of epoch `e` on — resuming a checkpoint
 * needs only (seed, epoch, batch index) — and worker-built batches equal main-thread ones bit
 * for bit.
 */
import { tensor } from "../tensor/creation.js";
import { TsgradError } from "../tensor/errors.js";
import { defaultGenerator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";
import { buildBatchPixels, epochOrder } from "./batch.js";
import type { ImageDataset } from "./dataset.js";
import { WorkerPool } from "./prefetch.js";
import { type Transform, type TransformSpec, transformedShape } from "./transforms.js";

/** Options of `new tg.data.DataLoader(dataset, options)`. */
export interface DataLoaderOptions {
  /** Images per batch (default 1). */
  batchSize?: number;
  /** Draw a fresh seeded permutation every epoch (default false: dataset order). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /**
   * Seed of the shuffle and augmentation streams, an integer in [0, 2^53). Default: drawn from
   * the default generator, so `tg.manualSeed` fixes it.
   */
  seed?: number;
  /** Applied to each image in order; the result is converted to float32 in [0, 1] if needed. */
  transforms?: readonly Transform[];
  /**
   * Worker threads that build batches during `for await` iteration (default 1; 0 = build on the
   * main thread). Ignored where worker threads are unavailable or a transform is a function.
   */
  workers?: number;
  /** How many batches `for await` keeps in flight ahead of the consumer (default 2). */
  prefetch?: number;
}

/** One batch: images `x` float32 `[B, C, H, W]`, labels `y` int32 `[B]`, and where it came from. */
export interface Batch {
  x: Tensor;
  y: Tensor;
  /** The epoch this batch belongs to. */
  epoch: number;
  /** Its index within the epoch, in `[0, loader.length)`. */
  index: number;
  /** The dataset positions of its images. */
  indices: Int32Array;
}

/** The batches of one epoch from some batch on: iterate with `for…of` (main thread) or `for await` (prefetched). */
export type BatchStream = Iterable<Batch> & AsyncIterable<Batch>;

const isNonNegInt = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

/**
 * Iterates an `ImageDataset` in batches, as `torch.utils.data.DataLoader`.
 *
 * `for (const b of loader)` builds batches on the main thread; `for await (const b of loader)`
 * builds them ahead in worker threads. Each such loop over the loader itself runs the next
 * epoch (`loader.epoch`, then incremented); `loader.batches(epoch, startBatch)` runs any epoch
 * from any batch, e.g. to resume a run.
 *
 * @example
 * const ds = tg.data.loadFashionMnist({ name: "fashion-mnist-sample", train: false });
 * const loader = new tg.data.DataLoader(ds, { batchSize: 64, shuffle: true, seed: 1, workers: 0 });
 * let n = 0;
 * for (const { x, y } of loader) n += y.shape[0]!;
 * const first = loader.batch(0, 0);
 * console.log(loader.length, n, first.x.shape, first.y.dtype); // 16 1000 [64, 1, 28, 28] "int32"
 */
export class DataLoader implements Iterable<Batch>, AsyncIterable<Batch> {
  readonly dataset: ImageDataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly seed: number;
  readonly transforms: readonly Transform[];
  readonly workers: number;
  readonly prefetch: number;
  /** The epoch the next `for…of` / `for await` over the loader itself will run. */
  epoch = 0;
  /** How many batches were built by workers and on the main thread (for monitoring). */
  readonly stats = { workerBatches: 0, mainThreadBatches: 0 };
  /** Why worker prefetching stopped, if it did (null while it works or was never started). */
  workerFailure: string | null = null;

  private pool: WorkerPool | null = null;
  private cachedOrder: { epoch: number; order: Int32Array } | null = null;

  constructor(dataset: ImageDataset, options: DataLoaderOptions = {}) {
    const {
      batchSize = 1,
      shuffle = false,
      dropLast = false,
      transforms = [],
      workers = 1,
      prefetch = 2,
    } = options;
    const seed = options.seed ?? defaultGenerator.nextU32();
    for (const [name, v, min] of [
      ["batchSize", batchSize, 1],
      ["seed", seed, 0],
      ["workers", workers, 0],
      ["prefetch", prefetch, 1],
    ] as const) {
      if (!isNonNegInt(v) || v < min) {
        throw new TsgradError("DataLoader", `${name} must be an integer >= ${min}, got ${v}`);
      }
    }
    transformedShape(transforms, [dataset.channels, dataset.height, dataset.width]);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.seed = seed;
    this.transforms = [...transforms];
    this.workers = workers;
    this.prefetch = prefetch;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /**
   * The dataset positions of epoch `epoch`, in the order the batches visit them.
   *
   * @example
   * const ds = tg.data.loadFashionMnist({ name: "fashion-mnist-sample", train: false });
   * const loader = new tg.data.DataLoader(ds, { shuffle: true, seed: 7 });
   * const again = new tg.data.DataLoader(ds, { shuffle: true, seed: 7 });
   * console.log(loader.order(3).join() === again.order(3).join()); // true
   * console.log(loader.order(3).join() === loader.order(4).join()); // false
   */
  order(epoch: number): Int32Array {
    if (!isNonNegInt(epoch)) {
      throw new TsgradError("DataLoader", `epoch must be a non-negative integer, got ${epoch}`);
    }
    if (this.cachedOrder?.epoch !== epoch) {
      this.cachedOrder = {
        epoch,
        order: epochOrder(this.dataset.length, this.shuffle, this.seed, epoch),
      };
    }
    return this.cachedOrder.order;
  }

  /** Dataset positions and storage indices of batch `index` of `epoch`. */
  private slice(epoch: number, index: number): { indices: Int32Array; storage: Int32Array } {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new TsgradError(
        "DataLoader",
        `batch index ${index} out of range: an epoch has ${this.length} batches`,
      );
    }
    const start = index * this.batchSize;
    const indices = this.order(epoch).slice(
      start,
      Math.min(start + this.batchSize, this.dataset.length),
    );
    const storage = indices.map((i) => this.dataset.storageIndex(i));
    return { indices, storage };
  }

  private assemble(
    epoch: number,
    index: number,
    indices: Int32Array,
    storage: Int32Array,
    px: { data: Float32Array; shape: [number, number, number] },
  ): Batch {
    const y = new Int32Array(storage.length);
    for (let b = 0; b < storage.length; b++) y[b] = this.dataset.labels[storage[b]!]!;
    return {
      x: tensor(px.data, { shape: [storage.length, ...px.shape] }),
      y: tensor(y, { dtype: "int32" }),
      epoch,
      index,
      indices,
    };
  }

  private build(epoch: number, storage: Int32Array, position: number) {
    this.stats.mainThreadBatches++;
    return buildBatchPixels(this.dataset, storage, this.transforms, this.seed, epoch, position);
  }

  /**
   * Batch `index` of epoch `epoch`, built on the main thread.
   *
   * @example
   * const ds = tg.data.loadFashionMnist({ name: "fashion-mnist-sample", train: false });
   * const loader = new tg.data.DataLoader(ds, { batchSize: 300 });
   * console.log(loader.batch(0, 3).x.shape); // [100, 1, 28, 28]
   */
  batch(epoch: number, index: number): Batch {
    const { indices, storage } = this.slice(epoch, index);
    const px = this.build(epoch, storage, index * this.batchSize);
    return this.assemble(epoch, index, indices, storage, px);
  }

  /**
   * The batches of `epoch` from `startBatch` on — exactly those an uninterrupted run sees.
   * Iterate with `for…of` (main thread) or `for await` (worker prefetch).
   *
   * @example
   * const ds = tg.data.loadFashionMnist({ name: "fashion-mnist-sample", train: false });
   * const opts = { batchSize: 100, shuffle: true, seed: 5, transforms: [tg.data.randomCrop(28, 2)] };
   * const full = [...new tg.data.DataLoader(ds, opts).batches(2)];
   * const resumed = [];
   * for await (const b of new tg.data.DataLoader(ds, opts).batches(2, 7)) resumed.push(b);
   * const same = resumed.every((b, i) => b.x.toArray().toString() === full[7 + i]!.x.toArray().toString());
   * console.log(resumed.length, same); // 3 true
   */
  batches(epoch: number, startBatch = 0): BatchStream {
    this.order(epoch); // validates epoch
    if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > this.length) {
      throw new TsgradError(
        "DataLoader",
        `startBatch ${startBatch} out of range: an epoch has ${this.length} batches`,
      );
    }
    return {
      [Symbol.iterator]: () => this.mainThreadBatches(epoch, startBatch),
      [Symbol.asyncIterator]: () => this.prefetchedBatches(epoch, startBatch),
    };
  }

  /** Runs epoch `loader.epoch` on the main thread, then advances `loader.epoch`. */
  [Symbol.iterator](): Iterator<Batch> {
    return this.batches(this.epoch++)[Symbol.iterator]();
  }

  /** Runs epoch `loader.epoch` with worker prefetch, then advances `loader.epoch`. */
  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.batches(this.epoch++)[Symbol.asyncIterator]();
  }

  private *mainThreadBatches(epoch: number, start: number): Generator<Batch> {
    for (let k = start; k < this.length; k++) yield this.batch(epoch, k);
  }

  private workerPool(): WorkerPool | null {
    if (this.pool) {
      // A failed pool stays failed (batches are built here) until close() clears it.
      this.workerFailure ??= this.pool.failure;
      return this.pool.failure === null ? this.pool : null;
    }
    if (this.workers === 0) return null;
    if (this.transforms.some((t) => typeof t === "function")) return null;
    this.pool = WorkerPool.start(
      this.dataset,
      this.transforms as TransformSpec[],
      this.seed,
      this.workers,
    );
    return this.pool;
  }

  private async *prefetchedBatches(epoch: number, start: number): AsyncGenerator<Batch> {
    const pool = this.workerPool();
    if (!pool) {
      yield* this.mainThreadBatches(epoch, start);
      return;
    }
    type Job = { indices: Int32Array; storage: Int32Array; pixels: Promise<PixelsResult> };
    type PixelsResult = { data: Float32Array; shape: [number, number, number] };
    const queue: Job[] = [];
    let next = start;
    const submit = () => {
      while (queue.length < this.prefetch && next < this.length) {
        const k = next++;
        const { indices, storage } = this.slice(epoch, k);
        const position = k * this.batchSize;
        const pixels = pool.run(storage, epoch, position).then(
          (r) => {
            this.stats.workerBatches++;
            return r;
          },
          (e: Error) => {
            // The pool is gone (or the batch failed there): rebuild it here, which either
            // gives the identical batch or raises the real error with its TsgradError.
            this.workerFailure = pool.failure ?? e.message;
            return this.build(epoch, storage, position);
          },
        );
        // Batches still queued when the consumer stops early are never awaited.
        pixels.catch(() => {});
        queue.push({ indices, storage, pixels });
      }
    };
    for (let k = start; k < this.length; k++) {
      submit();
      const job = queue.shift()!;
      const px = await job.pixels;
      // Refill before handing the batch over, so workers build ahead while the consumer trains.
      submit();
      yield this.assemble(epoch, k, job.indices, job.storage, px);
    }
  }

  /**
   * Stop the prefetch workers (they are also unref'd while idle, so an open loader never keeps
   * the process alive). Iterating again restarts them.
   *
   * @example
   * const ds = tg.data.loadFashionMnist({ name: "fashion-mnist-sample", train: false });
   * const loader = new tg.data.DataLoader(ds, { batchSize: 500 });
   * let batches = 0;
   * for await (const { x } of loader) batches += x.shape[0] === 500 ? 1 : 0;
   * await loader.close();
   * console.log(batches); // 2
   */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    if (pool) await pool.close();
  }
}
