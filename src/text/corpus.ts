/**
 * Bundled corpora and plain-text readers. Files are found by {@link resolveDataDir}: an explicit
 * folder, else `$TSGRAD_DATA/<name>`, else `data/<name>` (current folder, then the bundled data
 * sets, where Multi30k and Tiny Shakespeare ship: see `tg.data.dataRoots`). Node's fs and zlib
 * are fetched when a file is read, so that importing tsgrad in a browser (which never reads
 * corpora from disk) does not pull in Node modules.
 */
import { dataRoots } from "../data/locate.js";
import { nodeModule } from "../io/node.js";
import { TsgradError } from "../tensor/errors.js";
import { pySplit, pyStrip } from "./strings.js";

/** In a browser: fetch the text instead of reading it from disk. */
const FETCH_TEXT =
  "fetch the text and use it directly (e.g. tg.text.CharVocab.fromText(await (await fetch(url)).text()))";

/** Options for {@link resolveDataDir}. */
export interface ResolveOptions {
  /** A folder to search instead of the defaults: it, or its `<name>/` subfolder. */
  dir?: string;
  /** Files that must exist in a candidate folder; `f` or `f.gz` both count. */
  expect?: readonly string[];
}

/**
 * Find the folder of a data set, the same way `tg.data` finds its data sets: `opts.dir` (or its
 * `<name>/` subfolder) if given, and only there; else `<root>/<name>` for each of
 * `tg.data.dataRoots()` (`$TSGRAD_DATA`, `<cwd>/data`, then the bundled data sets). A candidate counts only if every file in `opts.expect` exists in it (plain or `.gz`);
 * otherwise the error lists every path searched.
 *
 * @example
 * const dir = tg.text.resolveDataDir("tinyshakespeare", { expect: ["input.txt"] });
 * console.log(dir.endsWith("tinyshakespeare")); // true
 */
export function resolveDataDir(name: string, opts: ResolveOptions = {}): string {
  const fs = nodeModule("resolveDataDir", "node:fs", FETCH_TEXT);
  const path = nodeModule("resolveDataDir", "node:path", FETCH_TEXT);
  const candidates =
    opts.dir !== undefined
      ? [path.resolve(opts.dir), path.resolve(opts.dir, name)]
      : dataRoots().map((root) => path.join(root, name));
  const expect = opts.expect ?? [];
  for (const c of candidates) {
    if (!fs.existsSync(c) || !fs.statSync(c).isDirectory()) continue;
    const has = (f: string) =>
      fs.existsSync(path.join(c, f)) || fs.existsSync(path.join(c, `${f}.gz`));
    if (expect.every(has)) return c;
  }
  const need = expect.length > 0 ? ` containing ${expect.join(", ")}` : "";
  throw new TsgradError(
    "resolveDataDir",
    `no folder for "${name}"${need}; searched ${candidates.join(", ")}` +
      (opts.dir === undefined ? " (pass a folder explicitly or set $TSGRAD_DATA)" : ""),
  );
}

/** `dir/file`, or `dir/file.gz` when only the compressed copy exists. */
function withGz(dir: string, file: string): string {
  const fs = nodeModule("text", "node:fs", FETCH_TEXT);
  const plain = nodeModule("text", "node:path", FETCH_TEXT).join(dir, file);
  return fs.existsSync(plain) ? plain : `${plain}.gz`;
}

/**
 * Read a UTF-8 text file, gzip-compressed or plain (detected from its magic bytes), whole. A
 * leading byte-order mark is dropped; invalid UTF-8 is an error naming the file.
 *
 * @example
 * const dir = tg.text.resolveDataDir("tinyshakespeare", { expect: ["input.txt"] });
 * console.log(tg.text.readText(`${dir}/input.txt`).slice(0, 14)); // "First Citizen:"
 */
export function readText(file: string): string {
  const fs = nodeModule("readText", "node:fs", FETCH_TEXT);
  const zlib = nodeModule("readText", "node:zlib", FETCH_TEXT);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new TsgradError("readText", `cannot read ${file}: ${(e as Error).message}`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      // Text past this size cannot become a string anyway: stop inflating there.
      bytes = zlib.gunzipSync(bytes, { maxOutputLength: MAX_TEXT_BYTES + 1 });
    } catch (e) {
      if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") tooLarge(file);
      throw new TsgradError("readText", `${file} is not valid gzip: ${(e as Error).message}`);
    }
  }
  if (bytes.length > MAX_TEXT_BYTES) tooLarge(file);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new TsgradError("readText", `${file} is not valid UTF-8`);
  }
}

