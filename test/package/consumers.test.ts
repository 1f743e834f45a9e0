/**
 * The package as its users get it: `npm pack` tsgrad and tsgrad-data, install the tarballs into
 * fresh projects outside the checkout, and run the consumer projects in test/package/fixtures/,
 * each of which trains a tiny model and prints {"first", "last", "backend", …} (the first and
 * last loss). Two install roots, installed concurrently:
 *
 * - "plain": only the two tarballs, the way a user installs tsgrad (the install script builds the
 *   native addon where oneDNN is present). Runs (a) ESM .mjs, (b) CommonJS require(), a bare
 *   `import("tsgrad")` from a subfolder, the `tsgrad` bin, and a short `tsgrad train image` on
 *   the data from the tsgrad-data package. No TypeScript tooling is installed there.
 * - "tooling": tsgrad (TSGRAD_SKIP_NATIVE=1) plus typescript, @types/node and vite at the
 *   versions in package-lock.json. Runs (c) TypeScript NodeNext, (d) TypeScript with
 *   moduleResolution bundler and no Node types, (e) a Vite build trained in headless Chromium
 *   (on the wasm backend's threads: the page is served cross-origin isolated).
 *
 * Packing uses --ignore-scripts: `prepare` would rebuild (first deleting) dist/, which the other
 * test files are using. dist/ is current: test/global-setup.ts builds it before any test.
 */
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { browserAvailability, launchChromium, serveStatic, watchPage } from "../helpers/browser.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

// Where this machine can build the addon (the checkout's own build succeeded), the installed
// package must build and use it too; CI (TSGRAD_REQUIRE_NATIVE=1) always expects it.
const EXPECT_NATIVE =
  existsSync(join(ROOT, "native/build/Release/tsgrad_native.node")) ||
  process.env.TSGRAD_REQUIRE_NATIVE === "1";

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The command line and its output, for assertion messages. */
  log: string;
}

/** npm settings a child may inherit from `npm test`: where packages come from, nothing else. */
const NPM_KEEP =
  /^npm_config_(registry|cache|cafile|userconfig|globalconfig|proxy|https_proxy|noproxy|strict_ssl)$/;

/**
 * The environment of every child: the test run's, minus what would change how tsgrad, npm or
 * Vite behave: a developer's TSGRAD_BACKEND or TSGRAD_DATA, vitest's NODE_ENV=test, and the
 * npm_* variables of `npm test` (npm_config_local_prefix would send an install to the checkout).
 */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(TSGRAD_|VITEST|NODE_ENV$|NODE_OPTIONS$)/.test(k)) continue;
    if (k.startsWith("npm_") && !NPM_KEEP.test(k)) continue;
    env[k] = v;
  }
  return { ...env, npm_config_update_notifier: "false", ...extra };
}

/**
 * Run a command to completion (never rejects on a non-zero exit). After `timeout` ms its whole
 * process group is killed: an `npm install` leaves node-gyp and the compiler behind otherwise.
 */
function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string>; timeout?: number },
): Promise<RunResult> {
  const timeout = opts.timeout ?? 300_000;
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: childEnv(opts.env),
      stdio: "pipe",
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // Already gone.
      }
    }, timeout);
    child.on("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const status = timedOut ? `killed after ${timeout} ms` : `exit ${code}`;
      const log = `$ (cd ${opts.cwd} && ${cmd} ${args.join(" ")})  → ${status}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`;
      done({ code, stdout, stderr, log });
    });
  });
}

/** `run`, asserting exit status 0 (the message carries the whole output). */
async function runOk(...a: Parameters<typeof run>): Promise<RunResult> {
  const r = await run(...a);
  expect(r.code, r.log).toBe(0);
  return r;
}

interface FixtureResult {
  fixture: string;
  first: number;
  last: number;
  backend: string;
}

/** The fixture's JSON result line (its last line of stdout), with the loss checks every one needs. */
function lossResult(r: RunResult, backend: string): FixtureResult {
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  const res = JSON.parse(line) as FixtureResult;
  console.log(line);
  expect(Number.isFinite(res.first) && res.first > 0, r.log).toBe(true);
  // A real margin, not noise: the loss at least halves.
  expect(res.last, r.log).toBeLessThan(0.5 * res.first);
  expect(res.backend, r.log).toBe(backend);
  return res;
}

