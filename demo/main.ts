/**
 * The demo page: training controls and chart (the training itself runs in worker.ts), the
 * classifier with its draw pad and picture input, and the panels for CLI checkpoints.
 */
import * as tg from "tsgrad";
import { type LoadedCheckpoint, loadAnyCheckpoint, topClasses } from "./checkpoints.js";
import type { BackendInfo, DemoModel, FromWorker, ToWorker, TrainSettings } from "./protocol.js";

/**
 * The narrow AlexNet's channel multiplier: 8-16-24-24-16 channels and 128 hidden units, the widest
 * that still trains at an interactive speed on the js backend (see README.md for the numbers).
 */
const ALEXNET_WIDTH = 0.125;

/** What the page exposes for tests and for poking at from the console. */
interface DemoState {
  losses: number[];
  evals: { step: number; accuracy: number; loss: number }[];
  imagesPerSec: number;
  /** What the last run trained on (null before the first run). */
  backend: BackendInfo | null;
}

declare global {
  interface Window {
    tsgradDemo?: DemoState;
  }
}

const state: DemoState = { losses: [], evals: [], imagesPerSec: 0, backend: null };
window.tsgradDemo = state;

/** The element with `id`, checked to be of the expected kind (a renamed id fails loudly here). */
function byId<T extends HTMLElement>(id: string, kind: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`demo page: #${id} is missing or not a ${kind.name}`);
  return el;
}

function context2d(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (ctx === null) throw new Error("this browser gives no 2D canvas context");
  return ctx;
}

const ui = {
  status: byId("status", HTMLParagraphElement),
  form: byId("train-form", HTMLFormElement),
  backend: byId("train-backend", HTMLSelectElement),
  model: byId("train-model", HTMLSelectElement),
  amount: byId("train-amount", HTMLInputElement),
  unit: byId("train-unit", HTMLSelectElement),
  batch: byId("train-batch", HTMLInputElement),
  optimizer: byId("train-optimizer", HTMLSelectElement),
  lr: byId("train-lr", HTMLInputElement),
  evalEvery: byId("train-eval-every", HTMLInputElement),
  evalImages: byId("train-eval-images", HTMLInputElement),
  seed: byId("train-seed", HTMLInputElement),
  start: byId("train-start", HTMLButtonElement),
  stop: byId("train-stop", HTMLButtonElement),
  progress: byId("train-progress", HTMLProgressElement),
  progressText: byId("train-progress-text", HTMLSpanElement),
  trainBackendInfo: byId("train-backend-info", HTMLParagraphElement),
  chart: byId("train-chart", HTMLCanvasElement),
  loss: byId("train-loss", HTMLElement),
  accuracy: byId("train-accuracy", HTMLElement),
  trainState: byId("train-state", HTMLSpanElement),
  download: byId("download-model", HTMLButtonElement),
  classifierSource: byId("classifier-source", HTMLParagraphElement),
  pad: byId("draw-pad", HTMLCanvasElement),
  clear: byId("draw-clear", HTMLButtonElement),
  imageDrop: byId("image-drop", HTMLLabelElement),
  imageFile: byId("image-file", HTMLInputElement),
  invert: byId("image-invert", HTMLInputElement),
  preview: byId("image-preview", HTMLCanvasElement),
  caption: byId("image-caption", HTMLElement),
  modelInput: byId("model-input", HTMLCanvasElement),
  predictions: byId("predictions", HTMLOListElement),
  checkpointDrop: byId("checkpoint-drop", HTMLLabelElement),
  checkpointFile: byId("checkpoint-file", HTMLInputElement),
  checkpointInfo: byId("checkpoint-info", HTMLParagraphElement),
  lmPanel: byId("lm-panel", HTMLDivElement),
  lmSummary: byId("lm-summary", HTMLSpanElement),
  lmPrompt: byId("lm-prompt", HTMLInputElement),
  lmTokens: byId("lm-tokens", HTMLInputElement),
  lmTemperature: byId("lm-temperature", HTMLInputElement),
  lmSample: byId("lm-sample", HTMLButtonElement),
  lmOutput: byId("lm-output", HTMLPreElement),
  translatePanel: byId("translate-panel", HTMLDivElement),
  translateSummary: byId("translate-summary", HTMLSpanElement),
  translateSource: byId("translate-source", HTMLInputElement),
  translateBeam: byId("translate-beam", HTMLInputElement),
  translateRun: byId("translate-run", HTMLButtonElement),
  translateOutput: byId("translate-output", HTMLParagraphElement),
  backendInfo: byId("backend-info", HTMLSpanElement),
};

