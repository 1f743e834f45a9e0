/**
 * Fused kernels for composite ops.
 *
 * A composite op (layer norm, LRN, an LSTM layer, attention…) is defined by its composition of
 * primitives, which is also its reference implementation and gives it gradients for free. A
 * backend may register a fused kernel for it: one forward call that returns the outputs and a
 * backward closure that maps output cotangents to input cotangents. `fused()` uses the backend's
 * kernel when there is one and it accepts the inputs, else the composition. Every fused kernel is
 * tested against its composition, values and gradients, by the conformance suite.
 */
import { getBackend, noteKernel } from "../backends/backend.ts";
import { record } from "../tensor/autograd.ts";
import type { Tensor } from "../tensor/tensor.ts";

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
      return record(name, inputs, res.outputs, res.backward);
    }
  }
  return composite(inputs, params);
}
