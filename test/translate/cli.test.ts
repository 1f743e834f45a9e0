import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import * as tg from "../../src/index.js";
import * as translate from "../../src/translate/index.js";
import { main } from "../../src/cli/main.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const tmp = () => mkdtempSync(`${tmpdir()}/tg-translate-cli-`);

/** Run the CLI in this process; returns the exit code and what it printed. */
async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi
    .spyOn(console, "log")
    .mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  const error = vi
    .spyOn(console, "error")
    .mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  const warn = vi
    .spyOn(console, "warn")
    .mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    log.mockRestore();
    error.mockRestore();
    warn.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe("tsgrad train translate --quick", () => {
  let runDir = "";
  let summary: Record<string, unknown> = {};
  let epochs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    const out = tmp();
    const r = await cli("train", "translate", "--quick", "--out", out);
    expect(r.code, r.err.join("\n")).toBe(0);
    const report = r.out.find((l) => l.startsWith("report: "))!;
    runDir = report.slice("report: ".length).replace(/\/report\.html$/, "");
    summary = JSON.parse(readFileSync(`${runDir}/summary.json`, "utf8")) as Record<string, unknown>;
    epochs = tg.io.readMetrics(`${runDir}/metrics.jsonl`).filter((m) => m.kind === "epoch");
  }, 300_000);

  it("learns to translate its training pairs: loss from above 4.5 to below 1.5, BLEU at least 12", () => {
    // An untrained model scores near 0 BLEU; seeded runs measure 26.2 (native) and 22.4 (JS).
    expect(epochs[0]!.trainLoss as number).toBeGreaterThan(4.5);
    expect(epochs[epochs.length - 1]!.trainLoss as number).toBeLessThan(1.5);
    expect(summary.trainBleu as number).toBeGreaterThanOrEqual(12);
    expect(summary.status).toBe("finished");
  });

  it("translates sentences given as arguments with the run folder's best checkpoint", async () => {
    const r = await cli(
      "translate",
      "--checkpoint",
      runDir,
      "A dog runs in the water.",
      "Two young boys playing.",
    );
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(2);
    expect(r.out.every((l) => l.length > 0)).toBe(true);
  });

  it("reads stdin line by line: empty lines stay empty, unknown text and very long lines do not crash", () => {
    const long = Array.from({ length: 300 }, () => "dog").join(" ");
    const input = `A man is riding a bicycle.\n\nZyxw ☃ qqq ∮\n${long}\n`;
    const r = spawnSync(
      process.execPath,
      [`${ROOT}bin/tsgrad.js`, "translate", "--checkpoint", runDir],
      {
        input,
        encoding: "utf8",
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe("");
    expect(lines[0]!.length).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/sentence 4 has 300 tokens; only the first 80 are translated/);
  });

  it("eval translate prints BLEU with its signature and chrF, and writes the translations", async () => {
    const output = `${tmp()}/hyp.txt`;
    const r = await cli(
      "eval",
      "translate",
      "--checkpoint",
      runDir,
      "--split",
      "test_2016_flickr",
      "--limit",
      "8",
      "--output",
      output,
    );
    expect(r.code, r.err.join("\n")).toBe(0);
    const text = r.out.join("\n");
    expect(text).toMatch(/^BLEU = \d+\.\d\d /m);
    expect(text).toMatch(/signature: nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|/);
    expect(text).toMatch(/^chrF2 = \d+\.\d\d/m);
    expect(readFileSync(output, "utf8").split("\n")).toHaveLength(9);
    // Scoring the training pairs reproduces the run's own final score.
    const again = await cli(
      "eval",
      "translate",
      "--checkpoint",
      runDir,
      "--split",
      "train",
      "--json",
      "--output",
      `${tmp()}/t.txt`,
    );
    expect((JSON.parse(again.out[0]!) as { bleu: number }).bleu).toBeCloseTo(
      summary.trainBleu as number,
      6,
    );
  });

  it("refuses a vocabulary file that does not match the checkpoint", async () => {
    const config = translate.resolveConfig(translate.QUICK_CONFIG);
    const other = translate.fitTokenizers(config, { src: ["other words"], tgt: ["autres mots"] });
    const vocab = `${tmp()}/vocab.json`;
    writeFileSync(vocab, JSON.stringify({ src: other.src.toJSON(), tgt: other.tgt.toJSON() }));
    const r = await cli("translate", "--checkpoint", runDir, "--vocab", vocab, "A dog.");
    expect(r.code).toBe(1);
    expect(r.err.join("\n")).toMatch(
      /vocabulary given for .* does not match: the checkpoint expects/,
    );
  });
});

describe("tsgrad train translate", () => {
  it("answers --help and rejects unknown flags and bad values", async () => {
    const help = await cli("train", "translate", "--help");
    expect(help.code).toBe(0);
    expect(help.out.join("\n")).toMatch(/--reverse-source .*\[default: on for seq2seq only\]/);
    expect(help.out.join("\n")).toMatch(/--hidden <int> .*\[default 256\]/);
    const unknown = await cli("train", "translate", "--hiden", "3");
    expect(unknown.code).toBe(2);
    expect(unknown.err.join("\n")).toMatch(/unknown flag --hiden/);
    // Out-of-range numbers are usage errors of the flag (exit code 2), before any work is done.
    const bad = await cli("train", "translate", "--dropout", "2", "--out", tmp());
    expect(bad.code).toBe(2);
    expect(bad.err.join("\n")).toMatch(/--dropout takes a number in \[0, 1\), got "2"/);
  });

  it("reports mismatched line counts naming both files", async () => {
    const dir = tmp();
    writeFileSync(`${dir}/train.en`, "a\nb\nc\n");
    writeFileSync(`${dir}/train.fr`, "x\ny\n");
    const r = await cli("train", "translate", "--quick", "--data-dir", dir, "--out", tmp());
    expect(r.code).toBe(1);
    expect(r.err.join("\n")).toContain(`${dir}/train.en has 3 lines, ${dir}/train.fr has 2`);
  });
});

describe("tsgrad translate / eval translate", () => {
  it("need --checkpoint and say which file is missing", async () => {
    expect((await cli("translate", "hello")).code).toBe(2);
    const r = await cli("eval", "translate", "--checkpoint", "/nonexistent/run");
    expect(r.code).toBe(1);
    expect(r.err.join("\n")).toMatch(/\/nonexistent\/run: no such checkpoint file or run folder/);
  });

  it("run as a separate process through bin/tsgrad.js", () => {
    const help = execFileSync(
      process.execPath,
      [`${ROOT}bin/tsgrad.js`, "eval", "translate", "--help"],
      {
        encoding: "utf8",
      },
    );
    expect(help).toMatch(/--split <test_2016_flickr\|test\|val\|train>/);
  });
});
