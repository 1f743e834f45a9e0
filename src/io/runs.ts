/**
 * Run folders: one folder per (experiment, config), so re-running a sweep finds finished runs and
 * skips them, and analysis scripts only ever read folders.
 *
 *   runs/<experiment>/<config-hash>/
 *     config.json        the config, sorted keys (atomic)
 *     metrics.jsonl      one JSON object per line, appended and handed to the OS line by line
 *     summary.json       written once at the end (atomic); its presence marks the run finished
 *     git-rev            `git rev-parse HEAD` of the working tree when the run was created
 *                        (plus a line `dirty` if tracked files had uncommitted changes)
 *     checkpoint-<step>.safetensors
 *
 * The config hash is the first 12 hex digits of the SHA-256 of the config's canonical JSON
 * (sorted keys, no whitespace), so it does not depend on key order or formatting.
 *
 * A run killed part-way is continued by running it again: opening the folder removes the
 * temporary files of atomic writes the kill interrupted, and the training loops cut
 * `metrics.jsonl` back to their checkpoint's step (`Run.truncateMetrics`), or empty it when there
 * is no checkpoint and the run starts over. The backend and thread count are not part of the
 * config (see `RunEnvironment`); checkpoints record them so that a resume under others says so.
 */
import { TsgradError } from "../tensor/errors.js";
import { Tensor } from "../tensor/tensor.js";
import { getBackend } from "../backends/backend.js";
import { readFileBytes, removeStaleTempFiles, writeFileAtomic } from "./atomic.js";
import { errorMessage, nodeModule } from "./node.js";

/**
 * Canonical JSON: object keys sorted (by code unit), no whitespace, `undefined` properties
 * dropped as JSON does. Rejects what JSON cannot represent faithfully (non-finite numbers,
 * functions, tensors, class instances), naming the path.
 *
 * @example
 * console.log(tg.io.canonicalJson({ b: [1, { d: 2, c: 3 }], a: "x" })); // '{"a":"x","b":[1,{"c":3,"d":2}]}'
 */
export function canonicalJson(value: unknown): string {
  const walk = (v: unknown, path: string): string => {
    if (v === null || typeof v === "boolean" || typeof v === "string") return JSON.stringify(v);
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new TsgradError("canonicalJson", `${path} is ${v}`);
      return JSON.stringify(v);
    }
    if (Array.isArray(v)) {
      return `[${v.map((x: unknown, i) => walk(x ?? null, `${path}[${i}]`)).join(",")}]`;
    }
    if (typeof v === "object" && !(v instanceof Tensor)) {
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto === Object.prototype || proto === null) {
        const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
        keys.sort();
        const body = keys.map(
          (k) => `${JSON.stringify(k)}:${walk((v as Record<string, unknown>)[k], `${path}.${k}`)}`,
        );
        return `{${body.join(",")}}`;
      }
    }
    const kind =
      v instanceof Tensor ? "Tensor" : typeof v === "object" ? v.constructor.name : typeof v;
    throw new TsgradError("canonicalJson", `${path} is a ${kind}, which has no JSON form`);
  };
  return walk(value, "config");
}

/**
 * The config's hash: SHA-256 of its canonical JSON, first 12 hex digits.
 *
 * @example
 * const a = tg.io.configHash({ lr: 0.1, width: 64 });
 * console.log(a === tg.io.configHash({ width: 64, lr: 0.1 }), a.length); // true 12
 */
export function configHash(config: unknown): string {
  const { createHash } = nodeModule("configHash", "node:crypto");
  return createHash("sha256").update(canonicalJson(config)).digest("hex").slice(0, 12);
}

function checkExperiment(name: string): void {
  const segments = name.split("/");
  if (!name || segments.some((s) => !/^[A-Za-z0-9_.-]+$/.test(s) || s === "." || s === "..")) {
    throw new TsgradError(
      "openRun",
      `experiment name ${JSON.stringify(name)} must be path segments of letters, digits, "_", "-", "." joined by "/"`,
    );
  }
}

