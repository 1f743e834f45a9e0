import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import type { W2sResults } from "../../src/w2s/index.js";

const BIN = new URL("../../bin/tsgrad.js", import.meta.url).pathname;
const env = { ...process.env, TSGRAD_BACKEND: "js" };
const tsgrad = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, "experiment", "weak-to-strong", ...args], {
    encoding: "utf8",
    env,
  });

/** Start the command, send `signal` once stderr shows `marker`, resolve with how it ended. */
function signalAfter(
  args: string[],
  marker: string,
  signal: NodeJS.Signals,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "experiment", "weak-to-strong", ...args], { env });
    let stderr = "";
    let sent = false;
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (!sent && stderr.includes(marker)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on("error", reject);
    child.on("close", (code, sig) => resolve({ code, signal: sig }));
  });
}

describe("tsgrad experiment weak-to-strong", () => {
  it("runs the quick grid end to end through a kill and a Ctrl-C, resumes, and reports PGR from its own numbers", async () => {
    const out = `${mkdtempSync(`${tmpdir()}/tsgrad-w2s-cli-`)}/run`;
    // A hard kill after the first model: nothing is saved at the kill, finished models survive.
    const killed = await signalAfter(
      ["--quick", "--out", out],
      "trained weak-logistic-s0",
      "SIGKILL",
    );
    expect(killed.signal).toBe("SIGKILL");
    const weakResult = `${out}/models/weak-logistic-s0/result.json`;
    const mtime = statSync(weakResult).mtimeMs;
    // Ctrl-C after the second: the run checkpoints and exits with 130.
    const first = await signalAfter(
      ["--quick", "--out", out],
      "trained ceiling-mlp-w0.0625-s0",
      "SIGINT",
    );
    expect(first.code).toBe(130);

    const r = tsgrad("--quick", "--out", out);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("cached  weak-logistic-s0");
    expect(r.stderr).toContain("cached  ceiling-mlp-w0.0625-s0");
    expect(statSync(weakResult).mtimeMs).toBe(mtime);
    expect(r.stdout).toMatch(/logistic → mlp:0\.0625 \(ce\): [\d.]+ \/ [\d.]+ \/ [\d.]+, PGR/);

    const res = JSON.parse(readFileSync(`${out}/results.json`, "utf8")) as W2sResults;
    expect(res.pairs.map((p) => p.variant)).toEqual(["ce", "aux"]);
    for (const p of res.pairs) {
      // The strong ceiling beats the weak supervisor in every seed (chance is 10%).
      for (const s of p.seeds) {
        expect(s.ceiling).toBeGreaterThan(s.weak + 0.02);
        expect(s.weak).toBeGreaterThan(0.5);
      }
      // PGR from exactly those numbers.
      p.summary.perSeed.forEach((g, i) => {
        const s = p.seeds[i]!;
        expect(g.defined).toBe(true);
        if (g.defined) expect(g.value).toBeCloseTo((s.student - s.weak) / (s.ceiling - s.weak), 12);
      });
      const values = p.summary.perSeed.map((g) => (g.defined ? g.value : NaN));
      expect(p.summary.pgr!.mean).toBeCloseTo((values[0]! + values[1]!) / 2, 12);
      const weakAcc = res.trainings.find((t) => t.key === `weak-logistic-s${p.seeds[0]!.seed}`)!;
      expect(p.seeds[0]!.weak).toBe(weakAcc.testAccuracy);
    }
    for (const f of [
      "config.json",
      "grid.json",
      "summary.json",
      "metrics.jsonl",
      "report.html",
      "report.md",
      "figures/pgr-vs-strong.svg",
      "figures/pgr-vs-strong.png",
      "figures/accuracy.png",
      "figures/pgr.png",
    ]) {
      expect(existsSync(`${out}/${f}`), f).toBe(true);
    }
    const md = readFileSync(`${out}/report.md`, "utf8");
    expect(md).toContain("Performance gap recovered");
    expect(md).toContain("Student-t interval");
  }, 120_000);

  it("answers --help, plans, and rejects bad flags", () => {
    const h = tsgrad("--help");
    expect(h.status).toBe(0);
    expect(h.stdout).toContain("--aux-conf <off|on|both>");
    expect(h.stdout).toContain("--early-stop <final|weak-agreement>");
    const bad = tsgrad("--aux-conf", "maybe");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--aux-conf must be one of off, on, both/);
    const plan = tsgrad("--quick", "--plan");
    expect(plan.status).toBe(0);
    expect(plan.stdout).toMatch(/^mlp:0\.0625 +6 +/m);
    expect(plan.stdout).toMatch(/estimate at the measured wall-clock speed: [\d.]+ min on js/);
    const none = tsgrad("--quick", "--weak", "mlp", "--strong", "logistic", "--plan");
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no pair has a strong model larger/);
  });
});
