/**
 * A training progress bar. On a terminal it redraws one line in place (at most ~10 times a
 * second, so a fast loop does not spend its time printing); elsewhere (CI logs, pipes, files) it
 * prints a plain line every N seconds or steps, with no control codes to garble the log.
 */
import { TsgradError } from "../tensor/errors.js";

/** Where the bar writes: anything with `write` (stderr, a file stream, a test fake). */
export interface ProgressStream {
  write(chunk: string): unknown;
  /** True for a terminal: redraw in place. */
  isTTY?: boolean;
  /** Terminal width; lines are cut to fit. */
  columns?: number;
}

/** Options of `ProgressBar`. */
export interface ProgressBarOptions {
  /** Number of steps; without it the bar shows no percentage or ETA. */
  total?: number;
  /** Text at the start of the line, e.g. "epoch 3". */
  label?: string;
  /** What is counted for the rate, e.g. "img" or "tok" (shown as img/s); default "it". */
  unit?: string;
  /** Items per step for the rate (e.g. the batch size); default 1. */
  itemsPerStep?: number;
  /** Step the bar starts from (when resuming); default 0. */
  initial?: number;
  /** Default `process.stderr`. */
  stream?: ProgressStream;
  /** Force terminal or plain mode; default `stream.isTTY`. */
  tty?: boolean;
  /** Terminal mode: minimum milliseconds between redraws; default 100 (10 Hz). */
  redrawMs?: number;
  /** Plain mode: print a line at least this many seconds apart; default 10. */
  everySeconds?: number;
  /** Plain mode: also print every this many steps (0 = only by time); default 0. */
  everySteps?: number;
  /** Clock in milliseconds (for tests); default `performance.now`. */
  now?: () => number;
}

/** Values shown on the line, e.g. `{ loss: 0.31, acc: 0.92 }`. */
export type ProgressValues = Readonly<Record<string, number | string>>;

