/**
 * Finding datasets on disk, without ever downloading. A dataset is looked up, in order, in:
 *
 * 1. the folder passed as `{ data }` (it, or its `<name>/` subfolder) — and only there;
 * 2. `$TSGRAD_DATA/<name>/`;
 * 3. `<cwd>/data/<name>/`, then the bundled data sets: tsgrad's own `data/<name>/` in a checkout,
 *    or the `tsgrad-data` package's `<name>/` where a project installed it;
 * 4. the dataset's system folders (e.g. Debian's `/usr/share/datasets/fashion-mnist/`).
 *
 * The first folder holding every required file wins (each file may also be gzipped, `.gz`).
 * When none does, the `TsgradError` lists every folder searched and says how to get the data.
 * Node only.
 */
import { TsgradError } from "../tensor/errors.js";
import { nodeModule, nodeProcess, nodeRequire } from "../io/node.js";

/** Where and how to find one dataset. */
export interface DatasetSpec {
  /** The dataset's name, also its folder name under a data root. */
  name: string;
  /** Other folder names the data may sit in under a root (e.g. `cifar-10-batches-bin`). */
  dirNames?: readonly string[];
  /** Files that must all be present; `f` or `f.gz` both count. */
  files: readonly string[];
  /** Folders where a system package installs the data, searched last. */
  systemDirs?: readonly string[];
  /** How to obtain the data, for the not-found error. */
  howToGet: string;
}

/** Options shared by the dataset resolvers and loaders. */
export interface DatasetOptions {
  /** A folder holding the dataset files (or a `<name>/` subfolder with them). Searched alone. */
  data?: string;
}

/** A located dataset: its folder, and the path of each required file (with `.gz` if gzipped). */
export interface ResolvedDataset {
  name: string;
  dir: string;
  files: Record<string, string>;
}

const FMNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com";
const FMNIST_FILES = [
  "train-images-idx3-ubyte",
  "train-labels-idx1-ubyte",
  "t10k-images-idx3-ubyte",
  "t10k-labels-idx1-ubyte",
];

/** The datasets tsgrad knows by name. */
export const DATASETS: Readonly<Record<string, DatasetSpec>> = {
  "fashion-mnist": {
    name: "fashion-mnist",
    files: FMNIST_FILES,
    systemDirs: ["/usr/share/datasets/fashion-mnist"],
    howToGet:
      "install the Debian package (apt-get install dataset-fashion-mnist, which puts the files in " +
      "/usr/share/datasets/fashion-mnist/), or download the four files " +
      FMNIST_FILES.map((f) => `${FMNIST_URL}/${f}.gz`).join(" ") +
      " (official repository: https://github.com/zalandoresearch/fashion-mnist) into " +
      "$TSGRAD_DATA/fashion-mnist/ or data/fashion-mnist/, or pass { data: <folder> }. " +
      'For a small offline copy use the bundled sample, name "fashion-mnist-sample".',
  },
  "fashion-mnist-sample": {
    name: "fashion-mnist-sample",
    files: FMNIST_FILES,
    howToGet:
      "the sample ships in the tsgrad-data package (npm install tsgrad-data; in a tsgrad checkout " +
      "it is data/fashion-mnist-sample/); regenerate it from the full set with: " +
      "npx tsx scripts/make-fashion-mnist-sample.ts",
  },
  "cifar-10": {
    name: "cifar-10",
    dirNames: ["cifar-10-batches-bin"],
    files: [
      "data_batch_1.bin",
      "data_batch_2.bin",
      "data_batch_3.bin",
      "data_batch_4.bin",
      "data_batch_5.bin",
      "test_batch.bin",
    ],
    howToGet:
      "download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz (the binary version) and " +
      "extract it into $TSGRAD_DATA/ or data/ (tar xzf creates cifar-10-batches-bin/), or pass " +
      "{ data: <folder> }",
  },
};

// A variable, not a literal: bundlers try to resolve `new URL("literal", import.meta.url)` at
// build time, and in a browser build this folder is never read.
const OWN_DATA = "../../data/";

