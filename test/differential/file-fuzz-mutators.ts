/**
 * Byte- and structure-level mutations for the file fuzzer (file-fuzz.test.ts). Every mutation is
 * a pure function of its input and a seeded random source, so a failing case is rerun exactly from
 * (seed, target, index).
 */
import { crc32 } from "node:zlib";
import { gzipSync } from "node:zlib";

/** A small seeded PRNG (mulberry32 over a splitmix-scrambled seed). */
export class Rng {
  private s: number;
  constructor(...parts: (number | string)[]) {
    let h = 0x9e3779b9;
    for (const p of parts) {
      for (const ch of String(p)) h = Math.imul(h ^ ch.charCodeAt(0), 0x85ebca6b) >>> 0;
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    }
    this.s = h >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

/** A named mutation: `apply` returns new bytes (never edits its input). */
export interface Mutation {
  name: string;
  apply(bytes: Uint8Array, rng: Rng): Uint8Array;
}

const INTERESTING_U32 = [
  0,
  1,
  2,
  3,
  7,
  8,
  255,
  256,
  0x7fff,
  0xffff,
  0x10000,
  0x7fffffff,
  0x80000000,
  0xfffffffe,
  0xffffffff,
  1_000_000,
  65_535 * 65_535,
];

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Mutations that know nothing of the format. */
export const GENERIC: Mutation[] = [
  {
    name: "bitflip",
    apply(b, rng) {
      const out = Uint8Array.from(b);
      const flips = 1 + rng.int(8);
      for (let i = 0; i < flips && out.length > 0; i++) {
        out[rng.int(out.length)]! ^= 1 << rng.int(8);
      }
      return out;
    },
  },
  {
    name: "truncate",
    apply: (b, rng) => b.slice(0, rng.int(b.length + 1)),
  },
  {
    name: "insert",
    apply(b, rng) {
      const at = rng.int(b.length + 1);
      const ins = Uint8Array.from({ length: 1 + rng.int(16) }, () => rng.int(256));
      return concat(b.subarray(0, at), ins, b.subarray(at));
    },
  },
  {
    name: "delete",
    apply(b, rng) {
      const at = rng.int(b.length + 1);
      const n = 1 + rng.int(Math.max(1, Math.min(64, b.length - at)));
      return concat(b.subarray(0, at), b.subarray(at + n));
    },
  },
  {
    name: "interesting-u32",
    apply(b, rng) {
      if (b.length < 4) return Uint8Array.from(b);
      const out = Uint8Array.from(b);
      const v = rng.pick(INTERESTING_U32);
      new DataView(out.buffer).setUint32(rng.int(out.length - 3), v, rng.next() < 0.5);
      return out;
    },
  },
  {
    name: "duplicate",
    apply(b, rng) {
      const at = rng.int(b.length + 1);
      const n = rng.int(Math.min(256, b.length - at) + 1);
      return concat(b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n));
    },
  },
  {
    name: "zero-fill",
    apply(b, rng) {
      const out = Uint8Array.from(b);
      const at = rng.int(out.length + 1);
      out.fill(rng.pick([0, 0xff]), at, at + 1 + rng.int(32));
      return out;
    },
  },
];

/** Gzip the (possibly already mutated) bytes: loaders that accept gzip must treat it the same. */
export const GZIP: Mutation = {
  name: "gzip",
  apply: (b) => new Uint8Array(gzipSync(b)),
};

/**
 * A gzip "bomb": a small file that inflates to `mb` megabytes (a valid header of the format
 * followed by zeros), to check that decompression is bounded.
 */
export function gzipBomb(prefix: Uint8Array, mb: number): Uint8Array {
  return new Uint8Array(gzipSync(concat(prefix, new Uint8Array(mb * 1024 * 1024)), { level: 9 }));
}

// ---- safetensors -------------------------------------------------------------------------

/** The header object and data section of safetensors bytes (no validation: bases are valid). */
export function splitSafetensors(b: Uint8Array): {
  header: Record<string, unknown>;
  data: Uint8Array;
} {
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))) as Record<
    string,
    unknown
  >;
  return { header, data: b.slice(8 + n) };
}

