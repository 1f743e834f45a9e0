/**
 * Central finite-difference gradient checking in float64, on the JS reference backend.
 *
 * For f mapping tensors to a tensor, we check the vjp of L = Σ f(x) ⊙ R (R a fixed random
 * weighting, so every output element matters with a distinct coefficient) against
 * (L(x + εe_i) − L(x − εe_i)) / 2ε for every element i of every differentiable input.
 */
import * as tg from "../../src/index.js";
import { Generator } from "../../src/index.js";

export interface InputSpec {
  shape: number[];
  /**
   * float: uniform in [-1, 1]; positive: [0.5, 2]; away0: |x| in [0.25, 1.5] with random sign (for
   * functions with a kink at 0); index: int32 in [0, high); bool: random true/false.
   */
  kind?: "float" | "positive" | "away0" | "index" | "bool";
  high?: number;
  /** Explicit values (row-major) instead of random ones. */
  values?: number[];
  /** A transform applied after the leaf is created (e.g. a transpose, so the op sees a strided view). */
  view?: (t: tg.Tensor) => tg.Tensor;
}

/** Build the leaf tensors for `specs` in `dtype` with values from `seed`. */
export function makeInputs(
  specs: readonly InputSpec[],
  dtype: "float32" | "float64",
  seed: number,
): tg.Tensor[] {
  const g = new Generator(seed);
  return specs.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const kind = s.kind ?? "float";
    if (kind === "index") {
      const v = s.values ?? Array.from({ length: n }, () => g.int(0, s.high ?? 2));
      return tg.tensor(Int32Array.from(v), { shape: s.shape });
    }
    if (kind === "bool") {
      const v = s.values ?? Array.from({ length: n }, () => (g.uniform() < 0.5 ? 1 : 0));
      return tg.tensor(Uint8Array.from(v), { shape: s.shape });
    }
    const draw = () => {
      const u = g.uniform();
      if (kind === "positive") return 0.5 + 1.5 * u;
      if (kind === "away0") return (g.uniform() < 0.5 ? -1 : 1) * (0.25 + 1.25 * u);
      return 2 * u - 1;
    };
    const v = s.values ?? Array.from({ length: n }, draw);
    const data = dtype === "float64" ? Float64Array.from(v) : Float32Array.from(v);
    return tg.tensor(data, { shape: s.shape });
  });
}

export interface GradcheckResult {
  maxAbsErr: number;
  maxRelErr: number;
  checked: number;
}

/**
 * Compare autodiff gradients of `f` with central differences. Throws with the worst element when
 * they disagree by more than atol + rtol·|numeric|.
 */
export function gradcheck(
  name: string,
  f: (xs: tg.Tensor[]) => tg.Tensor,
  specs: readonly InputSpec[],
  opts: { seed?: number; eps?: number; atol?: number; rtol?: number; wrt?: number[] } = {},
): GradcheckResult {
  const { seed = 1, eps = 1e-6, atol = 1e-7, rtol = 1e-5 } = opts;
  const leaves = makeInputs(specs, "float64", seed);
  const wrt = opts.wrt ?? leaves.flatMap((t, i) => (t.dtype === "float64" ? [i] : []));
  for (const i of wrt) leaves[i]!.requiresGrad_();
  const apply = (ts: tg.Tensor[]) => f(ts.map((t, i) => (specs[i]!.view ? specs[i]!.view(t) : t)));
  const out0 = apply(leaves);
  const weights = makeInputs([{ shape: [...out0.shape] }], "float64", seed + 1000)[0]!;
  const loss = (ts: tg.Tensor[]) => apply(ts).mul(weights).sum();
  loss(leaves).backward();
  let maxAbsErr = 0;
  let maxRelErr = 0;
  let checked = 0;
  tg.noGrad(() => {
    for (const i of wrt) {
      const leaf = leaves[i]!;
      const analytic = leaf.grad ? leaf.grad.dataSync() : new Float64Array(leaf.size);
      const data = leaf.data as Float64Array;
      for (let k = 0; k < leaf.size; k++) {
        const orig = data[k]!;
        data[k] = orig + eps;
        const fp = loss(leaves).item();
        data[k] = orig - eps;
        const fm = loss(leaves).item();
        data[k] = orig;
        const numeric = (fp - fm) / (2 * eps);
        const a = analytic[k]!;
        const err = Math.abs(a - numeric);
        maxAbsErr = Math.max(maxAbsErr, err);
        maxRelErr = Math.max(maxRelErr, err / Math.max(Math.abs(numeric), 1e-12));
        checked++;
        if (!(err <= atol + rtol * Math.abs(numeric))) {
          throw new Error(
            `${name}: gradient of input ${i} element ${k}: autodiff ${a}, finite difference ${numeric} (|diff| ${err.toExponential(2)})`,
          );
        }
      }
    }
  });
  return { maxAbsErr, maxRelErr, checked };
}