/**
 * Where the bundled data sets are: tsgrad's own `data/` folder in a checkout (it is the
 * `tsgrad-data` package's source), else the installed `tsgrad-data` package, else null.
 */
function bundledDataRoot(): string | null {
  const fs = nodeModule("dataRoots", "node:fs");
  const path = nodeModule("dataRoots", "node:path");
  const own = nodeModule("dataRoots", "node:url").fileURLToPath(new URL(OWN_DATA, import.meta.url));
  if (fs.existsSync(path.join(own, "package.json"))) return path.resolve(own);
  try {
    return path.dirname(nodeRequire("dataRoots").resolve("tsgrad-data/package.json"));
  } catch {
    return null;
  }
}

/**
 * The data roots searched after an explicit `data` folder: `$TSGRAD_DATA`, `<cwd>/data`, and the
 * bundled data sets (tsgrad's own `data/` in a checkout, or the installed `tsgrad-data` package),
 * duplicates removed.
 *
 * @example
 * const roots = tg.data.dataRoots();
 * console.log(roots.some((r) => r.endsWith("/data"))); // true
 */
export function dataRoots(): string[] {
  const proc = nodeProcess();
  const path = nodeModule("dataRoots", "node:path");
  const roots: string[] = [];
  const env = proc!.env.TSGRAD_DATA;
  if (env) roots.push(path.resolve(env));
  roots.push(path.resolve(proc!.cwd(), "data"));
  const bundled = bundledDataRoot();
  if (bundled !== null) roots.push(bundled);
  return [...new Set(roots)];
}

/** Missing files of `spec` in `dir` (empty = complete), and the path of each present one. */
function check(dir: string, spec: DatasetSpec): { missing: string[]; files: Record<string, string> } {
  const fs = nodeModule(spec.name, "node:fs");
  const path = nodeModule(spec.name, "node:path");
  const files: Record<string, string> = {};
  const missing: string[] = [];
  for (const f of spec.files) {
    const found = [f, `${f}.gz`].map((g) => path.join(dir, g)).find((p) => fs.existsSync(p));
    if (found) files[f] = found;
    else missing.push(f);
  }
  return { missing, files };
}

/**
 * Locate a dataset by name (a key of `DATASETS`) or by a `DatasetSpec` of your own, in the order
 * described at the top of this file. Throws a `TsgradError` listing the folders searched and how
 * to get the data when no folder has every file.
 *
 * @example
 * const found = tg.data.resolveDataset("fashion-mnist-sample");
 * console.log(found.dir.endsWith("data/fashion-mnist-sample"), Object.keys(found.files).length); // true 4
 */
export function resolveDataset(
  dataset: string | DatasetSpec,
  options: DatasetOptions = {},
): ResolvedDataset {
  const spec = typeof dataset === "string" ? DATASETS[dataset] : dataset;
  if (!spec) {
    throw new TsgradError(
      "resolveDataset",
      `unknown dataset ${JSON.stringify(dataset)}; known: ${Object.keys(DATASETS).join(", ")} (or pass a DatasetSpec)`,
    );
  }
  const path = nodeModule(spec.name, "node:path");
  const fs = nodeModule(spec.name, "node:fs");
  const names = [spec.name, ...(spec.dirNames ?? [])];
  const candidates =
    options.data !== undefined
      ? [path.resolve(options.data), ...names.map((n) => path.resolve(options.data!, n))]
      : [
          ...dataRoots().flatMap((root) => names.map((n) => path.join(root, n))),
          ...(spec.systemDirs ?? []),
        ];
  const searched: string[] = [];
  for (const dir of [...new Set(candidates)]) {
    if (!fs.existsSync(dir)) {
      searched.push(`${dir} (no such folder)`);
      continue;
    }
    const { missing, files } = check(dir, spec);
    if (missing.length === 0) return { name: spec.name, dir, files };
    searched.push(`${dir} (missing ${missing.join(", ")})`);
  }
  throw new TsgradError(
    spec.name,
    `dataset not found. Searched:\n  ${searched.join("\n  ")}\nTo get it: ${spec.howToGet}`,
  );
}
