import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { tempDir } from "./helpers.js";

const PROJECT_DATA = resolve(new URL("../../data", import.meta.url).pathname);
const FILES = [
  "train-images-idx3-ubyte",
  "train-labels-idx1-ubyte",
  "t10k-images-idx3-ubyte",
  "t10k-labels-idx1-ubyte",
];

/** A tiny but valid Fashion-MNIST-shaped folder: `n` train and `n` test images of value `fill`. */
function fakeFashion(dir: string, n: number, fill: number, gz = true): string {
  mkdirSync(dir, { recursive: true });
  const ext = gz ? ".gz" : "";
  for (const split of ["train", "t10k"]) {
    const px = new Uint8Array(n * 28 * 28).fill(fill);
    tg.data.writeIdxFile(join(dir, `${split}-images-idx3-ubyte${ext}`), px, [n, 28, 28]);
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    tg.data.writeIdxFile(join(dir, `${split}-labels-idx1-ubyte${ext}`), labels, [n]);
  }
  return dir;
}

let savedEnv: string | undefined;
beforeEach(() => {
  savedEnv = process.env.TSGRAD_DATA;
  delete process.env.TSGRAD_DATA;
});
afterEach(() => {
  if (savedEnv === undefined) delete process.env.TSGRAD_DATA;
  else process.env.TSGRAD_DATA = savedEnv;
});

describe("tg.data.resolveDataset", () => {
  it("searches an explicit folder, then $TSGRAD_DATA, then the project's data/, then system folders", () => {
    const system = fakeFashion(tempDir("sys"), 1, 1);
    const spec = { ...tg.data.DATASETS["fashion-mnist-sample"]!, systemDirs: [system] };
    // Nothing else set: the project's bundled sample beats the system folder.
    expect(tg.data.resolveDataset(spec).dir).toBe(join(PROJECT_DATA, "fashion-mnist-sample"));
    // $TSGRAD_DATA/<name> beats the project folder.
    const envRoot = tempDir("env");
    fakeFashion(join(envRoot, "fashion-mnist-sample"), 2, 2);
    process.env.TSGRAD_DATA = envRoot;
    expect(tg.data.resolveDataset(spec).dir).toBe(join(envRoot, "fashion-mnist-sample"));
    // An explicit folder beats everything, holding the files directly or in <name>/.
    const explicit = fakeFashion(tempDir("explicit"), 3, 3, false);
    expect(tg.data.resolveDataset(spec, { data: explicit }).dir).toBe(explicit);
    const parent = tempDir("parent");
    fakeFashion(join(parent, "fashion-mnist-sample"), 3, 3);
    expect(tg.data.resolveDataset(spec, { data: parent }).dir).toBe(join(parent, "fashion-mnist-sample"));
    // A name the project does not have falls through to the system folder.
    const other = { ...spec, name: "tsgrad-test-only-in-system" };
    const found = tg.data.resolveDataset(other);
    expect(found.dir).toBe(system);
    expect(found.files["t10k-labels-idx1-ubyte"]).toBe(join(system, "t10k-labels-idx1-ubyte.gz"));
  });

  it("loads from whichever folder it resolved", () => {
    const explicit = fakeFashion(tempDir("load"), 4, 77, false);
    const ds = tg.data.loadFashionMnist({ data: explicit, train: false });
    expect(ds.shape).toEqual([4, 1, 28, 28]);
    expect(ds.get(3).image[100]).toBe(77);
    expect(ds.classes).toBe(tg.data.FASHION_MNIST_CLASSES);
  });

  it("says which folders it searched, what was missing, and how to get Fashion-MNIST", () => {
    const root = tempDir("missing");
    const partial = join(root, "fashion-mnist");
    fakeFashion(partial, 1, 0);
    const { rmSync } = process.getBuiltinModule("node:fs");
    rmSync(join(partial, "t10k-labels-idx1-ubyte.gz"));
    process.env.TSGRAD_DATA = root;
    const spec = { ...tg.data.DATASETS["fashion-mnist"]!, systemDirs: [join(root, "nowhere")] };
    let message = "";
    try {
      tg.data.resolveDataset(spec);
    } catch (e) {
      expect(e).toBeInstanceOf(tg.TsgradError);
      message = (e as Error).message;
    }
    expect(message).toContain("fashion-mnist: dataset not found. Searched:");
    expect(message).toContain(`${partial} (missing t10k-labels-idx1-ubyte)`);
    expect(message).toContain(`${join(process.cwd(), "data", "fashion-mnist")} (no such folder)`);
    expect(message).toContain(`${join(root, "nowhere")} (no such folder)`);
    expect(message).toContain("apt-get install dataset-fashion-mnist");
    for (const f of FILES) {
      expect(message).toContain(`http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/${f}.gz`);
    }
    expect(message).toContain("https://github.com/zalandoresearch/fashion-mnist");
  });

  it("does not fall back to other folders when an explicit folder lacks the files", () => {
    const empty = tempDir("explicit-empty");
    expect(() => tg.data.resolveFashionMnist({ data: empty, name: "fashion-mnist-sample" })).toThrow(
      new RegExp(`Searched:\\n  ${empty} \\(missing train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte\\)\\n  ${join(empty, "fashion-mnist-sample")} \\(no such folder\\)\\nTo get it`),
    );
  });

  it("rejects an unknown dataset name, listing the known ones", () => {
    expect(() => tg.data.resolveDataset("mnist-ish")).toThrow(
      'resolveDataset: unknown dataset "mnist-ish"; known: fashion-mnist, fashion-mnist-sample, cifar-10',
    );
  });
});

describe("tg.data.loadFashionMnist (bundled sample)", () => {
  it("reads 5000 train and 1000 test images, balanced over the ten classes", () => {
    const train = tg.data.loadFashionMnist({ name: "fashion-mnist-sample" });
    const test = tg.data.loadFashionMnist({ name: "fashion-mnist-sample", train: false });
    expect(train.shape).toEqual([5000, 1, 28, 28]);
    expect(test.shape).toEqual([1000, 1, 28, 28]);
    expect(train.classCounts()).toEqual(new Array(10).fill(500));
    expect(test.classCounts()).toEqual(new Array(10).fill(100));
    expect(train.classes).toEqual([
      "T-shirt/top",
      "Trouser",
      "Pullover",
      "Dress",
      "Coat",
      "Sandal",
      "Shirt",
      "Sneaker",
      "Bag",
      "Ankle boot",
    ]);
    // Real photos, not blanks: Fashion-MNIST's mean pixel is about 0.286 (73 / 255).
    let sum = 0;
    for (const v of train.pixels) sum += v;
    expect(sum / train.pixels.length / 255).toBeGreaterThan(0.26);
    expect(sum / train.pixels.length / 255).toBeLessThan(0.31);
  });

  const debian = "/usr/share/datasets/fashion-mnist";
  it.skipIf(!existsSync(join(debian, "t10k-labels-idx1-ubyte.gz")))(
    "holds exactly the full-set images that source-indices.json names (needs dataset-fashion-mnist)",
    () => {
      const sources = JSON.parse(
        readFileSync(join(PROJECT_DATA, "fashion-mnist-sample", "source-indices.json"), "utf8"),
      ) as { test: number[] };
      const sample = tg.data.loadFashionMnist({ name: "fashion-mnist-sample", train: false });
      const full = tg.data.loadFashionMnist({ data: debian, train: false });
      expect(sources.test.length).toBe(1000);
      for (let i = 0; i < sample.length; i += 37) {
        expect(sample.get(i)).toEqual(full.get(sources.test[i]!));
      }
    },
  );
});
