import { spawn } from "node:child_process";
import { chmodSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { tempDir } from "./helpers.js";

const CHILD = fileURLToPath(new URL("./atomic-child.ts", import.meta.url));
const SIZE = 8 << 20;

/** Start the rewriting child, let it run for `ms` after its first write, then SIGKILL it. */
function killMidWrite(path: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, path, String(SIZE)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    child.stdout.once("data", () => setTimeout(() => child.kill("SIGKILL"), ms));
    child.on("error", reject);
    child.on("exit", (_code, signal) =>
      signal === "SIGKILL" ? resolve() : reject(new Error(`child exited without being killed`)),
    );
  });
}

describe("tg.io.writeFileAtomic", () => {
  it("replaces the contents and creates missing parent folders", () => {
    const path = `${tempDir()}/a/b/c.txt`;
    tg.io.writeFileAtomic(path, "first");
    tg.io.writeFileAtomic(path, new TextEncoder().encode("second ✓"));
    expect(readFileSync(path, "utf8")).toBe("second ✓");
    expect(readdirSync(dirname(path))).toEqual(["c.txt"]);
  });

  it("leaves either the old or the new file, never a torn one, when the writer is killed", async () => {
    const dir = tempDir();
    // Kill points spread over the write cycle of an 8 MB file; the children run side by side.
    const delays = [0, 15, 60];
    await Promise.all(delays.map((ms) => killMidWrite(`${dir}/big-${ms}.bin`, ms)));
    for (const ms of delays) {
      const bytes = readFileSync(`${dir}/big-${ms}.bin`);
      expect(bytes.length).toBe(SIZE);
      const first = bytes[0]!;
      expect([0x61, 0x62]).toContain(first);
      expect(bytes.every((b) => b === first)).toBe(true);
    }
  });

  it("throws a TsgradError naming the file and leaves the old contents when it cannot write", () => {
    const dir = tempDir();
    const path = `${dir}/keep.txt`;
    writeFileSync(path, "old");
    chmodSync(dir, 0o500);
    try {
      if (process.getuid?.() === 0) {
        // root ignores directory permissions; make the target's folder a file instead.
        expect(() => tg.io.writeFileAtomic(`${path}/inner.txt`, "new")).toThrow(
          /keep\.txt\/inner\.txt: could not write the file/,
        );
      } else {
        expect(() => tg.io.writeFileAtomic(path, "new")).toThrow(
          /keep\.txt: could not write the file/,
        );
      }
    } finally {
      chmodSync(dir, 0o700);
    }
    expect(readFileSync(path, "utf8")).toBe("old");
    expect(readdirSync(dir)).toEqual(["keep.txt"]);
  });
});
