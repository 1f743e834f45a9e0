/**
 * The safetensors format (Hugging Face), as read and written by PyTorch's `safetensors` package.
 * This file is the contract for every tensor file tsgrad writes:
 *
 *   8 bytes   N, the header length, unsigned 64-bit little-endian
 *   N bytes   UTF-8 JSON: {"__metadata__": {str: str}, "<name>": {"dtype", "shape",
 *             "data_offsets": [begin, end]}, ...}, padded with spaces so the data starts at a
 *             multiple of 8 bytes
 *   rest      the tensors' bytes, little-endian, row-major, back to back in offset order
 *
 * Encoding follows the reference (Rust) writer byte for byte: tensors sorted by descending dtype
 * alignment, then by name; the header as compact JSON with `__metadata__` first (its keys sorted,
 * since the reference keeps them in a hash map and so has no fixed order), then the tensors in
 * data order. Decoding is as strict as the reference reader and says what is wrong and where.
 * Both functions are pure (no Node APIs), so they also run in a browser.
 */
import { Tensor } from "../tensor/tensor.js";
import { type DType, type TypedArray, allocate } from "../tensor/dtype.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";

/** The element types of the safetensors format, in the reference's order of increasing alignment. */
export const SAFETENSORS_DTYPES = [
  "BOOL",
  "U8",
  "I8",
  "F8_E5M2",
  "F8_E4M3",
  "I16",
  "U16",
  "F16",
  "BF16",
  "I32",
  "U32",
  "F32",
  "F64",
  "I64",
  "U64",
] as const;

/** A safetensors element type name such as `"F32"`. */
export type SafetensorsDType = (typeof SAFETENSORS_DTYPES)[number];