// ---------------------------------------------------------------------------------------------
// Status line: every outcome the user should know about, errors included, lands here.

type StatusKind = "info" | "busy" | "ok" | "error";

function setStatus(text: string, kind: StatusKind = "info"): void {
  ui.status.textContent = text;
  ui.status.dataset.kind = kind;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Run an event handler, reporting a failure in the status line instead of losing it. */
function guarded(what: string, fn: () => Promise<void> | void): () => void {
  return () => {
    Promise.resolve()
      .then(fn)
      .catch((e: unknown) => setStatus(`${what} failed: ${errorText(e)}`, "error"));
  };
}

/** Let the browser paint (a status line, a disabled button) before a long synchronous job. */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

window.addEventListener("error", (e) => setStatus(`Unexpected error: ${e.message}`, "error"));
window.addEventListener("unhandledrejection", (e) =>
  setStatus(`Unexpected error: ${errorText(e.reason)}`, "error"),
);

// ---------------------------------------------------------------------------------------------
// Reading the number inputs, with messages that say which field is wrong.

function numberField(
  input: HTMLInputElement,
  name: string,
  opts: { min: number; max: number; integer?: boolean },
): number {
  const v = Number(input.value);
  const kind = opts.integer ? "a whole number" : "a number";
  if (input.value.trim() === "" || !Number.isFinite(v) || (opts.integer && !Number.isInteger(v))) {
    throw new Error(`${name} must be ${kind}, got "${input.value}"`);
  }
  if (v < opts.min || v > opts.max) {
    throw new Error(`${name} must be between ${opts.min} and ${opts.max}, got ${v}`);
  }
  return v;
}

function readSettings(): TrainSettings {
  const model = ui.model.value as DemoModel;
  const unit = ui.unit.value === "steps" ? "steps" : "epochs";
  const value =
    unit === "steps"
      ? numberField(ui.amount, "Steps", { min: 1, max: 100_000, integer: true })
      : numberField(ui.amount, "Epochs", { min: 0.01, max: 100 });
  return {
    backend: ui.backend.value === "js" ? "js" : "wasm",
    model,
    width: model === "alexnet" ? ALEXNET_WIDTH : 1,
    length: { unit, value },
    batchSize: numberField(ui.batch, "Batch size", { min: 1, max: 512, integer: true }),
    optimizer: ui.optimizer.value === "sgd" ? "sgd" : "adam",
    lr: numberField(ui.lr, "Learning rate", { min: 1e-6, max: 1 }),
    evalEvery: numberField(ui.evalEvery, "Evaluate every", { min: 1, max: 100_000, integer: true }),
    evalImages: numberField(ui.evalImages, "Test images", { min: 10, max: 1000, integer: true }),
    seed: numberField(ui.seed, "Seed", { min: 0, max: 2 ** 31 - 1, integer: true }),
  };
}

// ---------------------------------------------------------------------------------------------
// The loss / accuracy chart.

let totalSteps = 1;
let chartQueued = false;

function queueChart(): void {
  if (chartQueued) return;
  chartQueued = true;
  requestAnimationFrame(() => {
    chartQueued = false;
    drawChart();
  });
}

/** Exponential moving average with bias correction, so the first points are not pulled to 0. */
function smoothed(xs: readonly number[], beta = 0.9): number[] {
  let m = 0;
  return xs.map((x, i) => {
    m = beta * m + (1 - beta) * x;
    return m / (1 - beta ** (i + 1));
  });
}

function drawChart(): void {
  const canvas = ui.chart;
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = context2d(canvas);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const pad = { left: 44, right: 48, top: 14, bottom: 28 };
  const pw = w - pad.left - pad.right;
  const ph = h - pad.top - pad.bottom;
  const losses = state.losses;
  // Loss gridlines at a round step; the accuracy axis (right) has its own 0–100% labels.
  const top = Math.max(0.5, ...losses.filter(Number.isFinite));
  const tick = [0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10].find((t) => top / t <= 6) ?? 20;
  const maxLoss = Math.ceil(top / tick) * tick;
  const xOf = (step: number) => pad.left + (step / Math.max(1, totalSteps)) * pw;
  const yLoss = (l: number) => pad.top + ph - (Math.min(l, maxLoss) / maxLoss) * ph;
  const yAcc = (a: number) => pad.top + ph - a * ph;

  ctx.font = "11px system-ui, sans-serif";
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#e6e9ef";
  ctx.fillStyle = "#6a7282";
  ctx.textBaseline = "middle";
  ctx.textAlign = "right";
  for (let i = 0; i * tick <= maxLoss + 1e-9; i++) {
    const y = yLoss(i * tick);
    ctx.beginPath();
    ctx.moveTo(pad.left, y);
    ctx.lineTo(pad.left + pw, y);
    ctx.stroke();
    ctx.fillText(String(Number((i * tick).toFixed(2))), pad.left - 6, y);
  }
  ctx.textAlign = "left";
  ctx.fillStyle = "#b8650f";
  for (let a = 0; a <= 100; a += 25) ctx.fillText(`${a}%`, pad.left + pw + 6, yAcc(a / 100));
  ctx.fillStyle = "#6a7282";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (let i = 0; i <= 4; i++) {
    const step = Math.round((i / 4) * totalSteps);
    ctx.fillText(String(step), xOf(step), pad.top + ph + 6);
  }
  ctx.textAlign = "right";
  ctx.fillText("step", pad.left - 6, pad.top + ph + 6);

  const line = (points: [number, number][], color: string, width: number) => {
    if (points.length === 0) return;
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.lineJoin = "round";
    ctx.beginPath();
    points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
    ctx.stroke();
  };
  line(
    losses.map((l, i) => [xOf(i + 1), yLoss(l)]),
    "rgba(47, 111, 222, 0.25)",
    1,
  );
  line(
    smoothed(losses).map((l, i) => [xOf(i + 1), yLoss(l)]),
    "#2f6fde",
    2,
  );
  const acc = state.evals.map((e): [number, number] => [xOf(e.step), yAcc(e.accuracy)]);
  line(acc, "#e07b1f", 2);
  ctx.fillStyle = "#e07b1f";
  for (const [x, y] of acc) {
    ctx.beginPath();
    ctx.arc(x, y, 3, 0, 2 * Math.PI);
    ctx.fill();
  }

  // Legend, top right inside the plot.
  const legend: [string, string][] = [
    ["#2f6fde", "training loss (smoothed)"],
    ["#e07b1f", "test accuracy"],
  ];
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  let lx = pad.left + pw - 300;
  for (const [color, label] of legend) {
    ctx.fillStyle = color;
    ctx.fillRect(lx, pad.top + 8, 14, 3);
    ctx.fillStyle = "#1d2330";
    ctx.fillText(label, lx + 19, pad.top + 10);
    lx += 24 + ctx.measureText(label).width + 16;
  }
}

// ---------------------------------------------------------------------------------------------
// Training: the worker, its messages, and the controls.

let worker: Worker | null = null;
let training = false;
let latestModel: { bytes: Uint8Array; step: number; model: DemoModel } | null = null;
let runModel: DemoModel = "lenet5";

function setTraining(on: boolean, label: string): void {
  training = on;
  ui.start.disabled = on;
  ui.stop.disabled = !on;
  for (const el of ui.form.querySelectorAll<HTMLInputElement | HTMLSelectElement>(
    "input, select",
  )) {
    el.disabled = on;
  }
  ui.trainState.dataset.state = on ? "running" : label;
  ui.trainState.textContent = on ? "training…" : label;
}

function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** A backend in words: "wasm (relaxedThreads build), 2 threads", with why it has one thread. */
function describeBackend(info: BackendInfo): string {
  const threads = `${info.threads} thread${info.threads === 1 ? "" : "s"}`;
  if (info.backend !== "wasm") return `${info.backend} (the reference kernels), ${threads}`;
  const why = info.singleThreadReason ? `: ${info.singleThreadReason}` : "";
  return `wasm (${info.variant} build), ${threads}${why}`;
}

/**
 * `tg.info()` of this thread's backend, in the form the worker reports its own (with the threads
 * it is configured for: they start in the background and may not all run yet).
 */
function pageBackend(): BackendInfo {
  const info = tg.info();
  return {
    backend: String(info.backend),
    variant: String(info.variant ?? ""),
    threads: Number(info.threads ?? 1),
    singleThreadReason: String(info.singleThreadReason ?? ""),
  };
}

function onWorkerMessage(m: FromWorker): void {
  switch (m.type) {
    case "status":
      setStatus(m.text, "busy");
      return;
    case "backend":
      state.backend = m.info;
      ui.trainBackendInfo.textContent = `Training on ${describeBackend(m.info)}.`;
      ui.trainBackendInfo.dataset.backend = m.info.backend;
      ui.trainBackendInfo.dataset.variant = m.info.variant;
      ui.trainBackendInfo.dataset.threads = String(m.info.threads);
      return;
    case "step": {
      totalSteps = m.steps;
      state.losses.push(m.loss);
      state.imagesPerSec = m.imagesPerSec;
      ui.progress.max = m.steps;
      ui.progress.value = m.step;
      const batch = Number(ui.batch.value);
      const left = ((m.steps - m.step) * batch) / Math.max(1e-9, m.imagesPerSec);
      ui.progressText.textContent =
        `step ${m.step} / ${m.steps} · epoch ${m.epoch.toFixed(2)} · ` +
        `${m.imagesPerSec.toFixed(0)} images/s · ${formatDuration(left)} left`;
      ui.progressText.dataset.step = String(m.step);
      ui.loss.textContent = (smoothed(state.losses).at(-1) ?? m.loss).toFixed(3);
      queueChart();
      return;
    }
    case "eval":
      state.evals.push({ step: m.step, accuracy: m.accuracy, loss: m.loss });
      ui.accuracy.textContent = `${(100 * m.accuracy).toFixed(1)}% of ${m.images}`;
      ui.accuracy.dataset.value = String(m.accuracy);
      queueChart();
      return;
    case "model":
      latestModel = { bytes: m.bytes, step: m.step, model: runModel };
      ui.download.disabled = false;
      useClassifier(
        tg.vision.loadImageClassifier(m.bytes, "the model trained in this page"),
        `the ${runModel === "lenet5" ? "LeNet-5" : "AlexNet"} trained in this page (step ${m.step})`,
      );
      return;
    case "done": {
      setTraining(false, m.reason === "finished" ? "done" : "stopped");
      const last = state.evals.at(-1);
      setStatus(
        `Training ${m.reason} after ${m.step} steps in ${formatDuration(m.seconds)} ` +
          `(${state.imagesPerSec.toFixed(0)} images/s)` +
          (last ? `: test accuracy ${(100 * last.accuracy).toFixed(1)}%.` : "."),
        "ok",
      );
      return;
    }
    case "error":
      if (m.ended) setTraining(false, "failed");
      setStatus(`Training failed: ${m.message}`, "error");
      return;
  }
}

function ensureWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
  w.onmessage = (e: MessageEvent<FromWorker>) => onWorkerMessage(e.data);
  w.onerror = (e) => {
    // A worker that failed to load or crashed: report it and start a fresh one next time.
    e.preventDefault();
    setTraining(false, "failed");
    setStatus(`The training worker failed: ${e.message || "it could not be loaded"}`, "error");
    w.terminate();
    worker = null;
  };
  w.onmessageerror = () => setStatus("A message from the training worker was unreadable", "error");
  worker = w;
  return w;
}

