/**
 * Reverse-mode autodiff on an eager tape, PyTorch-shaped.
 *
 * Every op that runs while gradients are enabled and has an input with `requiresGrad` records a
 * `Node` on its outputs: the inputs, the outputs, and a vector-Jacobian product (vjp) that maps the
 * outputs' cotangents to the inputs'. Primitives take their vjp from the rule table
 * (`src/ops/rules.ts`); fused kernels supply their own. `backward` is a topological sort of the
 * nodes reachable from the root followed by one reverse sweep that accumulates cotangents.
 *
 * Nothing here knows about backends or kernels: vjps are written with tensor ops, so gradients
 * run on whichever backend is active, and higher-order gradients work by recording the vjps too.
 */
import { TsgradError, fmtShape } from "./errors.js";
import type { Tensor } from "./tensor.js";

export interface Node {
  /** Op name, for error messages and debugging. */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  /**
   * Given one cotangent per output (null where the output did not influence the root), return
   * one cotangent per input (null where the input needs none). `needs[i]` says whether input i
   * requires a gradient, so a vjp can skip work.
   */
  readonly vjp: (grads: readonly (Tensor | null)[], needs: readonly boolean[]) => (Tensor | null)[];
}

let gradEnabled = true;

/**
 * Whether ops currently record the tape.
 *
 * @example
 * console.log(tg.isGradEnabled(), tg.noGrad(() => tg.isGradEnabled())); // true false
 */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

function withGradMode<T>(mode: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = mode;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Run `fn` without recording the tape (like `torch.no_grad()`): results do not require grad.
 *
 * @example
 * const w = tg.ones([2], { requiresGrad: true });
 * const y = tg.noGrad(() => w.mul(2));
 * console.log(y.requiresGrad); // false
 */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/**
 * Run `fn` with the tape enabled, even inside `noGrad`.
 *
 * @example
 * const w = tg.ones([2], { requiresGrad: true });
 * const y = tg.noGrad(() => tg.enableGrad(() => w.mul(2)));
 * console.log(y.requiresGrad); // true
 */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

/** Attach a node to freshly computed outputs if any input requires grad. Returns the outputs. */
export function record<T extends Tensor[]>(
  op: string,
  inputs: readonly Tensor[],
  outputs: T,
  vjp: Node["vjp"],
): T {
  if (!gradEnabled || !inputs.some((t) => t.requiresGrad)) return outputs;
  const node: Node = { op, inputs, outputs, vjp };
  outputs.forEach((o, i) => {
    o.requiresGrad = true;
    o._node = node;
    o._outputIndex = i;
  });
  return outputs;
}

/**
 * Nodes reachable from `root`, ordered so that every node comes after the nodes it consumes. The
 * walk does not go past the tensors in `cut` (their producers are not part of the result).
 */
function topoSort(root: Node, cut: ReadonlySet<Tensor> | null): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  // Iterative DFS: deep graphs (an LSTM unrolled over long sequences) overflow a recursive one.
  const stack: [Node, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1] = i + 1;
      const input = node.inputs[i]!;
      const child = input._node;
      if (child && !seen.has(child) && !cut?.has(input)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order;
}

export interface BackwardOptions {
  /** Record the backward pass itself, so the resulting gradients can be differentiated again. */
  createGraph?: boolean;
}

/**
 * Accumulate d(root)/d(leaf) into `leaf.grad` for every leaf that requires grad, seeding the root
 * with `seed` (required unless the root is a scalar).
 */
export function backward(root: Tensor, seed?: Tensor, opts: BackwardOptions = {}): void {
  const cotangents = gradients(root, seed, opts, null);
  for (const [t, g] of cotangents) {
    if (t._node === null && t.requiresGrad) {
      t.grad = t.grad === null ? g : t.grad.add(g);
    }
  }
}

/**
 * The reverse sweep. Returns the cotangent of every tensor on the way; when `stopAt` is given, only
 * its entries are kept (the functional `grad` uses this and leaves `.grad` untouched). The sweep
 * does not go past the tensors in `cut`: they count as independent inputs, and what produced them
 * is not visited (a vjp of the part of the graph above them).
 */
export function gradients(
  root: Tensor,
  seed: Tensor | undefined,
  opts: BackwardOptions,
  stopAt: ReadonlySet<Tensor> | null,
  cut: ReadonlySet<Tensor> | null = null,
): Map<Tensor, Tensor> {
  if (!root.requiresGrad) {
    throw new TsgradError(
      "backward",
      "the tensor does not require grad (no input had requiresGrad, or it was computed under noGrad)",
    );
  }
  if (seed === undefined) {
    if (root.size !== 1) {
      throw new TsgradError(
        "backward",
        `a seed gradient is required for a non-scalar output of shape ${fmtShape(root.shape)}`,
      );
    }
    seed = root.onesLike();
  } else if (
    seed.shape.length !== root.shape.length ||
    seed.shape.some((d, i) => d !== root.shape[i])
  ) {
    throw new TsgradError(
      "backward",
      `seed gradient shape ${fmtShape(seed.shape)} differs from output shape ${fmtShape(root.shape)}`,
    );
  }
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  const sweep = () => {
    if (root._node === null) return;
    const order = topoSort(root._node, cut);
    for (let k = order.length - 1; k >= 0; k--) {
      const node = order[k]!;
      const outGrads = node.outputs.map((o) => grads.get(o) ?? null);
      if (outGrads.every((g) => g === null)) continue;
      // Intermediate cotangents are dropped as soon as they are consumed, to bound peak memory.
      for (const o of node.outputs) if (o._node !== null && !stopAt?.has(o)) grads.delete(o);
      const needs = node.inputs.map((t) => t.requiresGrad);
      const inGrads = node.vjp(outGrads, needs);
      node.inputs.forEach((t, i) => {
        const g = inGrads[i];
        if (g == null || !needs[i]) return;
        if (g.shape.length !== t.shape.length || g.shape.some((d, j) => d !== t.shape[j])) {
          throw new TsgradError(
            node.op,
            `internal: gradient shape ${fmtShape(g.shape)} does not match input shape ${fmtShape(t.shape)}`,
          );
        }
        const prev = grads.get(t);
        grads.set(t, prev === undefined ? g : prev.add(g));
      });
    }
  };
  if (opts.createGraph) enableGrad(sweep);
  else noGrad(sweep);
  if (stopAt !== null) {
    for (const t of grads.keys()) if (!stopAt.has(t)) grads.delete(t);
  }
  return grads;
}
