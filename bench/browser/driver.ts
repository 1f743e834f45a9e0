/**
 * The browser bench from Node: builds the site (`site.ts`), serves it cross-origin isolated on
 * 127.0.0.1, starts headless Chromium (Debian's, through playwright-core: the helpers the
 * browser tests use), and runs each pair in a fresh tab — one worker, one framework — so that no
 * pair inherits another's heap, threads or compiled code. The worker's log lines are printed as
 * a Node child's are.
 */
import { rmSync } from "node:fs";
import type { Page } from "playwright-core";
import {
  type LaunchedChromium,
  type StaticServer,
  launchChromium,
  serveStatic,
} from "../../test/helpers/browser.js";
import { type ChildRequest, type ChildResult, basePeer } from "../lib/protocol.js";
import type { WasmPeakRun } from "../lib/wasm-peak.js";
import type { BenchPage } from "./page.js";
import { type Site, WORKER_SCRIPTS, buildSite } from "./site.js";

export interface BrowserBenchOptions {
  /** The Chromium binary (default /usr/bin/chromium). */
  executablePath?: string;
  log(msg: string): void;
}

function workerScript(req: ChildRequest): string {
  const base = basePeer(req.peer);
  if (base.startsWith("tsgrad")) return WORKER_SCRIPTS.tsgrad;
  if (base.startsWith("tfjs")) return WORKER_SCRIPTS.tfjs;
  if (base.startsWith("jax-js")) return WORKER_SCRIPTS.jax;
  throw new Error(`${req.peer} is not a browser peer`);
}

export class BrowserBench {
  private constructor(
    private readonly site: Site,
    private readonly server: StaticServer,
    private readonly chrome: LaunchedChromium,
    /** The tab the browser opened with, kept open so that the browser outlives every pair's tab. */
    private readonly keeper: Page,
    /** Chromium's user agent (its version). */
    readonly engine: string,
    private readonly log: (msg: string) => void,
  ) {}

  static async start(root: string, o: BrowserBenchOptions): Promise<BrowserBench> {
    const site = await buildSite(root);
    const server = await serveStatic(site.dir, { crossOriginIsolated: true });
    let chrome: LaunchedChromium;
    try {
      chrome = await launchChromium(o.executablePath ? { executablePath: o.executablePath } : {});
    } catch (e) {
      await server.close();
      rmSync(site.dir, { recursive: true, force: true });
      throw e;
    }
    await chrome.context.exposeFunction("benchLog", (msg: string) => o.log(msg));
    const keeper = await chrome.newPage();
    await keeper.goto(server.url);
    const engine = await keeper.evaluate(() => navigator.userAgent);
    const sizes = Object.entries(site.sizes)
      .filter(([f]) => f.endsWith(".js"))
      .map(([f, b]) => `${f} ${(b / 1024).toFixed(0)} kB`)
      .join(", ");
    o.log(`chromium: ${engine}; bundles ${sizes}`);
    return new BrowserBench(site, server, chrome, keeper, engine, (m) => o.log(m));
  }

  /** A fresh tab on the bench page, cross-origin isolated (else every pair would be absent). */
  private async openPage(): Promise<{ page: Page; problems: string[] }> {
    const page = await this.chrome.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    await page.goto(this.server.url);
    await page.waitForFunction(() => "benchPair" in window);
    if (!(await page.evaluate(() => crossOriginIsolated))) {
      await page.close();
      throw new Error("the bench page is not cross-origin isolated: no SharedArrayBuffer");
    }
    return { page, problems };
  }

  /** Run one pair in a fresh tab; killed (its tab closed) after `timeoutSeconds`. */
  async runPair(req: ChildRequest, timeoutSeconds: number): Promise<ChildResult> {
    let opened: { page: Page; problems: string[] };
    try {
      opened = await this.openPage();
    } catch (e) {
      return { status: "absent", reason: (e as Error).message };
    }
    const { page, problems } = opened;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<ChildResult>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            status: "failed",
            reason: `timed out after ${timeoutSeconds} s (--timeout)`,
          }),
        timeoutSeconds * 1000,
      );
    });
    try {
      const run = page.evaluate(
        ([r, script]) => (window as unknown as BenchPage).benchPair(r, script),
        [req, workerScript(req)] as const,
      );
      const result = await Promise.race([run, timeout]);
      if (result.status === "failed" && problems.length > 0) {
        result.reason += ` (page: ${problems.slice(-2).join(" | ")})`;
      }
      return result;
    } catch (e) {
      return { status: "failed", reason: `page: ${(e as Error).message.split("\n")[0]}` };
    } finally {
      clearTimeout(timer);
      await page.close().catch(() => {});
    }
  }

  /** The Wasm SIMD peak in a fresh tab, on Web Workers, at each of `threads`. */
  async peak(threads: number[], check: boolean): Promise<WasmPeakRun> {
    if (this.site.peakError) return { env: "chromium", unavailable: this.site.peakError };
    let opened: { page: Page; problems: string[] };
    try {
      opened = await this.openPage();
    } catch (e) {
      return { env: "chromium", unavailable: (e as Error).message };
    }
    try {
      return await opened.page.evaluate(
        ([t, c]) => (window as unknown as BenchPage).benchPeak(t, c),
        [threads, check] as const,
      );
    } catch (e) {
      return { env: "chromium", unavailable: `page: ${(e as Error).message.split("\n")[0]}` };
    } finally {
      await opened.page.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    await this.keeper.close().catch(() => {});
    await this.chrome.close();
    await this.server.close();
    rmSync(this.site.dir, { recursive: true, force: true });
  }
}
