/**
 * Numeric flags are validated centrally (src/cli/args.ts): a bad value is a one-line usage error
 * naming the flag, the value and the allowed range, exit code 2, never a stack trace.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import "../../src/index.js";
import { outOfRange, parseFlags, usage } from "../../src/cli/args.js";
import { main } from "../../src/cli/main.js";

/** Run the CLI in this process: its exit code and what it wrote to stderr. */
async function cli(...argv: string[]) {
  const err: string[] = [];
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  vi.spyOn(console, "log").mockImplementation(() => {});
  const code = await main(argv);
  return { code, err: err.join("\n") };
}

afterEach(() => vi.restoreAllMocks());

describe("numeric flags (issue 19, item 14)", () => {
  it("reject values beyond the safe integers, out of range, or not numbers at all", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["train", "image", "--epochs", "99999999999999999999"],
        /^tsgrad train image: --epochs takes an integer in \[1, 100000\], got "99999999999999999999"$/,
      ],
      [
        ["train", "image", "--width", "1e9"],
        /^tsgrad train image: --width takes a number in \(0, 16\], got "1e9"$/,
      ],
      [["train", "image", "--batch-size", "0"], /--batch-size takes an integer in \[1, 65536\]/],
      [["train", "image", "--lr", "-0.1"], /--lr takes a number in \(0, 10\], got "-0.1"/],
      [["train", "image", "--threads", "0"], /--threads takes an integer in \[1, 1024\]/],
      [["train", "image", "--epochs", "2.5"], /--epochs takes an integer/],
      [["train", "image", "--momentum", "NaN"], /--momentum takes a number in \[0, 1\]/],
      [["classify", "--top", "-1", "x.png"], /--top takes an integer in \[1, 1000\], got "-1"/],
      [["train", "lm", "--n-layer", "0"], /--n-layer takes an integer >= 1, got "0"/],
      [["train", "lm", "--dropout", "0.95"], /--dropout takes a number in \[0, 0\.9\]/],
      [["train", "lm", "--lr", "0"], /--lr takes a number > 0, got "0"/],
      [["sample", "--temperature", "0"], /--temperature takes a number in \(0, 100\]/],
      [["train", "translate", "--dropout", "1"], /--dropout takes a number in \[0, 1\), got "1"/],
      [["train", "translate", "--beam", "0"], /--beam takes an integer in \[1, 100\]/],
      [["translate", "--batch-size", "1e6"], /--batch-size takes an integer in \[1, 65536\]/],
      [
        ["experiment", "weak-to-strong", "--heldout-fraction", "0.9"],
        /--heldout-fraction takes a number in \[0, 0\.5\]/,
      ],
      [["analyze", "scaling", "--seed", "-3"], /--seed takes an integer in \[0, 4294967295\]/],
    ];
    for (const [argv, want] of cases) {
      const r = await cli(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.err, argv.join(" ")).toMatch(want);
      expect(r.err.split("\n"), argv.join(" ")).toHaveLength(1);
    }
  });

  it("accept the bounds themselves and show the range in --help", () => {
    const specs = {
      n: { type: "int", min: 1, max: 3, help: "n" },
      p: { type: "number", min: 0, max: 1, exclusiveMax: true, help: "p" },
      k: { type: "int", help: "k" },
    } as const;
    const { flags } = parseFlags(["--n", "3", "--p", "0", "--k", String(2 ** 53 - 1)], specs);
    expect(flags).toEqual({ n: 3, p: 0, k: 2 ** 53 - 1 });
    expect(() => parseFlags(["--k", String(2 ** 53)], specs)).toThrow(/--k takes an integer >= 0/);
    expect(() => parseFlags(["--n", ""], specs)).toThrow(/--n takes an integer in \[1, 3\]/);
    expect(outOfRange(specs.p, 0.999)).toBeNull();
    expect(outOfRange(specs.p, 1)).toBe("a number in [0, 1)");
    expect(usage("demo", "", specs)).toMatch(/--n <int> +n \[allowed: \[1, 3\]\]/);
  });

  it("apply to the numbers of a --config file too", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const dir = mkdtempSync(`${(await import("node:os")).tmpdir()}/tsgrad-flags-`);
    writeFileSync(`${dir}/c.json`, JSON.stringify({ epochs: 1e20 }));
    const r = await cli("train", "image", "--config", `${dir}/c.json`);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /"epochs" must be an integer in \[1, 100000\], got 100000000000000000000/,
    );
  });
});
