import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { fixturePath, loadFixture } from "./helpers.js";

/** A safetensors file from a header (object or raw text) and data bytes, with a correct length prefix. */
function craft(header: unknown, data: number[] = [], headerLength?: number): Uint8Array {
  const text = new TextEncoder().encode(
    typeof header === "string" ? header : JSON.stringify(header),
  );
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

function f32Bytes(values: number[]): number[] {
  return Array.from(new Uint8Array(new Float32Array(values).buffer));
}

describe("tg.io.encodeSafetensors", () => {
  it("lays out length, padded JSON header and little-endian data exactly as the format specifies", () => {
    const bytes = tg.io.encodeSafetensors({
      attn0: tg.tensor([
        [
          [0, 1, 2],
          [3, 4, 5],
        ],
      ]),
    });
    const header = '{"attn0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(63); // so one space of padding brings it to 64
    const expected = [
      ...[64, 0, 0, 0, 0, 0, 0, 0],
      ...new TextEncoder().encode(header + " "),
      ...[0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40],
      ...[0, 0, 0x80, 0x40, 0, 0, 0xa0, 0x40],
    ];
    expect(Array.from(bytes)).toEqual(expected);
  });

  it("orders tensors by descending dtype alignment then name, puts __metadata__ first and aligns the data to 8 bytes", () => {
    const bytes = tg.io.encodeSafetensors(
      {
        b: tg.tensor([true]).bool(),
        a: tg.tensor([1], { dtype: "int32" }),
        z: tg.tensor([1], { dtype: "float64" }),
        c: tg.tensor([1]),
        y: tg.tensor([2]),
      },
      { z: "2", a: "1" },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd()).toBe(
      '{"__metadata__":{"a":"1","z":"2"},' +
        '"z":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
        '"c":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},' +
        '"y":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},' +
        '"a":{"dtype":"I32","shape":[1],"data_offsets":[16,20]},' +
        '"b":{"dtype":"BOOL","shape":[1],"data_offsets":[20,21]}}',
    );
    expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
    expect(bytes.length).toBe(8 + n + 21);
  });

  it("writes non-contiguous and offset views as their logical row-major elements", () => {
    const base = tg.arange(12).reshape([3, 4]).float();
    const views = {
      t: base.t(),
      narrow: base.narrow(0, 1, 2),
      expand: tg.tensor([1, 2]).reshape([2, 1]).expand([2, 3]),
    };
    const { tensors } = tg.io.decodeSafetensors(tg.io.encodeSafetensors(views));
    for (const [k, v] of Object.entries(views)) {
      expect(tensors[k]!.shape).toEqual(v.shape);
      expect(tensors[k]!.toArray()).toEqual(v.contiguous().toArray());
    }
    expect(tensors.narrow!.toArray()).toEqual([
      [4, 5, 6, 7],
      [8, 9, 10, 11],
    ]);
  });

  it("round-trips every tsgrad dtype bit-exactly, including NaN, -0, infinities, scalars and empty tensors", () => {
    const special = tg.tensor(new Float32Array([NaN, -0, Infinity, -Infinity, 1e-45, 3.4e38]));
    const src = {
      special,
      f64: tg.tensor(new Float64Array([Math.PI, -Number.MIN_VALUE, 1e308])),
      i32: tg.tensor(new Int32Array([-2147483648, 2147483647, 0])),
      mask: tg.tensor([true, false, true]),
      scalar: tg.scalar(7),
      empty: tg.zeros([0, 5], { dtype: "int32" }),
    };
    const { tensors } = tg.io.decodeSafetensors(tg.io.encodeSafetensors(src));
    for (const [k, v] of Object.entries(src)) {
      const got = tensors[k]!;
      expect(got.dtype).toBe(v.dtype);
      expect(got.shape).toEqual(v.shape);
      const a = new Uint8Array(got.data.buffer, got.data.byteOffset, got.data.byteLength);
      const e = v.contiguous().data;
      expect(Array.from(a)).toEqual(
        Array.from(new Uint8Array(e.buffer, e.byteOffset, e.byteLength)),
      );
    }
  });

  it("rejects non-tensors, the reserved name and non-string metadata", () => {
    expect(() => tg.io.encodeSafetensors({ a: [1, 2] as unknown as tg.Tensor })).toThrow(
      /encodeSafetensors: "a" is not a Tensor/,
    );
    expect(() => tg.io.encodeSafetensors({ __metadata__: tg.ones([1]) })).toThrow(/reserved/);
    expect(() => tg.io.encodeSafetensors({}, { step: 3 as unknown as string })).toThrow(
      /metadata value "step" must be a string, got number/,
    );
  });
});

describe("tg.io.decodeSafetensors", () => {
  const ok = { x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };
  const eight = f32Bytes([1, 2]);

  it("accepts a hand-made file and ignores space padding", () => {
    const { tensors, header } = tg.io.decodeSafetensors(craft(JSON.stringify(ok) + "   ", eight));
    expect(tensors.x!.toArray()).toEqual([1, 2]);
    expect(header.x).toEqual({ dtype: "F32", shape: [2], dataOffsets: [0, 8] });
  });

  it("names the file and the problem for every kind of corruption", () => {
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(5), /f\.st: 5 bytes is too short/],
      [craft(ok, eight, 1000), /header length 1000 runs past the end of the file/],
      [craft(ok, eight, 2e8), /exceeds the 100 MB limit/],
      [craft("[1,2]", []), /does not start with "\{"/],
      // A UTF-8 byte-order mark before the "{" (the reference reader rejects it too).
      [craft("\ufeff" + JSON.stringify(ok), eight), /does not start with "\{"/],
      [craft("{nope", []), /not valid JSON/],
      [
        craft({ x: { dtype: "F17", shape: [2], data_offsets: [0, 8] } }, eight),
        /unknown dtype "F17"/,
      ],
      [
        craft({ x: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, eight),
        /is not a list of sizes/,
      ],
      [
        craft({ x: { dtype: "F32", shape: [2], data_offsets: [0] } }, eight),
        /is not \[begin, end\]/,
      ],
      [
        craft({ x: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, eight),
        /shape \[3\] of F32 \(4 bytes each\) needs 12 bytes but data_offsets \[0,8\] hold 8/,
      ],
      [
        craft({ x: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, eight),
        /out of bounds \(8 data bytes\)/,
      ],
      [
        craft(
          {
            x: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
            y: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
          },
          eight,
        ),
        /tensors "x" and "y" overlap at byte 4/,
      ],
      [
        craft({ x: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, eight),
        /bytes 0\.\.4 before tensor "x" belong to no tensor/,
      ],
      [
        craft({ x: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, eight),
        /bytes 4\.\.8 at the end belong to no tensor/,
      ],
      [
        craft({ __metadata__: { step: 3 }, ...ok }, eight),
        /__metadata__ value "step" is not a string/,
      ],
      [
        craft({ x: { dtype: "F8_E4M3", shape: [8], data_offsets: [0, 8] } }, eight),
        /dtype F8_E4M3 cannot be loaded/,
      ],
      [
        craft({ x: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, [0, 0, 0, 0, 1, 0, 0, 0]),
        /I64 value 4294967296 at element 0 does not fit in int32/,
      ],
    ];
    for (const [bytes, message] of cases) {
      let caught: unknown;
      try {
        tg.io.decodeSafetensors(bytes, "f.st");
      } catch (e) {
        caught = e;
      }
      expect(caught, String(message)).toBeInstanceOf(tg.TsgradError);
      expect((caught as Error).message).toMatch(/^f\.st: /);
      expect((caught as Error).message).toMatch(message);
    }
  });

  it("rejects a header that is not UTF-8", () => {
    const bytes = craft("{}  ");
    bytes[9] = 0xff;
    expect(() => tg.io.decodeSafetensors(bytes, "bad.st")).toThrow(
      /bad\.st: header is not valid UTF-8/,
    );
  });

  it("widens F16, BF16 and the 8/16/64-bit integer types written by PyTorch", () => {
    const { tensors, header } = tg.io.loadSafetensors(fixturePath("torch-wide.safetensors"));
    const expected = loadFixture().files["torch-wide.safetensors"]!.tensors;
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, e] of Object.entries(expected)) {
      expect(header[name]!.dtype).toBe(e.dtype);
      const t = tensors[name]!;
      expect(t.dtype).toBe(e.dtype.startsWith("F") || e.dtype === "BF16" ? "float32" : "int32");
      expect(t.shape).toEqual(e.shape);
      expect(Array.from(t.data)).toEqual(e.values);
    }
  });
});
