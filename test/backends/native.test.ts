/**
 * The native backend's own surface: thread control, kernel accounting, the addon's guards against
 * malformed views, and the fused optimizer kernels against the JS reference loops.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { nativeBackend, nativeBulkUniform } from "../../src/backends/native/index.js";
import { loadAddon } from "../../src/backends/native/loader.js";
import {
  type AdamKernelHyper,
  type RmspropKernelHyper,
  type SgdKernelHyper,
  jsOptimizerKernels,
} from "../../src/optim/kernels.js";
import { expectClose } from "../helpers/allclose.js";

if (!tg.findBackend("native")) tg.registerBackend(nativeBackend);
const available = nativeBackend.available();

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const g = new tg.Generator(seed);
  return Float32Array.from({ length: n }, () => (2 * g.uniform() - 1) * scale);
}

describe.runIf(available)("nativeBackend", () => {
  it("reports its build and runtime details", () => {
    const info = nativeBackend.info();
    expect(info.backend).toBe("native");
    expect(String(info.onednn)).toMatch(/^\d+\.\d+/);
  });

  it("waits passively between kernels unless the environment chose a policy or a spin count", () => {
    const omp = (env: Record<string, string>) => {
      const clean = { ...process.env };
      delete clean.OMP_WAIT_POLICY;
      delete clean.GOMP_SPINCOUNT;
      const r = spawnSync(
        process.execPath,
        [
          "--import",
          "tsx",
          "-e",
          `import(${JSON.stringify(new URL("../../src/index.ts", import.meta.url).pathname)}).then((tg) => { const i = tg.findBackend("native").info(); console.log(i.ompWaitPolicy + " " + i.ompSpinCount); })`,
        ],
        { encoding: "utf8", env: { ...clean, ...env } },
      );
      return r.stdout.trim();
    };
    expect(omp({})).toBe("PASSIVE (unset)");
    expect(omp({ GOMP_SPINCOUNT: "3000" })).toBe("(unset) 3000");
    expect(omp({ OMP_WAIT_POLICY: "ACTIVE" })).toBe("ACTIVE (unset)");
  });

  const glibc = Boolean(
    (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
      ?.glibcVersionRuntime,
  );
  it.runIf(glibc)("keeps freed tensor memory in glibc's heap, unless told not to", () => {
    expect(nativeBackend.info().malloc).toBe(
      "glibc: mmap threshold 32 MiB, trim threshold 256 MiB",
    );
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `import(${JSON.stringify(new URL("../../src/index.ts", import.meta.url).pathname)}).then((tg) => console.log(tg.findBackend("native").info().malloc))`,
      ],
      { encoding: "utf8", env: { ...process.env, TSGRAD_MALLOC_TUNING: "0" } },
    );
    expect(r.stdout.trim()).toBe("system default");
  });

  it("leaves the thread count as it was after small kernels (which run on one thread)", () => {
    const before = nativeBackend.numThreads();
    tg.setBackend("native");
    const y = tg
      .randn([100])
      .tanh()
      .add(tg.randn([100]))
      .sum();
    tg.setBackend("js");
    expect(Number.isFinite(y.item())).toBe(true);
    expect(nativeBackend.numThreads()).toBe(before);
  });

  it("changes its thread count and rejects nonsense", () => {
    const before = nativeBackend.numThreads();
    nativeBackend.setNumThreads(1);
    expect(nativeBackend.numThreads()).toBe(1);
    // Results do not depend on the thread count.
    const a = tg.randn([33, 17]);
    const b = tg.randn([17, 9]);
    tg.setBackend("native");
    const one = a.matmul(b).dataSync().slice();
    nativeBackend.setNumThreads(2);
    const two = a.matmul(b).dataSync();
    tg.setBackend("js");
    expect(Array.from(two)).toEqual(Array.from(one));
    nativeBackend.setNumThreads(before);
    expect(() => nativeBackend.setNumThreads(0)).toThrow(
      /expected an integer in \[1, 1024\], got 0/,
    );
    // Issue 19: 2^32 + 2 wrapped to 2 in the addon's int32.
    expect(() => nativeBackend.setNumThreads(2 ** 32 + 2)).toThrow(/got 4294967298$/);
    expect(nativeBackend.numThreads()).toBe(before);
  });

  it("differentiates twice through fused relu (createGraph uses the recorded rule)", () => {
    // d/dx [d/dx Σ relu(x)·x] = d/dx [2·relu(x)] = 2·[x > 0]: the inner gradient must stay on
    // the tape, which the fused kernel's own backward closure would not do.
    const x0 = tg.tensor([-1.5, -0.25, 0.5, 2, 3]);
    const second = (backend: string) => {
      tg.setBackend(backend);
      try {
        const inner = tg.grad((x: tg.Tensor) => x.relu().mul(x).sum());
        return tg
          .grad((x: tg.Tensor) => inner(x).sum())(x0)
          .toArray();
      } finally {
        tg.setBackend("js");
      }
    };
    expect(second("native")).toEqual([0, 0, 2, 2, 2]);
    expect(second("js")).toEqual([0, 0, 2, 2, 2]);
  });

  it("shows in kernelStats which ops ran natively", () => {
    tg.setBackend("native");
    tg.trackKernels(true);
    tg.kernelStats(true);
    tg.randn([4, 4])
      .matmul(tg.randn([4, 4]))
      .relu()
      .sum();
    tg.ones([3], { dtype: "float64" }).exp();
    const rows = tg.kernelStats(true);
    tg.trackKernels(false);
    tg.setBackend("js");
    const where = (op: string) => rows.filter((r) => r.op === op).map((r) => r.backend);
    expect(where("matmul")).toEqual(["native"]);
    expect(where("relu")).toEqual(["native"]);
    // float64 is declined, visibly: the JS reference ran it.
    expect(where("exp")).toEqual(["js"]);
  });

  it("draws the JS generator's numbers, uniforms and dropout masks, and continues its state", () => {
    const viaJs = (f: (g: tg.Generator) => void, g: tg.Generator) => {
      const previous = tg.setBulkUniformKernel(undefined);
      expect(previous).toBe(nativeBulkUniform);
      try {
        f(g);
      } finally {
        tg.setBulkUniformKernel(previous);
      }
    };
    for (const n of [4096, 10_007]) {
      for (const p of [undefined, 0.1, 0.5]) {
        const fill = (g: tg.Generator, out: Float32Array) =>
          p === undefined ? g.fillUniform(out) : g.fillKeepMask(out, p);
        const a = new Float32Array(n);
        const b = new Float32Array(n);
        const ga = new tg.Generator(n);
        const gb = new tg.Generator(n);
        ga.uniform(); // an odd offset into the stream
        gb.uniform();
        fill(ga, a);
        viaJs((g) => fill(g, b), gb);
        expect(a).toEqual(b);
        expect(ga.getState().map((w) => w >>> 0)).toEqual(gb.getState().map((w) => w >>> 0));
        expect(ga.uniform()).toBe(gb.uniform());
      }
    }
    // The kernel alone: any float32 length; a malformed state record is an error, not a bad read.
    expect(
      loadAddon()!.uniformFill(new Float32Array(4), new Float64Array([1, 2, 3, 4, 0, 0, 0])),
    ).toBe(true);
    expect(() => loadAddon()!.uniformFill(new Float32Array(4), new Float64Array(3))).toThrow(
      /meta/,
    );
  });

  it("throws instead of reading outside a tensor's storage", () => {
    const addon = loadAddon()!;
    const x = new Float32Array(4);
    const out = new Float32Array(4);
    // A [4] view at offset 3 would read elements 3..6 of a 4-element array.
    const meta = new Float64Array([1, 4, 1, 3]);
    expect(() => addon.unary(1, out, x, meta)).toThrow(/outside its storage/);
    // An output too small for the operands.
    const view4 = [1, 4, 1, 0];
    const both = new Float64Array([...view4, ...view4]);
    expect(() => addon.binary(0, new Float32Array(3), x, x, both)).toThrow(/inconsistent/);
    const short = new Float64Array([2, 2]);
    expect(() => addon.unary(1, out, x, short)).toThrow(/meta record too short/);
  });
});

describe.runIf(available)("nativeBackend under signals", () => {
  // Regression: signals delivered while oneDNN kernels ran corrupted the heap ("corrupted size vs.
  // prev_size" a few steps into training a small Transformer under Node's --cpu-prof, which sends
  // SIGPROF ~1000 times a second). The addon now blocks asynchronous signals during kernels.
  it("trains a Transformer while the CPU profiler interrupts the thread", () => {
    const dir = mkdtempSync(`${tmpdir()}/tsgrad-prof-`);
    const script = `${dir}/train.ts`;
    writeFileSync(
      script,
      `import * as tg from ${JSON.stringify(new URL("../../src/index.ts", import.meta.url).pathname)};
tg.setBackend("native");
const lm = new tg.models.TransformerLM({ vocabSize: 65, blockSize: 128, nLayer: 4, nHead: 4, nEmbd: 128, dropout: 0.1 });
const opt = new tg.optim.AdamW(lm.parameters(), { lr: 1e-3 });
const x = tg.randint(0, 65, [32, 128]);
for (let i = 0; i < 4; i++) { const l = lm.loss(x, x); opt.zeroGrad(); l.backward(); opt.step(); }
for (let i = 0; i < 100; i++) tg.randn([512, 128]).t().matmul(tg.randn([512, 256]));
console.log("done");`,
    );
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "--cpu-prof", `--cpu-prof-dir=${dir}`, script],
      { encoding: "utf8", cwd: new URL("../..", import.meta.url).pathname },
    );
    expect(r.stderr).not.toContain("corrupted");
    expect(r.stdout.trim()).toBe("done");
  });
});

describe.runIf(available)("nativeBackend.optimizer", () => {
  // Past the parallel threshold (kParallel = 2^17, native/src/optim.cc), odd to leave a remainder.
  const n = 150_001;
  const steps = 4;

  /** Run `steps` updates with the native kernel and the JS reference on identical state. */
  function agree(
    run: (
      k: typeof jsOptimizerKernels,
      p: Float32Array,
      g: Float32Array,
      s: Float32Array[],
      t: number,
    ) => void,
    nState: number,
    updateTol = 0,
  ) {
    const init = () => ({
      p: randomArray(n, 1),
      s: Array.from({ length: nState }, () => new Float32Array(n)),
    });
    const a = init();
    const b = init();
    for (let t = 1; t <= steps; t++) {
      const g = randomArray(n, 10 + t);
      run(nativeBackend.optimizer, a.p, g, a.s, t);
      run(jsOptimizerKernels, b.p, g, b.s, t);
    }
    // SGD and RMSprop round to float32 after every operation on the same doubles as the
    // reference: equal up to a rare double rounding. Adam takes its square root and ratio in
    // float32 (native/src/optim.cc), so each update may be off by a few float32 roundings of
    // itself (`updateTol`) and the parameter's rounding by one ulp: per step, at most that.
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(b.p[i]!), 2 ** -126))) - 23);
      worst = Math.max(worst, Math.abs(a.p[i]! - b.p[i]!) / ((ulp + updateTol) * steps));
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(a.p.some((v, i) => v !== randomArray(n, 1)[i])).toBe(true);
  }

  it.each([
    ["plain", 0, false, 0],
    ["momentum with dampening and weight decay", 0.9, false, 1e-2],
    ["nesterov", 0.9, true, 0],
  ] as const)("sgd (%s) matches the JS reference", (_n, momentum, nesterov, weightDecay) => {
    agree((k, p, g, [buf], t) => {
      const h: SgdKernelHyper = {
        lr: 0.1,
        momentum,
        dampening: nesterov ? 0 : 0.1,
        weightDecay,
        nesterov,
        maximize: false,
        initBuffer: t === 1,
      };
      expect(k.sgd(p, g, momentum > 0 ? buf! : null, h)).not.toBe(false);
    }, 1);
  });

  it.each([
    ["adam", false, false, 0],
    ["adam with L2 weight decay, maximize", false, true, 1e-2],
    ["adamw", true, false, 1e-2],
  ] as const)("%s matches the JS reference", (_n, decoupled, maximize, weightDecay) => {
    agree(
      (k, p, g, [m, v], t) => {
        const h: AdamKernelHyper = {
          lr: 1e-3,
          beta1: 0.9,
          beta2: 0.999,
          eps: 1e-8,
          weightDecay,
          decoupledWeightDecay: decoupled,
          maximize,
          step: t,
        };
        expect(k.adam(p, g, m!, v!, null, h)).not.toBe(false);
      },
      2,
      1e-3 * 1e-6,
    );
  });

  it("amsgrad matches the JS reference", () => {
    agree(
      (k, p, g, [m, v, vmax], t) => {
        const h: AdamKernelHyper = {
          lr: 1e-2,
          beta1: 0.8,
          beta2: 0.99,
          eps: 1e-6,
          weightDecay: 0,
          decoupledWeightDecay: true,
          maximize: false,
          step: t,
        };
        expect(k.adam(p, g, m!, v!, vmax!, h)).not.toBe(false);
      },
      3,
      1e-2 * 1e-6,
    );
  });

  it("rmsprop (centered, momentum) matches the JS reference", () => {
    agree((k, p, g, [sq, ga, buf]) => {
      const h: RmspropKernelHyper = {
        lr: 1e-2,
        alpha: 0.99,
        eps: 1e-8,
        weightDecay: 1e-3,
        momentum: 0.5,
        centered: true,
        maximize: false,
      };
      expect(k.rmsprop(p, g, sq!, ga!, buf!, h)).not.toBe(false);
    }, 3);
  });

  it("declines float64 and rejects mismatched lengths", () => {
    const h: SgdKernelHyper = {
      lr: 0.1,
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      maximize: false,
      initBuffer: false,
    };
    const opt = nativeBackend.optimizer;
    expect(opt.sgd(new Float64Array(3), new Float64Array(3), null, h)).toBe(false);
    expect(() => opt.sgd(new Float32Array(3), new Float32Array(2), null, h)).toThrow(
      "optim.sgd: grad has 2 elements, the parameter 3",
    );
  });
});

