/** tg.vision — image classification workflows: datasets by name, model ladder, training, evaluation. */
export { loadImageData, channelStats, type ImageData } from "./data.js";
export {
  createImageModel,
  IMAGE_MODELS,
  type ImageModelName,
  type ImageModelSpec,
} from "./models.js";
export {
  trainImageClassifier,
  evaluate,
  splitTrainVal,
  imageTransforms,
  validateImageConfig,
  defaultImageConfig,
  TEST_VIEWS,
  type ImageTrainConfig,
  type TrainImageOptions,
  type ImageTrainResult,
  type EvalResult,
  type EvalOptions,
  type TestViews,
} from "./train.js";
export { loadImageClassifier, pictureToTensor, type ImageModelMeta } from "./checkpoint.js";
