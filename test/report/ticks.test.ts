import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { parseXml } from "./xml.js";

const { linearTicks, logTicks, formatTicks } = tg.report;

describe("tg.report.linearTicks", () => {
  it("steps by 1, 2 or 5 times a power of ten and widens the domain to whole steps", () => {
    const cases: [number, number, number, number[]][] = [
      [0, 1, 0.2, [0, 0.2, 0.4, 0.6, 0.8, 1]],
      [0, 100, 20, [0, 20, 40, 60, 80, 100]],
      [-3.7, 12.2, 5, [-5, 0, 5, 10, 15]],
      [0.001, 0.0095, 0.002, [0, 0.002, 0.004, 0.006, 0.008, 0.01]],
      [0, 7, 1, [0, 1, 2, 3, 4, 5, 6, 7]],
      [1e6, 3.2e6, 5e5, [1e6, 1.5e6, 2e6, 2.5e6, 3e6, 3.5e6]],
      [-0.3, 0.1, 0.1, [-0.3, -0.2, -0.1, 0, 0.1]],
    ];
    for (const [lo, hi, step, ticks] of cases) {
      const t = linearTicks(lo, hi);
      expect([t.step, t.ticks], `[${lo}, ${hi}]`).toEqual([step, ticks]);
      expect(t.domain).toEqual([ticks[0], ticks[ticks.length - 1]]);
    }
  });

  it("gives exact decimals (no 0.30000000000000004) and opens up a zero-width range", () => {
    expect(linearTicks(0.1, 0.7).ticks).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
    expect(linearTicks(5, 5).ticks).toEqual([4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6]);
    expect(linearTicks(0, 0).ticks).toEqual([-1, -0.5, 0, 0.5, 1]);
  });

  it("rejects non-finite and reversed ranges", () => {
    expect(() => linearTicks(0, Infinity)).toThrow(/linearTicks: range must be finite/);
    expect(() => linearTicks(2, 1)).toThrow(/reversed/);
  });
});

describe("tg.report.logTicks", () => {
  it("puts majors on decades and 2…9 minors in between, widening ends to 1, 2 or 5", () => {
    const t = logTicks(3, 2000);
    expect(t.domain).toEqual([2, 2000]);
    expect(t.major).toEqual([10, 100, 1000]);
    expect(t.minor.slice(0, 9)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 20]);
    expect(t.minor).toHaveLength(25);
    expect(t.labeled).toEqual([10, 100, 1000]);
    expect(logTicks(1e-3, 0.8).major).toEqual([1e-3, 1e-2, 0.1, 1]);
  });

  it("labels 2 and 5 when less than two decades show", () => {
    expect(logTicks(7, 7).labeled).toEqual([2, 5, 10, 20, 50]);
    expect(logTicks(2, 5)).toMatchObject({ major: [], labeled: [2, 5] });
  });

  it("thins out majors over many decades", () => {
    const t = logTicks(1e-20, 1e20);
    expect(t.major).toEqual([1e-18, 1e-12, 1e-6, 1, 1e6, 1e12, 1e18]);
    expect(t.minor).toContain(1e-20);
    expect(t.minor).not.toContain(2e-20);
  });

  it("rejects non-positive ranges with a clear error", () => {
    expect(() => logTicks(0, 10)).toThrow(/logTicks: a log axis needs positive values, got 0/);
    expect(() => logTicks(-1, 10)).toThrow(tg.TsgradError);
  });
});

describe("tg.report.formatTicks", () => {
  it("uses one style per axis and a true minus sign", () => {
    expect(formatTicks([0, 0.5, 1])).toEqual(["0", "0.5", "1"]);
    expect(formatTicks([0, 5e5, 1e6])).toEqual(["0", "5e5", "1e6"]);
    expect(formatTicks([1e-4, 1e-3])).toEqual(["1e−4", "1e−3"]);
    expect(formatTicks([-2, 2])).toEqual(["−2", "2"]);
  });
});

describe("test/report/xml.ts", () => {
  it("rejects malformed markup, so the chart tests can fail", () => {
    for (const bad of [
      "<a>",
      "<a></b>",
      "<a x=1/>",
      '<a x="1" x="2"/>',
      "<a>&</a>",
      "<a/><b/>",
      '<a x="<"/>',
      "<a>&nope;</a>",
    ]) {
      expect(() => parseXml(bad), bad).toThrow();
    }
    expect(parseXml('<a x="&amp;">t&lt;<b/>u</a>')).toMatchObject({
      attrs: { x: "&" },
      text: "t<u",
    });
  });
});