/** Version of a dev dependency as locked in package-lock.json (the npm cache has that one). */
function lockedVersion(name: string): string {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string }>;
  };
  const v = lock.packages[`node_modules/${name}`]?.version;
  if (!v) throw new Error(`${name} is not in package-lock.json`);
  return v;
}

interface PackedFile {
  path: string;
  size: number;
}
interface Packed {
  name: string;
  filename: string;
  files: PackedFile[];
}

let work = "";
let tarball = { tsgrad: "", data: "" };
let packed: Packed[] = [];
let plainRoot = "";
let toolingRoot = "";
let plainInstall: Promise<RunResult>;
let toolingInstall: Promise<RunResult>;

/** Awaits an install started in beforeAll and fails the test if it failed. */
async function installed(p: Promise<RunResult>): Promise<RunResult> {
  const r = await p;
  expect(r.code, r.log).toBe(0);
  return r;
}

/**
 * An install root holding copies of `fixtures`, with a package.json that approves tsgrad's install
 * script (npm 11 warns about unapproved ones; npm 12 will skip them). A tarball's identity in
 * `allowScripts` is its file: URL, as `npm install-scripts approve` writes it.
 */
function makeRoot(dir: string, name: string, fixtures: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  const pkg = { name, private: true, allowScripts: { [`file:${tarball.tsgrad}`]: true } };
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  for (const f of fixtures) {
    cpSync(join(FIXTURES, f), join(dir, f), {
      recursive: true,
      // Not the output of a manual run of a fixture in the checkout.
      filter: (src) => !/[\\/](dist|node_modules)$/.test(src),
    });
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "tsgrad-consumers-"));
  const packs = join(work, "packs");
  mkdirSync(packs);
  const pack = await runOk(
    "npm",
    ["pack", ".", "./data", "--ignore-scripts", "--json", "--pack-destination", packs],
    { cwd: ROOT, timeout: 120_000 },
  );
  packed = JSON.parse(pack.stdout) as Packed[];
  const file = (name: string) => join(packs, packed.find((p) => p.name === name)!.filename);
  tarball = { tsgrad: file("tsgrad"), data: file("tsgrad-data") };

  const npmInstall = ["install", "--no-audit", "--no-fund", "--prefer-offline"];
  plainRoot = join(work, "plain");
  makeRoot(plainRoot, "tsgrad-consumer-plain", ["esm", "cjs"]);
  // --foreground-scripts: show the install script's one line (npm hides it otherwise).
  plainInstall = run("npm", [...npmInstall, "--foreground-scripts", tarball.tsgrad, tarball.data], {
    cwd: plainRoot,
    timeout: 480_000,
  });
  toolingRoot = join(work, "tooling");
  makeRoot(toolingRoot, "tsgrad-consumer-tooling", ["ts-nodenext", "ts-bundler", "vite-browser"]);
  toolingInstall = run(
    "npm",
    [
      ...npmInstall,
      tarball.tsgrad,
      `typescript@${lockedVersion("typescript")}`,
      `@types/node@${lockedVersion("@types/node")}`,
      `vite@${lockedVersion("vite")}`,
    ],
    { cwd: toolingRoot, env: { TSGRAD_SKIP_NATIVE: "1" }, timeout: 480_000 },
  );
  // Awaited by the tests; this keeps an early failure from being an unhandled rejection.
  plainInstall.catch(() => {});
  toolingInstall.catch(() => {});
}, 600_000);

afterAll(async () => {
  // Let a still-running install finish before its folder is deleted.
  await Promise.allSettled([plainInstall, toolingInstall]);
  if (work) rmSync(work, { recursive: true, force: true });
}, 600_000);