/**
 * The folder `root/<experiment>/<config-hash>` of a run (nothing is created).
 *
 * @example
 * console.log(tg.io.runDir("runs", "mnist", { lr: 0.1 }).startsWith("runs/mnist/")); // true
 */
export function runDir(root: string, experiment: string, config: unknown): string {
  checkExperiment(experiment);
  return nodeModule("runDir", "node:path").join(root, experiment, configHash(config));
}

/**
 * True when the run folder has a `summary.json`, i.e. the run finished (sweeps skip it).
 *
 * @example
 * console.log(tg.io.isRunFinished("/nonexistent/run")); // false
 */
export function isRunFinished(dir: string): boolean {
  return nodeModule("isRunFinished", "node:fs").existsSync(`${dir}/summary.json`);
}

/** A checkpoint found in a run folder. */
export interface CheckpointFile {
  /** Path of the file. */
  path: string;
  /** The training step in its name. */
  step: number;
}

const CHECKPOINT_NAME = /^checkpoint-(\d+)\.safetensors$/;

/**
 * The checkpoint with the highest step in a folder (files named `checkpoint-<step>.safetensors`,
 * as made by `Run.checkpointPath`), or null if there is none.
 *
 * @example
 * console.log(tg.io.latestCheckpoint("/nonexistent/run")); // null
 */
export function latestCheckpoint(dir: string): CheckpointFile | null {
  const fs = nodeModule("latestCheckpoint", "node:fs");
  if (!fs.existsSync(dir)) return null;
  let best: CheckpointFile | null = null;
  for (const name of fs.readdirSync(dir)) {
    const m = CHECKPOINT_NAME.exec(name);
    if (!m) continue;
    const step = Number(m[1]);
    if (best === null || step > best.step) best = { path: `${dir}/${name}`, step };
  }
  return best;
}

/** One line of `metrics.jsonl`. */
export type MetricsRecord = Record<string, unknown>;

const NON_FINITE = new Set(["NaN", "Infinity", "-Infinity"]);

/** JSON text of a record with non-finite numbers as strings (JSON has no literal for them). */
function toJson(value: unknown, op: string, indent?: number): string {
  return JSON.stringify(
    value,
    (key, v: unknown) => {
      if (typeof v === "number" && !Number.isFinite(v)) return String(v);
      if (v instanceof Tensor) {
        throw new TsgradError(op, `"${key}" is a Tensor; store a number (e.g. loss.item())`);
      }
      return v;
    },
    indent,
  );
}

/** Parse JSON written by `toJson`, turning "NaN"/"Infinity"/"-Infinity" back into numbers. */
function fromJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) =>
    typeof v === "string" && NON_FINITE.has(v) ? Number(v) : v,
  );
}

/** Parse a JSON file; `revive` restores the non-finite numbers `toJson` wrote as strings. */
function readJson(path: string, revive = true): unknown {
  const text = new TextDecoder().decode(readFileBytes(path));
  try {
    return revive ? fromJson(text) : JSON.parse(text);
  } catch (e) {
    throw new TsgradError(path, `is not valid JSON (${errorMessage(e)})`);
  }
}

/**
 * Read a `metrics.jsonl` file. A torn last line (the process was killed while writing it) is
 * dropped; a bad line anywhere else is corruption and throws, naming the file and line. The
 * strings "NaN", "Infinity" and "-Infinity" (how `Run.log` stores non-finite numbers) come back
 * as numbers. A missing file reads as no records.
 *
 * @example
 * const { mkdtempSync, writeFileSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * writeFileSync(dir + "/m.jsonl", '{"step":1,"loss":"NaN"}\n{"step":2,"lo');
 * console.log(tg.io.readMetrics(dir + "/m.jsonl")); // [{ step: 1, loss: NaN }]
 */
