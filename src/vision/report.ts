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
  r.figure(
    "confusion",
    confusionMatrixChart({
      title: "Test confusion matrix",
      matrix: summary.confusion as number[][],
      labels: classes,
      width: 640,
      height: 600,
    }),
    "Rows: true class; columns: predicted class",
  );
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
