/**
 * Every error tsgrad raises on bad input is a TsgradError whose message starts with the op (or
 * file) that rejected it, followed by the offending shapes or values, e.g.
 * `matmul: inner dimensions differ: [2,3] @ [4,5]`.
 *
 * @example
 * try {
 *   tg.ones([2, 3]).matmul(tg.ones([4, 5]));
 * } catch (e) {
 *   console.log(e instanceof tg.TsgradError, (e as tg.TsgradError).op); // true "matmul"
 * }
 */
export class TsgradError extends Error {
  constructor(
    readonly op: string,
    message: string,
  ) {
    super(`${op}: ${message}`);
    this.name = "TsgradError";
  }
}

/** Format a shape as `[2,3]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}
