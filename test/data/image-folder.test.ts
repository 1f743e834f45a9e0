import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { tempDir } from "./helpers.js";

/** RGBA pixels where pixel p is (r0 + p, g0, b0 + 2p, 255). */
function rgba(w: number, h: number, [r0, g0, b0]: [number, number, number]): Uint8Array {
  const data = new Uint8Array(w * h * 4);
  for (let p = 0; p < w * h; p++) data.set([(r0 + p) % 256, g0, (b0 + 2 * p) % 256, 255], 4 * p);
  return data;
}

function png(w: number, h: number, base: [number, number, number]): Buffer {
  const img = new PNG({ width: w, height: h });
  img.data.set(rgba(w, h, base));
  return PNG.sync.write(img);
}

function jpg(w: number, h: number, grey: number): Buffer {
  return jpeg.encode({ width: w, height: h, data: new Uint8Array(w * h * 4).fill(grey) }, 95).data;
}

function folder(files: Record<string, Uint8Array>): string {
  const root = tempDir("folder");
  for (const [rel, bytes] of Object.entries(files)) {
    mkdirSync(join(root, rel, ".."), { recursive: true });
    writeFileSync(join(root, rel), bytes);
  }
  return root;
}

describe("tg.data.loadImageFolder", () => {
  it("labels classes by sorted folder name and reads files in sorted order, as ImageFolder", () => {
    const root = folder({
      "zebra/b.png": png(3, 2, [1, 2, 3]),
      "zebra/a.PNG": png(3, 2, [10, 20, 30]),
      "Apple/x.jpg": jpg(3, 2, 128),
      "apple/y.jpeg": jpg(3, 2, 64),
      "zebra/notes.txt": new TextEncoder().encode("ignored"),
    });
    const ds = tg.data.loadImageFolder(root);
    // Code-point order puts upper case first, like Python's sorted().
    expect(ds.classes).toEqual(["Apple", "apple", "zebra"]);
    expect([0, 1, 2, 3].map((i) => ds.label(i))).toEqual([0, 1, 2, 2]);
    expect(ds.shape).toEqual([4, 3, 2, 3]);
    // zebra/a.PNG comes before zebra/b.png; its CHW planes are R, G, B.
    const a = ds.get(2).image;
    expect(Array.from(a.subarray(0, 6))).toEqual([10, 11, 12, 13, 14, 15]);
    expect(Array.from(a.subarray(6, 12))).toEqual([20, 20, 20, 20, 20, 20]);
    expect(Array.from(a.subarray(12, 18))).toEqual([30, 32, 34, 36, 38, 40]);
    // A flat grey JPEG decodes to (nearly) its grey value in every channel.
    for (const v of ds.get(0).image) expect(Math.abs(v - 128)).toBeLessThanOrEqual(2);
  });

  it("converts to one grey channel exactly as Pillow's convert(\"L\") does, ignoring alpha", () => {
    const img = new PNG({ width: 4, height: 1 });
    img.data.set([200, 100, 50, 255, 201, 100, 52, 10, 255, 255, 255, 255, 13, 250, 77, 128]);
    const root = folder({ "c/a.png": PNG.sync.write(img) });
    const ds = tg.data.loadImageFolder(root, { channels: 1 });
    expect(ds.shape).toEqual([1, 1, 1, 4]);
    // Pillow 9 (/usr/bin/python3): Image.convert("L") of these RGB(A) pixels.
    expect(Array.from(ds.get(0).image)).toEqual([124, 125, 255, 159]);
    const rgb = tg.data.loadImageFolder(root, { channels: 3 });
    expect(Array.from(rgb.get(0).image)).toEqual([200, 201, 255, 13, 100, 100, 255, 250, 50, 52, 255, 77]);
  });

  it("names the file and both sizes when an image differs in size", () => {
    const root = folder({ "a/1.png": png(4, 4, [0, 0, 0]), "b/2.png": png(5, 4, [0, 0, 0]) });
    expect(() => tg.data.loadImageFolder(root)).toThrow(
      `${join(root, "b/2.png")}: image is 4x5 (HxW) but the first image (${join(root, "a/1.png")}) is 4x4`,
    );
    expect(() => tg.data.loadImageFolder(root, { size: [3, 3] })).toThrow(
      `${join(root, "a/1.png")}: image is 4x4 (HxW) but the requested size is 3x3`,
    );
  });

  it("names a corrupt or unrecognised image file", () => {
    const good = png(4, 4, [0, 0, 0]);
    const root = folder({ "a/ok.png": good, "a/torn.png": good.subarray(0, 40) });
    expect(() => tg.data.loadImageFolder(root)).toThrow(
      new RegExp(`${join(root, "a/torn.png")}: cannot decode PNG \\(corrupt file\\?\\)`),
    );
    const root2 = folder({ "a/fake.jpg": new TextEncoder().encode("not an image") });
    expect(() => tg.data.loadImageFolder(root2)).toThrow(`${join(root2, "a/fake.jpg")}: is neither a PNG nor a JPEG`);
    const root3 = folder({ "a/bad.jpg": jpg(8, 8, 9).subarray(0, 30) });
    expect(() => tg.data.loadImageFolder(root3)).toThrow(/bad\.jpg: cannot decode JPEG/);
  });

  it("rejects a root without class folders and a class folder without images", () => {
    const empty = tempDir("folder-empty");
    expect(() => tg.data.loadImageFolder(empty)).toThrow("has no class subfolders");
    const root = folder({ "a/1.png": png(2, 2, [0, 0, 0]), "b/readme.txt": new Uint8Array(1) });
    expect(() => tg.data.loadImageFolder(root)).toThrow(`class folder "b" holds no .png, .jpg or .jpeg files`);
    expect(() => tg.data.loadImageFolder(join(empty, "missing"))).toThrow("cannot list the image folder");
  });

  it("rejects a PNG whose header declares more pixels than its data holds, quickly", () => {
    // A 4×3 PNG whose IHDR (CRC fixed) claims 30000×30000: pngjs would allocate 3.6 GB and fill
    // it for minutes, then return mostly zero pixels without complaint.
    const edit = (w: number, h: number) => {
      const b = Buffer.from(png(4, 3, [1, 2, 3]));
      b.writeUInt32BE(w, 16);
      b.writeUInt32BE(h, 20);
      b.writeUInt32BE(crc32(b.subarray(12, 29)) >>> 0, 29);
      return b;
    };
    const start = performance.now();
    expect(() => tg.data.decodeImage(edit(30000, 30000), "big.png")).toThrow(
      "big.png: cannot decode PNG (corrupt file?): 30000×30000 pixels is more than the limit of 89478485",
    );
    // 4×3 RGBA rows are 1 + 16 bytes; 40×3 rows need 1 + 160.
    expect(() => tg.data.decodeImage(edit(40, 3), "wide.png")).toThrow(
      "wide.png: cannot decode PNG (corrupt file?): a 40×3 image needs 483 bytes of image data, its IDAT chunks hold 51",
    );
    expect(() => tg.data.decodeImage(edit(4, 2), "short.png")).toThrow(/short.png: .* hold more$/);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it("rejects a JPEG whose header declares more pixels than its data can code, quickly", () => {
    const edit = (w: number, h: number) => {
      const b = Buffer.from(jpg(8, 8, 100));
      const sof = b.indexOf(Buffer.from([0xff, 0xc0]));
      b.writeUInt16BE(h, sof + 5);
      b.writeUInt16BE(w, sof + 7);
      return b;
    };
    const start = performance.now();
    // jpeg-js took 10 s over this one and returned a blank 7000×7000 image.
    expect(() => tg.data.decodeImage(edit(7000, 7000), "big.jpg")).toThrow(
      /^big.jpg: cannot decode JPEG \(corrupt file\?\): a 7000×7000 image needs at least \d+ bytes of coded data, the file has \d+$/,
    );
    expect(() => tg.data.decodeImage(edit(65535, 65535), "huge.jpg")).toThrow(
      "huge.jpg: cannot decode JPEG (corrupt file?): 65535×65535 pixels is more than the limit of 89478485",
    );
    expect(performance.now() - start).toBeLessThan(1000);
    expect(tg.data.decodeImage(edit(8, 8), "same.jpg").width).toBe(8);
  });

  it("names a file it cannot read", () => {
    const root = folder({ "cls/a.png": png(2, 2, [1, 2, 3]) });
    mkdirSync(join(root, "cls", "b.png"));
    expect(() => tg.data.loadImageFolder(root)).toThrow(
      new RegExp(`^${join(root, "cls", "b.png")}: cannot read the image: EISDIR`),
    );
  });
});