export function readMetrics(path: string): MetricsRecord[] {
  if (!nodeModule("readMetrics", "node:fs").existsSync(path)) return [];
  const lines = new TextDecoder().decode(readFileBytes(path)).split("\n");
  const out: MetricsRecord[] = [];
  lines.forEach((line, i) => {
    if (line === "") return;
    let rec: unknown;
    try {
      rec = fromJson(line);
    } catch {
      // Only the final line can be torn: every earlier one was followed by its newline.
      if (i === lines.length - 1) return;
      throw new TsgradError(path, `line ${i + 1} is not valid JSON: ${line.slice(0, 80)}`);
    }
    if (typeof rec !== "object" || rec === null || Array.isArray(rec)) {
      throw new TsgradError(path, `line ${i + 1} is not a JSON object`);
    }
    out.push(rec as MetricsRecord);
  });
  return out;
}

/**
 * `git rev-parse HEAD` of the working tree at `cwd` (default: the current directory), with
 * `dirty` on a second line if tracked files have uncommitted changes; null outside a git checkout
 * or without git.
 *
 * @example
 * const rev = tg.io.gitRevision("/");
 * console.log(rev === null || /^[0-9a-f]{40}/.test(rev)); // true
 */
export function gitRevision(cwd?: string): string | null {
  const { execFileSync } = nodeModule("gitRevision", "node:child_process");
  const git = (args: string[]): string =>
    execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  try {
    const rev = git(["rev-parse", "HEAD"]).trim();
    const dirty = git(["status", "--porcelain", "--untracked-files=no"]).trim() !== "";
    return dirty ? `${rev}\ndirty` : rev;
  } catch {
    return null;
  }
}

/**
 * What a run's numbers depend on besides its config: the kernel backend and its thread count
 * (the native backend splits sums across threads, so another count rounds differently — an LM
 * run's validation loss was 2.5354 on 1 thread and 2.5383 on 2). Neither is part of the config
 * hash — the same run may continue on another machine — so checkpoints record them and a resume
 * under different ones says so (see `environmentChange`).
 */
export interface RunEnvironment {
  /** The backend's registry name ("js", "native", "wasm"). */
  backend: string;
  /** Its kernel threads (1 for single-threaded backends). */
  threads: number;
}

/** The current backend and thread count, as checkpoints record them. */
export function runEnvironment(): RunEnvironment {
  const b = getBackend();
  return { backend: b.name, threads: b.numThreads?.() ?? 1 };
}

/**
 * A warning when resuming from a checkpoint written under `saved` (a checkpoint's recorded
 * `RunEnvironment`) in environment `now`, or null when they agree or the checkpoint predates the
 * record. Resuming is still allowed: the results are as valid, only not bit-identical to an
 * uninterrupted run.
 */
export function environmentChange(
  saved: unknown,
  checkpoint: string,
  now: RunEnvironment = runEnvironment(),
): string | null {
  if (typeof saved !== "object" || saved === null) return null;
  const { backend, threads } = saved as Partial<RunEnvironment>;
  const changes: string[] = [];
  if (typeof backend === "string" && backend !== now.backend) {
    changes.push(`backend ${backend} → ${now.backend}`);
  }
  if (typeof threads === "number" && threads !== now.threads) {
    changes.push(`threads ${threads} → ${now.threads}`);
  }
  if (changes.length === 0) return null;
  return (
    `warning: resuming ${checkpoint} with ${changes.join(", ")} (not part of the run's identity); ` +
    `the results will not be bit-identical to an uninterrupted run, since they change how ` +
    `floating-point sums are split and rounded`
  );
}

/** Options of `openRun`. */
export interface OpenRunOptions {
  /** Experiment name, one or more path segments (`"scaling-laws/width"`). */
  experiment: string;
  /** The run's config: JSON-like (sorted-key canonical JSON decides the folder). */
  config: unknown;
  /** Folder holding all experiments; default `"runs"` (relative to the current directory). */
  root?: string;
  /** Where to ask git for the revision; default the current directory. `false` skips git-rev. */
  gitCwd?: string | false;
  /** Use exactly this folder instead of `root/<experiment>/<hash>` (e.g. a user's `--out`). */
  dir?: string;
}

