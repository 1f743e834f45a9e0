/**
 * Decoding for encoder–decoder models: batched greedy search and batched beam search with length
 * normalisation. A model exposes `encode`, `decodeStep` and `reorder`, so the search never sees its
 * internals.
 */
import * as ops from "../ops/ops.js";
import { noGrad } from "../tensor/autograd.js";
import { tensor } from "../tensor/creation.js";
import { TsgradError } from "../tensor/errors.js";
import type { Module } from "../nn/module.js";
import type { Tensor } from "../tensor/tensor.js";

/** What a sequence-to-sequence model offers to a search. `S` is its decoder state. */
export interface Seq2SeqDecoder<S> extends Module {
  /** Encode padded source ids [B, S] with their lengths into the initial decoder state. */
  encode(src: Tensor, srcLengths: readonly number[]): S;
  /** One decoder step: previous tokens [N] (int32) → log-probabilities [N, V] and the next state. */
  decodeStep(state: S, prev: Tensor): [Tensor, S];
  /** Select rows of every batch-major tensor in the state (beam reordering / expansion). */
  reorder(state: S, rows: Tensor): S;
}

/**
 * The rows `rows` (int32 indices) of `x` [B, T, F] flattened to [B·T, F], or `x` unchanged without
 * `rows`. Training projects only the non-padding target positions to the vocabulary: with
 * length-varied batches a third of the positions can be padding, and the output layer is most of
 * a step's work.
 *
 * @example
 * const x = tg.arange(12).reshape([2, 3, 2]);
 * console.log(tg.models.selectRows(x, tg.tensor([0, 4], { dtype: "int32" })).toArray()); // [[0, 1], [8, 9]]
 */
export function selectRows(x: Tensor, rows?: Tensor): Tensor {
  if (rows === undefined) return x;
  return ops.indexSelect(ops.reshape(x, [-1, x.shape[x.ndim - 1]!]), 0, rows);
}

export interface DecodeOptions {
  bos: number;
  eos: number;
  /** Maximum output length; by default 1.5 × source length + 10 per sentence. */
  maxLength?: number;
}

function maxLengths(srcLengths: readonly number[], opts: DecodeOptions): number[] {
  return srcLengths.map((l) => opts.maxLength ?? Math.ceil(1.5 * l) + 10);
}

/**
 * Greedy decoding: the most likely token at each step, for a whole batch at once. Returns token
 * ids per sentence, without BOS/EOS.
 *
 * @example
 * const m = new tg.models.Seq2Seq({ srcVocab: 10, tgtVocab: 10, embedDim: 4, hiddenDim: 8, numLayers: 1 });
 * const out = tg.models.greedyDecode(m, tg.randint(3, 10, [2, 4]), [4, 2], { bos: 1, eos: 2, maxLength: 5 });
 * console.log(out.length, out.every((s) => s.length <= 5)); // 2 true
 */
export function greedyDecode<S>(
  model: Seq2SeqDecoder<S>,
  src: Tensor,
  srcLengths: readonly number[],
  opts: DecodeOptions,
): number[][] {
  return noGrad(() => {
    const B = src.shape[0]!;
    const limits = maxLengths(srcLengths, opts);
    let state = model.encode(src, srcLengths);
    let prev = new Int32Array(B).fill(opts.bos);
    const out: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    for (let t = 0; t < Math.max(...limits) && !done.every(Boolean); t++) {
      const [logp, next] = model.decodeStep(state, tensor(prev));
      state = next;
      const V = logp.shape[1]!;
      const lp = logp.dataSync();
      prev = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        let best = 0;
        for (let v = 1; v < V; v++) if (lp[b * V + v]! > lp[b * V + best]!) best = v;
        prev[b] = best;
        if (done[b]) continue;
        if (best === opts.eos || out[b]!.length >= limits[b]!) done[b] = true;
        else out[b]!.push(best);
      }
    }
    return out;
  });
}

export interface BeamOptions extends DecodeOptions {
  beamSize: number;
  /** Score = log p / length^α (α = 0: raw log-probability; 1: per-token average). */
  lengthPenalty?: number;
}

interface Hypothesis {
  tokens: number[];
  logp: number;
}

/**
 * Beam search over a batch: keeps `beamSize` hypotheses per sentence, finishes a hypothesis at EOS,
 * and returns each sentence's best finished hypothesis by length-normalised score.
 *
 * @example
 * const m = new tg.models.Seq2Seq({ srcVocab: 10, tgtVocab: 10, embedDim: 4, hiddenDim: 8, numLayers: 1 });
 * const out = tg.models.beamSearch(m, tg.randint(3, 10, [2, 4]), [4, 3], { bos: 1, eos: 2, beamSize: 3, maxLength: 6 });
 * console.log(out.length, out.every((s) => s.length <= 6)); // 2 true
 */
