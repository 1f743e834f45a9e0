/**
 * Every function and class the public entry exports (recursively through the
 * `tg.nn`, `tg.optim`, … namespaces) carries a JSDoc `@example`; `test/docs.test.ts` runs them.
 */
import ts from "typescript";
import { describe, expect, it } from "vitest";

const entry = new URL("../src/index.ts", import.meta.url).pathname;

function missingExamples(): string[] {
  const program = ts.createProgram([entry], {
    allowImportingTsExtensions: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
  });
  const checker = program.getTypeChecker();
  const root = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const missing: string[] = [];
  const seen = new Set<ts.Symbol>();
  const visit = (moduleSymbol: ts.Symbol, prefix: string) => {
    for (const exp of checker.getExportsOfModule(moduleSymbol)) {
      const sym = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
      const name = `${prefix}${exp.name}`;
      if (sym.flags & ts.SymbolFlags.ValueModule) {
        visit(sym, `${name}.`);
        continue;
      }
      if (
        !(sym.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class | ts.SymbolFlags.Variable))
      ) {
        continue;
      }
      // Plain constants (class lists, defaults) are data, not API to demonstrate.
      if (
        sym.flags & ts.SymbolFlags.Variable &&
        checker.getTypeOfSymbol(sym).getCallSignatures().length === 0
      ) {
        continue;
      }
      if (seen.has(sym)) continue;
      seen.add(sym);
      const tags = sym.getJsDocTags(checker);
      if (!tags.some((t) => t.name === "example")) missing.push(name);
    }
  };
  visit(root, "tg.");
  return missing.sort();
}

describe("the public API", () => {
  it("documents every exported value with a runnable @example", () => {
    expect(missingExamples()).toEqual([]);
  });
});
