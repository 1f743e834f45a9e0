import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it, vi } from "vitest";
import * as tg from "../../src/index.js";

const tmp = mkdtempSync(join(tmpdir(), "tsgrad-text-"));
const write = (name: string, content: string | Uint8Array) => {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("tg.text.resolveDataDir", () => {
  it("finds the bundled corpora in the checkout's data folder", () => {
    const dir = tg.text.resolveDataDir("multi30k", { expect: ["train.en.gz"] });
    expect(dir.endsWith(join("data", "multi30k"))).toBe(true);
  });

  it("prefers $TSGRAD_DATA/<name> over the checkout", () => {
    const root = mkdtempSync(join(tmpdir(), "tsgrad-data-"));
    const dir = join(root, "tinyshakespeare");
    mkdirSync(dir);
    writeFileSync(join(dir, "input.txt"), "to be\n");
    vi.stubEnv("TSGRAD_DATA", root);
    expect(tg.text.resolveDataDir("tinyshakespeare", { expect: ["input.txt"] })).toBe(dir);
    expect(tg.text.loadTinyShakespeare()).toBe("to be\n");
  });

  it("uses only an explicit folder (or its <name>/ subfolder), and says so when it lacks the files", () => {
    expect(tg.text.resolveDataDir("anything", { dir: tmp })).toBe(tmp);
    expect(() => tg.text.resolveDataDir("multi30k", { dir: tmp, expect: ["train.en"] })).toThrow(
      `resolveDataDir: no folder for "multi30k" containing train.en; searched ${tmp}, ${join(tmp, "multi30k")}`,
    );
  });

  it("accepts plain or gzipped files in a <name>/ subfolder", () => {
    const root = mkdtempSync(join(tmpdir(), "tsgrad-m30k-"));
    mkdirSync(join(root, "multi30k"));
    writeFileSync(join(root, "multi30k", "val.en"), "A dog.\nA cat.\n");
    writeFileSync(
      join(root, "multi30k", "val.fr.gz"),
      gzipSync(Buffer.from("Un chien.\nUn chat.\n")),
    );
    const c = tg.text.loadMulti30k({ split: "val", dir: root });
    expect(c.src).toEqual(["A dog.", "A cat."]);
    expect(c.tgt).toEqual(["Un chien.", "Un chat."]);
  });

  it("lists every searched path when nothing is found", () => {
    vi.stubEnv("TSGRAD_DATA", "/nonexistent/tsgrad-data");
    let message = "";
    try {
      tg.text.resolveDataDir("no-such-corpus");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("/nonexistent/tsgrad-data/no-such-corpus");
    expect(message).toContain(join("data", "no-such-corpus"));
    expect(message).toContain("set $TSGRAD_DATA");
  });
});

describe("tg.text.readLines", () => {
  it("reads gzip and plain files to the same lines", () => {
    const text = "première ligne\nsecond line\r\nthird\n";
    const plain = write("plain.txt", text);
    const gz = write("packed.gz", gzipSync(Buffer.from(text, "utf8")));
    const want = ["première ligne", "second line", "third"];
    expect(tg.text.readLines(plain)).toEqual(want);
    expect(tg.text.readLines(gz)).toEqual(want);
  });

  it("keeps a last line without newline, and inner empty lines, and drops a BOM", () => {
    expect(tg.text.readLines(write("nofinal.txt", "\ufeffa\n\nb"))).toEqual(["a", "", "b"]);
  });

  it("names the file when it is missing, not UTF-8, or broken gzip", () => {
    expect(() => tg.text.readLines(join(tmp, "missing.txt"))).toThrow(
      /readText: cannot read .*missing\.txt/,
    );
    const bad = write("latin1.txt", new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    expect(() => tg.text.readLines(bad)).toThrow(/readText: .*latin1\.txt is not valid UTF-8/);
    const broken = write("broken.gz", new Uint8Array([0x1f, 0x8b, 1, 2, 3]));
    expect(() => tg.text.readLines(broken)).toThrow(/readText: .*broken\.gz is not valid gzip/);
  });
});

describe("tg.text.readParallel", () => {
  it("rejects files with different line counts, naming both files and counts", () => {
    const a = write("a.en", "one\ntwo\nthree\n");
    const b = write("b.fr", "un\ndeux\n");
    expect(() => tg.text.readParallel(a, b)).toThrow(
      `readParallel: line counts differ: ${a} has 3 lines, ${b} has 2`,
    );
  });

  it("drops pairs with an empty side, reporting count and line numbers", () => {
    const a = write("c.en", "one\n\nthree\n  \nfive\n");
    const b = write("c.fr", "un\ndeux\n\nquatre\ncinq\n");
    const warnings: string[] = [];
    const c = tg.text.readParallel(a, b, { warn: (m) => warnings.push(m) });
    expect(c.src).toEqual(["one", "five"]);
    expect(c.tgt).toEqual(["un", "cinq"]);
    expect(c.stats).toMatchObject({ lines: 5, kept: 2, droppedEmpty: 3, droppedLines: [2, 3, 4] });
    expect(warnings).toEqual([
      `readParallel: dropped 3 of 5 pairs with an empty side in ${a} / ${b} (lines 2, 3, 4)`,
    ]);
  });

  it("truncates over-long sentences to maxWords and counts them", () => {
    const long = Array.from({ length: 5000 }, (_, i) => `w${i}`).join(" ");
    const warnings: string[] = [];
    const c = tg.text.makeParallel([long, "short"], ["court", long], {
      maxWords: 50,
      warn: (m) => warnings.push(m),
    });
    expect(c.src[0]!.split(" ").length).toBe(50);
    expect(c.tgt[1]!.split(" ")).toHaveLength(50);
    expect(c.src[1]).toBe("short");
    expect([c.stats.truncatedSource, c.stats.truncatedTarget]).toEqual([1, 1]);
    expect(warnings).toEqual([
      "readParallel: truncated 1 source and 1 target sentences longer than 50 words in source / target",
    ]);
  });

  it("normalises to NFC and trims", () => {
    const c = tg.text.makeParallel(["  cafe\u0301 \r"], ["\tde\u0301ja\u0300 vu"], {
      warn: () => {},
    });
    expect(c.src[0]).toBe("caf\u00e9");
    expect(c.tgt[0]).toBe("d\u00e9j\u00e0 vu");
  });

  it("rejects a maxWords below 1", () => {
    expect(() => tg.text.makeParallel(["a"], ["b"], { maxWords: 0 })).toThrow(
      /maxWords must be >= 1, got 0/,
    );
  });
});

describe("tg.text.loadMulti30k", () => {
  it("loads the three splits with the published sizes", () => {
    const sizes = (["train", "val", "test"] as const).map(
      (split) => tg.text.loadMulti30k({ split, warn: () => {} }).src.length,
    );
    expect(sizes).toEqual([29000, 1014, 1000]);
  });

  it("loads any language pair, aligned", () => {
    const de = tg.text.loadMulti30k({ split: "test", src: "de", tgt: "en" });
    const fr = tg.text.loadMulti30k({ split: "test", src: "fr", tgt: "en" });
    expect(de.tgt).toEqual(fr.tgt);
    expect(de.stats.droppedEmpty + de.stats.truncatedSource).toBe(0);
  });

  it("rejects unknown splits and languages", () => {
    expect(() => tg.text.loadMulti30k({ split: "dev" as "val" })).toThrow(
      'loadMulti30k: unknown split "dev"',
    );
    expect(() => tg.text.loadMulti30k({ tgt: "cs" as "fr" })).toThrow(
      'loadMulti30k: unknown language "cs"',
    );
  });
});

describe("tg.text.loadTinyShakespeare", () => {
  it("returns the whole corpus unchanged", () => {
    const text = tg.text.loadTinyShakespeare();
    expect(text.length).toBe(1115394);
    expect(text.startsWith("First Citizen:\nBefore we proceed any further")).toBe(true);
  });
});