describe("the packed tarballs", () => {
  test("tsgrad: dist/, bin and native sources; no data sets, build info or prebuilt addon", () => {
    const files = packed.find((p) => p.name === "tsgrad")!.files.map((f) => f.path);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      main: string;
      types: string;
      exports: unknown;
      browser: Record<string, string>;
      bin: Record<string, string>;
    };
    // Every file the manifest points at (main, types, browser, bin, each exports target) ships.
    const targets = new Set<string>([pkg.main, pkg.types, ...Object.values(pkg.bin)]);
    for (const [k, v] of Object.entries(pkg.browser)) targets.add(k).add(v);
    const walk = (e: unknown): void => {
      if (typeof e === "string") targets.add(e);
      else if (e && typeof e === "object") Object.values(e).forEach(walk);
    };
    walk(pkg.exports);
    const shipped = new Set(files);
    const missing = [...targets].map((t) => t.replace(/^\.\//, "")).filter((t) => !shipped.has(t));
    expect(missing, "package.json targets missing from the tarball").toEqual([]);
    for (const f of ["dist/cli/main.js", "native/build.js", "native/binding.gyp"]) {
      expect(files).toContain(f);
    }
    // The data sets live in tsgrad-data; a checkout's build output must not leak in.
    expect(files.filter((f) => f.startsWith("data/"))).toEqual([]);
    expect(files.filter((f) => f.startsWith("native/build/"))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".tsbuildinfo"))).toEqual([]);
    // The WebAssembly module ships once, in dist/backends/wasm/binary.js: not in its source (whose
    // map is of no use: it is generated) nor in its declaration file.
    expect(files).not.toContain("src/backends/wasm/binary.ts");
    const dts = packed
      .find((p) => p.name === "tsgrad")!
      .files.find((f) => f.path === "dist/backends/wasm/binary.d.ts");
    expect(dts?.size).toBeLessThan(2000);
  });

  test("tsgrad-data: the three data sets", () => {
    const files = packed.find((p) => p.name === "tsgrad-data")!.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        "package.json",
        "fashion-mnist-sample/train-images-idx3-ubyte.gz",
        "fashion-mnist-sample/t10k-labels-idx1-ubyte.gz",
        "multi30k/train.en.gz",
        "tinyshakespeare/input.txt",
      ]),
    );
  });
});