function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function rate(r: number): string {
  if (r >= 1e6) return `${(r / 1e6).toPrecision(3)}M`;
  if (r >= 1e3) return `${(r / 1e3).toPrecision(3)}k`;
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

function value(v: number | string): string {
  if (typeof v === "string") return v;
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toPrecision(4);
}

/**
 * A progress bar for a training loop: step/total, percentage, named values, rate, elapsed, ETA.
 *
 * @example
 * const lines = [];
 * let t = 0;
 * const bar = new tg.report.ProgressBar({
 *   total: 4, label: "train", unit: "img", itemsPerStep: 32,
 *   stream: { write: (s) => lines.push(s), isTTY: false }, everySteps: 2, now: () => t,
 * });
 * for (let step = 1; step <= 4; step++) {
 *   t += 500;
 *   bar.update(step, { loss: 1 / step });
 * }
 * bar.finish();
 * console.log(lines[lines.length - 1]); // "train 4/4 100% | loss 0.2500 | 64.0 img/s | 00:02<00:00\n"
 */
export class ProgressBar {
  private readonly total: number | undefined;
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly start: number;
  private readonly initial: number;
  private step: number;
  private items: number | undefined;
  private values: ProgressValues = {};
  private lastDraw = -Infinity;
  private lastPrintStep: number;
  private printed = false;
  private done = false;

  constructor(private readonly opts: ProgressBarOptions = {}) {
    const op = "ProgressBar";
    const { total, initial = 0, itemsPerStep = 1 } = opts;
    if (total !== undefined && !(Number.isInteger(total) && total > 0)) {
      throw new TsgradError(op, `total must be a positive integer, got ${total}`);
    }
    if (!(Number.isFinite(initial) && initial >= 0)) {
      throw new TsgradError(op, `initial must be >= 0, got ${initial}`);
    }
    if (!(itemsPerStep > 0)) {
      throw new TsgradError(op, `itemsPerStep must be > 0, got ${itemsPerStep}`);
    }
    const stream =
      opts.stream ?? (globalThis as { process?: { stderr?: ProgressStream } }).process?.stderr;
    if (stream === undefined) {
      throw new TsgradError(op, "no stream given and no process.stderr here");
    }
    this.total = total;
    this.stream = stream;
    this.tty = opts.tty ?? stream.isTTY === true;
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
    this.initial = initial;
    this.step = initial;
    this.lastPrintStep = initial;
  }

  /**
   * Record progress: the current step, values to show, and optionally the number of items
   * processed since the start when batches vary in size (otherwise steps × itemsPerStep).
   */
  update(step: number, values?: ProgressValues, items?: number): void {
    if (this.done) throw new TsgradError("ProgressBar.update", "the bar is already finished");
    if (!Number.isFinite(step) || step < 0) {
      throw new TsgradError("ProgressBar.update", `step must be a finite number >= 0, got ${step}`);
    }
    this.step = step;
    if (values) this.values = values;
    if (items !== undefined) this.items = items;
    const t = this.now();
    if (this.tty) {
      if (t - this.lastDraw >= (this.opts.redrawMs ?? 100) || step === this.total) {
        this.lastDraw = t;
        this.stream.write(`\r${this.fit(this.line())}\x1b[K`);
      }
      return;
    }
    const everySteps = this.opts.everySteps ?? 0;
    const due =
      !this.printed ||
      t - this.lastDraw >= (this.opts.everySeconds ?? 10) * 1000 ||
      (everySteps > 0 && step - this.lastPrintStep >= everySteps);
    if (due) this.print(t);
  }

  /** Advance by one step. */
  tick(values?: ProgressValues): void {
    this.update(this.step + 1, values);
  }

  /**
   * Print a message on a line of its own (e.g. an epoch's validation results); on a terminal the
   * bar is redrawn below it.
   */
  log(message: string): void {
    if (this.tty) {
      this.stream.write(`\r\x1b[K${message}\n${this.done ? "" : this.fit(this.line())}`);
    } else this.stream.write(`${message}\n`);
  }

  /** Show the final state and end the line. */
  finish(values?: ProgressValues): void {
    if (this.done) return;
    if (values) this.values = values;
    if (this.tty) this.stream.write(`\r${this.fit(this.line())}\x1b[K\n`);
    else this.print(this.now());
    this.done = true;
  }

  /** The status text for the current state, without control codes. */
  line(): string {
    const elapsed = this.now() - this.start;
    const done = this.step - this.initial;
    const parts: string[] = [];
    const head: string[] = this.opts.label ? [this.opts.label] : [];
    if (this.total !== undefined) {
      const frac = Math.min(1, this.step / this.total);
      if (this.tty) {
        const filled = Math.round(frac * 20);
        head.push(`[${"█".repeat(filled)}${"░".repeat(20 - filled)}]`);
      }
      head.push(`${this.step}/${this.total}`, `${Math.floor(frac * 100)}%`);
    } else {
      head.push(String(this.step));
    }
    parts.push(head.join(" "));
    const vals = Object.entries(this.values).map(([k, v]) => `${k} ${value(v)}`);
    if (vals.length) parts.push(vals.join(" "));
    const items = this.items ?? done * (this.opts.itemsPerStep ?? 1);
    if (elapsed > 0 && items > 0) {
      parts.push(`${rate(items / (elapsed / 1000))} ${this.opts.unit ?? "it"}/s`);
    }
    let time = clock(elapsed);
    if (this.total !== undefined) {
      time += `<${done > 0 ? clock((elapsed / done) * Math.max(0, this.total - this.step)) : "?"}`;
    }
    parts.push(time);
    return parts.join(" | ");
  }

  private print(t: number): void {
    this.lastDraw = t;
    this.lastPrintStep = this.step;
    this.printed = true;
    this.stream.write(`${this.line()}\n`);
  }

  /** Cut to the terminal width so the line never wraps (a wrapped line cannot be redrawn). */
  private fit(s: string): string {
    const cols = this.stream.columns;
    if (!cols || cols < 10) return s;
    const chars = Array.from(s);
    return chars.length < cols ? s : chars.slice(0, cols - 2).join("") + "…";
  }
}
