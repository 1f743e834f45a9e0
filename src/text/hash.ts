/**
 * Vocabulary fingerprints: 64-bit FNV-1a over the UTF-8 bytes of a canonical JSON string. Not a
 * cryptographic hash; it only has to make "this checkpoint was trained with another vocabulary"
 * detectable, identically in Node and in browsers (so no node:crypto).
 */
import { TsgradError } from "../tensor/errors.js";

/** FNV-1a 64 of the UTF-8 encoding of `s`, as 16 lowercase hex digits. */
export function fnv1a64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  // The 64-bit state as two 32-bit halves; the prime is 2^40 + 0x1b3, so h * prime is
  // h * 0x1b3 + (h << 40), and (h << 40) only touches the high half (lo << 8).
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const b of bytes) {
    lo ^= b;
    const loProduct = (lo >>> 0) * 0x1b3; // < 2^41: exact in a double
    const carry = Math.floor(loProduct / 4294967296);
    hi = (Math.imul(hi, 0x1b3) + carry + (lo << 8)) >>> 0;
    lo = loProduct >>> 0;
  }
  return hi.toString(16).padStart(8, "0") + (lo >>> 0).toString(16).padStart(8, "0");
}

/** `fnv1a64:<hex>` of the canonical JSON of `content` (keys in the order given). */
export function fingerprintOf(content: unknown): string {
  return `fnv1a64:${fnv1a64(JSON.stringify(content))}`;
}

/** Anything with a fingerprint and a size: tokenisers and vocabularies. */
export interface Fingerprinted {
  readonly fingerprint: string;
  readonly size: number;
}

/**
 * Throw unless `actual` has the fingerprint a checkpoint recorded, so that a model is never run
 * with ids from another vocabulary (which would silently produce garbage).
 *
 * @example
 * const a = tg.text.CharVocab.fromText("abc");
 * const b = tg.text.CharVocab.fromText("abd");
 * tg.text.checkFingerprint(a.fingerprint, a); // same vocabulary: passes
 * let message = "";
 * try {
 *   tg.text.checkFingerprint(a.fingerprint, b, "decoder vocabulary");
 * } catch (e) {
 *   message = (e as Error).message;
 * }
 * console.log(message.startsWith("checkFingerprint: decoder vocabulary does not match")); // true
 */
export function checkFingerprint(
  expected: string,
  actual: Fingerprinted,
  what = "vocabulary",
): void {
  if (expected !== actual.fingerprint) {
    throw new TsgradError(
      "checkFingerprint",
      `${what} does not match: the checkpoint expects ${expected}, this one is ${actual.fingerprint} (size ${actual.size})`,
    );
  }
}
