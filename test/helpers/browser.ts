/**
 * Browser helpers for tests: a static file server for a built site, and headless Chromium (the
 * system's Debian `chromium`, driven by playwright-core, which downloads no browser of its own).
 *
 *   const server = await serveStatic(distDir, { crossOriginIsolated: true });
 *   const chrome = await launchChromium();
 *   try {
 *     const page = await chrome.newPage();
 *     const problems = watchPage(page);
 *     await page.goto(server.url);
 *     … assertions …
 *     expect(problems).toEqual([]);
 *   } finally {
 *     await chrome.close();
 *     await server.close();
 *   }
 *
 * A test that needs the browser calls `browserAvailability()` first: without Chromium it skips
 * with the reason, unless TSGRAD_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
 */
import { existsSync, mkdtempSync, rmSync, statSync, createReadStream } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, resolve, sep } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** Where Debian's `chromium` package installs the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Flags for a quiet, hermetic headless run: no GPU, no sandbox (tests run as root in CI), and
 * none of the browser's own traffic (updates, sync, QUIC probes) to a network that may not exist.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Whether a browser test can run: `run` false means skip it, with `reason` as the note. */
export interface BrowserAvailability {
  /** True when Chromium is present, or when it is required (the test then fails on launch). */
  run: boolean;
  /** Why it is skipped (or, when required, what is missing); "" when Chromium is present. */
  reason: string;
  executablePath: string;
}

/**
 * Decide whether browser tests run here. Chromium missing: skip with a note naming the package to
 * install, unless TSGRAD_REQUIRE_BROWSER=1, which makes a missing browser a test failure.
 */
export function browserAvailability(executablePath = CHROMIUM_PATH): BrowserAvailability {
  if (existsSync(executablePath)) return { run: true, reason: "", executablePath };
  const reason =
    `no Chromium at ${executablePath} (Debian: apt-get install --no-install-recommends chromium)` +
    (process.env.TSGRAD_REQUIRE_BROWSER === "1" ? " but TSGRAD_REQUIRE_BROWSER=1" : "");
  return { run: process.env.TSGRAD_REQUIRE_BROWSER === "1", reason, executablePath };
}

/** A running headless Chromium with its own fresh profile. */
export interface LaunchedChromium {
  context: BrowserContext;
  /** The profile folder (deleted by `close`). */
  userDataDir: string;
  /** A page: the first call returns the tab the browser opened with, later ones open new tabs. */
  newPage(): Promise<Page>;
  /** Close the browser and delete its profile. */
  close(): Promise<void>;
}

export interface LaunchOptions {
  executablePath?: string;
  /** Extra flags after `CHROMIUM_ARGS`. */
  args?: readonly string[];
  /** Launch timeout, ms (default 60 s: a cold start on a busy 2-core machine is slow). */
  timeout?: number;
  viewport?: { width: number; height: number };
}

/**
 * Launch headless Chromium with `CHROMIUM_ARGS` and a fresh temporary profile, so nothing from a
 * previous run (cache, service workers, storage) leaks into this one.
 */
export async function launchChromium(options: LaunchOptions = {}): Promise<LaunchedChromium> {
  const executablePath = options.executablePath ?? CHROMIUM_PATH;
  if (!existsSync(executablePath)) {
    throw new Error(browserAvailability(executablePath).reason);
  }
  const userDataDir = mkdtempSync(join(tmpdir(), "tsgrad-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
      timeout: options.timeout ?? 60_000,
      viewport: options.viewport ?? { width: 1000, height: 700 },
    });
  } catch (e) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw e;
  }
  let firstTab = true;
  return {
    context,
    userDataDir,
    async newPage() {
      const initial = context.pages()[0];
      if (firstTab && initial) {
        firstTab = false;
        return initial;
      }
      return context.newPage();
    },
    async close() {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Record what went wrong in a page: uncaught exceptions, console errors, failed requests and HTTP
 * error responses. The returned array fills as the page runs; a test asserts it is empty.
 */
export function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.stack ?? e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console.error: ${m.text()}`);
  });
  page.on("requestfailed", (r) =>
    problems.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? "?"})`),
  );
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}

/** Content types by file extension. Unknown extensions are served as application/octet-stream. */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".cjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".ico": "image/x-icon",
  // application/wasm is what WebAssembly.instantiateStreaming insists on.
  ".wasm": "application/wasm",
  ".safetensors": "application/octet-stream",
  ".bin": "application/octet-stream",
  // Served as the file it is, without Content-Encoding: the page gets the gzip bytes and
  // decompresses them itself (the browser would otherwise inflate them on the way in).
  ".gz": "application/gzip",
};

/** Headers that make a page cross-origin isolated (SharedArrayBuffer, precise timers). */
export const CROSS_ORIGIN_ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

export interface StaticServerOptions {
  /** Send COOP/COEP (and CORP) headers so the page is cross-origin isolated. Default false. */
  crossOriginIsolated?: boolean;
  /** More headers for every response. */
  headers?: Readonly<Record<string, string>>;
}

export interface StaticServer {
  /** e.g. "http://127.0.0.1:40123/" */
  url: string;
  port: number;
  /** Paths requested so far, in order (e.g. to assert a file was fetched). */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serve the files under `root` on 127.0.0.1 at a free port: GET and HEAD, `/` and folders as
 * their index.html, 404 for anything else (including paths that escape `root`). Nothing is
 * cached, so a rebuilt site is always served fresh.
 */
export async function serveStatic(
  root: string,
  options: StaticServerOptions = {},
): Promise<StaticServer> {
  const base = resolve(root);
  const requests: string[] = [];
  const extra = {
    ...(options.crossOriginIsolated ? CROSS_ORIGIN_ISOLATION_HEADERS : {}),
    ...options.headers,
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    requests.push(url.pathname);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", ...extra }).end();
      return;
    }
    let file: string;
    try {
      file = resolve(base, `.${decodeURIComponent(url.pathname)}`);
    } catch {
      res.writeHead(400, extra).end();
      return;
    }
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(404, extra).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8", ...extra }).end();
      return;
    }
    res.writeHead(200, {
      "Content-Type": MIME_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
      "Content-Length": statSync(file).size,
      "Cache-Control": "no-store",
      ...extra,
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
