/**
 * Axis ticks. Linear axes step by 1, 2 or 5 times a power of ten and widen the domain to whole
 * steps; log axes put major ticks on decades (every few decades when there are many) with minor
 * ticks at 2…9 times each decade, and label some minor ticks when fewer than two decades show.
 */
import { TsgradError } from "../tensor/errors.js";

/** Ticks of a linear axis. */
export interface LinearTicks {
  /** The domain widened to whole steps: `[ticks[0], ticks[last]]`. */
  domain: [number, number];
  /** Distance between ticks: 1, 2 or 5 × 10^k. */
  step: number;
  /** Tick values from the low end to the high end. */
  ticks: number[];
}

/** Ticks of a log axis. */
export interface LogTicks {
  /** The domain widened to 1, 2 or 5 × 10^k at each end. */
  domain: [number, number];
  /** Decades (10^k) that get a long tick and a grid line. */
  major: number[];
  /** Short ticks: 2…9 × 10^k, or the skipped decades when many decades show. */
  minor: number[];
  /** The values that get a text label (the majors, plus some minors on narrow ranges). */
  labeled: number[];
}

function checkRange(op: string, min: number, max: number): void {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    throw new TsgradError(op, `range must be finite, got [${min}, ${max}]`);
  }
  if (min > max) throw new TsgradError(op, `range is reversed: [${min}, ${max}]`);
}

/** `i * 10^k` with the rounding of a decimal literal (no 0.30000000000000004). */
function scaled(i: number, k: number): number {
  return k >= 0 ? i * 10 ** k : i / 10 ** -k;
}

/**
 * Ticks for a linear axis over `[min, max]`, aiming for about `count` intervals.
 *
 * @example
 * console.log(tg.report.linearTicks(0, 1).ticks); // [0, 0.2, 0.4, 0.6, 0.8, 1]
 * console.log(tg.report.linearTicks(-3.7, 12.2).ticks); // [-5, 0, 5, 10, 15]
 */
export function linearTicks(min: number, max: number, count = 5): LinearTicks {
  checkRange("linearTicks", min, max);
  if (!(count >= 1)) throw new TsgradError("linearTicks", `count must be >= 1, got ${count}`);
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) / 10;
    [min, max] = [min - pad, max + pad];
  }
  const raw = (max - min) / count;
  const k = Math.floor(Math.log10(raw));
  const err = raw / 10 ** k;
  // Round the raw step to the nearest of 1, 2, 5, 10 on a log scale (geometric midpoints).
  const mult = err >= Math.sqrt(50) ? 10 : err >= Math.sqrt(10) ? 5 : err >= Math.sqrt(2) ? 2 : 1;
  const step = scaled(mult, k);
  // The epsilons forgive round-off (0.6 / 0.2 = 2.9999999999999996) without widening the range.
  const lo = Math.floor(min / step + 1e-9);
  const hi = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let i = lo; i <= hi; i++) ticks.push(scaled(i * mult, k) || 0);
  return { domain: [ticks[0]!, ticks[ticks.length - 1]!], step, ticks };
}

const NICE = [1, 2, 5];

/**
 * Ticks for a log axis over `[min, max]` (both positive).
 *
 * @example
 * const t = tg.report.logTicks(3, 2000);
 * console.log(t.domain, t.major, t.minor.length); // [2, 2000] [10, 100, 1000] 25
 */
export function logTicks(min: number, max: number): LogTicks {
  checkRange("logTicks", min, max);
  if (min <= 0) throw new TsgradError("logTicks", `a log axis needs positive values, got ${min}`);
  if (min === max) [min, max] = [min / 3, max * 3];
  // Widen each end to the nearest 1, 2 or 5 × 10^k.
  const down = (v: number): number => {
    const k = Math.floor(Math.log10(v) + 1e-12);
    const m = NICE.filter((n) => scaled(n, k) <= v * (1 + 1e-12)).pop()!;
    return scaled(m, k);
  };
  const up = (v: number): number => {
    const k = Math.floor(Math.log10(v) - 1e-12);
    const m = [...NICE, 10].find((n) => scaled(n, k) >= v * (1 - 1e-12))!;
    return scaled(m, k);
  };
  const lo = down(min);
  const hi = up(max);
  const kLo = Math.ceil(Math.log10(lo) - 1e-12);
  const kHi = Math.floor(Math.log10(hi) + 1e-12);
  const decades = kHi - kLo + 1;
  const inside = (v: number) => v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12);
  const major: number[] = [];
  const minor: number[] = [];
  if (decades > 10) {
    // Too many decades for 2…9 ticks: label every `every`-th decade, tick the others.
    const every = Math.ceil(decades / 8);
    for (let k = kLo; k <= kHi; k++) (k % every === 0 ? major : minor).push(scaled(1, k));
  } else {
    for (let k = kLo - 1; k <= kHi; k++) {
      if (k >= kLo) major.push(scaled(1, k));
      for (let m = 2; m <= 9; m++) if (inside(scaled(m, k))) minor.push(scaled(m, k));
    }
  }
  let labeled = [...major];
  if (labeled.length < 2) {
    labeled = [
      ...major,
      ...minor.filter((v) =>
        [2, 5].includes(Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-12))),
      ),
    ];
    if (labeled.length < 2) labeled = [...major, ...minor];
    labeled.sort((a, b) => a - b);
  }
  return { domain: [lo, hi], major, minor, labeled };
}

/**
 * A short label for a tick value: plain decimals between 0.001 and 99999, `2.5e6` style outside,
 * and a true minus sign.
 *
 * @example
 * console.log(tg.report.formatTick(0.25), tg.report.formatTick(2e6), tg.report.formatTick(-3)); // "0.25" "2e6" "−3"
 */
export function formatTick(v: number): string {
  return formatTicks([v])[0]!;
}

/**
 * Labels for all the ticks of one axis, in one style: if any value needs the exponent form,
 * every non-zero value gets it (so a log axis reads 1e3, 1e4, 1e5 rather than 1000, 10000, 1e5).
 *
 * @example
 * console.log(tg.report.formatTicks([1000, 10000, 100000])); // ["1e3", "1e4", "1e5"]
 */
export function formatTicks(values: readonly number[]): string[] {
  const exp = values.some((v) => v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3));
  return values.map((v) => {
    const s = v === 0 ? "0" : exp ? v.toExponential().replace("e+", "e") : String(v);
    return s.replaceAll("-", "−");
  });
}
