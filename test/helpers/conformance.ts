/**
 * Backend conformance checks against the JS reference, without vitest: each check returns its
 * mismatches as messages that name the backend, the op and the spec row ([] when it conforms).
 * test/backends/conformance.test.ts asserts them in Node; the browser runner
 * (test/backends/wasm-browser/runner.ts) runs the same checks over the same tables in a
 * Chromium page and reports them back.
 *
 * Tolerances (the reasoning is in conformance.test.ts): elementwise results atol 1e-5 / rtol
 * 1e-4; reductions, matmuls and convolutions atol 1e-4; a spec row may set its own.
 */
import * as tg from "../../src/index.js";
import type { FusedSpec } from "../backends/fused-specs.js";
import type { PrimSpec } from "../op-specs.js";
import { closeMismatch } from "./close.js";
import { makeInputs } from "./gradcheck.js";

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Primitives that make views: they run no kernel, so where they ran is not checked. */
export const VIEW_PRIMS: ReadonlySet<tg.Prim> = new Set<tg.Prim>(["permute", "expand", "slice"]);

/** Primitives that accumulate in float32 in another order than the reference (atol 1e-4). */
export const LOOSE: ReadonlySet<tg.Prim> = new Set<tg.Prim>([
  "sum",
  "matmul",
  "conv2d",
  "conv2dBackwardInput",
  "conv2dBackwardWeight",
]);

/** The tolerance a primitive's spec row is checked at. */
export function primTolerance(prim: tg.Prim, spec: PrimSpec<tg.Prim>): Tolerance {
  return { atol: spec.atol ?? (LOOSE.has(prim) ? 1e-4 : 1e-5), rtol: spec.rtol ?? 1e-4 };
}

/** Run `f` with backend `name` active, restoring the previous one. */
export function on<T>(name: string, f: () => T): T {
  const prev = tg.getBackend().name;
  tg.setBackend(name);
  try {
    return f();
  } finally {
    tg.setBackend(prev);
  }
}

export interface Outcome {
  out: tg.Tensor;
  grads: (tg.Tensor | null)[];
  ran: { backend: string; op: string; calls: number }[];
}

/**
 * Build float32 leaves from `inputs`, apply `f`, then backpropagate a fixed random weighting of
 * the output (when it is differentiable). Returns the output, the leaves' gradients, and which
 * backend ran the forward ops.
 */
export function evaluate(
  backend: string,
  specInputs: PrimSpec<tg.Prim>["inputs"],
  f: (xs: tg.Tensor[]) => tg.Tensor,
  seed = 1,
): Outcome {
  return on(backend, () => {
    const leaves = makeInputs(specInputs, "float32", seed);
    for (const l of leaves) if (l.dtype === "float32") l.requiresGrad_();
    const xs = leaves.map((t, i) => (specInputs[i]!.view ? specInputs[i]!.view(t) : t));
    const prev = tg.trackKernels(true);
    tg.kernelStats(true);
    const out = f(xs);
    const ran = tg.kernelStats(true);
    tg.trackKernels(prev);
    if (out.requiresGrad && out.dtype === "float32" && out.size > 0) {
      const w = makeInputs([{ shape: [...out.shape] }], "float32", seed + 1000)[0]!;
      out.mul(w).sum().backward();
    }
    return { out: out.detach(), grads: leaves.map((l) => l.grad), ran };
  });
}

/** Where `a` (a backend's outcome) differs from `b` (the reference's): values, then gradients. */
export function compareOutcomes(a: Outcome, b: Outcome, tol: Tolerance, label: string): string[] {
  const out: string[] = [];
  const value = closeMismatch(a.out, b.out, { ...tol, label: `${label} value` });
  if (value !== null) out.push(value);
  a.grads.forEach((g, i) => {
    const r = b.grads[i];
    const refHas = !(r === null || r === undefined);
    if ((g !== null) !== refHas) {
      out.push(
        `${label} gradient ${i} presence: ${g === null ? "none" : "a gradient"} where the reference has ${refHas ? "one" : "none"}`,
      );
    } else if (g && r) {
      const m = closeMismatch(g, r, { ...tol, label: `${label} gradient of input ${i}` });
      if (m !== null) out.push(m);
    }
  });
  return out;
}

/** Add the forward ops of `outcome` that ran on `backend` to `sink`. */
function noteRan(outcome: Outcome, backend: string, sink: Set<string> | undefined): void {
  for (const r of outcome.ran) if (r.backend === backend) sink?.add(r.op);
}

/**
 * One spec row of a primitive: values and gradients against the reference, and the forward
 * primitive ran on `backend` when it has a kernel for it, else on the reference (a view ran no
 * kernel at all). The forward ops that ran on `backend` are added to `ranOn`.
 */
export function checkPrim(
  backend: string,
  prim: tg.Prim,
  spec: PrimSpec<tg.Prim>,
  ranOn?: Set<string>,
): string[] {
  const f = (xs: tg.Tensor[]) => tg.run(prim, xs, spec.params);
  const label = `${backend} ${prim} ${spec.name}`;
  const mine = evaluate(backend, spec.inputs, f);
  noteRan(mine, backend, ranOn);
  const ref = evaluate("js", spec.inputs, f);
  const out = compareOutcomes(mine, ref, primTolerance(prim, spec), label);
  if (!VIEW_PRIMS.has(prim)) {
    const has = tg.findBackend(backend)!.kernels[prim] !== undefined;
    const expected = has ? backend : "js";
    for (const r of mine.ran) {
      if (r.op === prim && r.backend !== expected) {
        out.push(`${label}: the forward ${prim} ran on ${r.backend}, expected ${expected}`);
      }
    }
  }
  return out;
}

