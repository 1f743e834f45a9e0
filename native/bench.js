// Quick measurements of the native backend (the project benchmark suite lives in bench/):
//   npx tsx native/bench.js [sgemm|cnn|profile] ...
// sgemm: 1024×1024×1024 through tg.matmul, GFLOP/s (median of 20 runs after warm-up).
// cnn:   training images/s of the PEERS.md CNN (batch 64, forward + backward + plain SGD).
// profile: the CNN step with the time spent inside addon calls vs. everything else (JS side).
import * as tg from "../src/index.ts";
import { nativeBackend } from "../src/backends/native/index.ts";

tg.registerBackend(nativeBackend);
if (!nativeBackend.available()) {
  console.error(nativeBackend.unavailableReason());
  process.exit(1);
}
tg.setBackend(process.env.BENCH_BACKEND ?? "native");
const what = process.argv[2] ?? "all";
const now = () => performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function sgemm() {
  const n = 1024;
  const a = tg.randn([n, n]);
  const b = tg.randn([n, n]);
  for (let i = 0; i < 5; i++) a.matmul(b);
  const times = [];
  for (let i = 0; i < 20; i++) {
    const t = now();
    a.matmul(b);
    times.push(now() - t);
  }
  // The machine is shared: report the median and the best (least disturbed) run.
  for (const [label, ms] of [
    ["median", median(times)],
    ["best", Math.min(...times)],
  ]) {
    const gflops = (2 * n ** 3) / (ms * 1e6);
    console.log(
      `sgemm ${n} (${label} of 20): ${ms.toFixed(2)} ms, ${gflops.toFixed(1)} GFLOP/s (${((100 * gflops) / 268.8).toFixed(0)}% of 268.8 peak), threads ${nativeBackend.numThreads()}`,
    );
  }
}

function makeCnn() {
  const g = new tg.Generator(0);
  const p = (shape, fanIn) =>
    tg
      .randn(shape, { generator: g })
      .mul(Math.sqrt(2 / fanIn))
      .requiresGrad_();
  const params = {
    w1: p([32, 1, 5, 5], 25),
    b1: tg.zeros([32]).requiresGrad_(),
    w2: p([64, 32, 5, 5], 800),
    b2: tg.zeros([64]).requiresGrad_(),
    w3: p([1024, 3136], 3136),
    b3: tg.zeros([1024]).requiresGrad_(),
    w4: p([10, 1024], 1024),
    b4: tg.zeros([10]).requiresGrad_(),
  };
  const x = tg.randn([64, 1, 28, 28], { generator: g });
  const y = tg.randint(0, 10, [64], { generator: g });
  // Plain SGD (no momentum) through tg.optim, which runs the backend's fused update kernel.
  const opt = new tg.optim.SGD(Object.values(params), { lr: 0.01 });
  const step = () => {
    opt.zeroGrad();
    let h = tg.F.conv2d(x, params.w1, params.b1, { padding: "same" }).relu();
    h = tg.F.maxPool2d(h, 2);
    h = tg.F.conv2d(h, params.w2, params.b2, { padding: "same" }).relu();
    h = tg.F.maxPool2d(h, 2);
    h = tg.F.linear(h.reshape([64, 3136]), params.w3, params.b3).relu();
    const logits = tg.F.linear(h, params.w4, params.b4);
    const loss = tg.F.crossEntropy(logits, y);
    loss.backward();
    opt.step();
    return loss;
  };
  return step;
}

function cnn() {
  const step = makeCnn();
  for (let i = 0; i < 3; i++) step();
  const times = [];
  for (let i = 0; i < 15; i++) {
    const t = now();
    step();
    times.push(now() - t);
  }
  for (const [label, ms] of [
    ["median", median(times)],
    ["best", Math.min(...times)],
  ]) {
    console.log(
      `cnn train step (batch 64, ${label} of 15): ${ms.toFixed(1)} ms, ${((64 * 1000) / ms).toFixed(0)} images/s, threads ${nativeBackend.numThreads()}`,
    );
  }
}