/** safetensors bytes from a header given as JSON text and a data section. */
export function joinSafetensors(headerJson: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(headerJson);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const HOSTILE_DIMS: unknown[] = [
  1e6,
  2 ** 31,
  2 ** 32 + 1,
  2 ** 53,
  2 ** 53 + 2,
  -1,
  1.5,
  "3",
  null,
  1e300,
  0,
  [2],
  true,
];
const HOSTILE_NUMBERS: unknown[] = [
  1e6,
  1e9,
  1e300,
  -1,
  0,
  0.5,
  2 ** 31,
  2 ** 53,
  "12",
  null,
  true,
  [],
  {},
  [1, 2],
  { $number: "NaN" },
  { $number: "Infinity" },
  { $number: "-Infinity" },
  { $tensor: "nope" },
];

/** Deeply nested JSON text: `[[[…0…]]]` or `{"a":{"a":…}}`. */
function deep(levels: number, objects: boolean): string {
  return objects
    ? '{"a":'.repeat(levels) + "0" + "}".repeat(levels)
    : "[".repeat(levels) + "0" + "]".repeat(levels);
}

function tensorNames(h: Record<string, unknown>): string[] {
  return Object.keys(h).filter((k) => k !== "__metadata__");
}

function entry(h: Record<string, unknown>, rng: Rng): Record<string, unknown> | null {
  const names = tensorNames(h);
  return names.length === 0 ? null : (h[rng.pick(names)] as Record<string, unknown>);
}

/** Set `obj` at a dotted path (creating objects on the way); for editing checkpoint metadata. */
function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let at: Record<string, unknown> = obj;
  for (const k of path.slice(0, -1)) {
    const next = at[k];
    if (typeof next !== "object" || next === null) at[k] = {};
    at = at[k] as Record<string, unknown>;
  }
  at[path[path.length - 1]!] = value;
}

/** Edit the header of safetensors bytes through `edit`, which returns the new header text. */
function headerEdit(
  name: string,
  edit: (h: Record<string, unknown>, rng: Rng) => string,
): Mutation {
  return {
    name,
    apply(b, rng) {
      const { header, data } = splitSafetensors(b);
      return joinSafetensors(edit(header, rng), data);
    },
  };
}

/** Structure-aware mutations of safetensors headers (any safetensors-based loader). */
export const SAFETENSORS_EDITS: Mutation[] = [
  headerEdit("shape", (h, rng) => {
    const e = entry(h, rng);
    if (e) {
      const shape = Array.isArray(e.shape) ? [...(e.shape as unknown[])] : [];
      if (shape.length === 0 || rng.next() < 0.3) shape.push(rng.pick(HOSTILE_DIMS));
      else shape[rng.int(shape.length)] = rng.pick(HOSTILE_DIMS);
      e.shape = rng.next() < 0.1 ? "[2,2]" : shape;
    }
    return JSON.stringify(h);
  }),
  headerEdit("dtype", (h, rng) => {
    const e = entry(h, rng);
    if (e) {
      e.dtype = rng.pick([
        "F16",
        "BF16",
        "I64",
        "U64",
        "U32",
        "I8",
        "U8",
        "BOOL",
        "F8_E5M2",
        "F64",
        "f32",
        "XX",
        5,
        null,
      ]);
    }
    return JSON.stringify(h);
  }),
  headerEdit("data_offsets", (h, rng) => {
    const e = entry(h, rng);
    if (e && Array.isArray(e.data_offsets)) {
      const [b0, e0] = e.data_offsets as [number, number];
      e.data_offsets = rng.pick<unknown>([
        [b0, e0 + 1_000_000],
        [b0 - 1, e0],
        [e0, b0],
        [0, e0],
        [b0 + 4, e0 + 4],
        [b0, 2 ** 60],
        [b0, 2 ** 53 + 8],
        [b0 + 0.5, e0],
        [b0],
        "0,4",
        [-8, e0],
      ]);
    }
    return JSON.stringify(h);
  }),
  headerEdit("giant-metadata", (h, rng) => {
    const meta = (h.__metadata__ ?? {}) as Record<string, unknown>;
    meta[`junk${rng.int(10)}`] = "x".repeat(1 << (16 + rng.int(6)));
    h.__metadata__ = meta;
    return JSON.stringify(h);
  }),
  headerEdit("many-entries", (h, rng) => {
    // Zero-size tensors are legal; tens of thousands of them must still load quickly.
    const n = 1000 * (1 + rng.int(20));
    for (let i = 0; i < n; i++) {
      h[`z${i}`] = { dtype: "F32", shape: [0, rng.int(3)], data_offsets: [0, 0] };
    }
    return JSON.stringify(h);
  }),
  headerEdit("deep-nesting", (h, rng) => {
    const levels = rng.pick([100, 10_000, 200_000]);
    const where = rng.int(3);
    const text = JSON.stringify(h);
    if (where === 0) return text.slice(0, -1) + `,"deep":${deep(levels, rng.next() < 0.5)}}`;
    const meta = (h.__metadata__ ?? {}) as Record<string, unknown>;
    meta[where === 1 ? "tsgrad.state" : "tsgrad.model"] = deep(levels, rng.next() < 0.5);
    h.__metadata__ = meta;
    return JSON.stringify(h);
  }),
  headerEdit("metadata-json", (h, rng) => {
    // Edit the JSON stored in a tsgrad metadata entry (the checkpoint's skeleton, the model
    // list, the ties), at a random path, with a hostile value.
    const meta = (h.__metadata__ ?? {}) as Record<string, string>;
    const key = rng.pick(["tsgrad.state", "tsgrad.model", "tsgrad.tied", "tsgrad.version"]);
    let value: unknown;
    try {
      value = JSON.parse(meta[key] ?? "{}");
    } catch {
      value = {};
    }
    if (typeof value === "object" && value !== null && !Array.isArray(value) && rng.next() < 0.8) {
      const paths = leafPaths(value as Record<string, unknown>);
      const path = paths.length > 0 && rng.next() < 0.7 ? rng.pick(paths) : [`k${rng.int(4)}`];
      setPath(value as Record<string, unknown>, path, rng.pick(HOSTILE_NUMBERS));
    } else {
      value = rng.pick<unknown>([null, 7, "s", [], [1], ["missing"], { a: "missing" }]);
    }
    meta[key] = rng.next() < 0.1 ? "{not json" : JSON.stringify(value);
    h.__metadata__ = meta;
    return JSON.stringify(h);
  }),
  {
    name: "header-length",
    apply(b, rng) {
      const out = Uint8Array.from(b);
      const n = new DataView(out.buffer).getBigUint64(0, true);
      const v = rng.pick([
        0n,
        1n,
        7n,
        n - 1n,
        n + 1n,
        n + 8n,
        2n ** 32n,
        2n ** 63n,
        2n ** 64n - 1n,
        99_999_999n,
      ]);
      new DataView(out.buffer).setBigUint64(0, v < 0n ? 0n : v, true);
      return out;
    },
  },
];