function send(message: ToWorker): void {
  ensureWorker().postMessage(message);
}

ui.form.addEventListener("submit", (e) => {
  e.preventDefault();
  if (training) return;
  guarded("Starting training", () => {
    const settings = readSettings();
    runModel = settings.model;
    state.losses.length = 0;
    state.evals.length = 0;
    totalSteps = 1;
    ui.loss.textContent = "–";
    ui.accuracy.textContent = "–";
    delete ui.accuracy.dataset.value;
    ui.progress.value = 0;
    ui.progressText.textContent = "starting…";
    queueChart();
    setTraining(true, "running");
    send({ type: "start", settings });
  })();
});

ui.stop.addEventListener("click", () => {
  if (!training) return;
  send({ type: "stop" });
  setStatus("Stopping after this step…", "busy");
});

ui.download.addEventListener("click", () => {
  if (!latestModel) return;
  const blob = new Blob([latestModel.bytes.slice()], { type: "application/octet-stream" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = `tsgrad-demo-${latestModel.model}-step${latestModel.step}.safetensors`;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own reference to the blob by now; free the URL a little later.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
});

// ---------------------------------------------------------------------------------------------
// Classification: the active classifier, the draw pad, pictures.

interface Classifier {
  model: tg.nn.Layer;
  meta: tg.vision.ImageModelMeta;
}

let classifier: Classifier | null = null;
/** The last picture classified, so that a new classifier re-classifies it. */
let lastInput: {
  picture: tg.data.DecodedImage;
  source: "drawing" | "picture";
  name: string;
} | null = null;

function useClassifier(c: Classifier, description: string): void {
  classifier = c;
  ui.classifierSource.textContent = `Classifying with ${description}.`;
  ui.classifierSource.classList.remove("muted");
  if (lastInput) classify(lastInput.picture, lastInput.source, lastInput.name);
}

/** Show the [1, C, S, S] normalised input as the model sees it (undoing the normalisation). */
function showModelInput(x: tg.Tensor, meta: tg.vision.ImageModelMeta): void {
  const size = meta.imageSize;
  const plane = size * size;
  const data = x.dataSync();
  const ctx = context2d(ui.modelInput);
  ui.modelInput.width = size;
  ui.modelInput.height = size;
  const img = ctx.createImageData(size, size);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const ch = meta.inChannels === 1 ? 0 : c;
      const v = (data[ch * plane + p] ?? 0) * (meta.std[ch] ?? 1) + (meta.mean[ch] ?? 0);
      img.data[4 * p + c] = Math.round(255 * Math.min(1, Math.max(0, v)));
    }
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function classify(
  picture: tg.data.DecodedImage,
  source: "drawing" | "picture",
  name: string,
): void {
  lastInput = { picture, source, name };
  if (!classifier) {
    setStatus(
      "No classifier yet: train one (panel 1) or drop an image checkpoint (panel 3).",
      "info",
    );
    return;
  }
  const { model, meta } = classifier;
  const x = tg.vision.pictureToTensor(picture, meta, name);
  showModelInput(x, meta);
  const probs = tg.noGrad(() => model.forward(x).softmax(1)).dataSync();
  const top = topClasses(probs, meta.classes, 3);
  ui.predictions.replaceChildren(
    ...top.map(({ label, p }) => {
      const li = document.createElement("li");
      li.dataset.testid = "prediction";
      li.dataset.label = label;
      li.dataset.p = String(p);
      const name = document.createElement("span");
      name.className = "label";
      name.textContent = label;
      const bar = document.createElement("span");
      bar.className = "bar";
      const fill = document.createElement("span");
      fill.style.width = `${(100 * p).toFixed(1)}%`;
      bar.append(fill);
      const pct = document.createElement("span");
      pct.className = "p";
      pct.textContent = `${(100 * p).toFixed(1)}%`;
      li.append(name, bar, pct);
      return li;
    }),
  );
  ui.predictions.dataset.top1 = top[0]?.label ?? "";
  ui.predictions.dataset.source = source;
  // Tells a watcher (the end-to-end test) that a new result is in, even when it equals the last.
  ui.predictions.dataset.count = String(Number(ui.predictions.dataset.count ?? 0) + 1);
  setStatus(
    `${source === "drawing" ? "Your drawing" : name}: ${top[0]?.label ?? "?"} (${(100 * (top[0]?.p ?? 0)).toFixed(1)}%).`,
    "ok",
  );
}

const padCtx = context2d(ui.pad);

function clearPad(): void {
  padCtx.fillStyle = "black";
  padCtx.fillRect(0, 0, ui.pad.width, ui.pad.height);
}
clearPad();

function padPoint(e: PointerEvent): [number, number] {
  const r = ui.pad.getBoundingClientRect();
  return [
    ((e.clientX - r.left) / r.width) * ui.pad.width,
    ((e.clientY - r.top) / r.height) * ui.pad.height,
  ];
}

let drawing = false;
ui.pad.addEventListener("pointerdown", (e) => {
  drawing = true;
  ui.pad.setPointerCapture(e.pointerId);
  const [x, y] = padPoint(e);
  padCtx.strokeStyle = "white";
  padCtx.fillStyle = "white";
  padCtx.lineWidth = 22;
  padCtx.lineCap = "round";
  padCtx.lineJoin = "round";
  padCtx.beginPath();
  padCtx.arc(x, y, 11, 0, 2 * Math.PI);
  padCtx.fill();
  padCtx.beginPath();
  padCtx.moveTo(x, y);
});
ui.pad.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  const [x, y] = padPoint(e);
  padCtx.lineTo(x, y);
  padCtx.stroke();
});
const endStroke = guarded("Classifying the drawing", () => {
  if (!drawing) return;
  drawing = false;
  const d = padCtx.getImageData(0, 0, ui.pad.width, ui.pad.height);
  drawPreview(ui.pad, "drawing");
  classify({ rgba: d.data, width: d.width, height: d.height }, "drawing", "drawing");
});
ui.pad.addEventListener("pointerup", endStroke);
ui.pad.addEventListener("pointercancel", endStroke);
ui.clear.addEventListener("click", () => {
  clearPad();
  lastInput = null;
  ui.predictions.replaceChildren();
  delete ui.predictions.dataset.top1;
});

