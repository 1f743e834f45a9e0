/**
 * Atomic file writes and checked reads (Node only). Every file tsgrad writes that must never be
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
  const fs = nodeModule("writeFileAtomic", "node:fs");
  const paths = nodeModule("writeFileAtomic", "node:path");
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const dir = paths.dirname(path);
  // Dot-prefixed and unique per process and call; "wx" refuses to reuse an existing name.
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

/** The bytes of a file, or a TsgradError naming the file. */
export function readFileBytes(path: string): Uint8Array {
  const fs = nodeModule("readFile", "node:fs");
  try {
    const buf = fs.readFileSync(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new TsgradError(path, `could not read the file (${errorMessage(e)})`);
  }
}