export function beamSearch<S>(
  model: Seq2SeqDecoder<S>,
  src: Tensor,
  srcLengths: readonly number[],
  opts: BeamOptions,
): number[][] {
  const { beamSize: K, lengthPenalty = 1, bos, eos } = opts;
  if (!(Number.isInteger(K) && K >= 1)) {
    throw new TsgradError("beamSearch", `beam size must be a positive integer, got ${K}`);
  }
  return noGrad(() => {
    const B = src.shape[0]!;
    const limits = maxLengths(srcLengths, opts);
    const score = (h: Hypothesis) =>
      h.logp / Math.pow(Math.max(1, h.tokens.length + 1), lengthPenalty);
    // Start with one live hypothesis per sentence, replicated K times (the copies are masked out).
    let state = model.reorder(
      model.encode(src, srcLengths),
      tensor(Int32Array.from({ length: B * K }, (_, i) => Math.floor(i / K))),
    );
    let beams: Hypothesis[][] = Array.from({ length: B }, () =>
      Array.from({ length: K }, (_, k) => ({ tokens: [], logp: k === 0 ? 0 : -Infinity })),
    );
    const finished: Hypothesis[][] = Array.from({ length: B }, () => []);
    const active = new Array<boolean>(B).fill(true);
    while (active.some(Boolean)) {
      const prev = Int32Array.from(
        beams.flatMap((bs) =>
          bs.map((h) => (h.tokens.length ? h.tokens[h.tokens.length - 1]! : bos)),
        ),
      );
      const [logp, next] = model.decodeStep(state, tensor(prev));
      const V = logp.shape[1]!;
      const lp = logp.dataSync();
      const rows = new Int32Array(B * K);
      const nextBeams: Hypothesis[][] = [];
      for (let b = 0; b < B; b++) {
        const cand: { from: number; tok: number; logp: number }[] = [];
        if (active[b]) {
          for (let k = 0; k < K; k++) {
            const base = beams[b]![k]!.logp;
            if (base === -Infinity) continue;
            const row = (b * K + k) * V;
            // Only the K best extensions of each beam can make the global top K.
            const top = topK(lp, row, V, K);
            for (const v of top) cand.push({ from: k, tok: v, logp: base + lp[row + v]! });
          }
          cand.sort((x, y) => y.logp - x.logp);
        }
        const keep: Hypothesis[] = [];
        for (const c of cand) {
          const h = { tokens: [...beams[b]![c.from]!.tokens, c.tok], logp: c.logp };
          if (c.tok === eos) finished[b]!.push({ tokens: h.tokens.slice(0, -1), logp: h.logp });
          else if (h.tokens.length >= limits[b]!) finished[b]!.push(h);
          else if (keep.length < K) {
            rows[b * K + keep.length] = b * K + c.from;
            keep.push(h);
          }
          if (keep.length === K) break;
        }
        // As fairseq: a sentence is done once it has K finished hypotheses (or no live beam).
        if (keep.length === 0 || finished[b]!.length >= K) active[b] = false;
        while (keep.length < K) {
          rows[b * K + keep.length] = b * K;
          keep.push({ tokens: [], logp: -Infinity });
        }
        nextBeams.push(keep);
      }
      beams = nextBeams;
      state = model.reorder(next, tensor(rows));
    }
    return finished.map((f, b) => {
      const pool = f.length ? f : beams[b]!.filter((h) => h.logp > -Infinity);
      pool.sort((x, y) => score(y) - score(x));
      return pool[0]?.tokens ?? [];
    });
  });
}

/** Indices of the k largest values in a[off .. off+n). */
function topK(a: ArrayLike<number>, off: number, n: number, k: number): number[] {
  const best: number[] = [];
  for (let v = 0; v < n; v++) {
    const x = a[off + v]!;
    if (best.length < k) {
      best.push(v);
      best.sort((p, q) => a[off + q]! - a[off + p]!);
    } else if (x > a[off + best[k - 1]!]!) {
      best[k - 1] = v;
      for (let i = k - 1; i > 0 && a[off + best[i]!]! > a[off + best[i - 1]!]!; i--) {
        [best[i], best[i - 1]] = [best[i - 1]!, best[i]!];
      }
    }
  }
  return best;
}
