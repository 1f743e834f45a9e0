/**
 * Every `@example` in the library's JSDoc runs here, with `tg` bound to the public entry point.
 * A line `console.log(a, b); // x y` asserts that the logged values equal the JS literals after
 * `//` (numbers to float32 precision). Examples without such comments must simply run.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import * as tg from "../src/index.js";

const ROOT = new URL("..", import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

interface Example {
  file: string;
  line: number;
  code: string;
}

/** Pull the code of every @example block out of JSDoc comments. */
export function extractExamples(file: string): Example[] {
  const text = readFileSync(file, "utf8");
  const out: Example[] = [];
  const re = /\/\*\*([\s\S]*?)\*\//g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const body = m[1]!;
    const at = body.indexOf("@example");
    if (at < 0) continue;
    const rest = body.slice(at + "@example".length);
    const end = rest.search(/\n\s*\*\s*@\w/);
    const block = (end < 0 ? rest : rest.slice(0, end))
      .split("\n")
      .map((l) => l.replace(/^\s*\*( |$)/, ""))
      .join("\n")
      .trim();
    const line = text.slice(0, m.index).split("\n").length;
    if (block) out.push({ file: relative(ROOT, file), line, code: block });
  }
  return out;
}

/** Split "a [1, 2] 'x'" into top-level literal texts. */
function splitLiterals(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = "";
  let cur = "";
  for (const ch of s.trim()) {
    if (quote) {
      cur += ch;
      if (ch === quote) quote = "";
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    if ("[{(".includes(ch)) depth++;
    if ("]})".includes(ch)) depth--;
    if (depth === 0 && /\s/.test(ch)) {
      if (cur) parts.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur) parts.push(cur);
  return parts;
}

function close(actual: unknown, expected: unknown): boolean {
  if (typeof expected === "number" && typeof actual === "number") {
    if (Number.isNaN(expected)) return Number.isNaN(actual);
    return (
      actual === expected || Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected))
    );
  }
  if (Array.isArray(expected)) {
    const a = ArrayBuffer.isView(actual)
      ? Array.from(actual as unknown as ArrayLike<number>)
      : actual;
    return (
      Array.isArray(a) && a.length === expected.length && expected.every((e, i) => close(a[i], e))
    );
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object") return false;
    const ek = Object.keys(expected);
    return (
      ek.length === Object.keys(actual).length &&
      ek.every((k) =>
        close((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]),
      )
    );
  }
  return Object.is(actual, expected);
}

function compile(code: string): string {
  // console.log(args); // expected   ->   __check(line, "expected", args);
  // `import * as tg from "tsgrad"` lines are for readers; `tg` is already bound.
  const lines = code.split("\n").map((l, i) => {
    if (/^\s*import .* from "tsgrad";?$/.test(l)) return "";
    const m = /^(\s*)console\.log\((.*)\);\s*\/\/\s*(.+)$/.exec(l);
    return m ? `${m[1]}__check(${i + 1}, ${JSON.stringify(m[3]!.trim())}, ${m[2]});` : l;
  });
  return ts.transpileModule(lines.join("\n"), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText;
}

type AsyncFn = (...a: unknown[]) => Promise<void>;
const AsyncFunction = (
  Object.getPrototypeOf(async () => {}) as { constructor: new (...args: string[]) => AsyncFn }
).constructor;

/**
 * The README's TypeScript blocks, run like the JSDoc examples. A block fenced ```ts browser is
 * for a page (the demo's test runs that code path) and is skipped here.
 */
function readmeExamples(): Example[] {
  const text = readFileSync(join(ROOT, "README.md"), "utf8");
  const out: Example[] = [];
  const re = /^```ts\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const line = text.slice(0, m.index).split("\n").length;
    out.push({ file: "README.md", line, code: m[1]!.trim() });
  }
  return out;
}

const examples = [
  ...["src"].flatMap((d) => sourceFiles(join(ROOT, d))).flatMap(extractExamples),
  ...readmeExamples(),
];

describe("JSDoc examples", () => {
  it("exist", () => {
    expect(examples.length).toBeGreaterThan(20);
  });

  it.each(examples.map((e) => [`${e.file}:${e.line}`, e] as const))(
    "%s runs and prints what it says",
    async (_id, ex) => {
      const state = tg.trackKernels(false);
      const check = (line: number, expectedText: string, ...actual: unknown[]) => {
        // eslint-disable-next-line @typescript-eslint/no-implied-eval
        const literals = new Function(
          `return [${splitLiterals(expectedText).join(",")}];`,
        ) as () => unknown[];
        const expected = literals();
        if (!close(actual, expected)) {
          expect.fail(
            `${ex.file}:${ex.line} example line ${line}: printed ${JSON.stringify(actual)}, the comment says ${expectedText}`,
          );
        }
      };
      tg.manualSeed(0);
      await new AsyncFunction("tg", "__check", compile(ex.code))(tg, check);
      tg.trackKernels(state);
    },
  );
});
