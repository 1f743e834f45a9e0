/**
 * The IDX format of MNIST and Fashion-MNIST: a 4-byte magic `00 00 <dtype> <ndim>`, `ndim`
 * big-endian uint32 sizes, then the values in row-major order (big-endian for multi-byte types).
 * `parseIdx`/`encodeIdx` work on bytes and run anywhere; `readIdxFile`/`writeIdxFile` are the
 * Node wrappers, which also handle gzip (detected by its magic bytes, not by the file name).
 */
import { TsgradError } from "../tensor/errors.js";
import { ImageDataset, sharedBytes } from "./dataset.js";
import { readFileBytes, writeFileAtomic } from "../io/atomic.js";
import { nodeModule } from "../io/node.js";

/** The element types an IDX file can hold, by their names in the IDX specification. */
export type IdxDType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

/** The typed array that holds each IDX element type. */
export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX file: its element type, its shape and its values in row-major order. */
export interface IdxData {
  dtype: IdxDType;
  shape: number[];
  data: IdxArray;
}

const CODES: Record<number, IdxDType> = {
  0x08: "uint8",
  0x09: "int8",
  0x0b: "int16",
  0x0c: "int32",
  0x0d: "float32",
  0x0e: "float64",
};
const CODE_OF: Record<IdxDType, number> = {
  uint8: 0x08,
  int8: 0x09,
  int16: 0x0b,
  int32: 0x0c,
  float32: 0x0d,
  float64: 0x0e,
};
const BYTES: Record<IdxDType, number> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  float32: 4,
  float64: 8,
};

/**
 * True when `bytes` starts with the gzip magic number `1f 8b`.
 *
 * @example
 * console.log(tg.data.isGzip(new Uint8Array([0x1f, 0x8b, 8])), tg.data.isGzip(new Uint8Array([0, 0]))); // true false
 */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decode an uncompressed IDX file. `name` (a file name) is used in error messages. Header,
 * element type and payload length are all checked; a truncated or padded file is rejected with
 * the expected and actual byte counts. uint8 payloads are copied onto shared memory (see
 * `sharedBytes`); other types are decoded from big-endian.
 *
 * @example
 * const bytes = tg.data.encodeIdx(new Uint8Array([1, 2, 3, 4, 5, 6]), [2, 3]);
 * const idx = tg.data.parseIdx(bytes);
 * console.log(idx.dtype, idx.shape, Array.from(idx.data)); // "uint8" [2, 3] [1, 2, 3, 4, 5, 6]
 */