/**
 * Rows of a softmax that hold +inf: the reference (and PyTorch) gives NaN throughout (inf - max
 * is inf - inf); oneDNN's max-shifted exp gave finite values. A row holding -inf (an attention
 * mask) stays finite.
 */
describe.runIf(available)("native softmax on infinite inputs", () => {
  const run = (backend: string) => {
    tg.setBackend(backend);
    try {
      const x = tg.tensor([Infinity, 1, 2, -Infinity, 1, 2]).reshape([2, 3]);
      return Array.from(x.softmax(1).dataSync());
    } finally {
      tg.setBackend("js");
    }
  };

  it("makes a row holding +inf NaN throughout, as the reference does, and not one with -inf", () => {
    const native = run("native");
    const js = run("js");
    expect(native.slice(0, 3).every(Number.isNaN)).toBe(true);
    expect(native.slice(3).every(Number.isFinite)).toBe(true);
    expectClose(native, js, { rtol: 1e-6 });
  });
});

/**
 * amax on oneDNN's reduction, which starts from the lowest float and drops NaN: a slice of -inf
 * came out as -3.4e38 (issue 19). The reference and PyTorch give -inf, and NaN where one is.
 * Layouts: contiguous, transposed (strided), and 3 × 100000 (oneDNN's JIT kernel).
 */
