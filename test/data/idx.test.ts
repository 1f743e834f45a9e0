import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { tempDir } from "./helpers.js";

describe("tg.data.parseIdx", () => {
  it("round-trips every IDX element type through encodeIdx", () => {
    const cases = [
      new Uint8Array([0, 1, 254, 255, 7, 9]),
      new Int8Array([-128, -1, 0, 1, 127, 5]),
      new Int16Array([-32768, -2, 0, 3, 32767, 300]),
      new Int32Array([-2147483648, -5, 0, 6, 2147483647, 70000]),
      new Float32Array([-1.5, 0, 3.25, 1e-8, 1e8, -0]),
      new Float64Array([Math.PI, -Math.E, 0, 1e-300, 1e300, 2 ** 53]),
    ];
    for (const data of cases) {
      const back = tg.data.parseIdx(tg.data.encodeIdx(data, [2, 3]));
      expect(back.shape).toEqual([2, 3]);
      expect(back.data.constructor).toBe(data.constructor);
      expect(Array.from(back.data)).toEqual(Array.from(data));
    }
  });

  it("writes the documented header: magic 00 00, type code, rank, big-endian sizes", () => {
    const bytes = tg.data.encodeIdx(new Int16Array([258]), [1, 1]);
    expect(Array.from(bytes)).toEqual([0, 0, 0x0b, 2, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2]);
  });

  it("rejects a truncated payload with the expected and actual byte counts", () => {
    const bytes = tg.data.encodeIdx(new Uint8Array(60), [3, 4, 5]);
    expect(() => tg.data.parseIdx(bytes.subarray(0, 50), "images.idx")).toThrow(
      "images.idx: IDX uint8 shape [3,4,5]: expected 76 bytes, got 50 (file truncated?)",
    );
    const padded = new Uint8Array(80);
    padded.set(bytes);
    expect(() => tg.data.parseIdx(padded, "x")).toThrow("expected 76 bytes, got 80 (trailing bytes)");
  });

  it("rejects bad magic, unknown type codes, zero rank and a cut header", () => {
    expect(() => tg.data.parseIdx(new Uint8Array([1, 2, 8, 1, 0, 0, 0, 0]), "f")).toThrow(
      "f: is not an IDX file: magic bytes 01 02 08 01, expected 00 00",
    );
    expect(() => tg.data.parseIdx(new Uint8Array([0, 0, 0x0a, 1, 0, 0, 0, 0]), "f")).toThrow(
      "unknown IDX element type code 0xa",
    );
    expect(() => tg.data.parseIdx(new Uint8Array([0, 0, 8, 0]), "f")).toThrow("0 dimensions");
    expect(() => tg.data.parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0]), "f")).toThrow(
      "truncated IDX header: 3 dimensions need 16 bytes, got 6",
    );
    expect(() => tg.data.parseIdx(new Uint8Array([0, 0]), "f")).toThrow("shorter than the header");
  });

  it("refuses gzip bytes and says how to decompress them", () => {
    const gz = gzipSync(tg.data.encodeIdx(new Uint8Array([1]), [1]));
    expect(() => tg.data.parseIdx(gz, "a.gz")).toThrow(/a\.gz: is gzip-compressed.*DecompressionStream/);
  });
});

describe("tg.data.encodeIdx", () => {
  it("checks that the shape matches the number of values", () => {
    expect(() => tg.data.encodeIdx(new Uint8Array(5), [2, 3])).toThrow(
      "encodeIdx: shape [2,3] needs 6 values, got 5",
    );
    expect(() => tg.data.encodeIdx(new Uint8Array(0), [])).toThrow("need 1 to 255");
  });
});

