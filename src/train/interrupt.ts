/**
 * Ctrl-C handling for training loops: the first SIGINT (or SIGTERM) only sets `requested`, so the
 * loop can finish its step, save a checkpoint and exit cleanly; a second one exits at once.
 *
 * @example
 * const stop = new tg.train.Interrupt();
 * console.log(stop.requested); // false
 * stop.dispose();
 */
export class Interrupt {
  requested = false;
  private readonly handler = (signal: NodeJS.Signals) => {
    if (this.requested) process.exit(130);
    this.requested = true;
    this.onRequest?.(signal);
  };

  constructor(
    private readonly onRequest?: (signal: NodeJS.Signals) => void,
    private readonly signals: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"],
  ) {
    for (const s of signals) process.on(s, this.handler);
  }

  /** Stop listening (restores the default Ctrl-C behaviour). */
  dispose(): void {
    for (const s of this.signals) process.off(s, this.handler);
  }
}
