/**
 * The auxiliary confidence loss of Burns et al. (2023), §4.3.2:
 *
 *   L = (1 − α) · CE(f, y_weak) + α · CE(f, ŷ_f)
 *
 * where y_weak are the weak supervisor's soft labels and ŷ_f the student's own predictions,
 * hardened and detached, so the student can keep a confident prediction that disagrees with its
 * teacher instead of imitating the teacher's errors. α rises linearly from 0 to α_max over the
 * first `warmupFraction` of training.
 *
 * Hardening. The paper's code is binary: it thresholds the student's probability at the quantile
 * that gives the hardened labels the weak labels' class prior in the batch, so the auxiliary term
 * cannot reward collapsing onto one class. The multi-class generalisation used here ("prior") is
 * the assignment of one class per example that maximises Σ log p(class) subject to the class
 * counts matching the batch's weak-label prior (rounded by largest remainder) — a min-cost
 * assignment, solved exactly with the Hungarian algorithm. For two classes it is the paper's
 * quantile threshold. "argmax" (plain one-hot argmax) is offered for comparison.
 */
import { tensor } from "../tensor/creation.js";
import { noGrad } from "../tensor/autograd.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import type { Tensor } from "../tensor/tensor.js";
import * as F from "../nn/functional.js";

/** How the student's own predictions are turned into hard targets. */
export type Hardening = "prior" | "argmax";

/** Schedule of the auxiliary weight α. */
export interface AuxSchedule {
  /** Final weight α_max (the paper: 0.5, and 0.75 for the largest students). */
  alphaMax: number;
  /** Fraction of training over which α rises linearly from 0 (the paper's text: 0.2). */
  warmupFraction: number;
}

/**
 * α at `progress` ∈ [0, 1] of training: α_max · min(1, progress / warmupFraction).
 *
 * @example
 * const s = { alphaMax: 0.5, warmupFraction: 0.2 };
 * console.log(tg.w2s.auxAlpha(0, s), tg.w2s.auxAlpha(0.1, s), tg.w2s.auxAlpha(0.7, s)); // 0 0.25 0.5
 */
export function auxAlpha(progress: number, s: AuxSchedule): number {
  const op = "auxAlpha";
  if (!(s.alphaMax >= 0 && s.alphaMax <= 1)) {
    throw new TsgradError(op, `alphaMax must be in [0, 1], got ${s.alphaMax}`);
  }
  if (!(s.warmupFraction >= 0 && s.warmupFraction <= 1)) {
    throw new TsgradError(op, `warmupFraction must be in [0, 1], got ${s.warmupFraction}`);
  }
  if (!(progress >= 0)) throw new TsgradError(op, `progress must be >= 0, got ${progress}`);
  if (s.warmupFraction === 0) return s.alphaMax;
  return s.alphaMax * Math.min(1, progress / s.warmupFraction);
}

/**
 * Integer class counts summing to `n` proportional to `prior` (largest-remainder rounding; ties
 * go to the lower class index).
 *
 * @example
 * console.log(Array.from(tg.w2s.priorCounts([0.5, 0.3, 0.2], 4))); // [2, 1, 1]
 */
export function priorCounts(prior: ArrayLike<number>, n: number): Int32Array {
  const op = "priorCounts";
  const K = prior.length;
  if (K === 0) throw new TsgradError(op, "prior is empty");
  if (!(Number.isInteger(n) && n >= 0)) {
    throw new TsgradError(op, `n must be an integer >= 0, got ${n}`);
  }
  let total = 0;
  for (let k = 0; k < K; k++) {
    const p = prior[k]!;
    if (!(Number.isFinite(p) && p >= 0)) throw new TsgradError(op, `prior[${k}] is ${p}`);
    total += p;
  }
  if (!(total > 0)) throw new TsgradError(op, "prior sums to 0");
  const counts = new Int32Array(K);
  const rem: { k: number; r: number }[] = [];
  let used = 0;
  for (let k = 0; k < K; k++) {
    const exact = (n * prior[k]!) / total;
    counts[k] = Math.floor(exact);
    used += counts[k]!;
    rem.push({ k, r: exact - counts[k]! });
  }
  rem.sort((a, b) => b.r - a.r || a.k - b.k);
  for (let i = 0; used < n; i++, used++) counts[rem[i % K]!.k]!++;
  return counts;
}

/**
 * The class of each of `n` examples that maximises Σ log probs[i, class_i] subject to exactly
 * `counts[k]` examples in class k: a min-cost assignment of examples to class slots, solved with
 * the Hungarian algorithm (O(n³); 2·10⁶ steps for a batch of 128).
 *
 * @example
 * // Both examples prefer class 0, but the prior allows only one there: the less sure one moves.
 * const probs = [0.9, 0.1, 0.6, 0.4];
 * console.log(Array.from(tg.w2s.priorMatchedAssignment(probs, 2, 2, [1, 1]))); // [0, 1]
 */