describe("tooling consumers (typescript, vite; installed with TSGRAD_SKIP_NATIVE=1)", () => {
  const tsc = () => join(toolingRoot, "node_modules/typescript/bin/tsc");

  test("the install script reports the skipped addon in one line and exits 0", async () => {
    await installed(toolingInstall);
    const log = readFileSync(
      join(toolingRoot, "node_modules/tsgrad/native/build/build-error.log"),
      "utf8",
    );
    expect(log).toMatch(/^TSGRAD_SKIP_NATIVE=1/);
  });

  test("(c) TypeScript strict, module NodeNext: compiles against the .d.ts files and trains", async () => {
    await installed(toolingInstall);
    const dir = join(toolingRoot, "ts-nodenext");
    await runOk(process.execPath, [tsc(), "-p", "."], { cwd: dir });
    lossResult(await runOk(process.execPath, ["dist/train.js"], { cwd: dir }), "wasm");
  });

  test("(d) TypeScript, moduleResolution bundler, no Node types: compiles and trains", async () => {
    await installed(toolingInstall);
    const dir = join(toolingRoot, "ts-bundler");
    const build = await run(process.execPath, [tsc(), "-p", ".", "--listFiles"], { cwd: dir });
    // tsc prints diagnostics and the program's files on stdout; errors first.
    const errors = build.stdout.split("\n").filter((l) => /error TS\d+/.test(l));
    expect(errors, "tsc errors (tsgrad's .d.ts must not need @types/node)").toEqual([]);
    expect(build.code, build.log).toBe(0);
    // @types/node is installed in this root: nothing (a `/// <reference types="node" />` in a
    // tsgrad .d.ts, say) may pull it into the program.
    expect(build.stdout.split("\n").filter((l) => l.includes("@types/node"))).toEqual([]);
    lossResult(await runOk(process.execPath, ["dist/train.js"], { cwd: dir }), "wasm");
  });

  const chrome = browserAvailability();
  test("(e) Vite build, trained in headless Chromium on the wasm backend's threads", async ({
    skip,
  }) => {
    if (!chrome.run) {
      // The default reporter shows a skip without its note: say why where it is seen.
      console.warn(`(e) skipped: ${chrome.reason}`);
      skip(chrome.reason);
    }
    await installed(toolingInstall);
    const dir = join(toolingRoot, "vite-browser");
    const vite = join(toolingRoot, "node_modules/vite/bin/vite.js");
    const build = await runOk(process.execPath, [vite, "build"], { cwd: dir });
    const warnings = `${build.stdout}\n${build.stderr}`
      .split("\n")
      .filter((l) => /warn|doesn't exist at build time/i.test(l));
    if (warnings.length) console.warn(`vite build warnings:\n${warnings.join("\n")}`);

    // The bundle took the browser entry: no Node built-in imports, no native addon.
    const assets = join(dir, "dist/assets");
    const bundle = readdirSync(assets)
      .filter((f) => f.endsWith(".js"))
      .map((f) => readFileSync(join(assets, f), "utf8"))
      .join("\n");
    expect(bundle.length).toBeGreaterThan(1000);
    expect(bundle.match(/\b(?:from|import|require)\s*\(?\s*["'`]node:[\w/]+/g)).toBeNull();
    expect(bundle).not.toContain("tsgrad_native");

    const server = await serveStatic(join(dir, "dist"), { crossOriginIsolated: true });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems = watchPage(page);
      await page.goto(server.url);
      await page.waitForSelector('#result[data-done="1"]', { timeout: 90_000 });
      const result = (await page.evaluate(
        () => (window as unknown as { tsgradResult?: unknown }).tsgradResult,
      )) as FixtureResult & {
        nativeAvailable: boolean;
        info: Record<string, string | number | boolean>;
      };
      const shotDir = join(tmpdir(), "tsgrad-package-test");
      mkdirSync(shotDir, { recursive: true });
      await page.screenshot({ path: join(shotDir, "vite-browser.png") });
      console.log(`${JSON.stringify(result)} (screenshot: ${shotDir}/vite-browser.png)`);

      expect(result.last).toBeLessThan(0.5 * result.first);
      // The browser entry's default: wasm, its threaded relaxed-SIMD build (Chromium has relaxed
      // SIMD; the page is cross-origin isolated, so SharedArrayBuffer exists).
      expect(result.backend).toBe("wasm");
      expect(result.info.variant).toBe("relaxedThreads");
      expect(result.info.singleThreadReason).toBe("");
      expect(result.info.threads).toBeGreaterThan(1);
      expect(result.nativeAvailable).toBe(false);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});

describe("plain consumers (only the tarballs installed)", () => {
  const backend = EXPECT_NATIVE ? "native" : "wasm";

  test("the install script runs and builds the native addon where it can", async () => {
    const r = await installed(plainInstall);
    const line = `${r.stdout}\n${r.stderr}`.split("\n").find((l) => l.startsWith("tsgrad: native"));
    console.log(line);
    expect(line, r.log).toMatch(
      EXPECT_NATIVE
        ? /^tsgrad: native backend built in \d+ s/
        : /^tsgrad: native backend not built/,
    );
    // Plain means plain: no TypeScript tooling came along with tsgrad.
    for (const dev of ["typescript", "tsx", "@types/node"]) {
      expect(existsSync(join(plainRoot, "node_modules", dev)), dev).toBe(false);
    }
  });

  test("(a) Node ESM .mjs", async () => {
    await installed(plainInstall);
    const r = await runOk(process.execPath, ["train.mjs"], { cwd: join(plainRoot, "esm") });
    lossResult(r, backend);
    expect(r.stderr).toBe("");
  });

  test("(b) CommonJS require(): loads the ESM package without warnings", async () => {
    await installed(plainInstall);
    const r = await runOk(process.execPath, ["train.cjs"], { cwd: join(plainRoot, "cjs") });
    lossResult(r, backend);
    // Node >= 20.19 prints require(esm)'s ExperimentalWarning only under --trace-require-module.
    expect(r.stderr).toBe("");
  });

  test("import('tsgrad'), require('tsgrad') and 'tsgrad/browser' from a subfolder", async () => {
    await installed(plainInstall);
    const cwd = join(plainRoot, "src/deep");
    mkdirSync(cwd, { recursive: true });
    const esm = await runOk(
      process.execPath,
      [
        "-e",
        `import("tsgrad").then((tg) => console.log(JSON.stringify({
           backend: tg.getBackend().name, sum: tg.tensor([1, 2, 3]).sum().item() })))`,
      ],
      { cwd },
    );
    expect(JSON.parse(esm.stdout)).toEqual({ backend, sum: 6 });
    const cjs = await runOk(
      process.execPath,
      [
        "-e",
        `const tg = require("tsgrad"); console.log(require("tsgrad/package.json").version, typeof tg.nn.Linear)`,
      ],
      { cwd },
    );
    expect(cjs.stdout.trim()).toMatch(/^\d+\.\d+\.\d+\S* function$/);
    expect(cjs.stderr).toBe("");
    const browser = await runOk(
      process.execPath,
      [
        "-e",
        `import("tsgrad/browser").then((tg) => console.log(tg.getBackend().name, tg.nativeBackend.available()))`,
      ],
      { cwd },
    );
    expect(browser.stdout.trim()).toBe("wasm false");
  });

  test("the tsgrad bin: --help and info", async () => {
    await installed(plainInstall);
    const bin = join(plainRoot, "node_modules/.bin/tsgrad");
    const help = await runOk(bin, ["--help"], { cwd: plainRoot });
    expect(help.stdout).toMatch(/Usage: tsgrad <command>/);
    expect(help.stdout).toMatch(/train image/);
    const info = await runOk("npx", ["--no", "tsgrad", "info", "--json"], { cwd: plainRoot });
    const report = JSON.parse(info.stdout) as {
      active: string;
      backends: { name: string; available: boolean }[];
    };
    expect(report.active).toBe(backend);
    expect(report.backends.find((b) => b.name === "js")?.available).toBe(true);
  });

  test("tsgrad finds its data sets in the installed tsgrad-data package", async () => {
    await installed(plainInstall);
    // From a folder with no data/ of its own, and with tsgrad's own folder holding none.
    const cwd = join(plainRoot, "runs-here");
    mkdirSync(cwd, { recursive: true });
    const where = await runOk(
      process.execPath,
      [
        "-e",
        `import("tsgrad").then((tg) => console.log(JSON.stringify([
           tg.data.resolveDataset("fashion-mnist-sample").dir,
           tg.text.resolveDataDir("tinyshakespeare", { expect: ["input.txt"] }),
           tg.text.resolveDataDir("multi30k", { expect: ["train.en", "train.fr"] }),
         ])))`,
      ],
      { cwd },
    );
    const data = join(plainRoot, "node_modules/tsgrad-data");
    expect(JSON.parse(where.stdout)).toEqual(
      ["fashion-mnist-sample", "tinyshakespeare", "multi30k"].map((d) => join(data, d)),
    );
  });

  test("tsgrad train image --quick: an MLP on fashion-mnist-sample learns", async () => {
    await installed(plainInstall);
    const cwd = join(plainRoot, "runs-here");
    mkdirSync(cwd, { recursive: true });
    // The smallest real run: an MLP, 2 epochs of 2000 images (a few seconds on either backend).
    const out = join(work, "run-image");
    const bin = join(plainRoot, "node_modules/.bin/tsgrad");
    const train = await runOk(bin, ["train", "image", "--quick", "--model", "mlp", "--out", out], {
      cwd,
      timeout: 120_000,
    });
    // The header ("tsgrad train image: mlp on …") goes to stderr with the progress bar.
    expect(train.stderr).toMatch(/^tsgrad train image: mlp on fashion-mnist-sample, backend/m);
    const epochs = readFileSync(join(out, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { trainLossEpoch?: number })
      .flatMap((m) => (m.trainLossEpoch === undefined ? [] : [m.trainLossEpoch]));
    console.log(`train image --quick --model mlp: epoch losses ${epochs.join(" → ")}`);
    expect(epochs.length).toBe(2);
    expect(epochs[1]!).toBeLessThan(epochs[0]!);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as {
      testAccuracy: number;
      backend: string;
    };
    // Ten classes: chance is 10%; two short epochs of an MLP reach ~70%.
    expect(summary.testAccuracy).toBeGreaterThan(0.5);
    expect(summary.backend).toBe(backend);
  });
});
