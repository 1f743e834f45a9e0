/**
 * Fused kernels for composite ops.
 *
 * A composite op (layer norm, LRN, an LSTM layer, attention…) is defined by its composition of
 * primitives, which is also its reference implementation and gives it gradients for free. A
 * backend may register a fused kernel for it: one forward call that returns the outputs and a
 * backward closure that maps output cotangents to input cotangents. `fused()` uses the backend's
 * kernel when there is one and it accepts the inputs, else the composition. The closure is not
 * itself differentiable, so a recorded backward pass (`createGraph`, nested `grad`) runs the
 * composition again and differentiates that instead: gradients of gradients stay exact. Every
 * fused kernel is tested against its composition, values and gradients, by the conformance suite.
 */
import { getBackend, noteKernel } from "../backends/backend.js";
import { run } from "./dispatch.js";
import { gradients, isGradEnabled, record } from "../tensor/autograd.js";
import type { Tensor } from "../tensor/tensor.js";

export interface FusedResult {
  outputs: Tensor[];
  /** Cotangents of the inputs from those of the outputs (not itself differentiable). */
  backward: (grads: readonly (Tensor | null)[], needs: readonly boolean[]) => (Tensor | null)[];
}

/** A backend's fused kernel: returns null to decline (the composition then runs). */
export type FusedKernel = (
  inputs: readonly Tensor[],
  params: Readonly<Record<string, unknown>>,
) => FusedResult | null;

export type FusedKernels = Record<string, FusedKernel>;

/**
 * Run composite op `name` with the active backend's fused kernel if it has one, else `composite`.
 * When the fused kernel runs under gradient recording, its backward becomes the tape node's vjp.
 *
 * @example
 * // Without a backend kernel named "double", the composition runs.
 * const [y] = tg.fused("double", [tg.tensor([1, 2])], {}, ([x]) => [x!.mul(2)]);
 * console.log(y!.toArray()); // [2, 4]
 */
export function fused<P extends Readonly<Record<string, unknown>>>(
  name: string,
  inputs: readonly Tensor[],
  params: P,
  composite: (inputs: readonly Tensor[], params: P) => Tensor[],
): Tensor[] {
  const backend = getBackend();
  const kernel = backend.fused?.[name];
  if (kernel !== undefined) {
    const res = kernel(inputs, params);
    if (res !== null) {
      noteKernel(backend.name, name);
      const { outputs, backward } = res;
      // Recording is on during a backward pass only under `createGraph` (or a nested `grad`): the
      // cotangents must then be differentiable, which the kernel's closure is not.
      const vjp: typeof backward = (grads, needs) =>
        isGradEnabled()
          ? compositeVjp(inputs, grads, needs, (xs) => composite(xs, params))
          : backward(grads, needs);
      return record(name, inputs, outputs, vjp);
    }
  }
  return composite(inputs, params);
}

/** A new tensor on the tape, equal to `t` (a view), so a sweep can be cut there. */
const alias = (t: Tensor): Tensor => run("reshape", [t], { shape: [...t.shape] });

/**
 * The vjp of a composition, recorded: the composition is run again on aliases of `inputs` and its
 * graph is swept from Σ outputs ⊙ cotangents back to those aliases only. The cotangents enter
 * through aliases too, so the sweep counts them as constants (as a vjp must), while the result
 * stays differentiable in them.
 */
function compositeVjp(
  inputs: readonly Tensor[],
  grads: readonly (Tensor | null)[],
  needs: readonly boolean[],
  composite: (inputs: readonly Tensor[]) => Tensor[],
): (Tensor | null)[] {
  const xs = inputs.map(alias);
  const gs = grads.map((g) => (g === null ? null : alias(g)));
  const outputs = composite(xs);
  let total: Tensor | null = null;
  outputs.forEach((o, i) => {
    const g = gs[i];
    if (!g || !o.requiresGrad) return;
    const term = o.mul(g).sum();
    total = total === null ? term : total.add(term);
  });
  if (total === null) return inputs.map(() => null);
  const wanted = new Set(xs.filter((_, i) => needs[i]));
  const cut = new Set([...xs, ...gs.filter((g) => g !== null)]);
  const cot = gradients(total, undefined, { createGraph: true }, wanted, cut);
  return xs.map((x, i) => (needs[i] ? (cot.get(x) ?? null) : null));
}