/** One tensor's entry in a safetensors header. */
export interface SafetensorsEntry {
  /** Element type as stored in the file (before any widening on load). */
  dtype: SafetensorsDType;
  /** Shape; `[]` is a scalar. */
  shape: number[];
  /** Byte range `[begin, end)` relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** What `decodeSafetensors` returns. */
export interface DecodedSafetensors {
  /** The tensors, in data order, as fresh contiguous tsgrad tensors that own their storage. */
  tensors: Record<string, Tensor>;
  /** The `__metadata__` string map (empty when the file has none). */
  metadata: Record<string, string>;
  /** The parsed header, for code that needs the stored dtypes or the byte layout. */
  header: Record<string, SafetensorsEntry>;
}

const ITEMSIZE: Record<SafetensorsDType, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

const STORED: Record<DType, SafetensorsDType> = {
  float32: "F32",
  float64: "F64",
  int32: "I32",
  bool: "BOOL",
};

/** The tsgrad dtype each stored type loads as; types absent here cannot be loaded. */
const LOADED: Partial<Record<SafetensorsDType, DType>> = {
  BOOL: "bool",
  U8: "int32",
  I8: "int32",
  I16: "int32",
  U16: "int32",
  F16: "float32",
  BF16: "float32",
  I32: "int32",
  U32: "int32",
  F32: "float32",
  F64: "float64",
  I64: "int32",
  U64: "int32",
};

// The reference rejects larger headers; so do we, before trying to parse one.
const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const BF16_BITS = new Uint32Array(1);
const BF16_VALUE = new Float32Array(BF16_BITS.buffer);
const RANK = new Map<string, number>(SAFETENSORS_DTYPES.map((d, i) => [d, i]));

/** Compare strings by Unicode code point, which is the UTF-8 byte order the reference sorts by. */
function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** The elements of `t` in row-major order, as a typed array view (no copy when already laid out). */
export function contiguousData(t: Tensor): TypedArray {
  // NOTE: not `t.dataSync()`, which returns the whole storage for a contiguous view that starts
  // at a non-zero offset (e.g. `narrow` on dim 0).
  const c = t.isContiguous() ? t : t.contiguous();
  return c.data.subarray(c.offset, c.offset + c.size);
}

/**
 * Serialise named tensors (and optional string metadata) to safetensors bytes. Non-contiguous
 * tensors are written contiguously; float32/float64/int32/bool are stored as F32/F64/I32/BOOL.
 *
 * @example
 * const bytes = tg.io.encodeSafetensors({ w: tg.tensor([[1, 2], [3, 4]]) }, { step: "3" });
 * const { tensors, metadata } = tg.io.decodeSafetensors(bytes);
 * console.log(tensors.w!.toArray(), metadata.step); // [[1, 2], [3, 4]] "3"
 */
export function encodeSafetensors(
  tensors: Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const op = "encodeSafetensors";
  const items = Object.entries(tensors).map(([name, t]) => {
    if (!(t instanceof Tensor)) throw new TsgradError(op, `"${name}" is not a Tensor`);
    if (name === "__metadata__") throw new TsgradError(op, `"__metadata__" is a reserved name`);
    return { name, t, dtype: STORED[t.dtype] };
  });
  items.sort(
    (a, b) => RANK.get(b.dtype)! - RANK.get(a.dtype)! || compareCodePoints(a.name, b.name),
  );

  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareCodePoints);
    const body = keys.map((k) => {
      const v: unknown = metadata[k];
      if (typeof v !== "string") {
        throw new TsgradError(op, `metadata value "${k}" must be a string, got ${typeof v}`);
      }
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${body.join(",")}}`);
  }
  let offset = 0;
  const placed = items.map((it) => {
    const data = contiguousData(it.t);
    const begin = offset;
    offset += data.length * ITEMSIZE[it.dtype];
    parts.push(
      `${JSON.stringify(it.name)}:{"dtype":"${it.dtype}","shape":[${it.t.shape.join(",")}],` +
        `"data_offsets":[${begin},${offset}]}`,
    );
    return { data, begin };
  });

  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  const base = 8 + headerLength;
  for (const { data, begin } of placed) writeElements(out, view, base + begin, data);
  return out;
}

function writeElements(out: Uint8Array, view: DataView, at: number, data: TypedArray): void {
  if (data instanceof Uint8Array) {
    // Bool storage: the format wants exactly 0 or 1 per byte.
    for (let i = 0; i < data.length; i++) out[at + i] = data[i] ? 1 : 0;
  } else if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
  } else if (data instanceof Float32Array) {
    for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i]!, true);
  } else if (data instanceof Float64Array) {
    for (let i = 0; i < data.length; i++) view.setFloat64(at + 8 * i, data[i]!, true);
  } else {
    for (let i = 0; i < data.length; i++) view.setInt32(at + 4 * i, data[i]!, true);
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function isSize(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

/** Validate one header entry (everything that can be checked without the other entries). */
function parseEntry(fail: (m: string) => never, name: string, raw: unknown): SafetensorsEntry {
  if (!isRecord(raw)) fail(`tensor "${name}": header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== "string" || !RANK.has(dtype)) {
    fail(`tensor "${name}": unknown dtype ${JSON.stringify(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every(isSize)) {
    fail(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of sizes`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSize)) {
    fail(`tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`tensor "${name}": data_offsets [${begin},${end}] end before begin`);
  const d = dtype as SafetensorsDType;
  const n = shape.reduce((a, b) => a * b, 1);
  const nbytes = n * ITEMSIZE[d];
  if (!Number.isSafeInteger(nbytes) || nbytes !== end - begin) {
    fail(
      `tensor "${name}": shape ${fmtShape(shape)} of ${d} (${ITEMSIZE[d]} bytes each) ` +
        `needs ${nbytes} bytes but data_offsets [${begin},${end}] hold ${end - begin}`,
    );
  }
  return { dtype: d, shape, dataOffsets: [begin, end] };
}

/**
 * Parse safetensors bytes. Everything is validated (header length against the byte count, UTF-8,
 * JSON, dtype names, shape × item size = byte range, ranges in bounds, no overlaps or gaps,
 * string metadata); any problem throws a TsgradError naming `source` (a file name, for messages).
 * F16/BF16 load as float32, the integer types as int32 (throwing if a value does not fit),
 * BOOL as bool; F64/F32/I32 load as they are. The 8-bit float types are rejected.
 *
 * @example
 * const bytes = tg.io.encodeSafetensors({ mask: tg.tensor([1, 0, 2]).gt(0) });
 * const { tensors, header } = tg.io.decodeSafetensors(bytes, "mask.safetensors");
 * console.log(tensors.mask!.toArray(), header.mask!.dtype); // [true, false, true] "BOOL"
 */
export function decodeSafetensors(bytes: Uint8Array, source = "<bytes>"): DecodedSafetensors {
  const fail = (message: string): never => {
    throw new TsgradError(source, message);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes is too short for a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n64} exceeds the 100 MB limit`);
  const n = Number(n64);
  if (8 + n > bytes.length) {
    fail(`header length ${n} runs past the end of the file (${bytes.length} bytes)`);
  }
  let text: string;
  try {
    // ignoreBOM keeps a leading byte-order mark in the text (the default strips it), so a header
    // that starts with one fails the "{" check below, as the reference reader rejects it.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      bytes.subarray(8, 8 + n),
    );
  } catch {
    return fail("header is not valid UTF-8");
  }
  if (!text.startsWith("{")) fail(`header does not start with "{"`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(parsed)) return fail("header is not a JSON object");

