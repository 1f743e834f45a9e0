/**
 * Atomic file writes and checked reads (Node only), and the path-or-bytes sources the loaders
 * take so that they also work in a browser. Every file tsgrad writes that must never be
 * seen half-written — checkpoints, configs, summaries, reports — goes through `writeFileAtomic`.
 */
import { TsgradError } from "../tensor/errors.js";
import { errorMessage, nodeModule } from "./node.js";

/**
 * Write `data` to `path` so that a crash or kill at any moment leaves either the old file or the
 * new one, never a torn mix: the bytes go to a temporary file in the same directory (same file
 * system, so the rename is atomic), which is fsynced and then renamed over the target; finally
 * the directory is fsynced so the rename survives a power cut. Missing parent directories are
 * created. Strings are written as UTF-8.
 *
 * @example
 * const { mkdtempSync, readFileSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * tg.io.writeFileAtomic(dir + "/notes/a.txt", "hello");
 * console.log(readFileSync(dir + "/notes/a.txt", "utf8")); // "hello"
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const inBrowser =
    "keep the bytes in memory (tg.io.encodeCheckpoint / encodeSafetensors) and save them with a " +
    "download link (URL.createObjectURL(new Blob([bytes])))";
  const fs = nodeModule("writeFileAtomic", "node:fs", inBrowser);
  const paths = nodeModule("writeFileAtomic", "node:path", inBrowser);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const dir = paths.dirname(path);
  // Dot-prefixed and unique per process and call; "wx" refuses to reuse an existing name. The
  // shape is TEMP_NAME's, which removeStaleTempFiles relies on to clean up after a kill.
  const tmp = paths.join(
    dir,
    `.${paths.basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`,
  );
  let fd: number | undefined;
  try {
    fs.mkdirSync(dir, { recursive: true });
    fd = fs.openSync(tmp, "wx");
    for (let at = 0; at < bytes.length;) at += fs.writeSync(fd, bytes, at, bytes.length - at);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
  } catch (e) {
    try {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
    } catch {
      // Best effort: the original error below is the one worth reporting.
    }
    throw new TsgradError(path, `could not write the file (${errorMessage(e)})`);
  }
  try {
    const dirFd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  } catch {
    // Directories cannot be opened for fsync on Windows; the rename is still atomic there.
  }
}

/**
 * The name `writeFileAtomic` gives its temporary file: `.<target>.<pid>.<random>.tmp`. Only names
 * of exactly this shape are ever removed as leftovers, so a user's own dot-files are never touched.
 */
const TEMP_NAME = /^\.(.+)\.(\d+)\.([0-9a-z]{1,8})\.tmp$/;

/** Whether process `pid` still runs (EPERM: it does, under another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM";
  }
}

/**
 * Remove the temporary files that `writeFileAtomic` calls killed mid-write left in `dir` (not its
 * subfolders), returning their names. A temporary file whose writer is still running is kept: two
 * processes may open the same run folder, and deleting the other's file would fail its rename. A
 * file of this process's own id is a leftover too (writes are synchronous, so none is in flight
 * while this runs; and a restarted container often reuses the killed process's id). A missing
 * folder has nothing to clean.
 */
export function removeStaleTempFiles(dir: string): string[] {
  const fs = nodeModule("removeStaleTempFiles", "node:fs");
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && processAlive(pid)) continue;
    try {
      if (!fs.statSync(`${dir}/${name}`).isFile()) continue;
      fs.rmSync(`${dir}/${name}`, { force: true });
      removed.push(name);
    } catch {
      // Gone already (another process cleaned it up): nothing left to do.
    }
  }
  return removed;
}

/**
 * A file's contents as the loaders take them: a path (read from disk, Node only) or the bytes
 * themselves, which work anywhere — `await file.arrayBuffer()` of a browser `File` (an
 * `<input type="file">` or a drop), `await response.arrayBuffer()` of a `fetch`.
 */
export type FileSource = string | Uint8Array | ArrayBuffer;

/**
 * The bytes of a file, or a TsgradError naming the file. Outside Node the error names `op` and
 * says to pass the bytes instead (or `inBrowser`, for callers that take no bytes).
 */
export function readFileBytes(path: string, op = "readFile", inBrowser?: string): Uint8Array {
  const fs = nodeModule(
    op,
    "node:fs",
    inBrowser ??
      `pass the file's bytes instead of the path ${JSON.stringify(path)}: ${op}(await file.arrayBuffer()) ` +
        `for a File from an <input type="file"> or a drop, or ${op}(await (await fetch(url)).arrayBuffer())`,
  );
  try {
    const buf = fs.readFileSync(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new TsgradError(path, `could not read the file (${errorMessage(e)})`);
  }
}

/**
 * The bytes of a `FileSource` and the name its errors use: the path, or `name` (default
 * "<bytes>") for bytes.
 */
export function sourceBytes(
  source: FileSource,
  op: string,
  name?: string,
): { bytes: Uint8Array; name: string } {
  if (typeof source === "string") return { bytes: readFileBytes(source, op), name: source };
  if (source instanceof Uint8Array) return { bytes: source, name: name ?? "<bytes>" };
  if (source instanceof ArrayBuffer) {
    return { bytes: new Uint8Array(source), name: name ?? "<bytes>" };
  }
  throw new TsgradError(
    op,
    `expected a file path, a Uint8Array or an ArrayBuffer, got ${Object.prototype.toString.call(source)}`,
  );
}
