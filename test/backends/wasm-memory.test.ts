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
 * The run is a child process (wasm-memory/train.ts, started with --expose-gc) that prints the
 * samples: V8's flags stay as Node set them, and a run that hangs is killed after RUN_TIMEOUT and
 * fails the test instead of holding the suite. A runaway leak fails early, at the first sample
 * four margins over the plateau (the child is killed then).
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

const STEPS = 10_000;
const WARMUP = 1_000;
const SAMPLE_EVERY = 250;
const BATCH = 1;
const MiB = 1024 * 1024;
const LIVE_MARGIN = 1 * MiB;
/** The largest tensor of the run: the 3136×1024 float32 weight (and its gradient, Adam moments). */
const LARGEST_TENSOR = 3136 * 1024 * 4;
const RSS_MARGIN = 5 * LARGEST_TENSOR;
/** About 2.5 times the longest run seen in a full test suite on 2 cores (14 min). */
const RUN_TIMEOUT = 35 * 60_000;
const TRAIN = new URL("./wasm-memory/train.ts", import.meta.url).pathname;

interface Sample {
  step: number;
  rss: number;
  live: number;
  wasm: number;
  threads: number;
}
interface Done {
  done: true;
  seconds: number;
  firstLoss: number;
  lastLoss: number;
  workerError: string;
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

describe("the wasm backend's memory over a long training run", () => {
  it(
    `stays flat over ${STEPS} steps of the bench CNN (RSS, live JS memory, module memory)`,
    { timeout: RUN_TIMEOUT + 60_000 },
    async () => {
      const samples: Sample[] = [];
      // The plateau: the maxima over the first quarter of the sampled steps.
      const plateauEnd = WARMUP + (STEPS - WARMUP) / 4;
      const plateau = { rss: 0, live: 0 };
      let runaway = "";
      let done: Done | null = null;
      const child = spawn(
        process.execPath,
        [
          "--expose-gc",
          "--import",
          "tsx",
          TRAIN,
          ...[STEPS, WARMUP, SAMPLE_EVERY, BATCH].map(String),
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      let pending = "";
      child.stdout.on("data", (d: Buffer) => {
        pending += d.toString();
        const lines = pending.split("\n");
        pending = lines.pop()!;
        for (const line of lines) {
          const r = JSON.parse(line) as Sample | Done;
          if ("done" in r) {
            done = r;
            continue;
          }
          samples.push(r);
          if (r.step <= plateauEnd) {
            plateau.rss = Math.max(plateau.rss, r.rss);
            plateau.live = Math.max(plateau.live, r.live);
          } else if (
            runaway === "" &&
            (r.live > plateau.live + 4 * LIVE_MARGIN || r.rss > plateau.rss + 4 * RSS_MARGIN)
          ) {
            runaway = `runaway memory growth at step ${r.step}: live ${mib(r.live)} (plateau ${mib(plateau.live)}), RSS ${mib(r.rss)} (plateau ${mib(plateau.rss)})`;
            child.kill();
          }
        }
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT);
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      clearTimeout(timer);
      const last = samples.at(-1);
      expect(runaway).toBe("");
      expect(
        code,
        `the training child exited with ${code} after ${samples.length} samples (last at step ${last?.step ?? "-"}${code === null ? `; killed after ${RUN_TIMEOUT / 60_000} min` : ""}):\n${stderr}`,
      ).toBe(0);
      const result = done as Done | null;
      expect(result).not.toBeNull();
      const lastQuarter = samples.filter((s) => s.step > STEPS - (STEPS - WARMUP) / 4);
      const maxOf = (key: "rss" | "live") => Math.max(...lastQuarter.map((s) => s[key]));
      const series = samples
        .map(
          (s) =>
            `${s.step}: rss ${mib(s.rss)} live ${mib(s.live)} wasm ${mib(s.wasm)} threads ${s.threads}`,
        )
        .join("\n");
      console.log(
        `wasm memory: ${STEPS} steps of the bench CNN (batch ${BATCH}) in ${result!.seconds.toFixed(0)} s ` +
          `(${((1000 * result!.seconds) / STEPS).toFixed(1)} ms/step), loss ${result!.firstLoss.toFixed(3)} → ${result!.lastLoss.toFixed(3)}; ` +
          `plateau rss ${mib(plateau.rss)} live ${mib(plateau.live)}; last quarter max rss ` +
          `${mib(maxOf("rss"))} live ${mib(maxOf("live"))}; module memory ${mib(samples[0]!.wasm)}\n${series}`,
      );
      expect(result!.workerError).toBe("");
      expect(Number.isFinite(result!.lastLoss)).toBe(true);
      expect(result!.lastLoss).toBeLessThan(result!.firstLoss);
      expect(samples.length).toBe((STEPS - WARMUP) / SAMPLE_EVERY + 1);
      expect(
        samples.filter((s) => s.wasm !== samples[0]!.wasm).map((s) => s.step),
        `module memory changed after warm-up:\n${series}`,
      ).toEqual([]);
      expect(maxOf("live"), `live JS memory grew:\n${series}`).toBeLessThanOrEqual(
        plateau.live + LIVE_MARGIN,
      );
      expect(maxOf("rss"), `RSS grew:\n${series}`).toBeLessThanOrEqual(plateau.rss + RSS_MARGIN);
    },
  );
});
