/** PyTorch-style printing: `tensor([[1.0000, 2.0000], ...], dtype=float64, requiresGrad=true)`. */
import type { Tensor } from "./tensor.js";

const EDGE = 3;
const THRESHOLD = 1000;

function fmtNumber(x: number, dtype: string, scientific: boolean): string {
  if (dtype === "bool") return x !== 0 ? "true" : "false";
  if (dtype === "int32") return String(x);
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  return scientific ? x.toExponential(4) : x.toFixed(4);
}

export function formatTensor(t: Tensor): string {
  const flat = t.dataSync();
  const summarise = t.size > THRESHOLD;
  let maxAbs = 0;
  let minAbs = Infinity;
  for (let i = 0; i < flat.length; i++) {
    const a = Math.abs(flat[i]!);
    if (Number.isFinite(a)) {
      maxAbs = Math.max(maxAbs, a);
      if (a > 0) minAbs = Math.min(minAbs, a);
    }
  }
  const scientific = maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity);
  const strs = new Map<number, string>();
  const get = (i: number) => {
    let s = strs.get(i);
    if (s === undefined) strs.set(i, (s = fmtNumber(flat[i]!, t.dtype, scientific)));
    return s;
  };
  const width = Math.max(
    1,
    ...Array.from({ length: Math.min(flat.length, 2000) }, (_, i) => get(i).length),
  );
  const rec = (dim: number, start: number, indent: string): string => {
    if (dim === t.ndim) return get(start).padStart(width);
    const n = t.shape[dim]!;
    const step = t.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const idx =
      summarise && n > 2 * EDGE
        ? [
            ...Array.from({ length: EDGE }, (_, i) => i),
            -1,
            ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i),
          ]
        : Array.from({ length: n }, (_, i) => i);
    const parts = idx.map((i) => (i < 0 ? "..." : rec(dim + 1, start + i * step, indent + " ")));
    const sep =
      dim === t.ndim - 1 ? ", " : ",\n" + "\n".repeat(Math.max(0, t.ndim - dim - 2)) + indent + " ";
    return "[" + parts.join(sep) + "]";
  };
  const body = rec(0, 0, "       ");
  const extras: string[] = [];
  if (t.dtype !== "float32") extras.push(`dtype=${t.dtype}`);
  if (t.size === 0) extras.push(`shape=[${t.shape.join(",")}]`);
  if (t.requiresGrad) extras.push(t._node ? `gradFn=${t._node.op}` : "requiresGrad=true");
  return `tensor(${body}${extras.length ? ", " + extras.join(", ") : ""})`;
}
