/**
 * The wasm backend's own checks (its kernels are checked against the reference by
 * conformance.test.ts like every backend's): the committed module is what wasm/src builds to,
 * and the threads change no bit of a result.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { WASM_VARIANTS } from "../../src/backends/wasm/binary.js";
import { WasmRuntime } from "../../src/backends/wasm/runtime.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const hasClang = spawnSync("clang-16", ["--version"]).status === 0;
// CI installs clang-16 and lld-16 (.ci/run): there a missing toolchain is a failure.
const requireToolchain = process.env.TSGRAD_REQUIRE_NATIVE === "1";

describe("the WebAssembly module", () => {
  it.runIf(hasClang || requireToolchain)(
    "is what wasm/src/*.c builds to (the committed bytes are reproducible)",
    () => {
      const r = spawnSync(process.execPath, ["wasm/build.js", "--check"], {
        cwd: ROOT,
        encoding: "utf8",
      });
      expect(r.status, r.stdout + r.stderr).toBe(0);
    },
  );
});

describe("tg.wasmBackend", () => {
  const wasm = tg.wasmBackend;

  it("loads here, and says which build and how many threads", () => {
    expect(wasm.available(), wasm.unavailableReason()).toBe(true);
    const info = wasm.info();
    expect(info.variant).toMatch(/^(simd|relaxed)(Threads)?$/);
    expect(info.threads).toBe(wasm.numThreads());
    // Node has shared memory: the threaded build, with no reason to run on one thread.
    expect(info.variant).toMatch(/Threads$/);
    expect(info.singleThreadReason).toBe("");
  });

  it("gives the same bits on one thread and on several", async () => {
    const prev = tg.getBackend().name;
    const threads = wasm.numThreads();
    tg.setBackend("wasm");
    try {
      // Workers start in the background: give them a moment to be ready.
      for (let t = 0; t < 100 && (tg.info().threadsRunning as number) < 2; t++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      wasm.setNumThreads(2);
      expect(tg.info().threadsRunning).toBe(2);
      tg.manualSeed(3);
      const a = tg.randn([3, 150, 200]);
      const b = tg.randn([200, 130]);
      const c = tg.randn([300, 200]).t();
      const multi = [a.matmul(b).dataSync(), b.t().matmul(c).dataSync()];
      wasm.setNumThreads(1);
      const single = [a.matmul(b).dataSync(), b.t().matmul(c).dataSync()];
      expect(Array.from(multi[0]!)).toEqual(Array.from(single[0]!));
      expect(Array.from(multi[1]!)).toEqual(Array.from(single[1]!));
    } finally {
      wasm.setNumThreads(threads);
      tg.setBackend(prev);
    }
  });

  it("rejects a bad thread count by name", () => {
    expect(() => wasm.setNumThreads(0)).toThrow(
      /setNumThreads: expected a positive integer, got 0/,
    );
  });
});

describe("the wasm runtime's worker threads", () => {
  it("turn a kernel that traps on a worker into an error naming it, and keep serving", async () => {
    const module = new WebAssembly.Module(Buffer.from(WASM_VARIANTS.simdThreads, "base64"));
    const rt = new WasmRuntime(module, "simdThreads", ["optim_sgd"], 2, "");
    for (let t = 0; t < 500 && rt.activeThreads() < 2; t++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(rt.activeThreads()).toBe(2);
    // SGD over n elements whose second half (worker 1's share) lies past the end of memory:
    // the calling thread's half is in bounds, the worker's traps.
    const n = 1024;
    const p = rt.memory.buffer.byteLength - 4 * (n / 2);
    const sgd = (ptr: number) => rt.parallel("optim_sgd", [ptr, ptr, 0, n, 0.1, 0, 1, 0, 0]);
    expect(() => sgd(p)).toThrow(
      /wasm backend: kernel optim_sgd failed on worker thread 1: optim_sgd: memory access out of bounds/,
    );
    // The worker lives on and the next call runs on both threads.
    rt.reset();
    const ok = rt.alloc(4 * n);
    rt.f32().fill(1, ok >> 2, (ok >> 2) + n);
    sgd(ok);
    expect(rt.activeThreads()).toBe(2);
    expect(
      Array.from(rt.f32().subarray(ok >> 2, (ok >> 2) + n)).every((x) => x === Math.fround(0.9)),
    ).toBe(true);
  });
});