/**
 * An open run folder. Create one with `tg.io.openRun`.
 *
 * @example
 * const { mkdtempSync } = process.getBuiltinModule("node:fs");
 * const root = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * const run = tg.io.openRun({ root, experiment: "demo", config: { lr: 0.1 }, gitCwd: false });
 * run.log({ step: 1, loss: 0.5 });
 * run.finish({ finalLoss: 0.5 });
 * console.log(run.finished, run.metrics().length); // true 1
 */
export class Run {
  private fd: number | null = null;

  /** @internal Use `tg.io.openRun`. */
  constructor(
    /** The folder, `root/<experiment>/<hash>`. */
    readonly dir: string,
    /** The config hash (the folder's name). */
    readonly hash: string,
    /** The config the run was opened with. */
    readonly config: unknown,
  ) {}

  /** True once `summary.json` exists. */
  get finished(): boolean {
    return isRunFinished(this.dir);
  }

  /**
   * Append one record to `metrics.jsonl`. Each line goes to the OS in a single write, so a kill
   * loses at most the line being written. Non-finite numbers are stored as "NaN"/"Infinity".
   */
  log(record: MetricsRecord): void {
    const line = toJson(record, "Run.log");
    const fs = nodeModule("Run.log", "node:fs");
    const path = `${this.dir}/metrics.jsonl`;
    try {
      if (this.fd === null) {
        dropTornTail(path);
        this.fd = fs.openSync(path, "a");
      }
      fs.writeSync(this.fd, `${line}\n`);
    } catch (e) {
      throw new TsgradError(path, `could not append (${errorMessage(e)})`);
    }
  }

  /**
   * Cut `metrics.jsonl` back to what a run resumed at training step `step` has already logged:
   * the records with a numeric `step` of at most `step` that `keep` accepts (the loop logs the
   * later ones again). With `step` null — no checkpoint, so the run starts from scratch, e.g. after
   * a kill before its first checkpoint — the file is emptied, so no step is logged twice. The file
   * is replaced atomically: a kill during the cut leaves the old or the new version.
   */
  truncateMetrics(
    step: number | null,
    keep: (record: MetricsRecord) => boolean = () => true,
  ): void {
    const path = `${this.dir}/metrics.jsonl`;
    const fs = nodeModule("Run.truncateMetrics", "node:fs");
    this.close();
    if (!fs.existsSync(path)) return;
    const kept =
      step === null
        ? []
        : this.metrics().filter((r) => typeof r.step === "number" && r.step <= step && keep(r));
    writeFileAtomic(path, kept.map((r) => `${toJson(r, "Run.truncateMetrics")}\n`).join(""));
  }

  /** All records logged so far (see `readMetrics`). */
  metrics(): MetricsRecord[] {
    return readMetrics(`${this.dir}/metrics.jsonl`);
  }

  /** Mark the run finished: write `summary.json` atomically and close the metrics file. */
  finish(summary: Record<string, unknown>): void {
    this.close();
    writeFileAtomic(`${this.dir}/summary.json`, `${toJson(summary, "Run.finish", 2)}\n`);
  }

  /** The stored summary, or null while the run is unfinished. */
  summary(): Record<string, unknown> | null {
    if (!this.finished) return null;
    return readJson(`${this.dir}/summary.json`) as Record<string, unknown>;
  }

  /** Where the checkpoint of `step` goes: `<dir>/checkpoint-<step>.safetensors`. */
  checkpointPath(step: number): string {
    if (!Number.isSafeInteger(step) || step < 0) {
      throw new TsgradError(
        "Run.checkpointPath",
        `step must be a non-negative integer, got ${step}`,
      );
    }
    return `${this.dir}/checkpoint-${step}.safetensors`;
  }

  /** The checkpoint with the highest step in this run, or null (to resume from). */
  latestCheckpoint(): CheckpointFile | null {
    return latestCheckpoint(this.dir);
  }

