/**
 * The training run of wasm-memory.test.ts, in a process of its own (started with --expose-gc, so
 * that nothing changes V8's flags at run time, and killed by the test should it hang): the bench
 * CNN trained with Adam on the wasm backend for `steps` steps; every `every` steps after
 * `warmup`, after full garbage collections, one JSON line of memory figures on stdout, and a
 * last line with the losses and the time.
 *
 * Usage: node --expose-gc --import tsx train.ts <steps> <warmup> <every> <batch>
 */
import * as tg from "../../../src/index.js";
import { syntheticBatch } from "../../../bench/lib/measure.js";
import { cnnSpec } from "../../../bench/lib/specs.js";
import { specLayer } from "../../../bench/peers/tsgrad-common.js";

const [steps, warmup, every, batch] = process.argv.slice(2).map(Number) as [
  number,
  number,
  number,
  number,
];
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

tg.setBackend("wasm");
const spec = cnnSpec();
if (spec.optimizer.kind !== "adam") throw new Error("the bench CNN trains with Adam");
tg.manualSeed(0);
const net = new tg.nn.Sequential(...spec.layers.map((l) => specLayer(tg, l)));
net.train();
const opt = new tg.optim.Adam(net.parameters(), { lr: spec.optimizer.lr });
const [c, h, w] = spec.input;
// Eight synthetic batches in turn; the tensors are made afresh every step, as a data loader
// makes them.
const batches = Array.from({ length: 8 }, (_, i) =>
  syntheticBatch(i + 1, batch * c * h * w, batch, spec.classes),
);
const started = performance.now();
let firstLoss = NaN;
let lastLoss = NaN;
for (let step = 1; step <= steps; step++) {
  const { x, y } = batches[step % batches.length]!;
  opt.zeroGrad();
  const logits = net.forward(tg.tensor(x, { shape: [batch, c, h, w] }));
  const loss = tg.F.crossEntropy(logits, tg.tensor(y));
  loss.backward();
  opt.step();
  lastLoss = loss.item();
  if (step === 1) firstLoss = lastLoss;
  if (step < warmup || step % every !== 0) continue;
  // Twice, with a turn of the event loop after each: typed arrays' backing stores are freed by
  // a background sweeper after the collection, and one pass sometimes leaves a couple of 12.8 MB
  // buffers (27 MB of noise in the live figure otherwise).
  for (let i = 0; i < 2; i++) {
    gc();
    await nextTask();
  }
  const m = process.memoryUsage();
  const info = tg.info();
  console.log(
    JSON.stringify({
      step,
      rss: m.rss,
      live: m.heapUsed + m.arrayBuffers,
      wasm: Number(info.memoryBytes),
      threads: Number(info.threadsRunning),
    }),
  );
}
console.log(
  JSON.stringify({
    done: true,
    seconds: (performance.now() - started) / 1000,
    firstLoss,
    lastLoss,
    workerError: tg.info().workerError ?? "",
  }),
);
