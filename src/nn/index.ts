/** tg.nn — modules, initialisers and losses (like torch.nn). */
export {
  Module,
  Parameter,
  Buffer,
  isParameter,
  isBuffer,
  type LoadStateDictOptions,
} from "./module.ts";
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
} from "./layers.ts";
export { CrossEntropyLoss, NLLLoss, MSELoss } from "./losses.ts";
export { LSTM, GRU, LSTMCell, GRUCell, type RNNOptions, type RNNForwardOptions } from "./rnn.ts";
export { AdditiveAttention, DotAttention } from "./attention.ts";
export * as init from "./init.ts";
