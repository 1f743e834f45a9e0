import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import "../../src/index.js";
import { UsageError } from "../../src/cli/args.js";
import { command as analyzeScaling } from "../../src/cli/analyze-scaling.js";
import { command as sample } from "../../src/cli/sample.js";
import { command as sweepScaling } from "../../src/cli/sweep-scaling.js";
import { command as trainLm } from "../../src/cli/train-lm.js";
import type * as lm from "../../src/lm/index.js";
import { tempDir } from "./helpers.js";

/** Run a command in this process and return its exit code and what it printed to stdout. */
async function run(cmd: { run(argv: string[]): Promise<number> | number }, argv: string[]) {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => {
    lines.push(a.join(" "));
  });
  const err = vi.spyOn(console, "error").mockImplementation(() => {});
  const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    return { code: await cmd.run(argv), out: lines.join("\n") };
  } finally {
    log.mockRestore();
    err.mockRestore();
    write.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe("tsgrad train lm / sample / sweep scaling / analyze scaling", () => {
  it("answer --help with their flags", async () => {
    expect((await run(trainLm, ["--help"])).out).toMatch(/--block-size <int>.*\(default: 64\)/);
    expect((await run(sample, ["--help"])).out).toMatch(/--top-k <int>/);
    expect((await run(sweepScaling, ["--help"])).out).toMatch(/--data-tokens <list>/);
    expect((await run(analyzeScaling, ["--help"])).out).toMatch(/analyze scaling <runs\/sweep>/);
  });

  it("reject unknown flags and contradictory budgets", async () => {
    await expect(run(trainLm, ["--layers", "2"])).rejects.toThrow(UsageError);
    await expect(run(trainLm, ["--steps", "5", "--tokens", "3840"])).rejects.toThrow(
      /--steps or --tokens, not both/,
    );
    await expect(run(sample, [])).rejects.toThrow(/--checkpoint is required/);
    await expect(run(sweepScaling, ["--tokens", "12x"])).rejects.toThrow(/positive integers/);
  });

  it("train a --quick model for --steps from a --config file, then sample from it", async () => {
    const root = tempDir();
    const cfg = `${root}/recipe.json`;
    writeFileSync(
      cfg,
      JSON.stringify({ _comment: "ignored", nEmbd: 8, nHead: 2, evalInterval: 0, warmupSteps: 1 }),
    );
    const t = await run(trainLm, [
      "--quick",
      "--config",
      cfg,
      "--steps",
      "3",
      "--root",
      root,
      "--quiet",
    ]);
    expect(t.code).toBe(0);
    const dir = /^(\S+)$/m.exec(t.out)![1]!;
    const saved = JSON.parse(readFileSync(`${dir}/config.json`, "utf8")) as lm.LMConfig;
    expect([saved.nEmbd, saved.nHead, saved.nLayer, saved.tokens]).toEqual([8, 2, 1, 3 * 8 * 32]);
    const s = await run(sample, ["--checkpoint", dir, "--prompt", "ROMEO:", "--tokens", "20"]);
    expect(s.code).toBe(0);
    expect(s.out.startsWith("ROMEO:")).toBe(true);
    await expect(run(sample, ["--checkpoint", dir, "--prompt", "Ωmega"])).rejects.toThrow(
      /the prompt uses "Ω"/,
    );
  });

  it("print a sweep plan with estimated durations", async () => {
    const p = await run(sweepScaling, ["--plan"]);
    expect(p.out).toMatch(/9 runs, about \d+ minutes at 60 GFLOP\/s \+ 30 ms\/step/);
    expect(p.out).toMatch(/4x96x3\s+447552\s+8192000/);
  });

  it("analyze a sweep folder and report the held-out prediction", async () => {
    const dir = `${tempDir()}/sw`;
    [1e3, 1e4, 1e5, 1e6].forEach((N, i) => {
      mkdirSync(`${dir}/r${i}`, { recursive: true });
      writeFileSync(`${dir}/r${i}/config.json`, JSON.stringify({ seed: 0 }));
      writeFileSync(
        `${dir}/r${i}/summary.json`,
        JSON.stringify({
          finalValLoss: 1.5 + 9 * N ** -0.3,
          nonEmbeddingParams: N,
          tokens: 1e6,
          size: `m${i}`,
        }),
      );
    });
    const a = await run(analyzeScaling, [dir, "--bootstrap", "20"]);
    expect(a.code).toBe(0);
    expect(a.out).toMatch(
      /held-out m3 \(N = 1000000, D = 1000000\): predicted 1\.643, measured 1\.643, relative error -?0\.00%/,
    );
    expect(a.out).toMatch(/wrote 7 files to .*\/sw\/analysis/);
  });
});
