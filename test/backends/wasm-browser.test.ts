/**
 * The wasm backend's conformance in headless Chromium: the checks conformance.test.ts runs in
 * Node (test/helpers/conformance.ts: every row of the op-spec table and of the fused specs,
 * values and gradients, wasm against the js reference, same tolerances), run in a page on the
 * browser entry (src/browser.ts), plus a product split across the worker threads.
 *
 * Four pages: cross-origin isolated (COOP/COEP, so SharedArrayBuffer and the threaded build) or
 * not (the single-threaded fallback, which must say why), each running the checks in a module Web
 * Worker (the wasm threads are then workers nested in it) and on the main thread (which compiles
 * the module in the background, so the runner awaits `tg.ready()`; there the threads' caller
 * spins instead of blocking in Atomics.wait).
 *
 * Without /usr/bin/chromium it is skipped with the reason, unless TSGRAD_REQUIRE_BROWSER=1 (CI).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LaunchedChromium,
  type StaticServer,
  browserAvailability,
  launchChromium,
  serveStatic,
  watchPage,
} from "../helpers/browser.js";
import type { PageOutcome, PageResult } from "./wasm-browser/runner.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NODE_ENTRY = join(ROOT, "src/index.ts");
const BROWSER_ENTRY = join(ROOT, "src/browser.ts");

/**
 * Resolve the tests' imports of src/index.js (the Node entry) to src/browser.ts, as a bundler
 * does for users through the package's `browser` condition: the page gets the browser entry,
 * with no native backend and no `node:` module.
 */
const browserEntry: esbuild.Plugin = {
  name: "tsgrad-browser-entry",
  setup(build) {
    build.onResolve({ filter: /src\/index\.js$/ }, (args) => {
      const target = resolve(args.resolveDir, args.path).replace(/\.js$/, ".ts");
      return target === NODE_ENTRY ? { path: BROWSER_ENTRY } : undefined;
    });
  },
};

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <link rel="icon" href="data:," />
    <title>tsgrad wasm conformance</title>
  </head>
  <body>
    <script type="module" src="./runner.js"></script>
  </body>
</html>
`;

const browser = browserAvailability();
if (!browser.run) console.warn(`test/backends/wasm-browser: skipped, ${browser.reason}`);

describe.skipIf(!browser.run)(
  `the wasm backend in Chromium against the js reference${browser.reason ? ` (${browser.reason})` : ""}`,
  () => {
    let site: string;
    let isolated: StaticServer | null = null;
    let plain: StaticServer | null = null;
    let chrome: LaunchedChromium | null = null;

    beforeAll(async () => {
      site = mkdtempSync(join(tmpdir(), "tsgrad-wasm-browser-"));
      const bundled = esbuild.build({
        entryPoints: [join(dirname(fileURLToPath(import.meta.url)), "wasm-browser/runner.ts")],
        bundle: true,
        format: "esm",
        platform: "browser",
        target: "es2022",
        outfile: join(site, "runner.js"),
        plugins: [browserEntry],
        logLevel: "silent",
      });
      [chrome] = await Promise.all([launchChromium(), bundled]);
      writeFileSync(join(site, "index.html"), PAGE);
      isolated = await serveStatic(site, { crossOriginIsolated: true });
      plain = await serveStatic(site);
    }, 120_000);

    afterAll(async () => {
      await chrome?.close();
      await isolated?.close();
      await plain?.close();
      if (site) rmSync(site, { recursive: true, force: true });
    });

    /** Open the page, wait for the runner's outcome; page and worker errors fail the run. */
    async function outcome(server: StaticServer, where: "main" | "worker"): Promise<PageOutcome> {
      const page: Page = await chrome!.newPage();
      const problems = watchPage(page);
      page.on("worker", (w) =>
        w.on("console", (m) => {
          if (m.type() === "error") problems.push(`worker console.error: ${m.text()}`);
        }),
      );
      try {
        await page.goto(`${server.url}?in=${where}`);
        await page.waitForFunction(() => window.wasmConformance !== undefined, undefined, {
          timeout: 90_000,
        });
        const result = (await page.evaluate(() => window.wasmConformance)) as PageResult;
        if ("error" in result) throw new Error(`the page's run failed: ${result.error}`);
        const { report, info, threaded } = result;
        console.log(
          `wasm in Chromium, ${result.crossOriginIsolated ? "cross-origin isolated" : "not isolated"}, ${where}: ` +
            `${info.variant as string}, ${info.threadsRunning as number}/${info.threads as number} threads; ` +
            `${report.checked.prims} op rows, ${report.checked.fused} fused rows, ` +
            `${report.checked.secondOrder} second-order rows in ${report.seconds.toFixed(1)} s; ` +
            `ran on wasm: ${report.ranOn.join(", ")}; ${report.mismatches.length} mismatches`,
        );
        expect(problems).toEqual([]);
        expect(result.where).toBe(where);
        // The browser entry picks wasm by itself once the module is ready.
        expect(result.defaultBackend).toBe("wasm");
        expect(info.backend).toBe("wasm");
        // Chromium validates relaxed SIMD (FMA): the relaxed builds load.
        expect(info.relaxedSimd).toBe(true);
        // Every mismatch by op and spec name; the run is not vacuous: the checks ran kernels on
        // wasm, among them every primitive it has a kernel for.
        expect(report.mismatches).toEqual([]);
        expect(report.checked.prims).toBeGreaterThan(100);
        expect(report.checked.fused).toBeGreaterThan(5);
        expect(report.ranOn).toContain("matmul");
        expect(result.kernels).toContain("matmul");
        expect(threaded.mismatches).toEqual([]);
        return result;
      } finally {
        await page.close();
      }
    }

    for (const where of ["worker", "main"] as const) {
      const place = where === "worker" ? "in a Web Worker" : "on the main thread";

      it(`cross-origin isolated, ${place}: threads on shared memory, results as the reference's`, async () => {
        const r = await outcome(isolated!, where);
        expect(r.crossOriginIsolated).toBe(true);
        expect(r.info.variant).toBe("relaxedThreads");
        expect(r.info.singleThreadReason).toBe("");
        expect(r.info.threads).toBeGreaterThan(1);
        expect(r.info.threadsRunning).toBe(r.info.threads);
        expect(r.threaded.threads).toBe(r.info.threads);
      }, 120_000);

      it(`not isolated, ${place}: one thread, saying why, results as the reference's`, async () => {
        const r = await outcome(plain!, where);
        expect(r.crossOriginIsolated).toBe(false);
        expect(r.info.variant).toBe("relaxed");
        expect(r.info.threads).toBe(1);
        expect(r.info.threadsRunning).toBe(1);
        expect(r.info.singleThreadReason).toMatch(/SharedArrayBuffer/);
        expect(r.info.singleThreadReason).toMatch(/cross-origin isolated/);
      }, 120_000);
    }
  },
);