/**
 * One fused-kernel row: values and gradients against the composition (the reference runs it),
 * and the fused kernel ran on `backend` exactly when the backend has it and does not decline.
 * The forward ops that ran on `backend` are added to `ranOn`.
 */
export function checkFused(backend: string, spec: FusedSpec, ranOn?: Set<string>): string[] {
  const label = `${backend} fused ${spec.fused} ${spec.name}`;
  const mine = evaluate(backend, spec.inputs, spec.f, 3);
  noteRan(mine, backend, ranOn);
  const ref = evaluate("js", spec.inputs, spec.f, 3);
  const out = compareOutcomes(
    mine,
    ref,
    { atol: spec.atol ?? 1e-5, rtol: spec.rtol ?? 1e-4 },
    label,
  );
  const has = tg.findBackend(backend)!.fused?.[spec.fused] !== undefined;
  const expected = has && spec.declines !== true;
  const ran = mine.ran.some((r) => r.backend === backend && r.op === spec.fused);
  if (ran !== expected) {
    out.push(
      `${label}: the fused kernel ${ran ? "ran" : "did not run"} on ${backend}, expected it ${expected ? "to" : "not to"}`,
    );
  }
  return out;
}

/**
 * Second-order gradients of Σ f(x) ⊙ w: first gradients recorded (createGraph), then the gradient
 * of Σ first ⊙ w2. A fused kernel's own backward is not differentiable; `fused()` then
 * differentiates the composition, which this checks against the reference.
 */
export function secondOrder(backend: string, spec: FusedSpec): (tg.Tensor | null)[] {
  return on(backend, () => {
    const leaves = makeInputs(spec.inputs, "float32", 5);
    for (const l of leaves) if (l.dtype === "float32") l.requiresGrad_();
    const xs = leaves.map((t, i) => (spec.inputs[i]!.view ? spec.inputs[i]!.view(t) : t));
    const out = spec.f(xs);
    const w = makeInputs([{ shape: [...out.shape] }], "float32", 6)[0]!;
    out.mul(w).sum().backward(undefined, { createGraph: true });
    const first = leaves.map((l) => l.grad);
    for (const l of leaves) l.grad = null;
    let total: tg.Tensor | null = null;
    first.forEach((g, i) => {
      if (!g?.requiresGrad) return;
      const w2 = makeInputs([{ shape: [...g.shape] }], "float32", 7 + i)[0]!;
      const term = g.mul(w2).sum();
      total = total === null ? term : total.add(term);
    });
    if (total !== null) (total as tg.Tensor).backward();
    return leaves.map((l) => l.grad);
  });
}

/** A fused row differentiated twice on `backend` against the reference (atol 1e-4, rtol 1e-3). */
export function checkSecondOrder(backend: string, spec: FusedSpec): string[] {
  const label = `${backend} fused ${spec.fused} ${spec.name}`;
  const mine = secondOrder(backend, spec);
  const ref = secondOrder("js", spec);
  const out: string[] = [];
  mine.forEach((g, i) => {
    const r = ref[i];
    if ((g === null) !== (r === null)) {
      out.push(`${label} second-order gradient ${i} presence: ${g === null ? "none" : "one"}`);
    } else if (g && r) {
      const m = closeMismatch(g, r, {
        atol: spec.atol ?? 1e-4,
        rtol: spec.rtol ?? 1e-3,
        label: `${label} second-order gradient of input ${i}`,
      });
      if (m !== null) out.push(m);
    }
  });
  return out;
}

/** What a whole conformance run found. */
export interface ConformanceReport {
  backend: string;
  /** Spec rows checked: primitive rows, fused rows, fused rows differentiated twice. */
  checked: { prims: number; fused: number; secondOrder: number };
  /** Every mismatch, by op and spec name (a row that threw is one too). */
  mismatches: string[];
  /** The ops that ran on `backend` at least once (the rest ran on the reference). */
  ranOn: string[];
  seconds: number;
}

/**
 * Every row of the op-spec table and of the fused specs (and the fused rows differentiated
 * twice) on `backend` against the reference. A row that throws is reported, not propagated, so
 * one run lists everything that is wrong.
 */
export function runConformance(
  backend: string,
  primSpecs: { [P in tg.Prim]: PrimSpec<P>[] },
  fusedSpecs: readonly FusedSpec[],
): ConformanceReport {
  const started = performance.now();
  const mismatches: string[] = [];
  const ranOn = new Set<string>();
  const checked = { prims: 0, fused: 0, secondOrder: 0 };
  const attempt = (label: string, check: () => string[]) => {
    try {
      mismatches.push(...check());
    } catch (e) {
      mismatches.push(`${label}: threw ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  for (const prim of Object.keys(primSpecs) as tg.Prim[]) {
    for (const spec of primSpecs[prim] as PrimSpec<tg.Prim>[]) {
      checked.prims++;
      attempt(`${backend} ${prim} ${spec.name}`, () => checkPrim(backend, prim, spec, ranOn));
    }
  }
  for (const spec of fusedSpecs) {
    checked.fused++;
    attempt(`${backend} fused ${spec.fused} ${spec.name}`, () => checkFused(backend, spec, ranOn));
  }
  for (const spec of fusedSpecs.filter((s) => !s.declines)) {
    checked.secondOrder++;
    attempt(`${backend} fused ${spec.fused} ${spec.name} (second order)`, () =>
      checkSecondOrder(backend, spec),
    );
  }
  return {
    backend,
    checked,
    mismatches,
    ranOn: [...ranOn].sort(),
    seconds: (performance.now() - started) / 1000,
  };
}