export function priorMatchedAssignment(
  probs: ArrayLike<number>,
  n: number,
  K: number,
  counts: ArrayLike<number>,
): Int32Array {
  const op = "priorMatchedAssignment";
  if (probs.length !== n * K) {
    throw new TsgradError(op, `probs has ${probs.length} entries for ${n} examples × ${K} classes`);
  }
  if (counts.length !== K) {
    throw new TsgradError(op, `counts has ${counts.length} entries for ${K} classes`);
  }
  let total = 0;
  for (let k = 0; k < K; k++) {
    const c = counts[k]!;
    if (!(Number.isInteger(c) && c >= 0)) throw new TsgradError(op, `counts[${k}] is ${c}`);
    total += c;
  }
  if (total !== n) throw new TsgradError(op, `counts sum to ${total}, not the ${n} examples`);
  // cost[i*K + k] = −log p; clamped so a zero probability is a large finite cost.
  const cost = new Float64Array(n * K);
  for (let i = 0; i < n * K; i++) cost[i] = -Math.log(Math.max(probs[i]!, 1e-30));
  // Column j (1-based) is a slot of class slotClass[j].
  const slotClass = new Int32Array(n + 1);
  for (let k = 0, j = 1; k < K; k++) for (let c = 0; c < counts[k]!; c++) slotClass[j++] = k;
  // Hungarian algorithm with row/column potentials (1-based; row 0 / column 0 are sentinels).
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const rowOf = new Int32Array(n + 1); // rowOf[j]: row assigned to column j (0 = none)
  const way = new Int32Array(n + 1);
  const minv = new Float64Array(n + 1);
  const used = new Uint8Array(n + 1);
  for (let i = 1; i <= n; i++) {
    rowOf[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = rowOf[j0]!;
      const base = (i0 - 1) * K;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost[base + slotClass[j]!]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[rowOf[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (rowOf[j0] !== 0);
    do {
      const j1 = way[j0]!;
      rowOf[j0] = rowOf[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const out = new Int32Array(n);
  for (let j = 1; j <= n; j++) out[rowOf[j]! - 1] = slotClass[j]!;
  return out;
}

/**
 * Hardened predictions as one-hot float32 [B, K] (no gradient): "argmax" of `probs`, or "prior":
 * the assignment that matches the class counts of `prior` (e.g. the batch's weak labels; see the
 * module comment).
 *
 * @example
 * const probs = tg.tensor([[0.9, 0.1], [0.6, 0.4], [0.7, 0.3]]);
 * const weak = tg.tensor([[1, 0], [0, 1], [0, 1]]);
 * console.log(tg.w2s.hardenPredictions(probs, "argmax").toArray()); // [[1, 0], [1, 0], [1, 0]]
 * console.log(tg.w2s.hardenPredictions(probs, "prior", weak).toArray()); // [[1, 0], [0, 1], [0, 1]]
 */
export function hardenPredictions(probs: Tensor, mode: Hardening, prior?: Tensor): Tensor {
  const op = "hardenPredictions";
  if (probs.ndim !== 2) {
    throw new TsgradError(op, `probs must be [B, K], got ${fmtShape(probs.shape)}`);
  }
  const [B, K] = probs.shape as [number, number];
  const p = probs.contiguous().dataSync();
  let cls: Int32Array;
  if (mode === "argmax") {
    cls = new Int32Array(B);
    for (let i = 0; i < B; i++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (p[i * K + k]! > p[i * K + best]!) best = k;
      cls[i] = best;
    }
  } else if (mode === "prior") {
    if (prior === undefined) throw new TsgradError(op, `"prior" hardening needs the prior labels`);
    if (prior.shape.length !== 2 || prior.shape[0] !== B || prior.shape[1] !== K) {
      throw new TsgradError(
        op,
        `prior labels ${fmtShape(prior.shape)} do not match probs ${fmtShape(probs.shape)}`,
      );
    }
    const q = prior.contiguous().dataSync();
    const mean = new Float64Array(K);
    for (let i = 0; i < B * K; i++) mean[i % K]! += q[i]!;
    cls = priorMatchedAssignment(p, B, K, priorCounts(mean, B));
  } else throw new TsgradError(op, `unknown hardening "${String(mode)}" (prior, argmax)`);
  const out = new Float32Array(B * K);
  for (let i = 0; i < B; i++) out[i * K + cls[i]!] = 1;
  return tensor(out, { shape: [B, K] });
}

/**
 * The auxiliary confidence loss (1 − α)·CE(logits, weak) + α·CE(logits, ŷ), ŷ the student's own
 * hardened, detached predictions; mean over the batch. `weak` holds probabilities [B, K]. Since
 * cross-entropy is linear in its target this equals CE(logits, (1 − α)·weak + α·ŷ), which is how
 * it is computed.
 *
 * @example
 * const logits = tg.tensor([[2, 0], [0, 1]], { requiresGrad: true });
 * const weak = tg.tensor([[0.2, 0.8], [0.5, 0.5]]);
 * const loss = tg.w2s.auxConfidenceLoss(logits, weak, 0.5, "argmax");
 * loss.backward();
 * console.log(loss.item().toFixed(4), logits.grad!.toArray()[0].map((g) => g.toFixed(4))); // "0.7451" ["0.1404", "-0.1404"]
 */
export function auxConfidenceLoss(
  logits: Tensor,
  weak: Tensor,
  alpha: number,
  hardening: Hardening = "prior",
): Tensor {
  const op = "auxConfidenceLoss";
  if (logits.ndim !== 2) {
    throw new TsgradError(op, `logits must be [B, K], got ${fmtShape(logits.shape)}`);
  }
  if (
    weak.shape.length !== 2 ||
    weak.shape[0] !== logits.shape[0] ||
    weak.shape[1] !== logits.shape[1]
  ) {
    throw new TsgradError(
      op,
      `weak labels ${fmtShape(weak.shape)} do not match logits ${fmtShape(logits.shape)}`,
    );
  }
  if (!(alpha >= 0 && alpha <= 1)) {
    throw new TsgradError(op, `alpha must be in [0, 1], got ${alpha}`);
  }
  if (alpha === 0) return F.crossEntropy(logits, weak);
  const target = noGrad(() => {
    const hard = hardenPredictions(logits.detach().softmax(1), hardening, weak);
    return weak.mul(1 - alpha).add(hard.mul(alpha));
  });
  return F.crossEntropy(logits, target);
}
