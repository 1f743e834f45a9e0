/**
 * One writer per run folder. A killed sweep can leave a training process running for up to one
 * step while a restarted sweep launches the same run again; the lock file (holding the owner's
 * pid) makes the newcomer wait for it instead of both writing the same checkpoints and metrics.
 * A lock whose process no longer exists is stale and taken over.
 */
import { TsgradError } from "../tensor/errors.js";
import { errorMessage, nodeModule } from "../io/node.js";

/** True if a process with this pid exists (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Take `<dir>/lock` for this process, waiting up to `waitMs` for a live owner to release it;
 * returns the release function.
 *
 * @example
 * const { mkdtempSync, existsSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * const release = await tg.lm.lockRun(dir);
 * console.log(existsSync(dir + "/lock")); // true
 * release();
 * console.log(existsSync(dir + "/lock")); // false
 */
export async function lockRun(dir: string, waitMs = 60_000): Promise<() => void> {
  const fs = nodeModule("lockRun", "node:fs");
  const path = `${dir}/lock`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      fs.writeFileSync(path, `${process.pid}\n`, { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new TsgradError(path, `cannot create the lock (${errorMessage(e)})`);
      }
    }
    let owner: number;
    try {
      owner = Number.parseInt(fs.readFileSync(path, "utf8"), 10);
    } catch {
      continue; // released between our attempt and the read: try again
    }
    if (owner === process.pid) {
      throw new TsgradError(path, "this process already trains this run");
    }
    if (!Number.isInteger(owner) || !alive(owner)) {
      fs.rmSync(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new TsgradError(
        path,
        `process ${owner} is training this run; stop it first (or wait for it to finish)`,
      );
    }
    await sleep(100);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    // Only remove our own lock (a stale-lock takeover may have replaced it).
    try {
      if (Number.parseInt(fs.readFileSync(path, "utf8"), 10) === process.pid) fs.rmSync(path);
    } catch {
      // already gone
    }
  };
}