/**
 * The longest text read whole: V8's string length limit (2^29 - 24 UTF-16 units), which any UTF-8
 * file of at most this many bytes fits in.
 */
const MAX_TEXT_BYTES = 2 ** 29 - 24;

function tooLarge(file: string): never {
  throw new TsgradError(
    "readText",
    `${file} holds more than ${MAX_TEXT_BYTES} bytes of text, the most read as one string (V8's string length limit); split it into smaller files`,
  );
}

/**
 * Read a text file (gzip or plain, as {@link readText}) as lines without their `\n` / `\r\n`
 * endings; a final newline does not add an empty line.
 *
 * @example
 * const dir = tg.text.resolveDataDir("multi30k", { expect: ["val.fr.gz"] });
 * const lines = tg.text.readLines(`${dir}/val.fr.gz`);
 * console.log(lines.length); // 1014
 */
export function readLines(file: string): string[] {
  const lines = readText(file).split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
}

/** Options for {@link readParallel} and {@link makeParallel}. */
export interface ParallelOptions {
  /**
   * Sentences longer than this many whitespace-separated words are cut to their first `maxWords`
   * words (and counted), so one runaway line cannot blow up a batch. Default 200 (Multi30k's
   * longest sentence has 43).
   */
  maxWords?: number;
  /** Receives one summary line per kind of problem (dropped, truncated). Default `console.warn`. */
  warn?: (message: string) => void;
}

/** What {@link makeParallel} changed, for the run log. */
export interface ParallelStats {
  /** Line pairs read. */
  lines: number;
  /** Pairs kept. */
  kept: number;
  /** Pairs dropped because either side was empty (after trimming). */
  droppedEmpty: number;
  /** 1-based line numbers of the first 20 dropped pairs. */
  droppedLines: number[];
  /** Source / target sentences cut to `maxWords`. */
  truncatedSource: number;
  truncatedTarget: number;
}

/** Aligned sentence pairs: `src[i]` translates to `tgt[i]`. */
export interface ParallelCorpus {
  src: string[];
  tgt: string[];
  stats: ParallelStats;
}

/**
 * Clean aligned line lists into sentence pairs: NFC-normalise and trim each line, drop pairs with
 * an empty side, and cut over-long sentences, reporting counts through `opts.warn`. Throws when
 * the two sides have different numbers of lines, since the alignment is then unknown.
 *
 * @example
 * const c = tg.text.makeParallel(["a b", "", "c d e"], ["x", "y", "z"], {
 *   maxWords: 2,
 *   warn: () => {},
 * });
 * console.log(c.src, c.tgt); // ["a b", "c d"] ["x", "z"]
 * console.log(c.stats.droppedEmpty, c.stats.truncatedSource); // 1 1
 */
export function makeParallel(
  srcLines: readonly string[],
  tgtLines: readonly string[],
  opts: ParallelOptions = {},
  names: [string, string] = ["source", "target"],
): ParallelCorpus {
  if (srcLines.length !== tgtLines.length) {
    throw new TsgradError(
      "readParallel",
      `line counts differ: ${names[0]} has ${srcLines.length} lines, ${names[1]} has ${tgtLines.length}`,
    );
  }
  const maxWords = opts.maxWords ?? 200;
  if (!(maxWords >= 1)) {
    throw new TsgradError("readParallel", `maxWords must be >= 1, got ${maxWords}`);
  }
  const warn = opts.warn ?? ((m: string) => console.warn(m));
  const stats: ParallelStats = {
    lines: srcLines.length,
    kept: 0,
    droppedEmpty: 0,
    droppedLines: [],
    truncatedSource: 0,
    truncatedTarget: 0,
  };
  const src: string[] = [];
  const tgt: string[] = [];
  const clip = (s: string): [string, boolean] => {
    const words = pySplit(s);
    return words.length > maxWords ? [words.slice(0, maxWords).join(" "), true] : [s, false];
  };
  for (let i = 0; i < srcLines.length; i++) {
    const s = pyStrip(srcLines[i]!.normalize("NFC"));
    const t = pyStrip(tgtLines[i]!.normalize("NFC"));
    if (s === "" || t === "") {
      stats.droppedEmpty++;
      if (stats.droppedLines.length < 20) stats.droppedLines.push(i + 1);
      continue;
    }
    const [s2, cutS] = clip(s);
    const [t2, cutT] = clip(t);
    if (cutS) stats.truncatedSource++;
    if (cutT) stats.truncatedTarget++;
    src.push(s2);
    tgt.push(t2);
  }
  stats.kept = src.length;
  const where = `${names[0]} / ${names[1]}`;
  if (stats.droppedEmpty > 0) {
    warn(
      `readParallel: dropped ${stats.droppedEmpty} of ${stats.lines} pairs with an empty side in ${where} (lines ${stats.droppedLines.join(", ")}${stats.droppedEmpty > stats.droppedLines.length ? ", ..." : ""})`,
    );
  }
  if (stats.truncatedSource + stats.truncatedTarget > 0) {
    warn(
      `readParallel: truncated ${stats.truncatedSource} source and ${stats.truncatedTarget} target sentences longer than ${maxWords} words in ${where}`,
    );
  }
  return { src, tgt, stats };
}

