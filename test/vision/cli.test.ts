import { spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";

const BIN = new URL("../../bin/tsgrad.js", import.meta.url).pathname;
const tmp = () => mkdtempSync(`${tmpdir()}/tsgrad-cli-`);
const tsgrad = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, TSGRAD_BACKEND: "js" },
  });

describe("tsgrad train image / eval image / classify", () => {
  const out = `${tmp()}/run`;

  it("trains the quick variant on the bundled sample, then evaluates and classifies with it", () => {
    const r = tsgrad(
      "train",
      "image",
      "--quick",
      "--model",
      "lenet5",
      "--optimizer",
      "adam",
      "--lr",
      "0.002",
      "--weight-decay",
      "0",
      "--workers",
      "0",
      "--test-views",
      "flip",
      // On the JS backend (as here) "medium" changes no result; eval must still follow it.
      "--matmul-precision",
      "medium",
      "--out",
      out,
    );
    expect(r.stderr).toContain("lenet5 on fashion-mnist-sample");
    expect(r.status).toBe(0);
    const acc = Number(/test accuracy ([\d.]+)%/.exec(r.stdout)![1]);
    expect(acc).toBeGreaterThan(60); // chance: 10%
    expect(r.stdout).toMatch(/flip views; single view [\d.]+%/);
    for (const f of [
      "config.json",
      "metrics.jsonl",
      "summary.json",
      "model.safetensors",
      "report.html",
      "report.md",
      "figures/confusion.png",
    ]) {
      expect(existsSync(`${out}/${f}`), f).toBe(true);
    }

    // Evaluation defaults to the run's own test views.
    const ev = tsgrad("eval", "image", "--checkpoint", `${out}/model.safetensors`);
    expect(ev.status).toBe(0);
    expect(ev.stdout).toContain("(flip views)");
    expect(Number(/test accuracy ([\d.]+)%/.exec(ev.stdout)![1])).toBeCloseTo(acc, 1);

    // --split val sees exactly the run's validation images: same accuracy as its last epoch.
    const val = tsgrad(
      "eval",
      "image",
      "--checkpoint",
      `${out}/model.safetensors`,
      "--split",
      "val",
      "--views",
      "single",
      "--json",
    );
    expect(val.status).toBe(0);
    const lastEpoch = readFileSync(`${out}/metrics.jsonl`, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { valAccuracy?: number })
      .filter((m) => m.valAccuracy !== undefined)
      .at(-1)!;
    const v = JSON.parse(val.stdout) as {
      accuracy: number;
      images: number;
      views: string;
      matmulPrecision: string;
    };
    expect(v.images).toBe(500);
    expect(v.views).toBe("single");
    expect(v.matmulPrecision).toBe("medium"); // the run's own, by default
    expect(v.accuracy).toBe(lastEpoch.valAccuracy);

    const { PNG } = createRequire(import.meta.url)("pngjs") as {
      PNG: {
        new (o: { width: number; height: number }): { data: Uint8Array };
        sync: { write(p: unknown): Uint8Array };
      };
    };
    const dir = tmp();
    const ok = new PNG({ width: 28, height: 28 });
    ok.data.fill(255);
    writeFileSync(`${dir}/shirt.png`, PNG.sync.write(ok));
    const c = tsgrad("classify", "--checkpoint", `${out}/model.safetensors`, `${dir}/shirt.png`);
    expect(c.status).toBe(0);
    expect(c.stdout.trim().split("\n").length).toBe(6); // file name + top 5
    expect(c.stdout).toMatch(/%\s+\S/);

    // A picture of another size is resized, not rejected: a white 40×30 one reads as the white
    // 28×28 one.
    const big = new PNG({ width: 40, height: 30 });
    big.data.fill(255);
    writeFileSync(`${dir}/big.png`, PNG.sync.write(big));
    const b = tsgrad("classify", "--checkpoint", `${out}/model.safetensors`, `${dir}/big.png`);
    expect(b.status).toBe(0);
    expect(b.stdout.replace("big.png", "shirt.png")).toBe(c.stdout);
    // …and its help says so.
    const h = tsgrad("classify", "--help");
    expect(h.status).toBe(0);
    expect(h.stdout).toContain("centred square and resized to the training size");
  });

  it("reports a truncated dataset file by name and writes no run folder", () => {
    const data = tmp();
    cpSync(new URL("../../data/fashion-mnist-sample", import.meta.url).pathname, data, {
      recursive: true,
    });
    truncateSync(`${data}/train-images-idx3-ubyte.gz`, 5000);
    const runDir = `${tmp()}/never`;
    const r = tsgrad("train", "image", "--data", data, "--out", runDir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("train-images-idx3-ubyte.gz");
    expect(existsSync(runDir)).toBe(false);
  });

  it("rejects unknown flags", () => {
    const r = tsgrad("train", "image", "--epoch", "3");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown flag --epoch");
  });

  it("saves a checkpoint and exits cleanly on Ctrl-C, and --resume finishes the run", async () => {
    const dir = `${tmp()}/run`;
    const args = [
      "train",
      "image",
      "--model",
      "logistic",
      "--data",
      "fashion-mnist-sample",
      "--epochs",
      "3",
      "--train-limit",
      "800",
      "--batch-size",
      "4",
      "--val-size",
      "100",
      "--workers",
      "0",
      "--out",
      dir,
    ];
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, TSGRAD_BACKEND: "js" },
    });
    let stderr = "";
    let stdout = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    await new Promise<void>((resolve) =>
      child.stderr.on("data", (b: Buffer) => {
        stderr += b.toString();
        if (/train \d+\/\d+/.test(stderr)) resolve();
      }),
    );
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(130);
    expect(stdout).toContain("interrupted: checkpoint saved");
    expect(readdirSync(dir).some((f) => /^checkpoint-\d+\.safetensors$/.test(f))).toBe(true);
    expect(existsSync(`${dir}/summary.json`)).toBe(false);
    const resumed = tsgrad(...args, "--resume");
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toContain("test accuracy");
    expect(existsSync(`${dir}/summary.json`)).toBe(true);
    // A different configuration is not mixed into this run folder.
    const other = tsgrad(...args.map((a) => (a === "3" ? "4" : a)), "--resume");
    expect(other.status).toBe(1);
    expect(other.stderr).toContain("holds a different config");
  });
});

