import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { allText, findAll, parseXml } from "./xml.js";

const dir = mkdtempSync(join(tmpdir(), "tsgrad-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function build(): tg.report.Report {
  const loss = tg.report.lineChart({ series: [{ name: "loss", y: [1, 0.5, 0.25] }] });
  const acc = tg.report.barChart({
    groups: ["a", "b"],
    series: [{ name: "acc", values: [0.9, 0.95] }],
  });
  return new tg.report.Report("Run <42> & co")
    .paragraph("Loss *fell* as expected; see [figure].")
    .heading("Summary")
    .keyValues({ "test accuracy": 0.981234, epochs: 3, note: null, best: tg.scalar(0.5) })
    .heading("Per epoch", 3)
    .table(
      ["epoch", "loss", "split"],
      [
        [1, 0.5123456, "train|val"],
        [2, 0.25, "x"],
      ],
      "Losses",
    )
    .figure("loss", loss, "Training loss")
    .figure("acc", acc);
}

describe("tg.report.Report.toHtml", () => {
  const html = build().toHtml();
  const doc = parseXml(html);

  it("is one well-formed, self-contained page", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(doc.name).toBe("html");
    expect(findAll(doc, (n) => n.name === "style")).toHaveLength(1);
    expect(findAll(doc, (n) => ["script", "link", "img"].includes(n.name))).toHaveLength(0);
  });

  it("contains the title, text, summary, table and inline figures, escaped", () => {
    expect(allText(findAll(doc, (n) => n.name === "h1")[0]!)).toBe("Run <42> & co");
    expect(allText(findAll(doc, (n) => n.name === "p")[0]!)).toBe(
      "Loss *fell* as expected; see [figure].",
    );
    expect(findAll(doc, (n) => n.name === "h2").map(allText)).toEqual(["Summary"]);
    expect(findAll(doc, (n) => n.name === "h3").map(allText)).toEqual(["Per epoch"]);
    const [summary, table] = findAll(doc, (n) => n.name === "table");
    expect(findAll(summary!, (n) => n.name === "tr").map(allText)).toEqual([
      "test accuracy0.9812",
      "epochs3",
      "note—",
      "best0.5",
    ]);
    expect(findAll(table!, (n) => n.name === "th").map(allText)).toEqual([
      "epoch",
      "loss",
      "split",
    ]);
    expect(findAll(table!, (n) => n.name === "td").map(allText)).toEqual([
      "1",
      "0.5123",
      "train|val",
      "2",
      "0.25",
      "x",
    ]);
    expect(allText(findAll(table!, (n) => n.name === "caption")[0]!)).toBe("Losses");
    const figures = findAll(doc, (n) => n.name === "figure");
    expect(figures.map((f) => f.attrs.id)).toEqual(["loss", "acc"]);
    expect(figures.map((f) => f.children[0]!.name)).toEqual(["svg", "svg"]);
    expect(allText(findAll(figures[0]!, (n) => n.name === "figcaption")[0]!)).toBe("Training loss");
  });

  it("gives every figure's element ids their own prefix so they stay unique in the page", () => {
    const ids = findAll(doc, (n) => n.attrs.id !== undefined).map((n) => n.attrs.id!);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain("fig1-plot-area");
    expect(ids).toContain("fig2-plot-area");
    expect(html).toContain('clip-path="url(#fig2-plot-area)"');
    expect(html).not.toContain("url(#plot-area)");
  });

  it("rejects bad figure names, duplicates, non-SVG figures and ragged tables", () => {
    const r = new tg.report.Report("x").figure("a", "<svg/>");
    expect(() => r.figure("a", "<svg/>")).toThrow(/already a figure named "a"/);
    expect(() => r.figure("../up", "<svg/>")).toThrow(/must be letters/);
    expect(() => r.figure("b", "<png/>")).toThrow(/not an SVG document/);
    expect(() => r.table(["a", "b"], [[1]])).toThrow(/row 0 has 1 cells for 2 columns/);
  });
});

describe("tg.report.Report.toMarkdown", () => {
  it("renders headings, escaped text, a summary list, an aligned table and figure links", () => {
    const md = build().toMarkdown();
    expect(md).toContain("# Run \\<42\\> \\& co\n");
    expect(md).toContain("Loss \\*fell\\* as expected; see \\[figure\\].");
    expect(md).toContain("## Summary");
    expect(md).toContain("### Per epoch");
    expect(md).toContain(
      "- **test accuracy:** 0.9812\n- **epochs:** 3\n- **note:** —\n- **best:** 0.5",
    );
    expect(md).toContain(
      "| epoch | loss | split |\n| ---: | ---: | --- |\n| 1 | 0.5123 | train\\|val |\n| 2 | 0.25 | x |",
    );
    expect(md).toContain("*Losses*");
    expect(md).toContain("![Training loss](figures/loss.svg)");
    expect(md).toContain("![acc](figures/acc.svg)");
    expect(build().toMarkdown({ figureDir: "img", png: true })).toContain("![acc](img/acc.png)");
  });

  it("saves the Markdown with its figures as files next to it, and the HTML as one file", () => {
    const r = build();
    r.saveMarkdown(join(dir, "report/README.md"), { png: true });
    r.saveHtml(join(dir, "report/index.html"));
    expect(readFileSync(join(dir, "report/README.md"), "utf8")).toBe(r.toMarkdown({ png: true }));
    expect(readFileSync(join(dir, "report/figures/loss.svg"), "utf8").startsWith("<svg")).toBe(
      true,
    );
    expect(Array.from(readFileSync(join(dir, "report/figures/acc.png")).subarray(1, 4))).toEqual([
      80, 78, 71,
    ]);
    expect(readFileSync(join(dir, "report/index.html"), "utf8")).toBe(r.toHtml());
  });
});
