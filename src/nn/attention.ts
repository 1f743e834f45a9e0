/**
 * Attention for encoder–decoder models: additive (Bahdanau et al. 2015) and multiplicative
 * (Luong et al. 2015: "dot" and "general") scoring of a decoder query against encoder states,
 * with a padding mask. Each returns the context vector and the attention weights.
 */
import { Linear } from "./layers.js";
import { Module } from "./module.js";
import * as ops from "../ops/ops.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import type { Tensor } from "../tensor/tensor.js";

function attend(scores: Tensor, values: Tensor, mask: Tensor | null | undefined): [Tensor, Tensor] {
  // scores [B, T]; mask [B, T] bool (true = a real token). Masked scores get -inf before softmax.
  if (mask) {
    if (
      mask.dtype !== "bool" ||
      mask.ndim !== 2 ||
      mask.shape[0] !== scores.shape[0] ||
      mask.shape[1] !== scores.shape[1]
    ) {
      throw new TsgradError(
        "attention",
        `mask must be bool ${fmtShape(scores.shape)}, got ${mask.dtype} ${fmtShape(mask.shape)}`,
      );
    }
    scores = ops.where(mask, scores, -Infinity);
  }
  const weights = ops.softmax(scores, 1);
  const context = ops.squeeze(ops.matmul(ops.unsqueeze(weights, 1), values), 1);
  return [context, weights];
}

function checkKeys(name: string, query: Tensor, keys: Tensor, values: Tensor): void {
  if (
    query.ndim !== 2 ||
    keys.ndim !== 3 ||
    values.ndim !== 3 ||
    keys.shape[0] !== query.shape[0] ||
    values.shape[1] !== keys.shape[1]
  ) {
    throw new TsgradError(
      name,
      `expected query [B, Dq], keys [B, T, Dk], values [B, T, Dv]; got ${fmtShape(query.shape)}, ${fmtShape(keys.shape)}, ${fmtShape(values.shape)}`,
    );
  }
}

/**
 * Bahdanau (additive) attention: score(q, kₜ) = vᵀ tanh(W_q q + W_k kₜ). Call `projectKeys` once per
 * source sentence and reuse it at every decoder step.
 *
 * @example
 * const att = new tg.nn.AdditiveAttention(8, 6, 10);
 * const keys = tg.randn([2, 5, 6]);
 * const [ctx, w] = att.forward(tg.randn([2, 8]), att.projectKeys(keys), keys);
 * console.log(ctx.shape, w.shape); // [2, 6] [2, 5]
 */
export class AdditiveAttention extends Module {
  queryProj: Linear;
  keyProj: Linear;
  v: Linear;
  constructor(
    readonly queryDim: number,
    readonly keyDim: number,
    readonly hiddenDim: number,
  ) {
    super();
    this.queryProj = new Linear(queryDim, hiddenDim, { bias: false });
    this.keyProj = new Linear(keyDim, hiddenDim);
    this.v = new Linear(hiddenDim, 1, { bias: false });
  }
  /** W_k kₜ for every key: [B, T, hidden]. */
  projectKeys(keys: Tensor): Tensor {
    return this.keyProj.forward(keys);
  }
  forward(
    query: Tensor,
    projectedKeys: Tensor,
    values: Tensor,
    mask?: Tensor | null,
  ): [Tensor, Tensor] {
    checkKeys("AdditiveAttention", query, projectedKeys, values);
    const q = ops.unsqueeze(this.queryProj.forward(query), 1);
    const scores = ops.squeeze(this.v.forward(ops.tanh(ops.add(projectedKeys, q))), 2);
    return attend(scores, values, mask);
  }
}

/**
 * Luong (multiplicative) attention: score(q, kₜ) = q·kₜ ("dot") or qᵀ W kₜ ("general").
 *
 * @example
 * const att = new tg.nn.DotAttention(4, 4, "general");
 * const keys = tg.randn([3, 7, 4]);
 * const mask = tg.ones([3, 7]).gt(0);
 * console.log(att.forward(tg.randn([3, 4]), keys, keys, mask)[1].sum(1).toArray()); // [1, 1, 1]
 */
export class DotAttention extends Module {
  w: Linear | null;
  constructor(
    readonly queryDim: number,
    readonly keyDim: number,
    readonly score: "dot" | "general" = "dot",
  ) {
    super();
    if (score === "dot" && queryDim !== keyDim) {
      throw new TsgradError(
        "DotAttention",
        `"dot" scoring needs equal query and key sizes, got ${queryDim} and ${keyDim}`,
      );
    }
    this.w = score === "general" ? new Linear(queryDim, keyDim, { bias: false }) : null;
  }
  forward(query: Tensor, keys: Tensor, values: Tensor, mask?: Tensor | null): [Tensor, Tensor] {
    checkKeys("DotAttention", query, keys, values);
    const q = this.w ? this.w.forward(query) : query;
    const scores = ops.squeeze(ops.matmul(keys, ops.unsqueeze(q, 2)), 2);
    return attend(scores, values, mask);
  }
}
