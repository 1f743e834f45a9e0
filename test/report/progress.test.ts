import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";

/** A stream that records writes, with a hand-driven clock. */
function fake(tty: boolean, columns?: number) {
  const writes: string[] = [];
  let t = 0;
  return {
    writes,
    stream: { write: (s: string) => writes.push(s), isTTY: tty, columns },
    now: () => t,
    advance: (ms: number) => (t += ms),
  };
}

describe("tg.report.ProgressBar (terminal)", () => {
  it("redraws one line in place, at most every 100 ms, and ends it on finish", () => {
    const f = fake(true);
    const bar = new tg.report.ProgressBar({
      total: 100,
      label: "epoch 1",
      unit: "img",
      itemsPerStep: 64,
      stream: f.stream,
      now: f.now,
    });
    for (let step = 1; step <= 100; step++) {
      f.advance(20); // 50 steps per second
      bar.update(step, { loss: 2 / step, acc: step / 100 });
    }
    bar.finish();
    // 2 s of updates at 20 ms: redraws at 20 ms, then every 100 ms, plus the last step and finish.
    expect(f.writes.length).toBeGreaterThanOrEqual(20);
    expect(f.writes.length).toBeLessThanOrEqual(23);
    for (const w of f.writes.slice(0, -1)) {
      expect(w.startsWith("\r")).toBe(true);
      expect(w.endsWith("\x1b[K")).toBe(true);
      expect(w).not.toContain("\n");
    }
    const last = f.writes[f.writes.length - 1]!;
    expect(last).toBe(
      "\repoch 1 [████████████████████] 100/100 100% | loss 0.02000 acc 1 | 3.20k img/s | 00:02<00:00\x1b[K\n",
    );
  });

  it("shows the ETA from the rate so far and cuts the line to the terminal width", () => {
    const f = fake(true, 40);
    const bar = new tg.report.ProgressBar({ total: 10, stream: f.stream, now: f.now });
    f.advance(3000);
    bar.update(3);
    expect(bar.line()).toBe("[██████░░░░░░░░░░░░░░] 3/10 30% | 1.00 it/s | 00:03<00:07");
    expect(f.writes[0]).toBe(`\r${bar.line().slice(0, 38)}…\x1b[K`);
  });
});

describe("tg.report.ProgressBar (plain)", () => {
  it("prints plain lines without control codes every N seconds", () => {
    const f = fake(false);
    const bar = new tg.report.ProgressBar({
      total: 1000,
      stream: f.stream,
      now: f.now,
      everySeconds: 5,
    });
    for (let step = 1; step <= 1000; step++) {
      f.advance(20);
      bar.update(step, { loss: 0.5 });
    }
    bar.finish();
    // First update, then every 5 s of a 20 s run, then the final line.
    expect(f.writes.map((w) => w.split(" ")[0])).toEqual([
      "1/1000",
      "251/1000",
      "501/1000",
      "751/1000",
      "1000/1000",
    ]);
    for (const w of f.writes) {
      expect(w.includes("\r") || w.includes("\x1b")).toBe(false);
      expect(w.endsWith("\n")).toBe(true);
    }
    expect(f.writes[1]).toBe("251/1000 25% | loss 0.5000 | 50.0 it/s | 00:05<00:14\n");
  });

  it("also prints every N steps when asked, and handles an unknown total and explicit item counts", () => {
    const f = fake(false);
    const bar = new tg.report.ProgressBar({
      stream: f.stream,
      now: f.now,
      everySteps: 10,
      unit: "tok",
    });
    for (let step = 1; step <= 30; step++) {
      f.advance(100);
      bar.update(step, { ppl: 12.5 }, step * 1000);
    }
    expect(f.writes.map((w) => w.split(" ")[0])).toEqual(["1", "11", "21"]);
    bar.finish();
    expect(f.writes[3]).toBe("30 | ppl 12.50 | 10.0k tok/s | 00:03\n");
  });

  it("counts the rate from the resumed step and rejects bad input", () => {
    const f = fake(false);
    const bar = new tg.report.ProgressBar({
      total: 200,
      initial: 100,
      stream: f.stream,
      now: f.now,
    });
    f.advance(1000);
    bar.update(110);
    expect(bar.line()).toBe("110/200 55% | 10.0 it/s | 00:01<00:09");
    expect(() => bar.update(NaN)).toThrow(/step must be a finite number/);
    bar.finish();
    expect(() => bar.update(120)).toThrow(/already finished/);
    expect(() => new tg.report.ProgressBar({ total: 0, stream: f.stream })).toThrow(
      /positive integer/,
    );
  });
});