/** Show a picture letterboxed in the preview square, with a caption. */
function drawPreview(
  source: CanvasImageSource & { width: number; height: number },
  caption: string,
): void {
  const ctx = context2d(ui.preview);
  const s = ui.preview.width;
  ctx.fillStyle = "black";
  ctx.fillRect(0, 0, s, s);
  const scale = Math.min(s / source.width, s / source.height);
  const w = source.width * scale;
  const h = source.height * scale;
  ctx.drawImage(source, (s - w) / 2, (s - h) / 2, w, h);
  ui.caption.textContent = caption;
}

async function classifyFile(file: File): Promise<void> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error(`${file.name} is not a picture this browser can decode (use PNG or JPEG)`);
  }
  try {
    const canvas = document.createElement("canvas");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const ctx = context2d(canvas);
    ctx.drawImage(bitmap, 0, 0);
    const d = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    if (ui.invert.checked) {
      for (let i = 0; i < d.data.length; i += 4) {
        for (let c = 0; c < 3; c++) d.data[i + c] = 255 - d.data[i + c]!;
      }
      ctx.putImageData(d, 0, 0);
    }
    drawPreview(canvas, `${file.name}, ${d.width}×${d.height}`);
    classify({ rgba: d.data, width: d.width, height: d.height }, "picture", file.name);
  } finally {
    bitmap.close();
  }
}