describe("tg.data.readIdxFile", () => {
  it("reads raw and gzip files alike, detecting gzip by its magic bytes", () => {
    const dir = tempDir("idx");
    const values = Uint8Array.from({ length: 2 * 28 * 28 }, (_, i) => i % 251);
    tg.data.writeIdxFile(join(dir, "a.idx.gz"), values, [2, 28, 28]);
    tg.data.writeIdxFile(join(dir, "a.idx"), values, [2, 28, 28]);
    // A gzip file without the .gz name is still recognised.
    writeFileSync(join(dir, "noext"), gzipSync(tg.data.encodeIdx(values, [2, 28, 28])));
    for (const f of ["a.idx.gz", "a.idx", "noext"]) {
      const idx = tg.data.readIdxFile(join(dir, f));
      expect(idx.shape).toEqual([2, 28, 28]);
      expect(Array.from(idx.data)).toEqual(Array.from(values));
    }
  });

  it("puts uint8 payloads on shared memory so workers can read them without a copy", () => {
    const dir = tempDir("idx-shared");
    tg.data.writeIdxFile(join(dir, "a.idx"), new Uint8Array([1, 2]), [2]);
    expect(tg.data.readIdxFile(join(dir, "a.idx")).data.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it("names the file when it is truncated, missing, or a broken gzip stream", () => {
    const dir = tempDir("idx-bad");
    const full = tg.data.encodeIdx(new Uint8Array(100 * 784), [100, 28, 28]);
    const cut = join(dir, "cut-images-idx3-ubyte");
    writeFileSync(cut, full.subarray(0, 1000));
    expect(() => tg.data.readIdxFile(cut)).toThrow(`${cut}: IDX uint8 shape [100,28,28]: expected 78416 bytes, got 1000`);
    const gz = gzipSync(full);
    const brokenGz = join(dir, "broken.gz");
    writeFileSync(brokenGz, gz.subarray(0, gz.length >> 1));
    expect(() => tg.data.readIdxFile(brokenGz)).toThrow(`${brokenGz}: corrupt or truncated gzip data`);
    const missing = join(dir, "nope.gz");
    expect(() => tg.data.readIdxFile(missing)).toThrow(`${missing}: could not read the file`);
  });
});

describe("tg.data.readIdxDataset", () => {
  it("pairs an image file with a label file into an [N, 1, H, W] dataset", () => {
    const dir = tempDir("idx-ds");
    const images = Uint8Array.from({ length: 3 * 4 * 5 }, (_, i) => i);
    tg.data.writeIdxFile(join(dir, "img.gz"), images, [3, 4, 5]);
    tg.data.writeIdxFile(join(dir, "lab.gz"), new Uint8Array([2, 0, 1]), [3]);
    const ds = tg.data.readIdxDataset(join(dir, "img.gz"), join(dir, "lab.gz"), ["a", "b", "c"]);
    expect(ds.shape).toEqual([3, 1, 4, 5]);
    expect(ds.get(1)).toEqual({ image: images.subarray(20, 40), label: 0 });
  });

  it("rejects mismatched counts, wrong ranks and labels outside the classes", () => {
    const dir = tempDir("idx-ds-bad");
    tg.data.writeIdxFile(join(dir, "img"), new Uint8Array(3 * 4), [3, 2, 2]);
    tg.data.writeIdxFile(join(dir, "lab2"), new Uint8Array([0, 1]), [2]);
    tg.data.writeIdxFile(join(dir, "lab9"), new Uint8Array([0, 9, 1]), [3]);
    tg.data.writeIdxFile(join(dir, "flat"), new Uint8Array(12), [12]);
    const img = join(dir, "img");
    expect(() => tg.data.readIdxDataset(img, join(dir, "lab2"), ["a", "b"])).toThrow(
      `${join(dir, "lab2")}: has 2 labels but ${img} has 3 images`,
    );
    expect(() => tg.data.readIdxDataset(img, join(dir, "lab9"), ["a", "b"])).toThrow(
      "label 9 at index 1 is out of range [0, 2)",
    );
    expect(() => tg.data.readIdxDataset(join(dir, "flat"), join(dir, "lab2"), ["a"])).toThrow(
      "expected uint8 images [N, rows, cols], got uint8 [12]",
    );
  });

  it("rejects a set of 0 images, or of empty images, naming the image file", () => {
    // Else `eval image` would report "0.00% (0 images)" (issue 19, item 13).
    const dir = tempDir("idx-empty");
    writeFileSync(join(dir, "img0"), tg.data.encodeIdx(new Uint8Array(0), [0, 28, 28]));
    writeFileSync(join(dir, "lab0"), tg.data.encodeIdx(new Uint8Array(0), [0]));
    writeFileSync(join(dir, "img00"), tg.data.encodeIdx(new Uint8Array(0), [2, 0, 28]));
    writeFileSync(join(dir, "lab2"), tg.data.encodeIdx(new Uint8Array([0, 0]), [2]));
    expect(() => tg.data.readIdxDataset(join(dir, "img0"), join(dir, "lab0"), ["a"])).toThrow(
      `${join(dir, "img0")}: holds 0 images`,
    );
    expect(() => tg.data.readIdxDataset(join(dir, "img00"), join(dir, "lab2"), ["a"])).toThrow(
      `${join(dir, "img00")}: holds images of 0x28 pixels`,
    );
  });

  it("stops inflating a gzip file at the size its IDX header declares", () => {
    // 8 header bytes declaring 3 values, then 64 MB of zeros: a 64 KB "gzip bomb".
    const dir = tempDir("idx-bomb");
    const head = tg.data.encodeIdx(new Uint8Array([1, 2, 3]), [3]).subarray(0, 8);
    const bomb = join(dir, "labels.gz");
    const body = new Uint8Array(8 + 64 * 2 ** 20);
    body.set(head);
    writeFileSync(bomb, gzipSync(body, { level: 9 }));
    const start = performance.now();
    expect(() => tg.data.readIdxFile(bomb)).toThrow(
      `${bomb}: inflates to more than the 11 bytes its header declares (corrupt gzip data?)`,
    );
    expect(() => tg.data.readIdxDataset(bomb, bomb, ["a"])).toThrow(`${bomb}: inflates`);
    expect(performance.now() - start).toBeLessThan(1000);
    // One byte too many is the parser's "trailing bytes", as for a raw file.
    const long = join(dir, "long.gz");
    writeFileSync(long, gzipSync(body.subarray(0, 12)));
    expect(() => tg.data.readIdxFile(long)).toThrow(/expected 11 bytes, got 12 \(trailing bytes\)/);
  });
});
