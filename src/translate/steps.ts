/**
 * Long computations (validation, translating a corpus) written as generators that yield after
 * each batch, so the same code runs straight through for library callers and, inside the
 * trainer, hands control back to the event loop between batches: that is what lets Ctrl-C reach
 * its handler during a long evaluation.
 */

/** A computation that pauses (yields) between batches and returns `T`. */
export type Steps<T> = Generator<void, T, void>;

/** Run a computation to its end without pausing. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * Run a computation, letting the event loop run between batches; stops early (running the
 * generator's `finally` blocks) and returns null once `stop.requested` is set.
 */
export async function runStepsAsync<T>(
  steps: Steps<T>,
  stop: { requested: boolean },
): Promise<T | null> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (stop.requested) {
      steps.return(undefined as never);
      return null;
    }
  }
}
