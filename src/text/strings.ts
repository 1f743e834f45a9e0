/**
 * String helpers with Python semantics. sacreBLEU is Python, and its results depend on what
 * Python's `str.split()` treats as whitespace and on how `f"{x:.2f}"` rounds; JavaScript differs on
 * both (`\s` includes U+FEFF but not U+001C–U+001F; `toFixed` rounds exact ties away from zero), so
 * the metrics and tokenisers use these instead of the built-ins.
 */

/**
 * The characters Python's `str.isspace()` accepts (the separators `str.split()` with no argument
 * splits on). Unlike JavaScript's `\s`, this includes the information separators U+001C–U+001F and
 * U+0085, and excludes U+FEFF.
 */
const PY_SPACE =
  "\\t\\n\\v\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

const WORD_RE = new RegExp(`[^${PY_SPACE}]+`, "gu");
const LEADING_RE = new RegExp(`^[${PY_SPACE}]+`, "u");
const TRAILING_RE = new RegExp(`[${PY_SPACE}]+$`, "u");
const ALL_SPACE_RE = new RegExp(`[${PY_SPACE}]+`, "gu");

/**
 * Python's `s.split()`: split on runs of whitespace, dropping empty pieces
 * (`pySplit("  a\tb\u001cc ")` is `["a", "b", "c"]`).
 */
export function pySplit(s: string): string[] {
  return s.match(WORD_RE) ?? [];
}

/** Python's `s.strip()` (whitespace only). */
export function pyStrip(s: string): string {
  return s.replace(LEADING_RE, "").replace(TRAILING_RE, "");
}

/** Python's `s.rstrip()` (whitespace only). */
export function pyRstrip(s: string): string {
  return s.replace(TRAILING_RE, "");
}

/** Remove every whitespace character (Python's `"".join(s.split())`). */
export function removeSpace(s: string): string {
  return s.replace(ALL_SPACE_RE, "");
}

/**
 * Python's `f"{x:.{digits}f}"`. Both languages round the exact binary value, so they differ only
 * on exact ties (6.25 → "6.2" in Python, "6.3" with `toFixed`); Python rounds those half to even.
 */
export function pyFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return x > 0 ? "inf" : x < 0 ? "-inf" : "nan";
  const s = x.toFixed(digits);
  // toFixed(100) is the exact decimal expansion for any double in the range metrics produce, so a
  // tie shows up as "5" followed only by zeros after the kept digits.
  const exact = Math.abs(x).toFixed(100);
  const point = exact.indexOf(".");
  const rest = exact.slice(point + 1 + digits);
  if (!/^50*$/.test(rest)) return s;
  const kept = exact.slice(0, point + 1 + digits).replace(/\.$/, "");
  const lastDigit = Number(kept[kept.length - 1]);
  if (lastDigit % 2 === 0) return (x < 0 ? "-" : "") + kept; // round half to even: truncate
  return s;
}

/** Split a string into Unicode code points (Python indexes strings by code point). */
export function codePoints(s: string): string[] {
  return Array.from(s);
}
