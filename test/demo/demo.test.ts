/**
 * The browser demo (demo/) end to end, in headless Chromium: it is built with Vite as a user
 * would, served statically with the cross-origin-isolation headers (COOP/COEP) the demo's Vite
 * servers send, and driven like a user. It trains LeNet-5 in its Web Worker on the default
 * backend, wasm, on several threads (the kernel threads are Blob-URL workers nested in the
 * training worker: they must start under COEP; the loss must fall and test accuracy beat chance)
 * and briefly the narrow AlexNet on the js backend chosen for comparison (stopped mid-run),
 * hands out a checkpoint that `tsgrad classify` reads with the same result, classifies a drawing
 * and a dropped picture of another size, and uses three checkpoints the CLI writes here first
 * (image classifier, character LM, translator). Any page error or console error fails the test.
 * A full-page screenshot goes to test-results/demo.png.
 */
import { execFile } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { PNG } from "pngjs";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import {
  type LaunchedChromium,
  type StaticServer,
  browserAvailability,
  launchChromium,
  serveStatic,
  watchPage,
} from "../helpers/browser.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CLI = join(ROOT, "bin/tsgrad.js");
/** Training run in the page: LeNet-5, batch 32, on wasm (see demo/README.md for the speeds). */
const STEPS = 100;
const LM_PROMPT = "ROMEO:";
const LM_TOKENS = 40;
const SENTENCE = "A man is riding a bike.";
const BEAM = 3;
/** The CLI image classifier: logistic regression, 2 epochs (about 79% test accuracy, 2 s). */
const IMAGE_FLAGS =
  "train image --data fashion-mnist-sample --model logistic --epochs 2 --batch-size 64 " +
  "--optimizer adam --lr 0.002 --schedule none --no-augment --val-size 0 --workers 0";

const runFile = promisify(execFile);

/** Run the tsgrad CLI; a failure throws with its stderr. */
async function tsgrad(args: string[]): Promise<string> {
  const { stdout } = await runFile(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    maxBuffer: 64 << 20,
  });
  return stdout;
}

/** The one file under `dir` (searched recursively) whose name matches `pattern`. */
function findFile(dir: string, pattern: RegExp): string {
  const hits = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) =>
    pattern.test(f.split("/").at(-1)!),
  );
  if (hits.length !== 1) {
    throw new Error(`expected one ${String(pattern)} under ${dir}, found [${hits.join(", ")}]`);
  }
  return join(dir, hits[0]!);
}

/**
 * A 28×28 grey image as a width×height PNG: scaled up (nearest neighbour) to the shorter side and
 * centred between black bars, so the page must centre-crop and resize it back.
 */
function pngOfOtherSize(pixels: Uint8Array, width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  const side = Math.min(width, height);
  const x0 = (width - side) >> 1;
  const y0 = (height - side) >> 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = x >= x0 && x < x0 + side && y >= y0 && y < y0 + side;
      const v = inside
        ? pixels[Math.floor(((y - y0) * 28) / side) * 28 + Math.floor(((x - x0) * 28) / side)]!
        : 0;
      png.data.set([v, v, v, 255], 4 * (y * width + x));
    }
  }
  return PNG.sync.write(png);
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

interface Prediction {
  label: string;
  p: number;
}

async function predictions(page: Page): Promise<Prediction[]> {
  return page.$$eval("#predictions li", (items) =>
    items.map((li) => ({ label: li.dataset.label ?? "", p: Number(li.dataset.p) })),
  );
}

/** Do `action`, then wait until the page has shown a new classification result. */
async function classified(page: Page, action: () => Promise<void>): Promise<Prediction[]> {
  const before = Number((await page.getAttribute("#predictions", "data-count")) ?? 0);
  await action();
  await page.waitForFunction(
    (n) => Number(document.querySelector("#predictions")?.getAttribute("data-count") ?? 0) > n,
    before,
  );
  return predictions(page);
}

/** Drop `file` on the element `selector` as a user dragging it from the desktop would. */
async function dropFile(page: Page, selector: string, file: string): Promise<void> {
  const bytes = readFileSync(file).toString("base64");
  const name = basename(file);
  const dataTransfer = await page.evaluateHandle(
    ([b64, name]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
      return dt;
    },
    [bytes, name] as const,
  );
  await page.dispatchEvent(selector, "dragover", { dataTransfer });
  await page.dispatchEvent(selector, "drop", { dataTransfer });
}

/** The status line, asserted not to report an error. */
async function statusOk(page: Page): Promise<string> {
  const text = (await page.textContent("#status")) ?? "";
  expect(await page.getAttribute("#status", "data-kind"), text).not.toBe("error");
  return text;
}

const browser = browserAvailability();
if (!browser.run) console.warn(`test/demo: skipped, ${browser.reason}`);

