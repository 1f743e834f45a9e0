/**
 * tg.data — datasets, readers, transforms and the DataLoader (like torch.utils.data plus the
 * parts of torchvision that load and augment images).
 *
 * Readers parse bytes (`parseIdx`, `idxDataset`, `parseCifar`, `gunzip`: usable in a browser) or
 * files (Node only); every dataset is an `ImageDataset` of uint8 NCHW pixels; transforms are
 * plain data so worker threads can run them; the `DataLoader` makes each epoch's order and
 * augmentation a pure function of (seed, epoch, position) for exact resume.
 */
export {
  type Dataset,
  type ImageSample,
  type ImageDatasetInit,
  type Splittable,
  ImageDataset,
  randomSplit,
  sharedBytes,
} from "./dataset.js";
export {
  type IdxDType,
  type IdxArray,
  type IdxData,
  isGzip,
  gunzip,
  parseIdx,
  encodeIdx,
  readMaybeGzip,
  readIdxFile,
  writeIdxFile,
  readIdxDataset,
  idxDataset,
} from "./idx.js";
export {
  type CifarFormat,
  type CifarData,
  CIFAR10_CLASSES,
  CIFAR10_FILES,
  parseCifar,
  readCifarFiles,
  loadCifar10,
} from "./cifar.js";
export {
  type DecodedImage,
  type ImageFolderOptions,
  decodeImage,
  toChw,
  resizeImage,
  centerSquare,
  loadImageFolder,
} from "./image-folder.js";
export {
  type DatasetSpec,
  type DatasetOptions,
  type ResolvedDataset,
  DATASETS,
  dataRoots,
  resolveDataset,
} from "./locate.js";
export {
  type FashionMnistName,
  type FashionMnistOptions,
  FASHION_MNIST_CLASSES,
  resolveFashionMnist,
  loadFashionMnist,
} from "./fashion-mnist.js";
export {
  type Image,
  type Transform,
  type TransformFn,
  type TransformSpec,
  type ToTensorSpec,
  type NormalizeSpec,
  type RandomCropSpec,
  type RandomHorizontalFlipSpec,
  toTensor,
  normalize,
  randomCrop,
  randomHorizontalFlip,
  transformedShape,
  applyTransforms,
} from "./transforms.js";
export { type DataLoaderOptions, type Batch, type BatchStream, DataLoader } from "./loader.js";
