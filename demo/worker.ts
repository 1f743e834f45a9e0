/**
 * The training worker: loads the bundled Fashion-MNIST sample once, then trains the model the page
 * asks for on the backend it asks for (wasm, whose kernel threads are workers nested in this one,
 * or the js reference), reporting which backend and threads it got, every step, evaluating on
 * held-out test images every few steps, and posting checkpoints of the model so the page can
 * classify with it and offer it for download. Training runs here so that the page stays
 * responsive.
 */
import * as tg from "tsgrad";
import { encodeImageClassifier, type PixelStats } from "./checkpoints.js";
import type { BackendInfo, DemoBackend, FromWorker, ToWorker, TrainSettings } from "./protocol.js";

/** What is used of a dedicated worker's global scope (the project's lib is DOM, not WebWorker). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

// Literal `new URL(…, import.meta.url)`s, so Vite serves the files in development and copies
// them (and only them) into the production build.
const FILES = {
  trainImages: new URL("../data/fashion-mnist-sample/train-images-idx3-ubyte.gz", import.meta.url),
  trainLabels: new URL("../data/fashion-mnist-sample/train-labels-idx1-ubyte.gz", import.meta.url),
  testImages: new URL("../data/fashion-mnist-sample/t10k-images-idx3-ubyte.gz", import.meta.url),
  testLabels: new URL("../data/fashion-mnist-sample/t10k-labels-idx1-ubyte.gz", import.meta.url),
};

interface SampleData {
  train: tg.data.ImageDataset;
  test: tg.data.ImageDataset;
  stats: PixelStats;
}

let data: Promise<SampleData> | null = null;
let running = false;
let stopRequested = false;

async function fetchGunzipped(url: URL, name: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${name}: HTTP ${response.status} from ${url.pathname}`);
  return tg.data.gunzip(new Uint8Array(await response.arrayBuffer()), name);
}

async function loadData(): Promise<SampleData> {
  post({ type: "status", text: "Loading the Fashion-MNIST sample (2.6 MB)…" });
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    fetchGunzipped(FILES.trainImages, "train-images-idx3-ubyte.gz"),
    fetchGunzipped(FILES.trainLabels, "train-labels-idx1-ubyte.gz"),
    fetchGunzipped(FILES.testImages, "t10k-images-idx3-ubyte.gz"),
    fetchGunzipped(FILES.testLabels, "t10k-labels-idx1-ubyte.gz"),
  ]);
  const classes = tg.data.FASHION_MNIST_CLASSES;
  const train = tg.data.idxDataset(trainImages, trainLabels, classes, {
    images: "train-images-idx3-ubyte.gz",
    labels: "train-labels-idx1-ubyte.gz",
  });
  const test = tg.data.idxDataset(testImages, testLabels, classes, {
    images: "t10k-images-idx3-ubyte.gz",
    labels: "t10k-labels-idx1-ubyte.gz",
  });
  // Normalised as `tsgrad train image` does: by the training pixels' mean and deviation.
  return { train, test, stats: tg.vision.channelStats(train) };
}

/** Give the event loop a turn (so a "stop" message is seen) without the 4 ms timer clamp. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

/**
 * Select the run's backend and wait (up to 5 s) until all its threads run: wasm's threads are
 * Web Workers nested in this one, started in the background when the module loads, and steps
 * taken before they are ready run on fewer threads. Selecting wasm where it cannot run throws,
 * saying why (the run then ends with that message).
 */
async function useBackend(name: DemoBackend): Promise<BackendInfo> {
  await tg.ready();
  tg.setBackend(name);
  const wanted = tg.getBackend().numThreads?.() ?? 1;
  const started = performance.now();
  while (Number(tg.info().threadsRunning ?? 1) < wanted && performance.now() - started < 5000) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const info = tg.info();
  return {
    backend: String(info.backend),
    variant: String(info.variant ?? ""),
    threads: Number(info.threadsRunning ?? 1),
    singleThreadReason: String(info.singleThreadReason ?? ""),
  };
}