describe("train image --config", () => {
  const parse = async (argv: string[]) => {
    const { parseFlags } = await import("../../src/cli/args.js");
    const { flags, imageConfigFromArgs } = await import("../../src/cli/train-image.js");
    return imageConfigFromArgs(parseFlags(argv, flags).flags, argv);
  };
  const file = (obj: unknown) => {
    const path = `${tmp()}/config.json`;
    writeFileSync(path, JSON.stringify(obj));
    return path;
  };

  it("reads the recipe's file; flags override it and --quick fills only what neither sets", async () => {
    const recipe = new URL("../../recipes/fashion-mnist-alexnet/config.json", import.meta.url)
      .pathname;
    const cfg = await parse(["--config", recipe]);
    expect(cfg).toMatchObject({ model: "alexnet", poolPadding: 1, schedule: "cosine" });
    expect(cfg.epochs).toBeGreaterThan(10);
    const path = file({ "//": "a comment", lr: 0.5, epochs: 7, augment: false });
    const over = await parse(["--config", path, "--lr", "0.1", "--augment"]);
    expect(over).toMatchObject({ lr: 0.1, epochs: 7, augment: true, batchSize: 128 });
    const quick = await parse(["--config", path, "--quick"]);
    expect(quick).toMatchObject({
      lr: 0.5,
      epochs: 7,
      batchSize: 64,
      data: "fashion-mnist-sample",
    });
  });

  it("names a file's unknown field, wrong type or bad choice", async () => {
    await expect(parse(["--config", file({ lrr: 1 })])).rejects.toThrow(/unknown field "lrr"/);
    await expect(parse(["--config", file({ lr: "x" })])).rejects.toThrow(
      /"lr" must be a number, got "x"/,
    );
    await expect(parse(["--config", file({ init: "he" })])).rejects.toThrow(
      /"init" must be one of kaiming, pytorch, alexnet, got "he"/,
    );
    await expect(parse(["--config", `${tmp()}/missing.json`])).rejects.toThrow(/cannot read/);
  });
});
