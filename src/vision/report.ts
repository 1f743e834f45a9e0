/** The report of an image-classification run: curves, confusion matrix, summary (HTML + Markdown). */
import type { MetricsRecord } from "../io/runs.js";
import { confusionMatrixChart } from "../report/confusion.js";
import { Report } from "../report/document.js";
import { lineChart } from "../report/xy.js";

export function writeImageReport(
  dir: string,
  config: object,
  summary: Record<string, unknown>,
  metrics: readonly MetricsRecord[],
): void {
  const steps = metrics.filter((m) => typeof m.trainLoss === "number");
  const epochs = metrics.filter((m) => typeof m.trainLossEpoch === "number");
  const num = (m: MetricsRecord, k: string) => m[k] as number;
  const r = new Report("Image classification run");
  r.keyValues({
    "test accuracy": summary.testAccuracy,
    ...(summary.singleViewTestAccuracy !== undefined
      ? {
          "test views": summary.testViews,
          "test accuracy, single view": summary.singleViewTestAccuracy,
        }
      : {}),
    "best validation accuracy": summary.bestValAccuracy,
    "wall time (s)": summary.wallSeconds,
    "images/s": summary.imagesPerSec,
    backend: summary.backend,
    threads: summary.threads,
    "matmul precision": `${String(summary.matmulPrecision)}${summary.bf16Compute ? " (bf16 products)" : ""}`,
    parameters: summary.parameters,
  });
  r.figure(
    "loss",
    lineChart({
      title: "Loss",
      x: { label: "step" },
      y: { label: "cross-entropy", scale: "log" },
      series: [
        {
          name: "train (50-step mean)",
          x: steps.map((m) => num(m, "step")),
          y: steps.map((m) => num(m, "trainLoss")),
          marker: "none",
        },
        ...(epochs.some((m) => typeof m.valLoss === "number")
          ? [
              {
                name: "validation",
                x: epochs.map((m) => num(m, "step")),
                y: epochs.map((m) => num(m, "valLoss")),
              },
            ]
          : []),
      ],
    }),
    "Training loss (per 50 steps) and validation loss (per epoch)",
  );
  if (epochs.some((m) => typeof m.valAccuracy === "number")) {
    r.figure(
      "accuracy",
      lineChart({
        title: "Validation accuracy",
        x: { label: "epoch" },
        y: { label: "accuracy" },
        series: [
          {
            name: "validation",
            x: epochs.map((m) => num(m, "epoch")),
            y: epochs.map((m) => num(m, "valAccuracy")),
          },
        ],
      }),
      "Validation accuracy per epoch",
    );
  }
  const lrs = epochs.map((m) => num(m, "lr"));
  r.figure(
    "lr",
    lineChart({
      title: "Learning rate",
      x: { label: "epoch" },
      // Step and plateau schedules span decades (log axis); cosine ends at exactly 0, which a log
      // axis cannot show.
      y: { label: "lr", scale: lrs.every((v) => v > 0) ? "log" : "linear" },
      series: [{ name: "lr", x: epochs.map((m) => num(m, "epoch")), y: lrs }],
    }),
    "Learning rate at the end of each epoch",
  );
  const classes = summary.classes as string[];
  const confusion = summary.confusion as number[][];
  // The canvas grows with the classes (about 12 px a cell) up to a bound that keeps the SVG and
  // its PNG a sensible size; beyond it the chart groups neighbouring classes.
  const side = Math.min(1600, Math.max(600, 200 + 12 * classes.length));
  r.figure(
    "confusion",
    confusionMatrixChart({
      title: "Test confusion matrix",
      matrix: confusion,
      labels: classes,
      width: side + 40,
      height: side,
    }),
    "Rows: true class; columns: predicted class",
  );
  // With many classes the cells are too small to read: list the largest confusions instead.
  if (classes.length > 20) {
    const top = topConfusions(confusion, 20);
    r.table(
      ["true class", "predicted class", "test images", "share of the true class"],
      top.map((c) => [classes[c.truth], classes[c.predicted], c.count, c.share]),
      `The ${top.length} most frequent confusions`,
    );
  }
  r.table(
    ["epoch", "train loss", "val loss", "val accuracy", "lr", "images/s"],
    epochs.map((m) => [
      m.epoch,
      m.trainLossEpoch,
      m.valLoss ?? null,
      m.valAccuracy ?? null,
      m.lr,
      m.imagesPerSec,
    ]),
    "Per-epoch metrics",
  );
  r.heading("Configuration").paragraph(JSON.stringify(config));
  r.saveHtml(`${dir}/report.html`);
  r.saveMarkdown(`${dir}/report.md`, { png: true });
}

/** One off-diagonal cell of a confusion matrix. */
export interface Confusion {
  truth: number;
  predicted: number;
  count: number;
  /** `count` over the true class's test images. */
  share: number;
}

/**
 * The `k` largest off-diagonal entries of `confusion[true][predicted]`, largest first (ties by
 * true then predicted class). Zero counts are not confusions and are never listed.
 */
export function topConfusions(confusion: readonly (readonly number[])[], k: number): Confusion[] {
  const out: Confusion[] = [];
  confusion.forEach((row, truth) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, predicted) => {
      if (predicted !== truth && count > 0) {
        out.push({ truth, predicted, count, share: count / total });
      }
    });
  });
  out.sort((a, b) => b.count - a.count || a.truth - b.truth || a.predicted - b.predicted);
  return out.slice(0, k);
}