/** Test images spread evenly over the (class-balanced) test set. */
function evalSubset(test: tg.data.ImageDataset, n: number): tg.data.ImageDataset {
  const count = Math.min(n, test.length);
  return test.subset(
    Int32Array.from({ length: count }, (_, i) => Math.floor((i * test.length) / count)),
  );
}

async function train(settings: TrainSettings): Promise<void> {
  data ??= loadData();
  let loaded: SampleData;
  try {
    loaded = await data;
  } catch (e) {
    data = null; // let the next start try again
    throw e;
  }
  const { train: trainSet, test, stats } = loaded;
  const backend = await useBackend(settings.backend);
  post({ type: "backend", info: backend });
  const transforms = [tg.data.toTensor(), tg.data.normalize(stats.mean, stats.std)];
  tg.manualSeed(settings.seed);
  const model = tg.vision.createImageModel({
    name: settings.model,
    inChannels: 1,
    imageSize: 28,
    numClasses: tg.data.FASHION_MNIST_CLASSES.length,
    width: settings.width,
    init: tg.vision.defaultImageConfig.init,
  });
  const loader = new tg.data.DataLoader(trainSet, {
    batchSize: settings.batchSize,
    shuffle: true,
    dropLast: true,
    seed: settings.seed,
    transforms,
    workers: 0,
  });
  const perEpoch = loader.length;
  const steps =
    settings.length.unit === "steps"
      ? settings.length.value
      : Math.round(settings.length.value * perEpoch);
  if (!(steps >= 1)) throw new Error(`that is ${steps} steps: train for at least one step`);
  const params = model.parameters();
  const optimizer =
    settings.optimizer === "adam"
      ? new tg.optim.Adam(params, { lr: settings.lr })
      : new tg.optim.SGD(params, { lr: settings.lr, momentum: 0.9 });
  const evalSet = evalSubset(test, settings.evalImages);

  const evaluateAndSnapshot = (step: number): void => {
    const r = tg.vision.evaluate(model, evalSet, transforms, { batchSize: 250 });
    post({ type: "eval", step, accuracy: r.accuracy, loss: r.loss, images: evalSet.length });
    const epochs = Math.max(1, Math.ceil(step / perEpoch));
    // A copy on a buffer of its own, so it can be transferred rather than cloned.
    const bytes = encodeImageClassifier(model, settings, stats, { step, epochs }).slice();
    post({ type: "model", step, bytes }, [bytes.buffer]);
  };

  post({
    type: "status",
    text: `Training ${settings.model === "lenet5" ? "LeNet-5" : `AlexNet ×${settings.width}`} on ${backend.backend} for ${steps} steps (${(steps / perEpoch).toFixed(2)} epochs of ${trainSet.length} images)…`,
  });
  const started = performance.now();
  let step = 0;
  let lastEval = -1;
  while (step < steps && !stopRequested) {
    const epoch = Math.floor(step / perEpoch);
    const { x, y } = loader.batch(epoch, step % perEpoch);
    model.train();
    const loss = tg.F.crossEntropy(model.forward(x), y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    const value = loss.item();
    step++;
    if (!Number.isFinite(value)) {
      throw new Error(`the loss became ${value} at step ${step}: lower the learning rate`);
    }
    const seconds = (performance.now() - started) / 1000;
    post({
      type: "step",
      step,
      steps,
      epoch: step / perEpoch,
      loss: value,
      imagesPerSec: (step * settings.batchSize) / seconds,
    });
    if (step % settings.evalEvery === 0 || step === steps) {
      evaluateAndSnapshot(step);
      lastEval = step;
    }
    await nextTask();
  }
  if (step > 0 && lastEval !== step) evaluateAndSnapshot(step);
  post({
    type: "done",
    reason: step < steps ? "stopped" : "finished",
    step,
    seconds: (performance.now() - started) / 1000,
  });
}

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === "stop") {
    stopRequested = running;
    return;
  }
  if (running) {
    post({ type: "error", message: "training is already running: stop it first", ended: false });
    return;
  }
  running = true;
  stopRequested = false;
  train(message.settings)
    .catch((e: unknown) => {
      post({ type: "error", message: e instanceof Error ? e.message : String(e), ended: true });
    })
    .finally(() => {
      running = false;
      stopRequested = false;
    });
};
