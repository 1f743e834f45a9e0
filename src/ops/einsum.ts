/**
 * Products of several tensors: torch.bmm, torch.outer and torch.einsum. einsum takes diagonals
 * by gather, sums out indices no one else needs, then contracts the operands left to right, each
 * pair as one batched matmul (permute + reshape into [batch, rows, contracted] @ [batch,
 * contracted, cols]), never as a broadcast product of every index at once.
 */
import { type DType, isFloating, promoteTypes } from "../tensor/dtype.js";
import { TsgradError, fmtShape } from "../tensor/errors.js";
import { numel } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { run } from "./dispatch.js";
import { cast, expand, indexSelect, mul, permute, reshape, sum, unsqueeze } from "./ops.js";

/**
 * Batched matrix product of two 3-D tensors [b, n, m] @ [b, m, p] -> [b, n, p], with no
 * broadcasting (as torch.bmm; use matmul to broadcast).
 *
 * @example
 * console.log(tg.bmm(tg.ones([2, 1, 3]), tg.ones([2, 3, 2])).toArray()); // [[[3, 3]], [[3, 3]]]
 */
export function bmm(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 3 || b.ndim !== 3) {
    throw new TsgradError(
      "bmm",
      `expected two 3-D tensors, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  if (a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw new TsgradError(
      "bmm",
      `shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not multiply (need [b,n,m] @ [b,m,p])`,
    );
  }
  if (!isFloating(a.dtype) || a.dtype !== b.dtype) {
    throw new TsgradError(
      "bmm",
      `expected floating tensors of one dtype, got ${a.dtype} and ${b.dtype}`,
    );
  }
  return run("matmul", [a, b], {});
}

/**
 * Outer product of two 1-D tensors: out[i, j] = a[i] * b[j] (dtypes promote, as torch.outer).
 *
 * @example
 * console.log(tg.outer(tg.tensor([1, 2]), tg.tensor([3, 4, 5])).toArray()); // [[3, 4, 5], [6, 8, 10]]
 */
export function outer(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1) {
    throw new TsgradError(
      "outer",
      `expected two 1-D tensors, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
  return mul(unsqueeze(a, 1), unsqueeze(b, 0));
}

/** A parsed term: letters, with `null` where "..." stands. */
type Term = (string | null)[];

function parseTerm(term: string, where: string): Term {
  const out: Term = [];
  for (let i = 0; i < term.length; i++) {
    const c = term[i]!;
    if (/[a-zA-Z]/.test(c)) out.push(c);
    else if (term.startsWith("...", i)) {
      if (out.includes(null)) {
        throw new TsgradError("einsum", `${where} "${term}" has more than one "..."`);
      }
      out.push(null);
      i += 2;
    } else {
      throw new TsgradError(
        "einsum",
        `invalid character '${c}' in ${where} "${term}" (subscripts are letters a-z, A-Z and "...")`,
      );
    }
  }
  return out;
}

interface Operand {
  t: Tensor;
  labels: string[];
}

/** Ellipsis dimensions get labels that no letter can collide with, aligned from the right. */
const ellLabel = (k: number) => `.${k}`;

function expandEllipsis(term: Term, ellDims: number, total: number): string[] {
  return term.flatMap((l) =>
    l === null ? Array.from({ length: ellDims }, (_, j) => ellLabel(total - ellDims + j)) : [l],
  );
}

/** Take the diagonal of the first repeated label until every label is distinct. */
function diagonals(op: Operand): Operand {
  let { t, labels } = op;
  for (;;) {
    const p = labels.findIndex((l, i) => labels.indexOf(l) !== i);
    if (p < 0) return { t, labels };
    const first = labels.indexOf(labels[p]!);
    // Move the repeat next to its first occurrence, merge the pair, and pick every (n+1)-th.
    const order = labels.map((_, i) => i).filter((i) => i !== p);
    order.splice(first + 1, 0, p);
    const n = t.shape[first]!;
    const moved = permute(t, order);
    const merged = reshape(moved, [
      ...moved.shape.slice(0, first),
      n * n,
      ...moved.shape.slice(first + 2),
    ]);
    const idx = Int32Array.from({ length: n }, (_, i) => i * (n + 1));
    t = indexSelect(merged, first, new Tensor(idx, "int32", [n]));
    labels = labels.filter((_, i) => i !== p);
  }
}

/** Sum out the labels of `op` that are not in `keep`. */
function sumOut(op: Operand, keep: ReadonlySet<string>): Operand {
  const axes = op.labels.flatMap((l, i) => (keep.has(l) ? [] : [i]));
  if (axes.length === 0) return op;
  return { t: sum(op.t, axes), labels: op.labels.filter((l) => keep.has(l)) };
}

/** Contract two operands over their shared labels that are not `needed` later. */
function contract(a: Operand, b: Operand, needed: ReadonlySet<string>): Operand {
  const inB = new Set(b.labels);
  const batch = a.labels.filter((l) => inB.has(l) && needed.has(l));
  const summed = a.labels.filter((l) => inB.has(l) && !needed.has(l));
  const aOnly = a.labels.filter((l) => !inB.has(l));
  const bOnly = b.labels.filter((l) => !a.labels.includes(l));
  const size = (op: Operand, ls: string[]) => ls.map((l) => op.t.shape[op.labels.indexOf(l)]!);
  const arrange = (op: Operand, ls: string[]) =>
    permute(
      op.t,
      ls.map((l) => op.labels.indexOf(l)),
    );
  const bs = size(a, batch);
  const m = size(a, aOnly);
  const n = size(b, bOnly);
  const k = numel(size(a, summed));
  const left = reshape(arrange(a, [...batch, ...aOnly, ...summed]), [numel(bs), numel(m), k]);
  const right = reshape(arrange(b, [...batch, ...summed, ...bOnly]), [numel(bs), k, numel(n)]);
  const prod = run("matmul", [left, right], {});
  return { t: reshape(prod, [...bs, ...m, ...n]), labels: [...batch, ...aOnly, ...bOnly] };
}

/**
 * Einstein summation, as torch.einsum: `"ij,jk->ik"` is a matrix product, `"bij,bjk->bik"` a
 * batched one, `"ii->i"` a diagonal, `"ii"` a trace, `"...ij->...ji"` a batched transpose. Without
 * "->" the output is the letters used once, in alphabetical order, after the "..." dimensions.
 * Sizes of one letter (and "..." dimensions) broadcast where they are 1. Operands are promoted to
 * one dtype; integer products are computed in float64 and cast back.
 *
 * @example
 * const a = tg.tensor([[1, 2], [3, 4]]);
 * console.log(tg.einsum("ij,jk->ik", a, a).toArray(), tg.einsum("ii", a).item()); // [[7, 10], [15, 22]] 5
 */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  const eq = equation.replace(/\s+/g, "");
  const arrow = eq.indexOf("->");
  if (arrow >= 0 && eq.indexOf("->", arrow + 1) >= 0) {
    throw new TsgradError("einsum", `equation "${equation}" has more than one "->"`);
  }
  const lhs = arrow >= 0 ? eq.slice(0, arrow) : eq;
  const terms = lhs.split(",").map((t, i) => parseTerm(t, `operand ${i} subscripts`));
  if (terms.length !== operands.length) {
    throw new TsgradError(
      "einsum",
      `equation "${equation}" names ${terms.length} operand(s) but ${operands.length} tensor(s) were given`,
    );
  }
  // How many dimensions "..." stands for in each operand.
  const ellDims = terms.map((term, i) => {
    const letters = term.filter((l) => l !== null).length;
    const nd = operands[i]!.ndim;
    const has = term.includes(null);
    if (has ? nd < letters : nd !== letters) {
      throw new TsgradError(
        "einsum",
        `operand ${i} has shape ${fmtShape(operands[i]!.shape)} but its subscripts "${lhs.split(",")[i]}" name ${letters} dimension(s)${has ? " plus ..." : ""}`,
      );
    }
    return has ? nd - letters : 0;
  });
  const total = Math.max(0, ...ellDims);
  const labelsOf = terms.map((term, i) => expandEllipsis(term, ellDims[i]!, total));

  // Output labels.
  const ellAll = Array.from({ length: total }, (_, k) => ellLabel(k));
  let outLabels: string[];
  if (arrow >= 0) {
    const rhs = parseTerm(eq.slice(arrow + 2), "output subscripts");
    const seen = new Set<string>();
    for (const l of rhs) {
      if (l === null) continue;
      if (seen.has(l)) throw new TsgradError("einsum", `output subscript '${l}' appears twice`);
      if (!labelsOf.some((ls) => ls.includes(l))) {
        throw new TsgradError("einsum", `output subscript '${l}' does not appear in any operand`);
      }
      seen.add(l);
    }
    outLabels = rhs.flatMap((l) => (l === null ? ellAll : [l]));
  } else {
    const counts = new Map<string, number>();
    for (const ls of labelsOf) for (const l of ls) counts.set(l, (counts.get(l) ?? 0) + 1);
    const once = [...counts].filter(([l, c]) => c === 1 && !l.startsWith(".")).map(([l]) => l);
    outLabels = [...ellAll, ...once.sort()];
  }

  // Every label's size, broadcasting 1s; a repeat within one operand must match exactly.
  const sizes = new Map<string, number>();
  labelsOf.forEach((ls, i) => {
    const shape = operands[i]!.shape;
    ls.forEach((l, j) => {
      const d = shape[j]!;
      const first = ls.indexOf(l);
      const prev = sizes.get(l);
      const name = l.startsWith(".") ? "a ... dimension" : `subscript '${l}'`;
      if (first !== j && shape[first] !== d) {
        throw new TsgradError(
          "einsum",
          `${name} is repeated in operand ${i} with sizes ${shape[first]} and ${d} (${fmtShape(shape)}); a diagonal needs equal sizes`,
        );
      }
      if (prev === undefined || prev === 1) sizes.set(l, d);
      else if (d !== 1 && d !== prev) {
        throw new TsgradError(
          "einsum",
          `${name} has sizes ${prev} and ${d} that do not broadcast (operand ${i} has shape ${fmtShape(shape)})`,
        );
      }
    });
  });

  const common: DType = operands.map((t) => t.dtype).reduce(promoteTypes, "bool");
  const work: DType = isFloating(common) ? common : "float64";
  const outSet = new Set(outLabels);
  let ops: Operand[] = operands.map((t, i) => {
    const d = diagonals({ t: t.to(work), labels: labelsOf[i]! });
    const full = d.labels.map((l) => sizes.get(l)!);
    return { t: expand(d.t, full), labels: d.labels };
  });
  // Sum out, up front, what only one operand has and the output does not keep.
  ops = ops.map((op, i) => {
    const keep = new Set(outLabels);
    ops.forEach((o, j) => j !== i && o.labels.forEach((l) => keep.add(l)));
    return sumOut(op, keep);
  });
  let acc = ops[0]!;
  for (let i = 1; i < ops.length; i++) {
    const needed = new Set(outSet);
    for (let j = i + 1; j < ops.length; j++) ops[j]!.labels.forEach((l) => needed.add(l));
    acc = contract(acc, ops[i]!, needed);
  }
  acc = sumOut(acc, outSet);
  const out = permute(
    acc.t,
    outLabels.map((l) => acc.labels.indexOf(l)),
  );
  return common === work ? out : cast(out, common);
}
