import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { removeStaleTempFiles } from "../../src/io/atomic.js";
import { environmentChange, runEnvironment } from "../../src/io/runs.js";
import { tempDir } from "./helpers.js";

describe("tg.io.configHash", () => {
  it("is the first 12 hex digits of SHA-256 over sorted-key compact JSON", () => {
    const config = { c: { d: "é" }, b: [true, null], a: 1, skipped: undefined };
    expect(tg.io.canonicalJson(config)).toBe('{"a":1,"b":[true,null],"c":{"d":"é"}}');
    // printf '%s' '{"a":1,"b":[true,null],"c":{"d":"é"}}' | sha256sum
    expect(tg.io.configHash(config)).toBe("434dff3222b9");
  });

  it("does not depend on key order and changes with any value", () => {
    const a = tg.io.configHash({ lr: 0.1, model: { width: 64, depth: 2 } });
    expect(tg.io.configHash({ model: { depth: 2, width: 64 }, lr: 0.1 })).toBe(a);
    expect(tg.io.configHash({ lr: 0.1, model: { width: 64, depth: 3 } })).not.toBe(a);
  });

  it("rejects values without a faithful JSON form", () => {
    expect(() => tg.io.configHash({ lr: NaN })).toThrow(/config\.lr is NaN/);
    expect(() => tg.io.configHash({ w: tg.ones([1]) })).toThrow(/config\.w is a Tensor/);
    expect(() => tg.io.configHash({ at: new Date(0) })).toThrow(/config\.at is a Date/);
  });
});

describe("tg.io.openRun", () => {
  it("creates runs/<experiment>/<hash>/ with config.json and the git revision", () => {
    const root = tempDir();
    const cwd = new URL("../..", import.meta.url).pathname;
    const config = { width: 8, lr: 0.5 };
    const run = tg.io.openRun({ root, experiment: "scaling/width", config, gitCwd: cwd });
    expect(run.dir).toBe(`${root}/scaling/width/${tg.io.configHash(config)}`);
    expect(JSON.parse(readFileSync(`${run.dir}/config.json`, "utf8"))).toEqual(config);
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd, encoding: "utf8" }).trim();
    expect(readFileSync(`${run.dir}/git-rev`, "utf8").split("\n")[0]).toBe(head);
    expect(run.finished).toBe(false);
    expect(run.summary()).toBeNull();
  });

  it("marks a run finished by its summary, so a sweep can skip it", () => {
    const root = tempDir();
    const open = (width: number) =>
      tg.io.openRun({ root, experiment: "sweep", config: { width }, gitCwd: false });
    open(4).finish({ acc: 0.9, loss: NaN });
    expect(open(4).finished).toBe(true);
    expect(open(4).summary()).toEqual({ acc: 0.9, loss: NaN });
    expect(open(8).finished).toBe(false);
    expect(tg.io.isRunFinished(open(4).dir)).toBe(true);
    const listed = tg.io.listRuns(root, "sweep");
    expect(listed.map((r) => [r.config, r.summary])).toEqual(
      [
        [{ width: 4 }, { acc: 0.9, loss: NaN }],
        [{ width: 8 }, null],
      ].sort((a, b) => (tg.io.configHash(a[0]) < tg.io.configHash(b[0]) ? -1 : 1)),
    );
  });

  it("refuses a folder whose config.json holds a different config", () => {
    const root = tempDir();
    const run = tg.io.openRun({ root, experiment: "e", config: { a: 1 }, gitCwd: false });
    writeFileSync(`${run.dir}/config.json`, '{"a": 2}');
    expect(() => tg.io.openRun({ root, experiment: "e", config: { a: 1 }, gitCwd: false })).toThrow(
      /config\.json: holds a different config/,
    );
  });

  it("rejects experiment names that would escape the runs folder", () => {
    for (const bad of ["", "../x", "a//b", "a b", "/abs"]) {
      expect(() => tg.io.openRun({ root: tempDir(), experiment: bad, config: {} }), bad).toThrow(
        /experiment name/,
      );
    }
  });
});

describe("tg.io.Run.log", () => {
  it("appends one JSON line per record and keeps non-finite numbers", () => {
    const run = tg.io.openRun({ root: tempDir(), experiment: "m", config: {}, gitCwd: false });
    run.log({ step: 1, loss: 2.5 });
    run.log({ step: 2, loss: Infinity, note: "diverged" });
    expect(readFileSync(`${run.dir}/metrics.jsonl`, "utf8")).toBe(
      '{"step":1,"loss":2.5}\n{"step":2,"loss":"Infinity","note":"diverged"}\n',
    );
    expect(run.metrics()).toEqual([
      { step: 1, loss: 2.5 },
      { step: 2, loss: Infinity, note: "diverged" },
    ]);
    expect(() => run.log({ loss: tg.scalar(1) })).toThrow(/"loss" is a Tensor/);
    run.close();
  });

  it("drops a torn last line when reading, and cuts it before appending again after a crash", () => {
    const root = tempDir();
    const config = { seed: 1 };
    const run = tg.io.openRun({ root, experiment: "m", config, gitCwd: false });
    run.log({ step: 1 });
    run.close();
    appendFileSync(`${run.dir}/metrics.jsonl`, '{"step":2,"lo'); // killed mid-line
    expect(tg.io.readMetrics(`${run.dir}/metrics.jsonl`)).toEqual([{ step: 1 }]);
    const resumed = tg.io.openRun({ root, experiment: "m", config, gitCwd: false });
    resumed.log({ step: 2 });
    resumed.close();
    expect(readFileSync(`${run.dir}/metrics.jsonl`, "utf8")).toBe('{"step":1}\n{"step":2}\n');
  });

  it("treats a bad line before the last one as corruption", () => {
    const path = `${tempDir()}/metrics.jsonl`;
    writeFileSync(path, '{"a":1}\nnot json\n{"a":3}\n');
    expect(() => tg.io.readMetrics(path)).toThrow(/metrics\.jsonl: line 2 is not valid JSON/);
  });
});

