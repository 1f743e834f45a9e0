/** Option-object validation shared by the optimizers and schedulers. */
import { TsgradError } from "../tensor/errors.js";

/**
 * @internal Throw if `opts` has a key outside `known`: a misspelt option (say `weight_decay` from
 * PyTorch code) would otherwise be ignored silently and its default used.
 */
export function checkOptionKeys(op: string, opts: object, known: readonly string[]): void {
  if (opts === null || typeof opts !== "object") {
    throw new TsgradError(op, `options must be an object, got ${String(opts)}`);
  }
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) {
      throw new TsgradError(op, `unknown option "${k}" (known: ${known.join(", ")})`);
    }
  }
}