/** Every path to a leaf (or an empty container) of a JSON object, for metadata edits. */
function leafPaths(
  v: Record<string, unknown>,
  prefix: string[] = [],
  out: string[][] = [],
): string[][] {
  for (const [k, x] of Object.entries(v)) {
    const p = [...prefix, k];
    if (typeof x === "object" && x !== null && Object.keys(x).length > 0 && prefix.length < 6) {
      leafPaths(x as Record<string, unknown>, p, out);
      if (!Array.isArray(x)) out.push(p);
    } else out.push(p);
  }
  return out;
}

/**
 * Edits of the model description a vision checkpoint stores (`meta` in `tsgrad.state`): the
 * fields that size the model, set to hostile values (the issue's `width: 1e6`).
 */
export const VISION_META_EDITS: Mutation[] = [
  headerEdit("vision-meta", (h, rng) => {
    const meta = (h.__metadata__ ?? {}) as Record<string, string>;
    const state = JSON.parse(meta["tsgrad.state"] ?? "{}") as Record<string, unknown>;
    const field = rng.pick([
      ["meta", "config", "width"],
      ["meta", "config", "model"],
      ["meta", "config", "poolPadding"],
      ["meta", "config", "init"],
      ["meta", "config"],
      ["meta", "classes"],
      ["meta", "inChannels"],
      ["meta", "imageSize"],
      ["meta", "mean"],
      ["meta", "std"],
    ]);
    const last = field[field.length - 1]!;
    const value =
      last === "classes" && rng.next() < 0.5
        ? Array.from({ length: rng.pick([0, 1, 2, 4, 11, 100_000]) }, (_, i) => `c${i}`)
        : (last === "mean" || last === "std") && rng.next() < 0.5
          ? Array.from({ length: rng.int(5) }, () =>
              rng.pick<unknown>([0.5, 0, -1, "x", { $number: "NaN" }]),
            )
          : last === "model" && rng.next() < 0.5
            ? rng.pick(["logistic", "mlp", "lenet5", "alexnet", "resnet", "__proto__"])
            : rng.pick(HOSTILE_NUMBERS);
    setPath(state, field, value);
    meta["tsgrad.state"] = JSON.stringify(state);
    h.__metadata__ = meta;
    return JSON.stringify(h);
  }),
];