/**
 * Read an aligned pair of files (gzip or plain, one sentence per line) into sentence pairs; see
 * {@link makeParallel} for the cleaning. A line-count mismatch names both files and both counts.
 *
 * @example
 * const dir = tg.text.resolveDataDir("multi30k", { expect: ["val.en.gz"] });
 * const c = tg.text.readParallel(`${dir}/val.en.gz`, `${dir}/val.fr.gz`);
 * console.log(c.src.length === c.tgt.length, c.stats.droppedEmpty); // true 0
 */
export function readParallel(
  srcFile: string,
  tgtFile: string,
  opts: ParallelOptions = {},
): ParallelCorpus {
  return makeParallel(readLines(srcFile), readLines(tgtFile), opts, [srcFile, tgtFile]);
}

/** The Multi30k task-1 splits bundled in `data/multi30k` (test = test_2016_flickr). */
export type Multi30kSplit = "train" | "val" | "test";
/** Languages of the bundled Multi30k files. */
export type Multi30kLang = "en" | "fr" | "de";

/** Options for {@link loadMulti30k}. */
export interface Multi30kOptions extends ParallelOptions {
  split?: Multi30kSplit;
  src?: Multi30kLang;
  tgt?: Multi30kLang;
  /** Folder holding the files, plain or `.gz` (default: found by {@link resolveDataDir}). */
  dir?: string;
}

const MULTI30K_FILE: Record<Multi30kSplit, string> = {
  train: "train",
  val: "val",
  test: "test_2016_flickr",
};

/**
 * Multi30k task 1 (Elliott et al. 2016, 2017): 29,000 / 1,014 / 1,000 image-caption sentence
 * pairs for train / val / test_2016_flickr, in English, French and German. Defaults to en→fr.
 *
 * @example
 * const val = tg.text.loadMulti30k({ split: "val" });
 * console.log(val.src.length, val.src[0]);
 * // 1014 "A group of men are loading cotton onto a truck"
 */
export function loadMulti30k(opts: Multi30kOptions = {}): ParallelCorpus {
  const split = opts.split ?? "train";
  const base = MULTI30K_FILE[split];
  if (base === undefined) {
    throw new TsgradError("loadMulti30k", `unknown split "${String(split)}" (train, val, test)`);
  }
  const src = opts.src ?? "en";
  const tgt = opts.tgt ?? "fr";
  for (const l of [src, tgt]) {
    if (!["en", "fr", "de"].includes(l)) {
      throw new TsgradError("loadMulti30k", `unknown language "${l}" (en, fr, de)`);
    }
  }
  const file = (lang: string) => `${base}.${lang}`;
  const dir = resolveDataDir("multi30k", { dir: opts.dir, expect: [file(src), file(tgt)] });
  return readParallel(withGz(dir, file(src)), withGz(dir, file(tgt)), opts);
}

/**
 * The Tiny Shakespeare corpus (Karpathy's char-rnn, 2015): 1,115,394 characters of Shakespeare's
 * plays, returned as one string exactly as stored.
 *
 * @example
 * const text = tg.text.loadTinyShakespeare();
 * console.log(text.length, text.slice(0, 14)); // 1115394 "First Citizen:"
 */
export function loadTinyShakespeare(opts: { dir?: string } = {}): string {
  const dir = resolveDataDir("tinyshakespeare", { dir: opts.dir, expect: ["input.txt"] });
  return readText(withGz(dir, "input.txt"));
}
