/**
 * The browser entry (`src/browser.ts`, the package's `browser` condition): the same names as the
 * Node entry, a bundle with no Node built-in and no addon, and — with Node's built-ins hidden, as
 * in a page — loaders that work from bytes and file-system calls that say what to use instead.
 * The packed package is tested in a real browser by test/package/consumers.test.ts.
 */
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as browser from "../src/browser.js";
import * as node from "../src/index.js";

/** Export names, with namespaces' members as `ns.name`. */
function names(mod: Record<string, unknown>, prefix = ""): string[] {
  return Object.keys(mod).flatMap((k) => {
    const v = mod[k];
    const isNamespace =
      typeof v === "object" &&
      v !== null &&
      Object.prototype.toString.call(v) === "[object Module]";
    return isNamespace ? names(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`];
  });
}

describe("the browser entry", () => {
  it("exports exactly the Node entry's names", () => {
    const n = names(node);
    expect(n.length).toBeGreaterThan(300);
    expect(names(browser as unknown as Record<string, unknown>).sort()).toEqual(n.sort());
  });

  it("bundles for the browser with no node: module and no native addon", async () => {
    const out = await esbuild.build({
      entryPoints: [new URL("../src/browser.ts", import.meta.url).pathname],
      bundle: true,
      format: "esm",
      platform: "browser",
      write: false,
      logLevel: "silent",
    });
    const code = out.outputFiles[0]!.text;
    expect(code).not.toMatch(/from\s*["']node:|import\(\s*["']node:|require\(\s*["']node:/);
    expect(code).not.toContain("tsgrad_native");
    expect(code.length).toBeGreaterThan(100_000);
  });

  it("says so, and not from deep inside, when its native backend is asked for", () => {
    expect(browser.nativeBackend.available()).toBe(false);
    expect(browser.nativeBackend.unavailableReason()).toMatch(/js backend/);
    expect(() => browser.nativeBackend.numThreads()).toThrow(/native: backend not available/);
  });
});

describe("outside Node (built-ins hidden, as in a page)", () => {
  const proc = process as { getBuiltinModule?: unknown };
  const saved = proc.getBuiltinModule;
  beforeEach(() => {
    proc.getBuiltinModule = undefined;
  });
  afterEach(() => {
    proc.getBuiltinModule = saved;
  });

  it("loads checkpoints from bytes, and names the bytes call when given a path", () => {
    const bytes = browser.io.encodeCheckpoint({ model: { w: browser.ones([2]) }, step: 3 });
    expect(browser.io.loadCheckpoint(bytes.slice().buffer).step).toBe(3);
    expect(browser.io.loadCheckpoint(bytes).model.w!.toArray()).toEqual([1, 1]);
    expect(() => browser.io.loadCheckpoint("model.safetensors")).toThrow(
      /loadCheckpoint: needs Node.js .*; in a browser, pass the file's bytes instead of the path "model.safetensors": loadCheckpoint\(await file.arrayBuffer\(\)\)/,
    );
    expect(() => browser.vision.loadImageClassifier("m.safetensors")).toThrow(
      /loadImageClassifier\(await file.arrayBuffer\(\)\)/,
    );
    expect(() => browser.io.saveCheckpoint("c.safetensors", { model: {} })).toThrow(
      /in a browser, keep the bytes in memory \(tg.io.encodeCheckpoint/,
    );
  });

  it("builds datasets from fetched IDX bytes, gunzipping without Node", async () => {
    const images = browser.data.encodeIdx(new Uint8Array(2 * 4 * 4).fill(3), [2, 4, 4]);
    const labels = browser.data.encodeIdx(new Uint8Array([1, 0]), [2]);
    const gz = gzipSync(images);
    expect(() => browser.data.idxDataset(gz, labels, ["a", "b"])).toThrow(
      /<idx images>: needs Node.js .*; in a browser, decompress gzip data first: await tg.data.gunzip\(bytes\)/,
    );
    const ds = browser.data.idxDataset(await browser.data.gunzip(gz), labels, ["a", "b"]);
    expect(ds.shape).toEqual([2, 1, 4, 4]);
    expect(() => browser.data.loadFashionMnist()).toThrow(/in a browser/);
    expect(() => browser.data.decodeImage(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toThrow(
      /in a browser, draw the image on a canvas and use its pixels: .*getImageData/,
    );
  });

  it("points the training runs that write run folders at the in-memory APIs", async () => {
    await expect(
      browser.vision.trainImageClassifier({ model: "logistic", data: "fashion-mnist-sample" }),
    ).rejects.toThrow(/in a browser, work in memory instead \(tensors, tg.nn, tg.optim/);
  });
});