  const metadata: [string, string][] = [];
  const entries: [string, SafetensorsEntry][] = [];
  for (const [name, raw] of Object.entries(parsed)) {
    if (name !== "__metadata__") {
      entries.push([name, parseEntry(fail, name, raw)]);
      continue;
    }
    if (!isRecord(raw)) fail("__metadata__ is not an object");
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof v !== "string") fail(`__metadata__ value "${k}" is not a string`);
      metadata.push([k, v as string]);
    }
  }

  const dataLength = bytes.length - 8 - n;
  entries.sort(
    ([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1],
  );
  let prevEnd = 0;
  let prevName = "";
  for (const [name, { dataOffsets }] of entries) {
    const [begin, end] = dataOffsets;
    if (end > dataLength) {
      fail(
        `tensor "${name}": data_offsets [${begin},${end}] out of bounds (${dataLength} data bytes)`,
      );
    }
    if (begin < prevEnd) fail(`tensors "${prevName}" and "${name}" overlap at byte ${begin}`);
    if (begin > prevEnd) {
      fail(`bytes ${prevEnd}..${begin} before tensor "${name}" belong to no tensor`);
    }
    prevEnd = end;
    prevName = name;
  }
  if (prevEnd !== dataLength) {
    fail(`bytes ${prevEnd}..${dataLength} at the end belong to no tensor`);
  }

  const base = bytes.byteOffset + 8 + n;
  const tensors = entries.map(([name, e]): [string, Tensor] => {
    const loaded = LOADED[e.dtype];
    if (loaded === undefined) fail(`tensor "${name}": dtype ${e.dtype} cannot be loaded by tsgrad`);
    const data = readElements(
      fail,
      name,
      e.dtype,
      new DataView(bytes.buffer, base + e.dataOffsets[0], e.dataOffsets[1] - e.dataOffsets[0]),
    );
    return [name, new Tensor(data, loaded!, e.shape)];
  });
  return {
    tensors: Object.fromEntries(tensors),
    metadata: Object.fromEntries(metadata),
    header: Object.fromEntries(entries),
  };
}

/** Half precision (IEEE binary16) to a number; every value is exact in float32. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function readElements(
  fail: (m: string) => never,
  name: string,
  dtype: SafetensorsDType,
  v: DataView,
): TypedArray {
  const count = v.byteLength / ITEMSIZE[dtype];
  // Fast path: the stored layout is the in-memory layout, so copy the bytes (the copy is aligned).
  if (LITTLE_ENDIAN && (dtype === "F32" || dtype === "F64" || dtype === "I32")) {
    const copy = v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
    return dtype === "F32"
      ? new Float32Array(copy)
      : dtype === "F64"
        ? new Float64Array(copy)
        : new Int32Array(copy);
  }
  const out = allocate(LOADED[dtype]!, count);
  const toInt32 = (x: number | bigint, i: number): number => {
    if (x < -2147483648 || x > 2147483647) {
      fail(`tensor "${name}": ${dtype} value ${x} at element ${i} does not fit in int32`);
    }
    return Number(x);
  };
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case "BOOL":
        out[i] = v.getUint8(i) ? 1 : 0;
        break;
      case "U8":
        out[i] = v.getUint8(i);
        break;
      case "I8":
        out[i] = v.getInt8(i);
        break;
      case "I16":
        out[i] = v.getInt16(2 * i, true);
        break;
      case "U16":
        out[i] = v.getUint16(2 * i, true);
        break;
      case "F16":
        out[i] = halfToNumber(v.getUint16(2 * i, true));
        break;
      case "BF16":
        // bfloat16 is the top half of a float32.
        BF16_BITS[0] = v.getUint16(2 * i, true) << 16;
        out[i] = BF16_VALUE[0]!;
        break;
      case "I32":
        out[i] = v.getInt32(4 * i, true);
        break;
      case "U32":
        out[i] = toInt32(v.getUint32(4 * i, true), i);
        break;
      case "F32":
        out[i] = v.getFloat32(4 * i, true);
        break;
      case "F64":
        out[i] = v.getFloat64(8 * i, true);
        break;
      case "I64":
        out[i] = toInt32(v.getBigInt64(8 * i, true), i);
        break;
      case "U64":
        out[i] = toInt32(v.getBigUint64(8 * i, true), i);
        break;
      default:
        fail(`tensor "${name}": dtype ${dtype} cannot be loaded by tsgrad`);
    }
  }
  return out;
}
