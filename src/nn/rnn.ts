/**
 * Recurrent modules with PyTorch's parameter names, layouts and initialisation, so state dicts
 * move between the two: `LSTM`, `GRU` (multi-layer, bidirectional, batch-first, dropout between
 * layers, variable lengths, initial states) and the single-step `LSTMCell`, `GRUCell`. The layers
 * are `tg.F.lstmLayer` / `tg.F.gruLayer`, which a backend may run as one fused kernel.
 */
import * as F from "./functional.js";
import { Module, Parameter } from "./module.js";
import { uniform_ } from "./init.js";
import * as ops from "../ops/ops.js";
import { zeros } from "../tensor/creation.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import type { Generator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";

export interface RNNOptions {
  numLayers?: number;
  bias?: boolean;
  /** Input and output are [B, T, F] instead of [T, B, F]. */
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last (training only). */
  dropout?: number;
  bidirectional?: boolean;
  /** Generator for the inter-layer dropout masks. */
  generator?: Generator;
}

export interface RNNForwardOptions {
  /** Valid length of each batch element; steps beyond it are padding (outputs zero, state kept). */
  lengths?: readonly number[];
}

abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly generator: Generator | undefined;

  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    readonly gates: number,
    opts: RNNOptions,
  ) {
    super();
    this.numLayers = opts.numLayers ?? 1;
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.dropout = opts.dropout ?? 0;
    this.bidirectional = opts.bidirectional ?? false;
    this.generator = opts.generator;
    const k = 1 / Math.sqrt(hiddenSize);
    const dirs = this.bidirectional ? 2 : 1;
    // NOTE: PyTorch's names (weight_ih_l0, bias_hh_l1_reverse, …) and registration order.
    const self = this as unknown as Record<string, Tensor>;
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? inputSize : hiddenSize * dirs;
      for (let d = 0; d < dirs; d++) {
        const sfx = `_l${l}${d === 1 ? "_reverse" : ""}`;
        self[`weight_ih${sfx}`] = Parameter(uniform_(zeros([gates * hiddenSize, inSize]), -k, k));
        self[`weight_hh${sfx}`] = Parameter(
          uniform_(zeros([gates * hiddenSize, hiddenSize]), -k, k),
        );
        if (this.bias) {
          self[`bias_ih${sfx}`] = Parameter(uniform_(zeros([gates * hiddenSize]), -k, k));
          self[`bias_hh${sfx}`] = Parameter(uniform_(zeros([gates * hiddenSize]), -k, k));
        }
      }
    }
  }

  protected weights(l: number, d: number): [Tensor, Tensor, Tensor | null, Tensor | null] {
    const self = this as unknown as Record<string, Tensor>;
    const sfx = `_l${l}${d === 1 ? "_reverse" : ""}`;
    return [
      self[`weight_ih${sfx}`]!,
      self[`weight_hh${sfx}`]!,
      this.bias ? self[`bias_ih${sfx}`]! : null,
      this.bias ? self[`bias_hh${sfx}`]! : null,
    ];
  }

  protected checkInput(x: Tensor, state: readonly (Tensor | undefined)[]): [Tensor, number] {
    const name = this.constructor.name;
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize) {
      throw new TsgradError(
        name,
        `expected input [${this.batchFirst ? "B, T" : "T, B"}, ${this.inputSize}], got ${fmtShape(x.shape)}`,
      );
    }
    const seq = this.batchFirst ? ops.transpose(x, 0, 1) : x;
    const B = seq.shape[1]!;
    const want = [this.numLayers * (this.bidirectional ? 2 : 1), B, this.hiddenSize];
    for (const s of state) {
      if (s && (s.ndim !== 3 || s.shape.some((v, i) => v !== want[i]))) {
        throw new TsgradError(
          name,
          `initial state must be ${fmtShape(want)}, got ${fmtShape(s.shape)}`,
        );
      }
    }
    return [seq, B];
  }

  protected layerDropout(y: Tensor, l: number): Tensor {
    return l < this.numLayers - 1 && this.dropout > 0
      ? F.dropout(y, this.dropout, this.training, this.generator)
      : y;
  }

  protected override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}, numLayers=${this.numLayers}${this.bidirectional ? ", bidirectional=true" : ""}${this.batchFirst ? ", batchFirst=true" : ""}`;
  }
}

/**
 * Multi-layer LSTM. `forward(x, [h0, c0]?, { lengths }?)` returns `[output, [hN, cN]]` with output
 * [T, B, D·H] (or [B, T, D·H] when batch-first) and states [layers·D, B, H].
 *
 * @example
 * const lstm = new tg.nn.LSTM(8, 16, { numLayers: 2, bidirectional: true, batchFirst: true });
 * const [out, [h, c]] = lstm.forward(tg.randn([3, 5, 8]));
 * console.log(out.shape, h.shape, c.shape); // [3, 5, 32] [4, 3, 16] [4, 3, 16]
 */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super(inputSize, hiddenSize, 4, opts);
  }

  forward(
    x: Tensor,
    state?: [Tensor, Tensor],
    opts: RNNForwardOptions = {},
  ): [Tensor, [Tensor, Tensor]] {
    const [seq, B] = this.checkInput(x, state ?? []);
    const dirs = this.bidirectional ? 2 : 1;
    const H = this.hiddenSize;
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    let input = seq;
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < dirs; d++) {
        const i = l * dirs + d;
        const h0 = state
          ? ops.squeeze(ops.narrow(state[0], 0, i, 1), 0)
          : zeros([B, H], { dtype: seq.dtype });
        const c0 = state
          ? ops.squeeze(ops.narrow(state[1], 0, i, 1), 0)
          : zeros([B, H], { dtype: seq.dtype });
        const [out, h, c] = F.lstmLayer(input, h0, c0, ...this.weights(l, d), {
          reverse: d === 1,
          ...(opts.lengths ? { lengths: opts.lengths } : {}),
        });
        outs.push(out);
        hs.push(h);
        cs.push(c);
      }
      input = this.layerDropout(dirs === 1 ? outs[0]! : ops.cat(outs, 2), l);
    }
    const output = this.batchFirst ? ops.transpose(input, 0, 1) : input;
    return [output, [ops.stack(hs, 0), ops.stack(cs, 0)]];
  }
}

/**
 * Multi-layer GRU. `forward(x, h0?, { lengths }?)` returns `[output, hN]`.
 *
 * @example
 * const gru = new tg.nn.GRU(4, 6);
 * const [out, h] = gru.forward(tg.randn([7, 2, 4]));
 * console.log(out.shape, h.shape); // [7, 2, 6] [1, 2, 6]
 */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super(inputSize, hiddenSize, 3, opts);
  }

  forward(x: Tensor, h0?: Tensor, opts: RNNForwardOptions = {}): [Tensor, Tensor] {
    const [seq, B] = this.checkInput(x, [h0]);
    const dirs = this.bidirectional ? 2 : 1;
    const hs: Tensor[] = [];
    let input = seq;
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < dirs; d++) {
        const i = l * dirs + d;
        const h = h0
          ? ops.squeeze(ops.narrow(h0, 0, i, 1), 0)
          : zeros([B, this.hiddenSize], { dtype: seq.dtype });
        const [out, hN] = F.gruLayer(input, h, ...this.weights(l, d), {
          reverse: d === 1,
          ...(opts.lengths ? { lengths: opts.lengths } : {}),
        });
        outs.push(out);
        hs.push(hN);
      }
      input = this.layerDropout(dirs === 1 ? outs[0]! : ops.cat(outs, 2), l);
    }
    return [this.batchFirst ? ops.transpose(input, 0, 1) : input, ops.stack(hs, 0)];
  }
}

abstract class CellBase extends Module {
  weight_ih: Tensor;
  weight_hh: Tensor;
  bias_ih: Tensor | null;
  bias_hh: Tensor | null;
  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    gates: number,
    bias: boolean,
  ) {
    super();
    const k = 1 / Math.sqrt(hiddenSize);
    this.weight_ih = Parameter(uniform_(zeros([gates * hiddenSize, inputSize]), -k, k));
    this.weight_hh = Parameter(uniform_(zeros([gates * hiddenSize, hiddenSize]), -k, k));
    this.bias_ih = bias ? Parameter(uniform_(zeros([gates * hiddenSize]), -k, k)) : null;
    this.bias_hh = bias ? Parameter(uniform_(zeros([gates * hiddenSize]), -k, k)) : null;
  }
}

/**
 * One LSTM step: `forward(x [B, I], [h, c]?)` returns `[h', c']`.
 *
 * @example
 * const cell = new tg.nn.LSTMCell(3, 5);
 * const [h, c] = cell.forward(tg.randn([2, 3]));
 * console.log(h.shape, c.shape); // [2, 5] [2, 5]
 */
export class LSTMCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: { bias?: boolean } = {}) {
    super(inputSize, hiddenSize, 4, opts.bias ?? true);
  }
  forward(x: Tensor, state?: [Tensor, Tensor]): [Tensor, Tensor] {
    const B = x.shape[0]!;
    const h0 = state?.[0] ?? zeros([B, this.hiddenSize], { dtype: x.dtype });
    const c0 = state?.[1] ?? zeros([B, this.hiddenSize], { dtype: x.dtype });
    const [, h, c] = F.lstmLayer(
      ops.unsqueeze(x, 0),
      h0,
      c0,
      this.weight_ih,
      this.weight_hh,
      this.bias_ih,
      this.bias_hh,
    );
    return [h, c];
  }
}

/**
 * One GRU step: `forward(x [B, I], h?)` returns h'.
 *
 * @example
 * console.log(new tg.nn.GRUCell(3, 4).forward(tg.randn([2, 3])).shape); // [2, 4]
 */
export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: { bias?: boolean } = {}) {
    super(inputSize, hiddenSize, 3, opts.bias ?? true);
  }
  forward(x: Tensor, h?: Tensor): Tensor {
    const h0 = h ?? zeros([x.shape[0]!, this.hiddenSize], { dtype: x.dtype });
    return F.gruLayer(
      ops.unsqueeze(x, 0),
      h0,
      this.weight_ih,
      this.weight_hh,
      this.bias_ih,
      this.bias_hh,
    )[1];
  }
}
