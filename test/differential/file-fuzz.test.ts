/**
 * A seeded file fuzzer for every loader (issue 19): valid small files of each format are made
 * here, mutated (bit flips, truncation, insertions, header and metadata edits: huge, negative or
 * fractional sizes, wrong dtype names, offsets past the end or overlapping, giant or deeply
 * nested JSON, a model description asking for `width: 1e6`, gzip bombs…), written to disk and
 * loaded through the public API. Each mutant must either load into a well-formed result or throw
 * a `TsgradError` whose message names the file; anything else (another error type, more than
 * `TIME_LIMIT_MS`, more than `MEMORY_LIMIT_MB` of new memory) is a failure that prints the seed,
 * the target and the index, so that the case reruns alone:
 *
 *   TSGRAD_FUZZ_SEED=<seed> TSGRAD_FUZZ_ONLY=<target>:<index> npx vitest run test/differential/file-fuzz.test.ts
 *
 * CI runs the default seed and count (500 mutants per loader, about 40 s on two cores); a longer,
 * nightly-style run raises `TSGRAD_FUZZ_FILES` (mutants per loader) and varies `TSGRAD_FUZZ_SEED`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import {
  GENERIC,
  GZIP,
  IDX_EDITS,
  JPEG_EDITS,
  type Mutation,
  PNG_EDITS,
  Rng,
  SAFETENSORS_EDITS,
  TEXT_EDITS,
  VISION_META_EDITS,
  cifarEdits,
  gzipBomb,
} from "./file-fuzz-mutators.js";

const SEED = Number(process.env.TSGRAD_FUZZ_SEED ?? 1);
const FILES = Number(process.env.TSGRAD_FUZZ_FILES ?? 500);
const ONLY = process.env.TSGRAD_FUZZ_ONLY; // "<target>:<index>"
const TIME_LIMIT_MS = 2000;
const MEMORY_LIMIT_MB = 256;

// A full collection between cases when earlier ones left buffers behind, so that each case's
// memory growth is measured from a clean start.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const root = mkdtempSync(join(tmpdir(), "tsgrad-file-fuzz-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** One loader under test. */
interface Target {
  name: string;
  /** Valid files of the format (the fuzzer's starting points). */
  bases: Uint8Array[];
  /** Format-aware mutations, tried as often as all the generic ones together. */
  edits: Mutation[];
  /** Whether the loader reads gzip (then some mutants are gzipped, and bombs are tried). */
  gzip?: boolean;
  /**
   * Megabytes the gzip bombs inflate to. Formats whose header declares their size must reject a
   * bomb at once; for headerless ones (CIFAR records, text) a bomb is just a big file, so it is
   * kept to a size that loads within the time limit.
   */
  bombMb?: readonly number[];
  /** Where the mutant is written (the loader must name this path in its errors). */
  file: string;
  /** Load the mutant at `file` and check that the result is well-formed. */
  load(file: string): void;
}

// ---- valid starting files ----------------------------------------------------------------

function tensorsOfEveryKind(): Record<string, tg.Tensor> {
  return {
    w: tg.tensor([
      [1, -2, 3.5],
      [4, 5, 6],
    ]),
    d: tg.tensor([1e-300, 2], { dtype: "float64" }),
    i: tg.tensor([1, -7, 2 ** 31 - 1], { dtype: "int32" }),
    b: tg.tensor([1, 0, 1]).gt(0),
    s: tg.tensor(3),
    e: tg.zeros([0, 3]),
  };
}