  /** Close the metrics file (logging again reopens it). */
  close(): void {
    if (this.fd !== null) nodeModule("Run.close", "node:fs").closeSync(this.fd);
    this.fd = null;
  }
}

/** Cut a torn last line left by a killed run, so the next record starts on a line of its own. */
function dropTornTail(path: string): void {
  const fs = nodeModule("Run.log", "node:fs");
  if (!fs.existsSync(path)) return;
  const bytes = readFileBytes(path);
  if (bytes.length === 0 || bytes[bytes.length - 1] === 0x0a) return;
  fs.truncateSync(path, bytes.lastIndexOf(0x0a) + 1);
}

/**
 * Open (creating if needed) the run folder of `config` under `root/experiment`. A new folder gets
 * `config.json` (atomic) and `git-rev`; an existing one must hold the same config (a different one
 * would mean a hash collision or a hand edit, and throws). Check `run.finished` to skip done runs.
 *
 * @example
 * const { mkdtempSync } = process.getBuiltinModule("node:fs");
 * const root = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * const a = tg.io.openRun({ root, experiment: "sweep", config: { width: 8 }, gitCwd: false });
 * const b = tg.io.openRun({ root, experiment: "sweep", config: { width: 8 }, gitCwd: false });
 * console.log(a.dir === b.dir, a.finished); // true false
 */
export function openRun(opts: OpenRunOptions): Run {
  const { experiment, config, root = "runs", gitCwd } = opts;
  const fs = nodeModule("openRun", "node:fs");
  const dir = opts.dir ?? runDir(root, experiment, config);
  const hash = configHash(config);
  const configPath = `${dir}/config.json`;
  // A run killed inside an atomic write leaves its temporary file behind; reopening is the moment
  // to clear them, or they pile up in the folder forever.
  removeStaleTempFiles(dir);
  if (fs.existsSync(configPath)) {
    if (canonicalJson(readJson(configPath, false)) !== canonicalJson(config)) {
      throw new TsgradError(configPath, `holds a different config than the one with hash ${hash}`);
    }
  } else {
    writeFileAtomic(configPath, `${JSON.stringify(JSON.parse(canonicalJson(config)), null, 2)}\n`);
  }
  const revPath = `${dir}/git-rev`;
  if (gitCwd !== false && !fs.existsSync(revPath)) {
    const rev = gitRevision(gitCwd);
    if (rev !== null) writeFileAtomic(revPath, `${rev}\n`);
  }
  return new Run(dir, hash, config);
}

/** A run folder as seen by analysis scripts. */
export interface RunInfo {
  /** The folder. */
  dir: string;
  /** Its config hash. */
  hash: string;
  /** Parsed `config.json`. */
  config: unknown;
  /** Parsed `summary.json`, or null if the run has not finished. */
  summary: Record<string, unknown> | null;
}

/**
 * Every run folder of an experiment (those with a `config.json`), sorted by hash.
 *
 * @example
 * const { mkdtempSync } = process.getBuiltinModule("node:fs");
 * const root = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * for (const width of [8, 16]) {
 *   const run = tg.io.openRun({ root, experiment: "w", config: { width }, gitCwd: false });
 *   if (width === 8) run.finish({ acc: 0.9 });
 * }
 * const runs = tg.io.listRuns(root, "w");
 * console.log(runs.length, runs.filter((r) => r.summary !== null).length); // 2 1
 */
export function listRuns(root: string, experiment: string): RunInfo[] {
  checkExperiment(experiment);
  const fs = nodeModule("listRuns", "node:fs");
  const base = `${root}/${experiment}`;
  if (!fs.existsSync(base)) return [];
  return fs
    .readdirSync(base)
    .filter((h) => fs.existsSync(`${base}/${h}/config.json`))
    .sort()
    .map((h) => {
      const dir = `${base}/${h}`;
      const summary = isRunFinished(dir)
        ? (readJson(`${dir}/summary.json`) as Record<string, unknown>)
        : null;
      return { dir, hash: h, config: readJson(`${dir}/config.json`, false), summary };
    });
}
