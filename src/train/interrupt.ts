/**
 * Ctrl-C handling for training loops: the first SIGINT (or SIGTERM) only sets `requested`, so the
 * loop can finish its step, save a checkpoint and exit cleanly; a second one exits at once.
 * Outside Node no signal arrives: `requested` is then set only by whoever holds the object (a
 * page's Stop button).
 *
 * @example
 * const stop = new tg.train.Interrupt();
 * console.log(stop.requested); // false
 * stop.dispose();
 */
export class Interrupt {
  requested = false;
  private readonly proc = signalProcess();
  private readonly handler = (signal: SignalName) => {
    if (this.requested) this.proc!.exit(130);
    this.requested = true;
    this.onRequest?.(signal);
  };

  constructor(
    private readonly onRequest?: (signal: SignalName) => void,
    private readonly signals: readonly SignalName[] = ["SIGINT", "SIGTERM"],
  ) {
    for (const s of signals) this.proc?.on(s, this.handler);
  }

  /** Stop listening (restores the default Ctrl-C behaviour). */
  dispose(): void {
    for (const s of this.signals) this.proc?.off(s, this.handler);
  }
}

/** The signals an `Interrupt` can listen to (a subset of Node's signal names). */
export type SignalName =
  "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGQUIT" | "SIGBREAK" | "SIGUSR1" | "SIGUSR2";

/** What `Interrupt` uses of Node's `process`; absent in a browser, where no signal arrives. */
interface SignalProcess {
  on(signal: SignalName, handler: (signal: SignalName) => void): unknown;
  off(signal: SignalName, handler: (signal: SignalName) => void): unknown;
  exit(code: number): never;
}

function signalProcess(): SignalProcess | null {
  const p = (globalThis as { process?: Partial<SignalProcess> }).process;
  return typeof p?.on === "function" && typeof p.off === "function" ? (p as SignalProcess) : null;
}