describe.skipIf(!browser.run)(
  `the browser demo in Chromium${browser.reason ? ` (${browser.reason})` : ""}`,
  () => {
    let work: string;
    let server: StaticServer | null = null;
    let chrome: LaunchedChromium | null = null;
    let page: Page;
    let problems: string[];
    const files = { image: "", lm: "", translator: "", png: "", unknown: "", garbage: "" };
    let known: { label: string; index: number; p: number } | undefined;
    let expectedTranslation: string;

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), "tsgrad-demo-test-"));
      const site = join(work, "site");
      // The three CLI checkpoints (the smallest runs that give usable models) and the site build,
      // all at once: the CLI runs are separate processes.
      await Promise.all([
        tsgrad([...IMAGE_FLAGS.split(" "), "--out", join(work, "image")]),
        tsgrad(["train", "lm", "--quick", "--quiet", "--root", join(work, "lm")]),
        tsgrad(["train", "translate", "--quick", "--out", join(work, "translate")]),
        build({
          configFile: join(ROOT, "demo/vite.config.ts"),
          mode: "production",
          logLevel: "error",
          build: { outDir: site, emptyOutDir: true },
        }),
      ]);
      files.image = join(work, "image/model.safetensors");
      files.lm = findFile(join(work, "lm"), /^checkpoint-\d+\.safetensors$/);
      files.translator = findFile(join(work, "translate"), /^best\.safetensors$/);

      // A test image the CLI classifier gets right with confidence, as the page will see it: a
      // 100×80 PNG, decoded and resized by the library as `tsgrad classify` does.
      const { model, meta } = tg.vision.loadImageClassifier(files.image);
      const test = tg.data.loadFashionMnist({ name: "fashion-mnist-sample", train: false });
      for (let i = 0; i < test.length && known === undefined; i++) {
        const { image, label } = test.get(i);
        const png = pngOfOtherSize(image, 100, 80);
        const x = tg.vision.pictureToTensor(tg.data.decodeImage(png, "known.png"), meta, "png");
        const probs = tg.noGrad(() => model.forward(x).softmax(1)).dataSync();
        const best = probs.indexOf(Math.max(...probs));
        if (best === label && probs[best]! > 0.8) {
          known = { label: meta.classes[label]!, index: i, p: probs[best]! };
          files.png = join(work, `fashion-test-${i}-100x80.png`);
          writeFileSync(files.png, png);
        }
      }
      expect(known, "no test image is classified confidently by the CLI model").toBeDefined();

      // What the page's translator must produce: the library's own translation of the same
      // sentence with the same beam (here on js; the page runs it on wasm, whose float32 sums
      // differ in the last bits, far from changing which words the beam keeps).
      tg.setBackend("js");
      expectedTranslation =
        tg.translate.Translator.load(files.translator).translate([SENTENCE], { beam: BEAM })[0] ??
        "";

      files.unknown = join(work, "plain.safetensors");
      writeFileSync(files.unknown, tg.io.encodeSafetensors({ w: tg.zeros([2, 2]) }));
      files.garbage = join(work, "notes.safetensors");
      writeFileSync(files.garbage, "these are not tensors\n");

      server = await serveStatic(site, { crossOriginIsolated: true });
      chrome = await launchChromium({ viewport: { width: 1280, height: 900 } });
      page = await chrome.newPage();
      problems = watchPage(page);
      // The training worker's console is its own; its errors count as the page's.
      page.on("worker", (w) =>
        w.on("console", (m) => {
          if (m.type() === "error") problems.push(`worker console.error: ${m.text()}`);
        }),
      );
      await page.goto(server.url);
      await page.waitForFunction(() =>
        document.querySelector("#status")?.textContent?.startsWith("Ready"),
      );
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    }, 300_000);

    afterAll(async () => {
      await chrome?.close();
      await server?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it("trains the narrow AlexNet on the js backend when asked, and stops on request", async () => {
      await page.selectOption("#train-backend", "js");
      await page.selectOption("#train-model", "alexnet");
      await page.selectOption("#train-unit", "steps");
      await page.fill("#train-amount", "1000");
      await page.fill("#train-eval-images", "100");
      await page.click("#train-start");
      expect(await page.isEnabled("#train-stop")).toBe(true);
      await page.waitForFunction(
        () =>
          Number(document.querySelector<HTMLElement>("#train-progress-text")?.dataset.step) >= 2,
        undefined,
        { timeout: 90_000 },
      );
      await page.click("#train-stop");
      await page.waitForSelector('#train-state:not([data-state="running"])', { timeout: 60_000 });
      expect(await page.getAttribute("#train-state", "data-state")).toBe("stopped");
      const s = await page.evaluate(() => window.tsgradDemo!);
      expect(s.losses.length).toBeGreaterThanOrEqual(2);
      expect(s.losses.length).toBeLessThan(1000);
      expect(s.losses.every(Number.isFinite)).toBe(true);
      expect(s.backend).toEqual({ backend: "js", variant: "", threads: 1, singleThreadReason: "" });
      expect(await page.getAttribute("#train-backend-info", "data-backend")).toBe("js");
      // Stopping evaluates and snapshots the model where it stopped.
      expect(s.evals.map((e) => e.step)).toEqual([s.losses.length]);
      expect(await page.textContent("#classifier-source")).toContain(
        `AlexNet trained in this page (step ${s.losses.length})`,
      );
      expect(await page.isEnabled("#train-start")).toBe(true);
      await statusOk(page);
    }, 150_000);

    it(`trains LeNet-5 for ${STEPS} steps on wasm threads: the loss falls, accuracy beats chance`, async () => {
      await page.selectOption("#train-backend", "wasm");
      await page.selectOption("#train-model", "lenet5");
      await page.fill("#train-amount", String(STEPS));
      await page.fill("#train-batch", "32");
      await page.fill("#train-eval-every", "50");
      await page.fill("#train-eval-images", "500");
      await page.click("#train-start");
      await page.waitForSelector('#train-state:not([data-state="running"])', { timeout: 170_000 });
      const status = await statusOk(page);
      expect(await page.getAttribute("#train-state", "data-state"), status).toBe("done");
      const s = await page.evaluate(() => window.tsgradDemo!);
      // The threaded relaxed-SIMD build, its threads (nested in the training worker) all running.
      expect(s.backend?.backend).toBe("wasm");
      expect(s.backend?.variant).toBe("relaxedThreads");
      expect(s.backend?.singleThreadReason).toBe("");
      expect(s.backend?.threads).toBeGreaterThan(1);
      expect(await page.textContent("#train-backend-info")).toMatch(
        /^Training on wasm \(relaxedThreads build\), \d+ threads\.$/,
      );
      // The page's own ops (classifying, sampling, translating) run on wasm threads too.
      expect(await page.textContent("#backend-info")).toMatch(
        /^this page's own ops: wasm \(relaxedThreads build\), \d+ threads$/,
      );
      expect(s.losses).toHaveLength(STEPS);
      const first = mean(s.losses.slice(0, 10));
      const last = mean(s.losses.slice(-10));
      const accuracy = s.evals.at(-1)!.accuracy;
      console.log(
        `demo training: ${STEPS} steps of LeNet-5, batch 32, on ${s.backend?.variant} with ${s.backend?.threads} threads, ${s.imagesPerSec.toFixed(0)} images/s; ` +
          `loss ${first.toFixed(3)} (first 10) → ${last.toFixed(3)} (last 10); ` +
          `test accuracy ${s.evals.map((e) => `${(100 * e.accuracy).toFixed(1)}% @${e.step}`).join(", ")}`,
      );
      expect(last).toBeLessThan(0.7 * first);
      expect(s.evals.map((e) => e.step)).toEqual([50, 100]);
      expect(accuracy).toBeGreaterThan(0.4); // chance is 0.1
      expect(await page.textContent("#train-progress-text")).toMatch(
        new RegExp(`step ${STEPS} / ${STEPS} .* \\d+ images/s`),
      );
      expect(await page.textContent("#classifier-source")).toContain(
        `LeNet-5 trained in this page (step ${STEPS})`,
      );
    }, 180_000);

    it("offers the trained model as a checkpoint; `tsgrad classify` agrees with the page", async () => {
      const inPage = await classified(page, () => page.setInputFiles("#image-file", files.png));
      expect(inPage).toHaveLength(3);
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.click("#download-model"),
      ]);
      expect(download.suggestedFilename()).toBe(`tsgrad-demo-lenet5-step${STEPS}.safetensors`);
      const saved = join(work, download.suggestedFilename());
      await download.saveAs(saved);
      const out = await tsgrad(["classify", "--checkpoint", saved, "--top", "3", files.png]);
      const cli = [...out.matchAll(/^\s+([\d.]+)%\s+(.+)$/gm)].map((m) => ({
        label: m[2]!,
        p: Number(m[1]) / 100,
      }));
      expect(cli.map((c) => c.label)).toEqual(inPage.map((c) => c.label));
      cli.forEach((c, i) => expect(c.p).toBeCloseTo(inPage[i]!.p, 3));
      await statusOk(page);
    }, 60_000);

    it("classifies a drawing from the draw pad", async () => {
      // Mouse events go to what is under the pointer: the pad must be on screen.
      await page.locator("#draw-pad").scrollIntoViewIfNeeded();
      const box = (await page.locator("#draw-pad").boundingBox())!;
      const result = await classified(page, async () => {
        await page.mouse.move(box.x + 90, box.y + 40);
        await page.mouse.down();
        for (const [x, y] of [
          [190, 40],
          [190, 250],
          [90, 250],
          [90, 40],
        ] as const) {
          await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
        }
        await page.mouse.up();
      });
      expect(await page.getAttribute("#predictions", "data-source")).toBe("drawing");
      expect(result).toHaveLength(3);
      expect(result[0]!.p).toBeGreaterThanOrEqual(result[1]!.p);
      expect(result.reduce((a, r) => a + r.p, 0)).toBeLessThanOrEqual(1 + 1e-6);
      await statusOk(page);
    });

    it("says so on the page when a dropped file is not a checkpoint it knows", async () => {
      await page.setInputFiles("#checkpoint-file", files.garbage);
      await page
        .locator("#checkpoint-info", {
          hasText: "notes.safetensors is not a safetensors checkpoint",
        })
        .waitFor();
      expect(await page.getAttribute("#status", "data-kind")).toBe("error");
      await page.setInputFiles("#checkpoint-file", files.unknown);
      await page
        .locator("#checkpoint-info", {
          hasText: "plain.safetensors holds 1 tensor but no tsgrad model description",
        })
        .waitFor();
      expect(await page.getAttribute("#checkpoint-info", "data-kind")).toBe("error");
      expect(await page.textContent("#status")).toMatch(/Loading the checkpoint failed/);
    });

    it("classifies a picture of another size correctly with a CLI image checkpoint", async () => {
      await dropFile(page, "#checkpoint-drop", files.image);
      await page.waitForSelector('#checkpoint-info[data-kind="image"]');
      expect(await page.textContent("#classifier-source")).toContain("model.safetensors");
      const result = await classified(page, () => dropFile(page, "#image-drop", files.png));
      const { index, label, p } = known!;
      console.log(
        `demo classify: test image ${index} (${label}) as a 100×80 PNG → ` +
          result.map((r) => `${r.label} ${(100 * r.p).toFixed(1)}%`).join(", "),
      );
      expect(result[0]!.label).toBe(label);
      expect(result[0]!.p).toBeCloseTo(p, 4);
      expect(await page.textContent("#image-caption")).toContain("100×80");
      await statusOk(page);
    });

    it("samples text from a CLI character-LM checkpoint", async () => {
      await page.setInputFiles("#checkpoint-file", files.lm);
      await page.waitForSelector('#checkpoint-info[data-kind="lm"]');
      expect(await page.isVisible("#lm-panel")).toBe(true);
      await page.fill("#lm-prompt", LM_PROMPT);
      await page.fill("#lm-tokens", String(LM_TOKENS));
      await page.fill("#lm-temperature", "0.8");
      await page.click("#lm-sample");
      await page.waitForFunction(() => document.querySelector("#lm-output")?.textContent !== "");
      const text = (await page.textContent("#lm-output"))!;
      console.log(`demo sample: ${JSON.stringify(text)}`);
      expect(text.startsWith(LM_PROMPT)).toBe(true);
      expect([...text]).toHaveLength(LM_PROMPT.length + LM_TOKENS);
      const vocab = new Set(tg.lm.loadLM(files.lm).vocab.chars);
      expect([...text].filter((c) => !vocab.has(c))).toEqual([]);
      await statusOk(page);
    });

    it("translates a sentence with a CLI translator checkpoint", async () => {
      await page.setInputFiles("#checkpoint-file", files.translator);
      await page.waitForSelector('#checkpoint-info[data-kind="translator"]');
      expect(await page.isVisible("#translate-panel")).toBe(true);
      // The LM panel stays: each kind of checkpoint has its own panel.
      expect(await page.isVisible("#lm-panel")).toBe(true);
      await page.fill("#translate-source", SENTENCE);
      await page.fill("#translate-beam", String(BEAM));
      await page.click("#translate-run");
      await page.waitForFunction(() =>
        document.querySelector("#status")?.textContent?.startsWith("Translated"),
      );
      const translation = (await page.textContent("#translate-output"))!;
      console.log(`demo translate: ${JSON.stringify(SENTENCE)} → ${JSON.stringify(translation)}`);
      expect(translation.trim()).not.toBe("");
      expect(translation).toBe(expectedTranslation);
      await statusOk(page);
    });

    it("logs no page or console errors; screenshot", async () => {
      const shots = mkdtempSync(join(tmpdir(), "tsgrad-demo-screenshot-"));
      const shot = join(shots, "demo.png");
      await page.screenshot({ path: shot, fullPage: true });
      mkdirSync(join(ROOT, "test-results"), { recursive: true });
      copyFileSync(shot, join(ROOT, "test-results/demo.png"));
      console.log(`demo screenshot: ${shot} (and test-results/demo.png)`);
      expect(problems).toEqual([]);
    });
  },
);