/** Wire a drop zone and its file input to `handle`. */
function fileInput(
  zone: HTMLElement,
  input: HTMLInputElement,
  what: string,
  handle: (f: File) => Promise<void>,
): void {
  const run = (file: File | undefined) => {
    if (!file) return;
    guarded(what, () => handle(file))();
  };
  input.addEventListener("change", () => {
    run(input.files?.[0]);
    // Choosing the same file again should load it again.
    input.value = "";
  });
  zone.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    e.stopPropagation();
    zone.classList.remove("over");
    run(e.dataTransfer?.files[0]);
  });
}

fileInput(ui.imageDrop, ui.imageFile, "Classifying the picture", classifyFile);

// A file dropped outside the drop zones would make the browser open it in place of the page.
window.addEventListener("dragover", (e) => e.preventDefault());
window.addEventListener("drop", (e) => {
  e.preventDefault();
  setStatus("Drop pictures on the picture box and checkpoints on the checkpoint box.", "info");
});

// ---------------------------------------------------------------------------------------------
// CLI checkpoints: image classifier, character LM, translator.

let lm: tg.lm.LoadedLM | null = null;
let translator: tg.translate.Translator | null = null;

function showCheckpoint(ck: LoadedCheckpoint, name: string): void {
  ui.checkpointInfo.dataset.kind = ck.kind;
  ui.checkpointInfo.classList.remove("muted");
  switch (ck.kind) {
    case "image":
      useClassifier({ model: ck.model, meta: ck.meta }, `${name} (${ck.meta.config.model})`);
      ui.checkpointInfo.textContent = `${name}: ${ck.summary}. It now classifies in panel 2.`;
      return;
    case "lm":
      lm = ck.lm;
      ui.lmSummary.textContent = `· ${name}`;
      ui.checkpointInfo.textContent = `${name}: ${ck.summary}.`;
      ui.lmPanel.hidden = false;
      return;
    case "translator":
      translator = ck.translator;
      ui.translateSummary.textContent = `· ${name}, ${ck.translator.config.src} → ${ck.translator.config.tgt}`;
      ui.checkpointInfo.textContent = `${name}: ${ck.summary}.`;
      ui.translatePanel.hidden = false;
      return;
  }
}