/** A header with the stored types tsgrad reads but does not write (F16, BF16, I64, U8…). */
function foreignSafetensors(): Uint8Array {
  const parts: [string, string, number[], number[]][] = [
    ["h", "F16", [2], [0x00, 0x3c, 0x00, 0xc0]],
    ["bf", "BF16", [2], [0x80, 0x3f, 0x00, 0x40]],
    ["l", "I64", [1], [5, 0, 0, 0, 0, 0, 0, 0]],
    ["u", "U8", [3], [1, 2, 255]],
    ["q", "U64", [1], [9, 0, 0, 0, 0, 0, 0, 0]],
  ];
  let at = 0;
  const header: Record<string, unknown> = { __metadata__: { format: "pt" } };
  const data: number[] = [];
  for (const [name, dtype, shape, bytes] of parts) {
    header[name] = { dtype, shape, data_offsets: [at, at + bytes.length] };
    at += bytes.length;
    data.push(...bytes);
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function checkpointBases(): Uint8Array[] {
  const w = tg.randn([3, 2], { generator: new tg.Generator(1) });
  return [
    tg.io.encodeCheckpoint({
      model: { "fc.weight": w, "fc.bias": tg.zeros([3]), "out.weight": w },
      optimizer: { step: 3, groups: [{ lr: 0.1 }], state: [{ expAvg: tg.ones([3, 2]) }] },
      rng: new tg.Generator(5).getState(),
      loss: NaN,
      $odd: { $tensor: "not a reference" },
    }),
    tg.io.encodeCheckpoint({ model: { b: tg.ones([2]) } }),
  ];
}

const VISION_SPECS = [
  { model: "logistic", width: 1, inChannels: 1, imageSize: 6, classes: 3 },
  { model: "mlp", width: 0.01, inChannels: 3, imageSize: 4, classes: 2 },
  { model: "lenet5", width: 1, inChannels: 1, imageSize: 12, classes: 4 },
  { model: "alexnet", width: 0.01, inChannels: 3, imageSize: 15, classes: 2 },
] as const;

function visionBases(): Uint8Array[] {
  return VISION_SPECS.map((s) => {
    const model = tg.vision.createImageModel({
      name: s.model,
      inChannels: s.inChannels,
      imageSize: s.imageSize,
      numClasses: s.classes,
      width: s.width,
    });
    const meta = {
      config: { ...tg.vision.defaultImageConfig, model: s.model, width: s.width, data: "folder" },
      classes: Array.from({ length: s.classes }, (_, i) => `class${i}`),
      mean: Array.from({ length: s.inChannels }, () => 0.5),
      std: Array.from({ length: s.inChannels }, () => 0.25),
      inChannels: s.inChannels,
      imageSize: s.imageSize,
    };
    return tg.io.encodeCheckpoint({ model: model.stateDict(), meta });
  });
}

function pngOf(width: number, height: number, colorType: 0 | 2 | 6, seed: number): Uint8Array {
  const img = new PNG({ width, height, colorType, inputColorType: 6 });
  const rng = new Rng(seed);
  for (let i = 0; i < img.data.length; i++) img.data[i] = rng.int(256);
  return new Uint8Array(PNG.sync.write(img, { colorType }));
}

function jpegOf(width: number, height: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const data = Uint8Array.from({ length: 4 * width * height }, () => rng.int(256));
  return new Uint8Array(jpeg.encode({ width, height, data }, 90).data);
}

const enc = new TextEncoder();

// ---- well-formedness checks --------------------------------------------------------------

function checkTensor(t: tg.Tensor, what: string): void {
  if (!(t instanceof tg.Tensor)) throw new Error(`${what} is not a Tensor`);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.size !== n || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new Error(`${what}: shape [${t.shape.join(",")}] does not match size ${t.size}`);
  }
  if (t.dataSync().length < n) throw new Error(`${what}: storage shorter than the shape`);
}

function checkDataset(ds: tg.data.ImageDataset): void {
  const [n, c, h, w] = ds.shape;
  if (n < 1) throw new Error(`loaded a dataset of ${n} images`);
  if (ds.pixels.length !== n * c * h * w) throw new Error("pixels do not match the shape");
  for (let i = 0; i < n; i++) {
    const y = ds.label(i);
    if (!(y >= 0 && y < ds.classes.length)) throw new Error(`label ${y} out of range`);
  }
}

// ---- targets -----------------------------------------------------------------------------

const dir = (name: string) => {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  return d;
};

const idxImages = tg.data.encodeIdx(
  Uint8Array.from({ length: 3 * 4 * 5 }, (_, i) => (i * 37) % 256),
  [3, 4, 5],
);
const idxLabels = tg.data.encodeIdx(new Uint8Array([2, 0, 1]), [3]);
const CIFAR_SHAPE = [3, 4, 4] as const;
const CIFAR_RECORD = 1 + 3 * 4 * 4;
const textSrc = enc.encode("A man rides a horse .\nZwei Hunde spielen\n\nÇa va ? Très bien\n");
const textTgt = enc.encode("Un homme monte à cheval .\r\nTwo dogs play\r\nempty\r\nfine\r\n");

const TARGETS: Target[] = [
  {
    name: "safetensors",
    bases: [tg.io.encodeSafetensors(tensorsOfEveryKind(), { note: "base" }), foreignSafetensors()],
    edits: SAFETENSORS_EDITS,
    file: join(dir("safetensors"), "weights.safetensors"),
    load(file) {
      const { tensors, header } = tg.io.loadSafetensors(file);
      for (const [k, t] of Object.entries(tensors)) {
        checkTensor(t, k);
        if (header[k]!.shape.join() !== t.shape.join()) {
          throw new Error(`${k}: shape differs from header`);
        }
      }
    },
  },
  {
    name: "checkpoint",
    bases: checkpointBases(),
    edits: SAFETENSORS_EDITS,
    file: join(dir("checkpoint"), "checkpoint-7.safetensors"),
    load(file) {
      const ck = tg.io.loadCheckpoint(file);
      for (const [k, t] of Object.entries(ck.model)) checkTensor(t, k);
    },
  },
  {
    name: "vision",
    bases: visionBases(),
    edits: [...SAFETENSORS_EDITS, ...VISION_META_EDITS, ...VISION_META_EDITS, ...VISION_META_EDITS],
    file: join(dir("vision"), "model.safetensors"),
    load(file) {
      const { model, meta } = tg.vision.loadImageClassifier(file);
      const { inChannels: c, imageSize: s, classes } = meta;
      if (!classes.every((x) => typeof x === "string")) throw new Error("classes are not names");
      if (meta.mean.length !== c || meta.std.length !== c) throw new Error("mean/std do not fit");
      const out = model.forward(tg.zeros([1, c, s, s]));
      if (out.shape.join() !== `1,${classes.length}`) {
        throw new Error(`forward gave [${out.shape.join(",")}] for ${classes.length} classes`);
      }
      const x = tg.vision.pictureToTensor(
        { rgba: new Uint8Array(4 * 5 * 3).fill(200), width: 5, height: 3 },
        meta,
        "picture.png",
      );
      if (x.shape.join() !== `1,${c},${s},${s}`) throw new Error("pictureToTensor shape");
    },
  },
  {
    name: "idx-images",
    bases: [idxImages],
    edits: IDX_EDITS,
    gzip: true,
    file: join(dir("idx-images"), "images-idx3-ubyte"),
    load(file) {
      const labels = join(root, "idx-images", "labels-idx1-ubyte");
      writeFileSync(labels, idxLabels);
      checkDataset(tg.data.readIdxDataset(file, labels, ["a", "b", "c"]));
    },
  },
  {
    name: "idx-labels",
    bases: [idxLabels],
    edits: IDX_EDITS,
    gzip: true,
    file: join(dir("idx-labels"), "labels-idx1-ubyte.gz"),
    load(file) {
      const images = join(root, "idx-labels", "images-idx3-ubyte");
      writeFileSync(images, idxImages);
      checkDataset(tg.data.readIdxDataset(images, file, ["a", "b", "c"]));
    },
  },
  {
    name: "idx-file",
    bases: [
      tg.data.encodeIdx(new Float32Array([1.5, -2, 3]), [3, 1]),
      tg.data.encodeIdx(new Int16Array([1, -2, 3, 4]), [2, 2]),
      tg.data.encodeIdx(new Float64Array([1, 2]), [1, 1, 2]),
    ],
    edits: IDX_EDITS,
    gzip: true,
    file: join(dir("idx-file"), "values.idx"),
    load(file) {
      const { shape, data } = tg.data.readIdxFile(file);
      if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new Error("shape ≠ length");
    },
  },
  {
    name: "cifar",
    bases: [
      Uint8Array.from({ length: 2 * CIFAR_RECORD }, (_, i) =>
        i % CIFAR_RECORD === 0 ? i % 10 : i % 256,
      ),
    ],
    edits: cifarEdits(CIFAR_RECORD),
    gzip: true,
    bombMb: [16, 64],
    file: join(dir("cifar"), "data_batch_1.bin"),
    load(file) {
      checkDataset(
        tg.data.readCifarFiles([file], tg.data.CIFAR10_CLASSES, { imageShape: CIFAR_SHAPE }),
      );
    },
  },
  {
    name: "png",
    bases: [pngOf(4, 3, 6, 1), pngOf(5, 2, 2, 2), pngOf(3, 3, 0, 3)],
    edits: PNG_EDITS,
    file: join(dir("png"), "cls", "picture.png"),
    load(file) {
      checkDataset(tg.data.loadImageFolder(join(root, "png"), { channels: 3 }));
      void file;
    },
  },
  {
    name: "jpeg",
    bases: [jpegOf(8, 8, 1), jpegOf(5, 9, 2)],
    edits: JPEG_EDITS,
    file: join(dir("jpeg"), "cls", "photo.jpg"),
    load(file) {
      checkDataset(tg.data.loadImageFolder(join(root, "jpeg"), { channels: 1 }));
      void file;
    },
  },
  {
    name: "text",
    bases: [textSrc],
    edits: TEXT_EDITS,
    gzip: true,
    bombMb: [4, 16],
    file: join(dir("text"), "train.en"),
    load(file) {
      const tgt = join(root, "text", "train.fr");
      writeFileSync(tgt, textTgt);
      const c = tg.text.readParallel(file, tgt, { warn: () => {} });
      if (c.src.length !== c.tgt.length) throw new Error("unaligned corpus");
      if (c.src.some((s) => s.includes("\n"))) throw new Error("a sentence holds a newline");
      const text = tg.text.readText(file);
      if (typeof text !== "string") throw new Error("readText returned no string");
    },
  },
];
mkdirSync(join(root, "png", "cls"), { recursive: true });
mkdirSync(join(root, "jpeg", "cls"), { recursive: true });

// ---- the fuzz loop -----------------------------------------------------------------------

const bombs = new Map<string, Uint8Array>();

/** The mutant of (seed, target, index): a base and one to three mutations, maybe gzipped. */
function mutant(t: Target, index: number): { bytes: Uint8Array; steps: string[] } {
  const rng = new Rng(SEED, t.name, index);
  let bytes = rng.pick(t.bases);
  const steps: string[] = [];
  if (t.gzip && rng.next() < 0.03) {
    // A small gzip file that inflates to many megabytes: decompression must be bounded.
    const mb = rng.pick(t.bombMb ?? [32, 128]);
    steps.push(`gzip-bomb(${mb} MB)`);
    const key = `${t.name}:${t.bases.indexOf(bytes)}:${mb}`;
    if (!bombs.has(key)) bombs.set(key, gzipBomb(bytes.subarray(0, 16), mb));
    return { bytes: bombs.get(key)!, steps };
  }
  const rounds = 1 + rng.int(3);
  for (let r = 0; r < rounds; r++) {
    const m = rng.next() < 0.5 ? rng.pick(t.edits) : rng.pick(GENERIC);
    try {
      bytes = m.apply(bytes, rng);
      steps.push(m.name);
    } catch {
      // A structure-aware edit of bytes an earlier round broke: skip it.
      steps.push(`${m.name}(skipped)`);
    }
  }
  if (t.gzip && rng.next() < 0.15) {
    bytes = GZIP.apply(bytes, rng);
    steps.push("gzip");
  }
  return { bytes, steps };
}

/** Bytes of memory in use outside the JS heap, and in all. */
function memory(): { external: number; rss: number } {
  const m = process.memoryUsage();
  return { external: m.arrayBuffers, rss: m.rss };
}

/** Run one case; returns a failure description or null. */
function runCase(t: Target, index: number): string | null {
  const { bytes, steps } = mutant(t, index);
  writeFileSync(t.file, bytes);
  const before = memory();
  const start = performance.now();
  let outcome: string | null = null;
  try {
    t.load(t.file);
  } catch (e) {
    if (!(e instanceof tg.TsgradError)) {
      const kind = e instanceof Error ? e.constructor.name : typeof e;
      outcome = `threw ${kind} (not a TsgradError): ${String((e as Error)?.message ?? e).slice(0, 300)}`;
    } else if (!e.message.includes(t.file)) {
      outcome = `TsgradError does not name ${t.file}: ${e.message.slice(0, 300)}`;
    }
  }
  const ms = performance.now() - start;
  const after = memory();
  const grewMb = Math.max(after.external - before.external, after.rss - before.rss) / 2 ** 20;
  if (outcome === null && ms > TIME_LIMIT_MS) {
    outcome = `took ${ms.toFixed(0)} ms (limit ${TIME_LIMIT_MS})`;
  }
  if (outcome === null && grewMb > MEMORY_LIMIT_MB) {
    outcome = `memory grew by ${grewMb.toFixed(0)} MB (limit ${MEMORY_LIMIT_MB})`;
  }
  if (outcome === null) return null;
  return (
    `seed ${SEED} ${t.name}:${index} [${steps.join(" → ")}] ${outcome}\n` +
    `  rerun: TSGRAD_FUZZ_SEED=${SEED} TSGRAD_FUZZ_ONLY=${t.name}:${index} npx vitest run test/differential/file-fuzz.test.ts`
  );
}

describe(`file fuzzer (seed ${SEED}, ${FILES} mutants per loader)`, () => {
  for (const t of TARGETS) {
    const only = ONLY?.split(":");
    if (only && only[0] !== t.name) continue;
    it(`${t.name}: every mutant loads well-formed or throws a TsgradError naming the file`, () => {
      // The valid starting files must load, or the fuzzer tests nothing.
      for (const b of t.bases) {
        writeFileSync(t.file, b);
        t.load(t.file);
      }
      const indices = only ? [Number(only[1])] : Array.from({ length: FILES }, (_, i) => i);
      const failures: string[] = [];
      for (const i of indices) {
        const f = runCase(t, i);
        if (f !== null) failures.push(f);
        // Reclaim the buffers of earlier cases, so that each case's memory is measured alone.
        if (memory().external > 64 * 2 ** 20) gc();
      }
      expect(failures).toEqual([]);
    });
  }
});
