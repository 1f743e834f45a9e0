/**
 * Memory stays flat while the wasm backend trains: 10,000 Adam steps of the bench CNN
 * (bench/lib/specs.ts cnnSpec: conv5×5 1→32, pool, conv5×5 32→64, pool, dense 3136→1024→10) in
 * Node, on a batch of one image so that the run fits CI's time (the memory questions — does the
 * module's arena reset after every call, do tensors and graphs die with the step — do not
 * depend on the batch).
 *
 * Every SAMPLE_EVERY steps after a warm-up, after a full garbage collection, it records the
 * process's RSS, the live JS memory (V8 heap in use plus the typed arrays' backing stores, where
 * tensor storage lives) and `tg.info().memoryBytes` (the module's WebAssembly memory). Flat means:
 *
 * - the module's memory does not change after the warm-up: it grows only when a call needs more
 *   arena than any call before it, and every step makes the same calls;
 * - the last quarter's live memory stays within LIVE_MARGIN (1 MiB) of the plateau (the first
 *   quarter's maximum, by step 3,250): a leak of 1 MiB / 6,750 steps ≈ 155 bytes per step
 *   exceeds it by the last step — less than one tensor kept per step (a 0-d tensor is ~360
 *   bytes). Without a leak it moved 0.1 MiB between the plateau and the last quarter;
 * - the last quarter's RSS stays within RSS_MARGIN of the plateau: the allocator may keep freed
 *   buffers of the largest tensors mapped (the 3136×1024 weight's size, 12.8 MB, for the weight,
 *   its gradient, the two Adam moments and an update temporary), so RSS gets five of those as
 *   slack; it catches what the live bound cannot see (the worker threads' heaps, native memory).
 *
 * A runaway leak fails early, at the first sample four margins over the plateau.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { syntheticBatch } from "../../bench/lib/measure.js";
import { cnnSpec, type LayerSpec } from "../../bench/lib/specs.js";

const STEPS = 10_000;
const WARMUP = 1_000;
const SAMPLE_EVERY = 250;
const BATCH = 1;
const MiB = 1024 * 1024;
const LIVE_MARGIN = 1 * MiB;
/** The largest tensor of the run: the 3136×1024 float32 weight (and its gradient, Adam moments). */
const LARGEST_TENSOR = 3136 * 1024 * 4;
const RSS_MARGIN = 5 * LARGEST_TENSOR;

// A full collection before each sample, so the live figures are what is reachable rather than
// wherever the collector happens to be.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;
const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

interface Sample {
  step: number;
  rss: number;
  live: number;
  wasm: number;
}

async function sample(step: number): Promise<Sample> {
  // Twice, with a turn of the event loop after each: typed arrays' backing stores are freed by a
  // background sweeper after the collection, and one pass sometimes leaves a couple of 12.8 MB
  // buffers (27 MB of noise in the live figure otherwise).
  for (let i = 0; i < 2; i++) {
    collectGarbage();
    await nextTask();
  }
  const m = process.memoryUsage();
  return {
    step,
    rss: m.rss,
    live: m.heapUsed + m.arrayBuffers,
    wasm: Number(tg.info().memoryBytes),
  };
}

