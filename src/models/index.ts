/** tg.models — one file per model. */
export { AlexNet, type AlexNetConfig } from "./alexnet.ts";
export { LeNet5, type LeNet5Config } from "./lenet5.ts";
export {
  TransformerLM,
  sampleRow,
  type TransformerLMConfig,
  type SampleOptions,
} from "./transformer-lm.ts";