// ---- IDX, CIFAR -------------------------------------------------------------------------

export const IDX_EDITS: Mutation[] = [
  {
    name: "idx-dim",
    apply(b, rng) {
      const out = Uint8Array.from(b);
      const ndim = out[3] ?? 0;
      if (ndim > 0 && out.length >= 4 + 4 * ndim) {
        const v = rng.pick([...INTERESTING_U32, 0, 1, 100_000, 60_000 * 28]);
        new DataView(out.buffer).setUint32(4 + 4 * rng.int(ndim), v, false);
      }
      return out;
    },
  },
  {
    name: "idx-type",
    apply(b, rng) {
      const out = Uint8Array.from(b);
      if (out.length >= 4) {
        if (rng.next() < 0.5) out[2] = rng.pick([0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x00, 0xff]);
        else out[3] = rng.pick([0, 1, 2, 3, 4, 200, 255]);
      }
      return out;
    },
  },
];

export function cifarEdits(record: number): Mutation[] {
  return [
    {
      name: "cifar-label",
      apply(b, rng) {
        const out = Uint8Array.from(b);
        const records = Math.floor(out.length / record);
        if (records > 0) out[record * rng.int(records)] = rng.pick([9, 10, 11, 100, 255]);
        return out;
      },
    },
  ];
}

// ---- PNG, JPEG --------------------------------------------------------------------------

/** PNG edits that keep the chunk CRCs right, so the decoders get past their checksums. */
export const PNG_EDITS: Mutation[] = [
  {
    name: "png-ihdr",
    apply(b, rng) {
      const out = Uint8Array.from(b);
      if (out.length < 33) return out;
      const v = new DataView(out.buffer);
      const field = rng.int(5);
      if (field === 0) v.setUint32(16, rng.pick([0, 1, 5, 30_000, 65_535, 0x7fffffff, 0xffffffff]));
      else if (field === 1) {
        v.setUint32(20, rng.pick([0, 1, 5, 30_000, 65_535, 0x7fffffff, 0xffffffff]));
      } else if (field === 2) {
        out[24] = rng.pick([1, 2, 4, 8, 16, 3, 0]);
      } // bit depth
      else if (field === 3) {
        out[25] = rng.pick([0, 2, 3, 4, 6, 1, 7]);
      } // colour type
      else out[28] = rng.pick([0, 1, 2]); // interlace
      v.setUint32(29, crc32(out.subarray(12, 29)) >>> 0);
      return out;
    },
  },
];

/** Set the height/width of the first SOF marker of a JPEG. */
export const JPEG_EDITS: Mutation[] = [
  {
    name: "jpeg-sof",
    apply(b, rng) {
      const out = Uint8Array.from(b);
      for (let i = 2; i + 9 < out.length; i++) {
        if (out[i] === 0xff && (out[i + 1] === 0xc0 || out[i + 1] === 0xc2)) {
          const v = new DataView(out.buffer);
          const dim = rng.pick([0, 1, 7, 2000, 7000, 16_000, 65_535]);
          v.setUint16(i + 5 + 2 * rng.int(2), dim);
          if (rng.next() < 0.3) out[i + 9] = rng.pick([0, 1, 3, 4, 255]); // components
          break;
        }
      }
      return out;
    },
  },
];

// ---- text -------------------------------------------------------------------------------

const enc = new TextEncoder();
export const TEXT_EDITS: Mutation[] = [
  {
    name: "text-insert",
    apply(b, rng) {
      const at = rng.int(b.length + 1);
      const ins = rng.pick<Uint8Array>([
        Uint8Array.of(0xef, 0xbb, 0xbf), // BOM
        Uint8Array.of(0xff, 0xfe), // invalid UTF-8
        Uint8Array.of(0xc3), // truncated sequence
        Uint8Array.of(0xed, 0xa0, 0x80), // surrogate
        Uint8Array.of(0), // NUL
        enc.encode("\r\n\r\n"),
        enc.encode("\n".repeat(1000)),
        enc.encode("x".repeat(1 << 20)), // one long word
        enc.encode("a ".repeat(200_000)), // a long sentence
        enc.encode("\u0301".repeat(10_000)), // combining marks (NFC work)
        enc.encode("\u3000\u00a0\u2028\u2029\t\v\f"),
      ]);
      return concat(b.subarray(0, at), ins, b.subarray(at));
    },
  },
];