/** The bench CNN's layers as tg.nn modules (as the bench's tsgrad peer builds them). */
function layer(l: LayerSpec): tg.nn.Layer {
  switch (l.kind) {
    case "conv":
      return new tg.nn.Conv2d(l.in, l.out, l.k, { padding: l.pad });
    case "relu":
      return new tg.nn.ReLU();
    case "maxpool":
      return new tg.nn.MaxPool2d(l.k, { stride: l.stride });
    case "flatten":
      return new tg.nn.Flatten();
    case "linear":
      return new tg.nn.Linear(l.in, l.out);
    default:
      throw new Error(`the bench CNN has no ${l.kind} layer`);
  }
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

describe("the wasm backend's memory over a long training run", () => {
  it(
    `stays flat over ${STEPS} steps of the bench CNN (RSS, live JS memory, module memory)`,
    { timeout: 60 * 60_000 },
    async () => {
      const prev = tg.getBackend().name;
      tg.setBackend("wasm");
      try {
        const spec = cnnSpec();
        if (spec.optimizer.kind !== "adam") throw new Error("the bench CNN trains with Adam");
        tg.manualSeed(0);
        const net = new tg.nn.Sequential(...spec.layers.map(layer));
        net.train();
        const opt = new tg.optim.Adam(net.parameters(), { lr: spec.optimizer.lr });
        const [c, h, w] = spec.input;
        // Eight synthetic batches in turn; the tensors are made afresh every step, as a data
        // loader makes them.
        const batches = Array.from({ length: 8 }, (_, i) =>
          syntheticBatch(i + 1, BATCH * c * h * w, BATCH, spec.classes),
        );
        const samples: Sample[] = [];
        // The plateau: the maxima over the first quarter of the sampled steps.
        const plateauEnd = WARMUP + (STEPS - WARMUP) / 4;
        const plateau = { rss: 0, live: 0 };
        const started = performance.now();
        let firstLoss = NaN;
        let lastLoss = NaN;
        for (let step = 1; step <= STEPS; step++) {
          const { x, y } = batches[step % batches.length]!;
          opt.zeroGrad();
          const logits = net.forward(tg.tensor(x, { shape: [BATCH, c, h, w] }));
          const loss = tg.F.crossEntropy(logits, tg.tensor(y));
          loss.backward();
          opt.step();
          lastLoss = loss.item();
          if (step === 1) firstLoss = lastLoss;
          if (step < WARMUP || step % SAMPLE_EVERY !== 0) continue;
          const s = await sample(step);
          samples.push(s);
          if (step <= plateauEnd) {
            plateau.rss = Math.max(plateau.rss, s.rss);
            plateau.live = Math.max(plateau.live, s.live);
          } else if (
            s.live > plateau.live + 4 * LIVE_MARGIN ||
            s.rss > plateau.rss + 4 * RSS_MARGIN
          ) {
            expect.fail(
              `runaway memory growth at step ${step}: live ${mib(s.live)} (plateau ${mib(plateau.live)}), RSS ${mib(s.rss)} (plateau ${mib(plateau.rss)})`,
            );
          }
        }
        const seconds = (performance.now() - started) / 1000;
        const lastQuarter = samples.filter((s) => s.step > STEPS - (STEPS - WARMUP) / 4);
        const maxOf = (key: "rss" | "live") => Math.max(...lastQuarter.map((s) => s[key]));
        const series = samples
          .map((s) => `${s.step}: rss ${mib(s.rss)} live ${mib(s.live)} wasm ${mib(s.wasm)}`)
          .join("\n");
        console.log(
          `wasm memory: ${STEPS} steps of the bench CNN (batch ${BATCH}) in ${seconds.toFixed(0)} s ` +
            `(${((1000 * seconds) / STEPS).toFixed(1)} ms/step), loss ${firstLoss.toFixed(3)} → ${lastLoss.toFixed(3)}; ` +
            `plateau rss ${mib(plateau.rss)} live ${mib(plateau.live)}; last quarter max rss ` +
            `${mib(maxOf("rss"))} live ${mib(maxOf("live"))}; module memory ${mib(samples[0]!.wasm)}\n${series}`,
        );
        expect(Number.isFinite(lastLoss)).toBe(true);
        expect(samples.length).toBe((STEPS - WARMUP) / SAMPLE_EVERY + 1);
        expect(
          samples.filter((s) => s.wasm !== samples[0]!.wasm).map((s) => s.step),
          `module memory changed after warm-up:\n${series}`,
        ).toEqual([]);
        expect(maxOf("live"), `live JS memory grew:\n${series}`).toBeLessThanOrEqual(
          plateau.live + LIVE_MARGIN,
        );
        expect(maxOf("rss"), `RSS grew:\n${series}`).toBeLessThanOrEqual(plateau.rss + RSS_MARGIN);
      } finally {
        tg.setBackend(prev);
      }
    },
  );
});