describe("tg.io.latestCheckpoint", () => {
  it("finds the checkpoint with the highest step, ignoring other files", () => {
    const run = tg.io.openRun({ root: tempDir(), experiment: "c", config: {}, gitCwd: false });
    expect(run.latestCheckpoint()).toBeNull();
    for (const step of [90, 1000, 200]) {
      tg.io.saveCheckpoint(run.checkpointPath(step), { model: { w: tg.full([1], step) } });
    }
    writeFileSync(`${run.dir}/.checkpoint-5000.safetensors.123.tmp`, "partial");
    writeFileSync(`${run.dir}/checkpoint-x.safetensors`, "");
    const latest = run.latestCheckpoint()!;
    expect(latest).toEqual({ path: `${run.dir}/checkpoint-1000.safetensors`, step: 1000 });
    expect(tg.io.loadCheckpoint(latest.path).model.w!.item()).toBe(1000);
    expect(existsSync(run.checkpointPath(90))).toBe(true);
    expect(() => run.checkpointPath(-1)).toThrow(/non-negative integer/);
  });
});

/** The pid of a process that has exited (so no live process can own a file named after it). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  return child.pid;
}

describe("tg.io.Run.truncateMetrics (issue 19, item 14)", () => {
  const open = (root: string) =>
    tg.io.openRun({ root, experiment: "t", config: { a: 1 }, gitCwd: false });

  it("empties metrics.jsonl for a run that restarts from scratch", () => {
    const root = tempDir();
    const run = open(root);
    run.log({ step: 0, loss: 2 });
    run.log({ step: 50, loss: 1 });
    // A kill before the first checkpoint, then a restart: it must not log steps 0 and 50 twice.
    const again = open(root);
    again.truncateMetrics(null);
    again.log({ step: 0, loss: 2 });
    expect(again.metrics()).toEqual([{ step: 0, loss: 2 }]);
  });

  it("keeps what a resume from `step` already logged, non-finite numbers and all", () => {
    const root = tempDir();
    const run = open(root);
    for (const step of [0, 10, 20, 30]) run.log({ step, loss: step === 10 ? NaN : step });
    run.log({ step: 20, final: true });
    run.log({ note: "no step" });
    run.truncateMetrics(20, (r) => r.final !== true);
    expect(run.metrics()).toEqual([
      { step: 0, loss: 0 },
      { step: 10, loss: NaN },
      { step: 20, loss: 20 },
    ]);
    // Logging continues on the cut file.
    run.log({ step: 30, loss: 30 });
    expect(run.metrics().map((r) => r.step)).toEqual([0, 10, 20, 30]);
  });

  it("does nothing to a run without metrics", () => {
    const run = open(tempDir());
    run.truncateMetrics(null);
    expect(existsSync(`${run.dir}/metrics.jsonl`)).toBe(false);
  });
});

describe("stale temporary files of atomic writes (issue 19, item 14)", () => {
  it("are removed when the run folder is opened again; a live writer's and user files stay", () => {
    const root = tempDir();
    const run = tg.io.openRun({ root, experiment: "t", config: { a: 1 }, gitCwd: false });
    const dead = deadPid();
    const stale = [
      `.config.json.${dead}.k3j9x0aa.tmp`,
      `.checkpoint-40.safetensors.${dead}.0.tmp`,
      `.summary.json.${process.pid}.zz.tmp`, // this process's id: no write of it is in flight
    ];
    // The parent process (vitest's) is alive: its file may be mid-write and must stay.
    const live = `.config.json.${process.ppid}.abcdefgh.tmp`;
    const user = [
      ".notes.tmp",
      "data.tmp",
      `.x.${dead}.TOOLONGID9.tmp`,
      "checkpoint-40.safetensors",
    ];
    for (const f of [...stale, live, ...user]) writeFileSync(`${run.dir}/${f}`, "x");
    tg.io.openRun({ root, experiment: "t", config: { a: 1 }, gitCwd: false });
    const left = readdirSync(run.dir).sort();
    for (const f of stale) expect(left).not.toContain(f);
    for (const f of [live, ...user]) expect(left).toContain(f);
    expect(removeStaleTempFiles("/nonexistent/folder")).toEqual([]);
  });
});

describe("environmentChange (issue 19, item 14)", () => {
  it("warns when the thread count or backend differs from the checkpoint's", () => {
    const now = { backend: "native", threads: 2 };
    expect(environmentChange({ backend: "native", threads: 2 }, "c.safetensors", now)).toBeNull();
    // Checkpoints written before the environment was recorded resume silently.
    expect(environmentChange(undefined, "c.safetensors", now)).toBeNull();
    const w = environmentChange({ backend: "native", threads: 1 }, "c.safetensors", now)!;
    expect(w).toMatch(/^warning: resuming c\.safetensors with threads 1 → 2 /);
    expect(w).toMatch(/not be bit-identical/);
    expect(environmentChange({ backend: "js", threads: 1 }, "c", now)).toMatch(
      /backend js → native, threads 1 → 2/,
    );
    expect(runEnvironment()).toEqual({
      backend: tg.getBackend().name,
      threads: tg.getBackend().numThreads?.() ?? 1,
    });
  });
});