/**
 * Time every addon call during CNN steps: per step, the wall time and the part of it spent inside
 * the addon (the rest is JS: autograd bookkeeping, tensor objects, allocation, shape rules).
 * Reports the median step, and per-op addon time summed over all measured steps / steps.
 */
async function profile() {
  const { loadAddon } = await import("../src/backends/native/loader.ts");
  const step = makeCnn();
  for (let i = 0; i < 3; i++) step();
  const addon = loadAddon();
  const perOp = new Map();
  let inside = 0;
  for (const [k, f] of Object.entries(addon)) {
    if (typeof f !== "function") continue;
    addon[k] = (...args) => {
      const t = now();
      try {
        return f(...args);
      } finally {
        const dt = now() - t;
        inside += dt;
        perOp.set(k, (perOp.get(k) ?? 0) + dt);
      }
    };
  }
  const n = Number(process.env.STEPS ?? 20);
  const rows = [];
  for (let i = 0; i < n; i++) {
    inside = 0;
    const c = process.cpuUsage();
    const t = now();
    step();
    const wall = now() - t;
    const cpu = process.cpuUsage(c);
    rows.push({ wall, inside, cpu: (cpu.user + cpu.system) / 1000 });
  }
  rows.sort((a, b) => a.wall - b.wall);
  const med = rows[Math.floor(n / 2)];
  const best = rows[0];
  const pct = (r) => ((100 * (r.wall - r.inside)) / r.wall).toFixed(0);
  console.log(
    `median step ${med.wall.toFixed(1)} ms (${((64 * 1000) / med.wall).toFixed(0)} images/s), inside the addon ${med.inside.toFixed(1)} ms, outside ${pct(med)}%, process CPU ${med.cpu.toFixed(0)} ms`,
  );
  console.log(
    `best step ${best.wall.toFixed(1)} ms (${((64 * 1000) / best.wall).toFixed(0)} images/s), inside the addon ${best.inside.toFixed(1)} ms, outside ${pct(best)}%`,
  );
  for (const [k, v] of [...perOp.entries()].sort((a, b) => b[1] - a[1]))
    console.log(`  ${k.padEnd(16)} ${(v / (n + 0)).toFixed(2)} ms/step`);
}

if (what === "sgemm" || what === "all") sgemm();
if (what === "cnn" || what === "all") cnn();
if (what === "profile") await profile();
if (what === "kernels") {
  const step = makeCnn();
  step();
  tg.trackKernels(true);
  tg.kernelStats(true);
  step();
  console.log(tg.kernelStats(true));
}
if (what === "lstm") {
  // One LSTM layer, T32 B32 I256 H512, forward + backward: the fused oneDNN kernel against the
  // composition (per-step matmuls and eltwise ops, still on native primitives).
  const [T, B, I, H] = [32, 32, 256, 512];
  const g = new tg.Generator(0);
  const w = (r, c) => tg.randn([r, c], { generator: g }).mul(0.05).requiresGrad_();
  const ps = [
    w(4 * H, I),
    w(4 * H, H),
    tg.zeros([4 * H]).requiresGrad_(),
    tg.zeros([4 * H]).requiresGrad_(),
  ];
  const x = tg.randn([T, B, I], { generator: g });
  const h0 = tg.zeros([B, H]);
  const run = () => {
    const [out] = tg.F.lstmLayer(x, h0, h0, ...ps);
    out.sum().backward();
    for (const p of ps) p.grad = null;
  };
  const fused = nativeBackend.fused;
  for (const mode of ["fused", "composition"]) {
    if (mode === "composition") delete fused.lstmLayer;
    for (let i = 0; i < 2; i++) run();
    const times = [];
    for (let i = 0; i < 5; i++) {
      const t = now();
      run();
      times.push(now() - t);
    }
    console.log(
      `lstm ${mode}: ${median(times).toFixed(1)} ms per forward+backward (T${T} B${B} I${I} H${H})`,
    );
  }
}
