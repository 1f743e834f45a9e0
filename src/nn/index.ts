/** tg.nn — modules, initialisers and losses (like torch.nn). */
export {
  Module,
  Parameter,
  Buffer,
  isParameter,
  isBuffer,
  type LoadStateDictOptions,
} from "./module.js";
export {
  Layer,
  Linear,
  Conv2d,
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  ReLU,
  Tanh,
  Sigmoid,
  GELU,
  Identity,
  Dropout,
  LocalResponseNorm,
  BatchNorm1d,
  BatchNorm2d,
  LayerNorm,
  Flatten,
  Embedding,
  Sequential,
  type Conv2dOptions,
  type BatchNormOptions,
} from "./layers.js";
export type { Pair } from "./functional.js";
export { CrossEntropyLoss, NLLLoss, MSELoss } from "./losses.js";
export { LSTM, GRU, LSTMCell, GRUCell, type RNNOptions, type RNNForwardOptions } from "./rnn.js";
export { AdditiveAttention, DotAttention } from "./attention.js";
export * as init from "./init.js";
