/**
 * `tg.nn.init`: in-place initialisers, as torch.nn.init. Each fills a tensor's storage from the
 * default generator (or the one given) and returns the tensor.
 */
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { type Generator, defaultGenerator } from "../tensor/random.js";
import type { Tensor } from "../tensor/tensor.js";

/** The nonlinearities `calculateGain` knows (PyTorch's names). */
export type Nonlinearity =
  "linear" | "conv2d" | "sigmoid" | "tanh" | "relu" | "leaky_relu" | "selu";

function fill(t: Tensor, draw: () => number): Tensor {
  if (!t.isContiguous()) {
    throw new TsgradError("init", `tensor of shape ${fmtShape(t.shape)} is not contiguous`);
  }
  for (let i = 0; i < t.size; i++) t.data[t.offset + i] = draw();
  return t;
}

/**
 * (fanIn, fanOut) as PyTorch computes them: [out, in, ...receptive field].
 *
 * @example
 * console.log(tg.nn.init.calculateFans(tg.zeros([16, 8, 3, 3]))); // [72, 144]
 */
export function calculateFans(t: Tensor): [number, number] {
  if (t.ndim < 2) {
    throw new TsgradError(
      "init",
      `fan in/out need at least 2 dimensions, got ${fmtShape(t.shape)}`,
    );
  }
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

/**
 * torch.nn.init.calculate_gain.
 *
 * @example
 * console.log(tg.nn.init.calculateGain("relu") === Math.SQRT2); // true
 */
export function calculateGain(nonlinearity: Nonlinearity, param = 0.01): number {
  switch (nonlinearity) {
    case "linear":
    case "conv2d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leaky_relu":
      return Math.sqrt(2 / (1 + param * param));
    case "selu":
      return 3 / 4;
  }
}

/**
 * Normal samples N(mean, std²), as AlexNet initialised its weights (std 0.01).
 *
 * @example
 * const w = tg.nn.init.normal_(tg.zeros([1000]), 0, 0.01);
 * console.log(Math.abs(w.std().item() - 0.01) < 0.002); // true
 */
export function normal_(
  t: Tensor,
  mean = 0,
  std = 1,
  generator: Generator = defaultGenerator,
): Tensor {
  return fill(t, () => mean + std * generator.normal());
}

/**
 * Uniform samples in [a, b).
 *
 * @example
 * const t = tg.nn.init.uniform_(tg.zeros([100]), -1, 1);
 * console.log(t.min().item() >= -1 && t.max().item() < 1); // true
 */
export function uniform_(t: Tensor, a = 0, b = 1, generator: Generator = defaultGenerator): Tensor {
  return fill(t, () => a + (b - a) * generator.uniform());
}

/**
 * Fill with `value`.
 *
 * @example
 * console.log(tg.nn.init.constant_(tg.zeros([2]), 3).toArray()); // [3, 3]
 */
export function constant_(t: Tensor, value: number): Tensor {
  return fill(t, () => value);
}

/**
 * Fill with zeros.
 *
 * @example
 * console.log(tg.nn.init.zeros_(tg.ones([2])).toArray()); // [0, 0]
 */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/**
 * Fill with ones.
 *
 * @example
 * console.log(tg.nn.init.ones_(tg.zeros([2])).toArray()); // [1, 1]
 */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer (leaky_relu only). */
  a?: number;
  mode?: "fanIn" | "fanOut";
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

/**
 * He et al. (2015) uniform initialisation: U(-b, b) with b = gain·√(3 / fan).
 *
 * @example
 * const w = tg.nn.init.kaimingUniform_(tg.zeros([64, 32]), { nonlinearity: "relu" });
 * console.log(w.abs().max().item() <= Math.sqrt(2) * Math.sqrt(3 / 32)); // true
 */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const { a = 0, mode = "fanIn", nonlinearity = "leaky_relu", generator = defaultGenerator } = opts;
  const [fanIn, fanOut] = calculateFans(t);
  const bound = calculateGain(nonlinearity, a) * Math.sqrt(3 / (mode === "fanIn" ? fanIn : fanOut));
  return uniform_(t, -bound, bound, generator);
}

/**
 * He et al. (2015) normal initialisation: N(0, (gain / √fan)²).
 *
 * @example
 * const w = tg.nn.init.kaimingNormal_(tg.zeros([256, 64]), { nonlinearity: "relu" });
 * console.log(Math.abs(w.std().item() - Math.sqrt(2 / 64)) < 0.01); // true
 */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const { a = 0, mode = "fanIn", nonlinearity = "leaky_relu", generator = defaultGenerator } = opts;
  const [fanIn, fanOut] = calculateFans(t);
  return normal_(
    t,
    0,
    calculateGain(nonlinearity, a) / Math.sqrt(mode === "fanIn" ? fanIn : fanOut),
    generator,
  );
}

/**
 * Glorot & Bengio (2010) uniform initialisation: U(-b, b) with b = gain·√(6 / (fanIn + fanOut)).
 *
 * @example
 * const w = tg.nn.init.xavierUniform_(tg.zeros([10, 10]));
 * console.log(w.abs().max().item() <= Math.sqrt(6 / 20)); // true
 */
export function xavierUniform_(
  t: Tensor,
  gain = 1,
  generator: Generator = defaultGenerator,
): Tensor {
  const [fanIn, fanOut] = calculateFans(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound, generator);
}

/**
 * Glorot & Bengio (2010) normal initialisation: N(0, gain²·2 / (fanIn + fanOut)).
 *
 * @example
 * const w = tg.nn.init.xavierNormal_(tg.zeros([100, 100]));
 * console.log(Math.abs(w.std().item() - 0.1) < 0.01); // true
 */
export function xavierNormal_(
  t: Tensor,
  gain = 1,
  generator: Generator = defaultGenerator,
): Tensor {
  const [fanIn, fanOut] = calculateFans(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), generator);
}