async function loadCheckpointFile(file: File): Promise<void> {
  setStatus(`Reading ${file.name}…`, "busy");
  await afterPaint();
  let ck: LoadedCheckpoint;
  try {
    ck = loadAnyCheckpoint(new Uint8Array(await file.arrayBuffer()), file.name);
  } catch (e) {
    ui.checkpointInfo.dataset.kind = "error";
    ui.checkpointInfo.textContent = errorText(e);
    ui.checkpointInfo.classList.remove("muted");
    throw e;
  }
  showCheckpoint(ck, file.name);
  setStatus(`Loaded ${file.name}: ${ck.summary}.`, "ok");
}

fileInput(ui.checkpointDrop, ui.checkpointFile, "Loading the checkpoint", loadCheckpointFile);

ui.lmSample.addEventListener(
  "click",
  guarded("Sampling", async () => {
    if (!lm) throw new Error("load a character-LM checkpoint first");
    const tokens = numberField(ui.lmTokens, "Characters", { min: 1, max: 2000, integer: true });
    const temperature = numberField(ui.lmTemperature, "Temperature", { min: 0.05, max: 2 });
    const prompt = ui.lmPrompt.value;
    ui.lmSample.disabled = true;
    ui.lmOutput.replaceChildren();
    setStatus(`Sampling ${tokens} characters…`, "busy");
    try {
      await afterPaint();
      const t0 = performance.now();
      // A fresh seed per click, so sampling again gives another continuation.
      const seed = Math.floor(Math.random() * 2 ** 31);
      const text = tg.lm.sampleText(lm.model, lm.vocab, prompt, { tokens, temperature, seed });
      const strong = document.createElement("strong");
      strong.textContent = prompt;
      ui.lmOutput.replaceChildren(strong, text.slice(prompt.length));
      setStatus(
        `Sampled ${tokens} characters in ${((performance.now() - t0) / 1000).toFixed(1)} s.`,
        "ok",
      );
    } finally {
      ui.lmSample.disabled = false;
    }
  }),
);

