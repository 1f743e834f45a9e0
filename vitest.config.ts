import { BaseSequencer, type TestSpecification } from "vitest/node";
import { defineConfig } from "vitest/config";

/**
 * Files that take minutes on the 2-core CI machine. They start first, so that the other files run
 * beside them on the second worker instead of after them: the 10,000-step memory test alone
 * takes about as long as every other file together.
 */
const LONG_FIRST = ["test/backends/wasm-memory.test.ts", "test/package/consumers.test.ts"];

class LongFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = LONG_FIRST.findIndex((l) => f.moduleId.replaceAll("\\", "/").endsWith(l));
      return i < 0 ? LONG_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the rest keep the base order (failed, then slowest first).
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores in CI: one worker per core.
    maxWorkers: 2,
    sequence: { sequencer: LongFirst },
  },
});