describe.runIf(available)("native amax over -inf and NaN", () => {
  const on = <T>(f: () => T): T => {
    tg.setBackend("native");
    try {
      return f();
    } finally {
      tg.setBackend("js");
    }
  };

  it("gives -inf for a slice of -inf and NaN for a slice holding one, in every layout", () => {
    const x = tg.tensor([-Infinity, -Infinity, 1, NaN, 2, 3]).reshape([3, 2]);
    expect(on(() => Array.from(x.amax(1).dataSync()))).toEqual([-Infinity, NaN, 3]);
    expect(on(() => Array.from(x.t().amax(0).dataSync()))).toEqual([-Infinity, NaN, 3]);
    expect(on(() => Array.from(x.amin(1).neg().dataSync()))).toEqual([Infinity, NaN, -2]);
    const big = new Float32Array(300_000).fill(-Infinity);
    big[5] = NaN;
    big[250_000] = -2;
    const b = new tg.Tensor(big, "float32", [3, 100_000]);
    expect(on(() => Array.from(b.amax(1).dataSync()))).toEqual([NaN, -Infinity, -2]);
    expect(on(() => b.narrow(0, 1, 1).logsumexp(1).dataSync()[0])).toBe(-Infinity);
  });
});

/**
 * exp, sigmoid and softmax keep float32's subnormal results (down to e^-103.97), as PyTorch does:
 * oneDNN's exp gave 0 below e^-87, so a log after them gave -inf (issue 19). Expected values:
 * PyTorch 1.13, torch.exp / torch.sigmoid (float64, rounded to float32) of [-100, -90, -88, -104],
 * and torch.log(torch.softmax([0, -100, -88])).
 */
