/**
 * Measures how much DataLoader worker prefetch overlaps batch building with training compute.
 * Not a unit test (timings are machine-dependent); run it by hand:
 *
 *   npx tsx bench/prefetch.ts [--sample] [--compute-ms <per batch>]
 *
 * It iterates one epoch of Fashion-MNIST train (the full set when installed, else the bundled
 * sample; --sample forces it) with AlexNet-milestone augmentation, three ways: building batches
 * only; building + a simulated compute step on the main thread (busy-wait, as a synchronous
 * training step is); and the same with `for await` worker prefetch. Default compute per batch =
 * the measured build time per batch, the case where perfect overlap halves the epoch. Reports
 * wall time and the time the main thread sat waiting for data; the busy-wait overshoots when the
 * machine is oversubscribed, so compare stall times rather than wall times on a loaded machine.
 */
import * as tg from "../src/index.js";

const args = process.argv.slice(2);
const useSample = args.includes("--sample");
const computeArg = args.indexOf("--compute-ms");

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** Run one epoch with `compute` ms of main-thread work per batch; wall time and time stalled. */
async function epoch(
  stream: Iterator<tg.data.Batch> | AsyncIterator<tg.data.Batch>,
  compute: number,
): Promise<{ wall: number; stalled: number; first: number }> {
  const t = performance.now();
  let stalled = 0;
  let first = 0;
  for (;;) {
    const t0 = performance.now();
    const r = await stream.next();
    stalled += performance.now() - t0;
    if (first === 0) first = performance.now() - t;
    if (r.done) break;
    busy(compute);
  }
  return { wall: performance.now() - t, stalled, first };
}

async function main(): Promise<void> {
  let ds: tg.data.ImageDataset;
  try {
    if (useSample) throw new Error("sample requested");
    ds = tg.data.loadFashionMnist();
  } catch {
    ds = tg.data.loadFashionMnist({ name: "fashion-mnist-sample" });
  }
  const opts: tg.data.DataLoaderOptions = {
    batchSize: 128,
    shuffle: true,
    seed: 0,
    transforms: [
      tg.data.randomCrop(28, 2),
      tg.data.randomHorizontalFlip(),
      tg.data.toTensor(),
      tg.data.normalize([0.286], [0.353]),
    ],
  };
  const loader = new tg.data.DataLoader(ds, { ...opts, workers: 0 });
  const build = await epoch(loader.batches(0)[Symbol.iterator](), 0);
  const perBatch = build.wall / loader.length;
  const compute = computeArg >= 0 ? Number(args[computeArg + 1]) : perBatch;
  const fmt = (r: { wall: number; stalled: number }) =>
    `${r.wall.toFixed(0).padStart(6)} ms, main thread stalled on data ${r.stalled.toFixed(0).padStart(5)} ms`;
  console.log(
    `${ds.length} images, ${loader.length} batches of 128, loadavg ${process.getBuiltinModule("node:os").loadavg()[0]!.toFixed(1)}`,
  );
  console.log(
    `build only, main thread:   ${build.wall.toFixed(0)} ms (${perBatch.toFixed(2)} ms/batch)`,
  );
  console.log(
    `simulated compute:         ${compute.toFixed(2)} ms/batch = ${(compute * loader.length).toFixed(0)} ms/epoch`,
  );
  console.log(
    `main thread:               ${fmt(await epoch(loader.batches(1)[Symbol.iterator](), compute))}`,
  );
  const prefetched = new tg.data.DataLoader(ds, { ...opts, workers: 1, prefetch: 2 });
  const cold = await epoch(prefetched.batches(1)[Symbol.asyncIterator](), compute);
  console.log(
    `worker prefetch, cold:     ${fmt(cold)} (first batch after ${cold.first.toFixed(0)} ms)`,
  );
  const warm = await epoch(prefetched.batches(2)[Symbol.asyncIterator](), compute);
  console.log(`worker prefetch, warm:     ${fmt(warm)}`);
  console.log(
    `build time hidden behind compute (warm): ${((1 - warm.stalled / build.wall) * 100).toFixed(0)}%; ` +
      `worker batches ${prefetched.stats.workerBatches}, main-thread batches ${prefetched.stats.mainThreadBatches}`,
  );
  await prefetched.close();
}

await main();