export function parseIdx(bytes: Uint8Array, name = "<idx bytes>"): IdxData {
  if (isGzip(bytes)) {
    throw new TsgradError(
      name,
      "is gzip-compressed; decompress it first (readIdxFile does this in Node; in a browser use DecompressionStream('gzip'))",
    );
  }
  if (bytes.length < 4) {
    throw new TsgradError(name, `is not an IDX file: ${bytes.length} bytes, shorter than the header`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0"));
    throw new TsgradError(name, `is not an IDX file: magic bytes ${magic.join(" ")}, expected 00 00`);
  }
  const dtype = CODES[bytes[2]!];
  if (dtype === undefined) {
    throw new TsgradError(name, `unknown IDX element type code 0x${bytes[2]!.toString(16)}`);
  }
  const ndim = bytes[3]!;
  if (ndim === 0) throw new TsgradError(name, "IDX header declares 0 dimensions");
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < headerLen) {
    throw new TsgradError(
      name,
      `truncated IDX header: ${ndim} dimensions need ${headerLen} bytes, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerLen + count * BYTES[dtype];
  if (bytes.length !== expected) {
    throw new TsgradError(
      name,
      `IDX ${dtype} shape [${shape.join(",")}]: expected ${expected} bytes, got ${bytes.length}` +
        (bytes.length < expected ? " (file truncated?)" : " (trailing bytes)"),
    );
  }
  return { dtype, shape, data: decodeValues(view, headerLen, dtype, count) };
}

function decodeValues(view: DataView, at: number, dtype: IdxDType, n: number): IdxArray {
  switch (dtype) {
    case "uint8": {
      const out = sharedBytes(n);
      out.set(new Uint8Array(view.buffer, view.byteOffset + at, n));
      return out;
    }
    case "int8":
      return Int8Array.from(new Int8Array(view.buffer, view.byteOffset + at, n));
    case "int16":
      return Int16Array.from({ length: n }, (_, i) => view.getInt16(at + 2 * i, false));
    case "int32":
      return Int32Array.from({ length: n }, (_, i) => view.getInt32(at + 4 * i, false));
    case "float32":
      return Float32Array.from({ length: n }, (_, i) => view.getFloat32(at + 4 * i, false));
    case "float64":
      return Float64Array.from({ length: n }, (_, i) => view.getFloat64(at + 8 * i, false));
  }
}

function dtypeOf(data: IdxArray): IdxDType {
  if (data instanceof Uint8Array) return "uint8";
  if (data instanceof Int8Array) return "int8";
  if (data instanceof Int16Array) return "int16";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Float32Array) return "float32";
  return "float64";
}

/**
 * Encode values of `shape` as an uncompressed IDX file (the element type follows the array type).
 *
 * @example
 * const bytes = tg.data.encodeIdx(new Uint8Array([7, 8]), [2]);
 * console.log(Array.from(bytes)); // [0, 0, 8, 1, 0, 0, 0, 2, 7, 8]
 */
export function encodeIdx(data: IdxArray, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (shape.length === 0 || shape.length > 255 || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new TsgradError("encodeIdx", `need 1 to 255 non-negative integer sizes, got [${shape.join(",")}]`);
  }
  if (count !== data.length) {
    throw new TsgradError(
      "encodeIdx",
      `shape [${shape.join(",")}] needs ${count} values, got ${data.length}`,
    );
  }
  const dtype = dtypeOf(data);
  const headerLen = 4 + 4 * shape.length;
  const out = new Uint8Array(headerLen + count * BYTES[dtype]);
  const view = new DataView(out.buffer);
  out[2] = CODE_OF[dtype];
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const v = data[i]!;
    const at = headerLen + i * BYTES[dtype];
    switch (dtype) {
      case "uint8":
        out[at] = v;
        break;
      case "int8":
        view.setInt8(at, v);
        break;
      case "int16":
        view.setInt16(at, v, false);
        break;
      case "int32":
        view.setInt32(at, v, false);
        break;
      case "float32":
        view.setFloat32(at, v, false);
        break;
      case "float64":
        view.setFloat64(at, v, false);
        break;
    }
  }
  return out;
}

/**
 * Decompress gzip bytes, anywhere (the `DecompressionStream` of browsers and Node >= 18); bytes
 * that are not gzip are returned as they are. Browsers fetch the gzipped IDX files and call this
 * before `parseIdx` or `idxDataset`.
 *
 * @example
 * const raw = tg.data.encodeIdx(new Uint8Array([7, 8, 9]), [3]);
 * const gz = process.getBuiltinModule("node:zlib").gzipSync(raw);
 * console.log(Array.from(tg.data.parseIdx(await tg.data.gunzip(gz)).data)); // [7, 8, 9]
 */
export async function gunzip(bytes: Uint8Array | ArrayBuffer, name = "<gzip bytes>"): Promise<Uint8Array> {
  const input = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (!isGzip(input)) return input;
  try {
    // A Blob takes no views of shared memory: those are copied.
    const own = input.buffer instanceof ArrayBuffer ? (input as Uint8Array<ArrayBuffer>) : new Uint8Array(input);
    const stream = new Blob([own]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new TsgradError(name, `corrupt or truncated gzip data: ${(e as Error).message}`);
  }
}

/**
 * `bytes` gunzipped when they are gzip: synchronously, so in Node only (else `gunzip`). With
 * `declared`, which reads the size a file's header declares from the start of its inflated bytes,
 * inflation stops one byte past that size: a small corrupt or hostile file that inflates to
 * gigabytes fails at once instead of filling memory (the exact size is checked by the parser).
 */
function gunzipSync(
  bytes: Uint8Array,
  name: string,
  declared?: (head: Uint8Array) => number | null,
): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  const zlib = nodeModule(
    name,
    "node:zlib",
    "decompress gzip data first: await tg.data.gunzip(bytes) (or fetch the uncompressed file)",
  );
  let limit: number | undefined;
  if (declared !== undefined) {
    let head: Uint8Array = new Uint8Array(0);
    try {
      // The first compressed bytes, flushed as far as they go: enough for any header, and
      // (deflate expands at most 1032:1) never more than a megabyte.
      head = zlib.gunzipSync(bytes.subarray(0, 1024), {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        maxOutputLength: 1 << 21,
      });
    } catch {
      // A corrupt start: the full inflation below reports it.
    }
    const size = declared(head);
    if (size !== null) limit = Math.min(size + 1, MAX_INFLATED);
  }
  try {
    return zlib.gunzipSync(bytes, limit === undefined ? {} : { maxOutputLength: limit });
  } catch (e) {
    if (limit !== undefined && (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new TsgradError(
        name,
        `inflates to more than the ${limit - 1} bytes its header declares (corrupt gzip data?)`,
      );
    }
    throw new TsgradError(name, `corrupt or truncated gzip data: ${(e as Error).message}`);
  }
}

/** Buffers Node can allocate at most (`buffer.constants.MAX_LENGTH` on 64-bit Node 20). */
const MAX_INFLATED = 2 ** 32;

/** The byte size an IDX header declares, from the first bytes of the file (null: unreadable). */
function idxDeclaredSize(head: Uint8Array): number | null {
  const dtype = CODES[head[2] ?? -1];
  const ndim = head[3] ?? 0;
  if (head.length < 4 + 4 * ndim || dtype === undefined || ndim === 0) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let count = 1;
  for (let d = 0; d < ndim; d++) count *= view.getUint32(4 + 4 * d, false);
  return 4 + 4 * ndim + count * BYTES[dtype];
}

/**
 * Read a file's bytes, gunzipping them when they start with the gzip magic. Node only.
 * A missing, unreadable or corrupt-gzip file raises a `TsgradError` naming the file.
 *
 * @example
 * const bytes = tg.data.readMaybeGzip("data/fashion-mnist-sample/t10k-labels-idx1-ubyte.gz");
 * console.log(bytes.length, Array.from(bytes.subarray(0, 4))); // 1008 [0, 0, 8, 1]
 */
export function readMaybeGzip(path: string): Uint8Array {
  return gunzipSync(readFileBytes(path, "readMaybeGzip", FETCH_IDX), path);
}

/** An IDX file's bytes, gunzipped as far as its header declares (see `gunzipSync`). */
function readIdxBytes(path: string, op: string): Uint8Array {
  return gunzipSync(readFileBytes(path, op, FETCH_IDX), path, idxDeclaredSize);
}

/** The browser alternative to reading IDX files from disk. */
const FETCH_IDX =
  "fetch the files and pass their bytes: tg.data.idxDataset(await (await fetch(imagesUrl)).arrayBuffer(), …), " +
  "or tg.data.parseIdx(await tg.data.gunzip(bytes))";

/**
 * Read an IDX file (raw or gzip-compressed). Node only.
 *
 * @example
 * const idx = tg.data.readIdxFile("data/fashion-mnist-sample/t10k-labels-idx1-ubyte.gz");
 * console.log(idx.dtype, idx.shape); // "uint8" [1000]
 */
export function readIdxFile(path: string): IdxData {
  return parseIdx(readIdxBytes(path, "readIdxFile"), path);
}

/**
 * Write values of `shape` as an IDX file; gzip-compressed (level 9) when `path` ends in `.gz`.
 * Node only.
 *
 * @example
 * const { tmpdir } = process.getBuiltinModule("node:os");
 * const path = `${tmpdir()}/tsgrad-doc-example.idx.gz`;
 * tg.data.writeIdxFile(path, new Int32Array([-1, 70000]), [2]);
 * console.log(Array.from(tg.data.readIdxFile(path).data)); // [-1, 70000]
 */
export function writeIdxFile(path: string, data: IdxArray, shape: readonly number[]): void {
  const raw = encodeIdx(data, shape);
  const inBrowser = "encodeIdx(data, shape) gives the bytes to save or upload";
  const bytes = path.endsWith(".gz")
    ? nodeModule("writeIdxFile", "node:zlib", inBrowser).gzipSync(raw, { level: 9 })
    : raw;
  writeFileAtomic(path, bytes);
}

/**
 * An `ImageDataset` from the bytes of an IDX image file (uint8 `[N, H, W]`) and an IDX label file
 * (uint8 `[N]`) — the MNIST / Fashion-MNIST layout — from anywhere: a fetch, a `File`, a
 * database. Gzip bytes are decompressed in Node; in a browser pass them through `gunzip` first.
 * `names` label the two inputs in error messages.
 *
 * @example
 * const images = tg.data.encodeIdx(new Uint8Array(2 * 3 * 3).fill(9), [2, 3, 3]);
 * const labels = tg.data.encodeIdx(new Uint8Array([1, 0]), [2]);
 * const ds = tg.data.idxDataset(images, labels, ["a", "b"]);
 * console.log(ds.shape, Array.from(ds.labels)); // [2, 1, 3, 3] [1, 0]
 */
export function idxDataset(
  images: Uint8Array | ArrayBuffer,
  labels: Uint8Array | ArrayBuffer,
  classes: readonly string[],
  names: { images?: string; labels?: string } = {},
): ImageDataset {
  const { images: imagesName = "<idx images>", labels: labelsName = "<idx labels>" } = names;
  const bytes = (b: Uint8Array | ArrayBuffer) => (b instanceof Uint8Array ? b : new Uint8Array(b));
  const img = parseIdx(gunzipSync(bytes(images), imagesName, idxDeclaredSize), imagesName);
  const lab = parseIdx(gunzipSync(bytes(labels), labelsName, idxDeclaredSize), labelsName);
  if (img.dtype !== "uint8" || img.shape.length !== 3) {
    throw new TsgradError(
      imagesName,
      `expected uint8 images [N, rows, cols], got ${img.dtype} [${img.shape.join(",")}]`,
    );
  }
  if (lab.dtype !== "uint8" || lab.shape.length !== 1) {
    throw new TsgradError(
      labelsName,
      `expected uint8 labels [N], got ${lab.dtype} [${lab.shape.join(",")}]`,
    );
  }
  const [n, h, w] = img.shape as [number, number, number];
  // An empty set would train on nothing or report "0.00% (0 images)": say so where it is read.
  if (n === 0) throw new TsgradError(imagesName, "holds 0 images");
  if (h === 0 || w === 0) throw new TsgradError(imagesName, `holds images of ${h}x${w} pixels`);
  if (lab.shape[0] !== n) {
    throw new TsgradError(
      labelsName,
      `has ${lab.shape[0]} labels but ${imagesName} has ${n} images`,
    );
  }
  return new ImageDataset({
    pixels: img.data as Uint8Array,
    labels: lab.data,
    shape: [n, 1, h, w],
    classes,
    source: labelsName,
  });
}

/**
 * An `ImageDataset` from an IDX image file and an IDX label file, raw or gzip (see
 * `idxDataset`). Node only.
 *
 * @example
 * const dir = "data/fashion-mnist-sample";
 * const ds = tg.data.readIdxDataset(
 *   `${dir}/t10k-images-idx3-ubyte.gz`,
 *   `${dir}/t10k-labels-idx1-ubyte.gz`,
 *   tg.data.FASHION_MNIST_CLASSES,
 * );
 * console.log(ds.shape); // [1000, 1, 28, 28]
 */
export function readIdxDataset(
  imagesPath: string,
  labelsPath: string,
  classes: readonly string[],
): ImageDataset {
  const read = (p: string) => readFileBytes(p, "readIdxDataset", FETCH_IDX);
  return idxDataset(read(imagesPath), read(labelsPath), classes, {
    images: imagesPath,
    labels: labelsPath,
  });
}
