/**
 * Dispatch: the one path every primitive takes. `run(prim, inputs, params)`
 *   1. asks the rule table for the output shape and dtype (this is where bad input is rejected),
 *   2. returns a view when the primitive is a movement the layout allows,
 *   3. otherwise allocates the output and runs the active backend's kernel, falling back to the
 *      JS reference kernel when the backend lacks it or declines,
 *   4. records the tape node if any input requires grad.
 */
import { getBackend, noteKernel } from "../backends/backend.js";
import { jsKernels } from "../backends/js/index.js";
import { record } from "../tensor/autograd.js";
import { allocate } from "../tensor/dtype.js";
import { numel } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import type { Kernel, Prim, PrimParams } from "./primitives.js";
import { type Rule, rules } from "./rules.js";

/**
 * Run a primitive: the path every op takes (see the module comment). Most code calls the tensor ops instead.
 *
 * @example
 * console.log(tg.run("add", [tg.ones([2]), tg.ones([2])], {}).toArray()); // [2, 2]
 */
export function run<P extends Prim>(
  prim: P,
  inputs: readonly Tensor[],
  params: PrimParams[P],
): Tensor {
  const rule = rules[prim] as Rule<P>;
  const { shape, dtype } = rule.shape(inputs, params);
  let out: Tensor | null = null;
  if (rule.view !== undefined) {
    const v = rule.view(inputs[0]!, params, shape);
    if (v !== null) out = new Tensor(inputs[0]!.data, dtype, shape, v.strides, v.offset);
  }
  if (out === null) {
    const buf = allocate(dtype, numel(shape));
    const backend = getBackend();
    const fast = backend.kernels[prim];
    if (fast !== undefined && fast(buf, inputs, params, shape) !== false) {
      noteKernel(backend.name, prim);
    } else {
      (jsKernels[prim] as Kernel<P>)(buf, inputs, params, shape);
      noteKernel("js", prim);
    }
    out = new Tensor(buf, dtype, shape);
  }
  const vjp = rule.vjp;
  if (vjp !== null) {
    record(prim, inputs, [out], (grads, needs) => {
      const g = grads[0];
      return g ? vjp(g, { inputs, out: out, params, needs }) : inputs.map(() => null);
    });
  }
  return out;
}
