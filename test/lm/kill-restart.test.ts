/**
 * The kill-and-restart guarantees of `tsgrad sweep scaling`, end to end with the CLI and child
 * processes: a sweep killed mid-run (the sweep process itself, or one training child) repeats no
 * finished run when restarted and resumes the killed one exactly.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import * as lm from "../../src/lm/index.js";
import { QUIET, tempDir } from "./helpers.js";

const BIN = fileURLToPath(new URL("../../bin/tsgrad.js", import.meta.url));

/**
 * Two tiny runs of 40 steps, checkpointing every 10, on the JS backend: its speed (tens of
 * milliseconds a step) leaves time to kill the second run between its first checkpoint and its end.
 */
function killSpec(root: string, name: string) {
  const args = [
    "sweep",
    "scaling",
    "--backend",
    "js",
    "--quick",
    "--root",
    root,
    "--name",
    name,
    "--sizes",
    "1x8x1,1x16x1",
    "--tokens",
    "2560",
    "--data-size",
    "",
    "--checkpoint-interval",
    "10",
  ];
  const spec = {
    ...lm.QUICK_SWEEP,
    name,
    sizes: ["1x8x1", "1x16x1"],
    tokens: [2560],
    dataSize: undefined,
  };
  const [a, b] = lm.planSweep(spec, root) as [lm.PlannedRun, lm.PlannedRun];
  return { args, spec, a, b };
}

function startSweep(args: string[]): { child: ChildProcess; done: Promise<number | string> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | string>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? signal ?? "?")),
  ).then((r) => {
    if (r !== 0 && r !== "SIGKILL" && r !== 1) console.error(err);
    return r;
  });
  return { child, done };
}

async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

function events(root: string, name: string): Record<string, unknown>[] {
  return tg.io.readMetrics(`${root}/${name}/sweep-log.jsonl`);
}

/** Checks after a restart: a untouched, b resumed from `from` to the same result as in one go. */
async function checkResumed(
  root: string,
  k: ReturnType<typeof killSpec>,
  from: number,
  before: { summary: string; mtime: number },
) {
  expect(readFileSync(`${k.a.dir}/summary.json`, "utf8")).toBe(before.summary);
  expect(statSync(`${k.a.dir}/summary.json`).mtimeMs).toBe(before.mtime);
  const log = events(root, k.spec.name);
  const lastStart = log.map((e) => e.event).lastIndexOf("sweep-start");
  const second = log.slice(lastStart);
  expect(second.find((e) => e.hash === k.a.hash)?.event).toBe("skip");
  expect(second.find((e) => e.hash === k.b.hash && e.event === "resume")?.fromStep).toBe(from);
  const sb = JSON.parse(readFileSync(`${k.b.dir}/summary.json`, "utf8")) as lm.LMSummary;
  expect(sb.resumedFrom).toEqual([from]);
  // No record was logged twice (the steps between the checkpoint and the kill were dropped).
  const keys = tg.io
    .readMetrics(`${k.b.dir}/metrics.jsonl`)
    .map((m) => `${m.step as number}:${"valLoss" in m ? "eval" : "train"}`);
  expect(new Set(keys).size).toBe(keys.length);
  expect(keys.filter((x) => x.endsWith("train")).length).toBe(40 / 10);
  // Exact resume: the same run trained in one go (same backend) ends at the same loss.
  const backend = tg.getBackend().name;
  tg.setBackend("js");
  try {
    const ref = await lm.trainLM(k.b.config, {
      ...QUIET,
      root: tempDir(),
      experiment: k.spec.name,
    });
    expect(sb.finalValLoss).toBe(ref.summary!.finalValLoss);
  } finally {
    tg.setBackend(backend);
  }
}

describe("tsgrad sweep scaling (kill and restart)", () => {
  it("survives SIGKILL of the sweep process: finished runs are not repeated, the killed one resumes", async () => {
    const root = tempDir();
    const k = killSpec(root, "kill-sweep");
    const run1 = startSweep(k.args);
    await until("a checkpoint of the second run", () => tg.io.latestCheckpoint(k.b.dir) !== null);
    run1.child.kill("SIGKILL");
    expect(await run1.done).toBe("SIGKILL");
    expect(tg.io.isRunFinished(k.a.dir)).toBe(true);
    expect(tg.io.isRunFinished(k.b.dir)).toBe(false);
    // The orphaned training process notices that its sweep is gone and stops (releasing its lock).
    await until("the orphaned run to stop", () => !existsSync(`${k.b.dir}/lock`), 30_000);
    const from = tg.io.latestCheckpoint(k.b.dir)!.step;
    expect(from).toBeGreaterThan(0);
    const before = {
      summary: readFileSync(`${k.a.dir}/summary.json`, "utf8"),
      mtime: statSync(`${k.a.dir}/summary.json`).mtimeMs,
    };
    expect(await startSweep(k.args).done).toBe(0);
    await checkResumed(root, k, from, before);
  });

  it("survives SIGKILL of a training child: the sweep reports it, and a restart resumes it", async () => {
    const root = tempDir();
    const k = killSpec(root, "kill-child");
    const run1 = startSweep(k.args);
    await until("a checkpoint of the second run", () => tg.io.latestCheckpoint(k.b.dir) !== null);
    const pid = Number(readFileSync(`${k.b.dir}/lock`, "utf8"));
    process.kill(pid, "SIGKILL");
    // The sweep goes on without it and exits with 1 (a failed run).
    expect(await run1.done).toBe(1);
    const fail = events(root, k.spec.name).find((e) => e.event === "fail");
    expect(fail).toMatchObject({ hash: k.b.hash, reason: "killed by SIGKILL" });
    const from = tg.io.latestCheckpoint(k.b.dir)!.step;
    const before = {
      summary: readFileSync(`${k.a.dir}/summary.json`, "utf8"),
      mtime: statSync(`${k.a.dir}/summary.json`).mtimeMs,
    };
    // The killed child's lock is stale (its pid is gone): the restart takes it over.
    expect(await startSweep(k.args).done).toBe(0);
    await checkResumed(root, k, from, before);
  });
});