describe.runIf(available)("native exp, sigmoid and softmax below e^-87", () => {
  const on = <T>(f: () => T): T => {
    tg.setBackend("native");
    try {
      return f();
    } finally {
      tg.setBackend("js");
    }
  };
  const want = [3.783505853677006e-44, 8.194008692231508e-40, 6.054601485195952e-39, 0];

  it("keeps the subnormal results, on one thread and over many elements", () => {
    const x = tg.tensor([-100, -90, -88, -104]);
    expect(on(() => Array.from(x.exp().dataSync()))).toEqual(want);
    expect(on(() => Array.from(x.sigmoid().dataSync()))).toEqual(want);
    // 2^19 elements run on every thread.
    const big = new Float32Array(1 << 19).fill(-100);
    const e = on(() => new tg.Tensor(big, "float32", [big.length]).exp().dataSync());
    expect(e.every((v) => v === want[0])).toBe(true);
    const s = on(() => new tg.Tensor(big, "float32", [big.length]).sigmoid().dataSync());
    expect(s.every((v) => v === want[0])).toBe(true);
    // NaN and the ends of the range.
    const ends = tg.tensor([NaN, Infinity, -Infinity, 89, 0]);
    expect(on(() => Array.from(ends.exp().dataSync()))).toEqual([NaN, Infinity, 0, Infinity, 1]);
    expect(on(() => Array.from(ends.sigmoid().dataSync()))).toEqual([NaN, 1, 0, 1, 0.5]);
  });

  it("softmax along either axis, so its log stays finite", () => {
    const x = tg.tensor([0, -100, -88]);
    const logs = on(() => Array.from(x.softmax(0).log().dataSync()));
    expect(logs[0]).toBe(0);
    expect(logs[1]).toBeCloseTo(-99.98309326171875, 4);
    expect(logs[2]).toBeCloseTo(-88, 4);
    const cols = on(() => Array.from(x.reshape([3, 1]).expand([3, 2]).softmax(0).dataSync()));
    expect(cols).toEqual([1, 1, want[0], want[0], 6.054601485195952e-39, 6.054601485195952e-39]);
  });
});