ui.translateRun.addEventListener(
  "click",
  guarded("Translating", async () => {
    if (!translator) throw new Error("load a translator checkpoint first");
    const beam = numberField(ui.translateBeam, "Beam size", { min: 1, max: 10, integer: true });
    const sentence = ui.translateSource.value.trim();
    if (sentence === "") throw new Error("type a sentence to translate");
    ui.translateRun.disabled = true;
    ui.translateOutput.textContent = "";
    setStatus("Translating…", "busy");
    try {
      await afterPaint();
      const t0 = performance.now();
      const warnings: string[] = [];
      const [out = ""] = translator.translate([sentence], { beam, warn: (w) => warnings.push(w) });
      ui.translateOutput.textContent = out;
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      setStatus(
        (out === ""
          ? `The model gave an empty translation (beam ${beam}, ${seconds} s)`
          : `Translated with beam ${beam} in ${seconds} s`) +
          (warnings.length ? ` (${warnings.join("; ")})` : "."),
        "ok",
      );
    } finally {
      ui.translateRun.disabled = false;
    }
  }),
);

// ---------------------------------------------------------------------------------------------
// Start-up.

for (const [value, label] of [
  ["lenet5", "LeNet-5"],
  ["alexnet", `AlexNet ×${ALEXNET_WIDTH} (slower)`],
] as const) {
  ui.model.add(new Option(label, value, value === "lenet5", value === "lenet5"));
}
drawChart();
window.addEventListener("resize", queueChart);
// Classifying, sampling and translating run on this thread: on wasm too, once its module has
// compiled (a page's main thread compiles it in the background).
setStatus("Loading the WebAssembly kernels…", "busy");
await tg.ready();
const wasm = tg.findBackend("wasm");
if (!wasm?.available()) {
  // An engine without WebAssembly SIMD: offer what runs, and say why on the disabled choice.
  const option = ui.backend.querySelector<HTMLOptionElement>('option[value="wasm"]');
  if (option) {
    option.disabled = true;
    option.title = wasm?.unavailableReason?.() ?? "the wasm backend is not registered";
  }
  ui.backend.value = "js";
}
ui.backendInfo.textContent = `this page's own ops: ${describeBackend(pageBackend())}`;
setStatus("Ready: press Start to train, or drop a checkpoint.", "info");
