/**
 * Writes data/fashion-mnist-sample/: a seeded, class-balanced subset of Fashion-MNIST (500 train
 * and 100 test images per class = 5 000 + 1 000), as gzip IDX files with the official file names,
 * plus source-indices.json (which original image each sample image is) and README.md.
 *
 *   npx tsx scripts/make-fashion-mnist-sample.ts [--data <folder with the full set>]
 *
 * The full set is located like `tg.data.loadFashionMnist` does (default: the Debian package
 * dataset-fashion-mnist in /usr/share/datasets/fashion-mnist/). The output is a pure function
 * of the full set and SEED.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tg from "../src/index.js";

const SEED = 20170825; // Fashion-MNIST's arXiv submission date
const PER_CLASS = { train: 500, test: 100 };
const OUT = new URL("../data/fashion-mnist-sample/", import.meta.url).pathname;

function parseArgs(argv: string[]): { data?: string } {
  if (argv.length === 0) return {};
  if (argv.length === 2 && argv[0] === "--data") return { data: argv[1]! };
  throw new Error(`usage: npx tsx scripts/make-fashion-mnist-sample.ts [--data <folder>]`);
}

/** `perClass` random images of every class, then all of them in one random order. */
function balancedSubset(ds: tg.data.ImageDataset, perClass: number, g: tg.Generator): Int32Array {
  const byClass: number[][] = ds.classes.map(() => []);
  for (let i = 0; i < ds.length; i++) byClass[ds.label(i)]!.push(i);
  const chosen: number[] = [];
  for (const [c, members] of byClass.entries()) {
    if (members.length < perClass) {
      throw new Error(`class ${c} has ${members.length} images, fewer than ${perClass}`);
    }
    const perm = g.permutation(members.length);
    for (let k = 0; k < perClass; k++) chosen.push(members[perm[k]!]!);
  }
  const order = g.permutation(chosen.length);
  return Int32Array.from(order, (k) => chosen[k]!);
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  const found = tg.data.resolveFashionMnist({ ...options, name: "fashion-mnist" });
  const g = new tg.Generator(SEED);
  mkdirSync(OUT, { recursive: true });
  const sources: Record<string, number[]> = {};
  const rows: string[] = [];
  for (const [split, prefix] of [
    ["train", "train"],
    ["test", "t10k"],
  ] as const) {
    const full = tg.data.loadFashionMnist({
      ...options,
      name: "fashion-mnist",
      train: split === "train",
    });
    const picked = balancedSubset(full, PER_CLASS[split], g);
    const sample = full.subset(picked);
    const { pixels, labels } = sample.toArrays();
    const images = `${prefix}-images-idx3-ubyte.gz`;
    const labelFile = `${prefix}-labels-idx1-ubyte.gz`;
    tg.data.writeIdxFile(join(OUT, images), pixels, [sample.length, full.height, full.width]);
    tg.data.writeIdxFile(join(OUT, labelFile), Uint8Array.from(labels), [sample.length]);
    sources[split] = Array.from(picked);
    for (const f of [images, labelFile]) {
      const bytes = readFileSync(join(OUT, f));
      const sha = createHash("sha256").update(bytes).digest("hex");
      rows.push(`| \`${f}\` | ${bytes.length} | \`${sha}\` |`);
    }
    console.log(`${split}: ${sample.length} images from ${full.length} (${found.dir})`);
  }
  writeFileSync(
    join(OUT, "source-indices.json"),
    JSON.stringify({
      version: 1,
      generator: "scripts/make-fashion-mnist-sample.ts",
      seed: SEED,
      note: "index k of each split is the sample's image k; the value is its index in the full Fashion-MNIST split",
      train: sources.train,
      test: sources.test,
    }) + "\n",
  );
  writeFileSync(join(OUT, "README.md"), readme(rows));
}

function readme(rows: string[]): string {
  return `# Fashion-MNIST sample

A small, class-balanced subset of Fashion-MNIST bundled with tsgrad so that examples, tests and
quick experiments run offline: **5 000 training images (500 per class) and 1 000 test images
(100 per class)**, 28×28 grey, in the original gzip IDX format and file names.

\`\`\`ts
const train = tg.data.loadFashionMnist({ name: "fashion-mnist-sample" });
const test = tg.data.loadFashionMnist({ name: "fashion-mnist-sample", train: false });
\`\`\`

## Source and licence

Fashion-MNIST is by Zalando Research, released under the MIT licence
(https://github.com/zalandoresearch/fashion-mnist). Cite:

> Han Xiao, Kashif Rasul, Roland Vollgraf. *Fashion-MNIST: a Novel Image Dataset for Benchmarking
> Machine Learning Algorithms.* arXiv:1708.07747, 2017.

\`\`\`bibtex
@online{xiao2017/online,
  author       = {Han Xiao and Kashif Rasul and Roland Vollgraf},
  title        = {Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms},
  date         = {2017-08-28},
  year         = {2017},
  eprintclass  = {cs.LG},
  eprinttype   = {arXiv},
  eprint       = {cs.LG/1708.07747},
}
\`\`\`

## How it was made

\`npx tsx scripts/make-fashion-mnist-sample.ts\`, from the full set of the Debian package
\`dataset-fashion-mnist\` (\`/usr/share/datasets/fashion-mnist/\`).
With \`tg.Generator(${SEED})\`, for the train split and then the test split: for each class in
label order, a random permutation of that class's images picks the first ${PER_CLASS.train}
(train) or ${PER_CLASS.test} (test); the picked images are then put in one random order.
\`source-indices.json\` gives, for every sample image, its index in the full split. Rerunning the
script reproduces these files byte for byte.

| file | bytes | sha256 |
|---|---|---|
${rows.join("\n")}

Class names (label order): ${tg.data.FASHION_MNIST_CLASSES.map((c) => `\`${c}\``).join(", ")}.
`;
}

main();
