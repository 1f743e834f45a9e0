/**
 * The report of a translation run, built from its `metrics.jsonl` records alone (so it can be
 * regenerated for any run folder): loss, perplexity and BLEU per epoch as figures, a table of the
 * epochs, and the final scores with their sacreBLEU signatures.
 */
import { Report } from "../report/document.js";
import { lineChart } from "../report/xy.js";
import type { MetricsRecord } from "../io/runs.js";

/** One epoch's record in `metrics.jsonl` (`kind: "epoch"`). */
export interface EpochRecord {
  kind: "epoch";
  /** 1-based number of the epoch just finished. */
  epoch: number;
  /** True when training stopped inside this epoch (time budget or step limit). */
  partial: boolean;
  step: number;
  trainLoss: number;
  trainPerplexity: number;
  valLoss: number;
  valPerplexity: number;
  valBleu: number;
  valChrf: number;
  lr: number;
  /** Target tokens per second of training (evaluation excluded). */
  tokensPerSecond: number;
  trainSeconds: number;
  evalSeconds: number;
  /** Training + evaluation seconds since the run started, across resumes. */
  elapsedSeconds: number;
}

/** A final score of the best checkpoint (`kind: "final"`). */
export interface FinalRecord {
  kind: "final";
  split: string;
  beam: number;
  bleu: number;
  chrf: number;
  /** sacreBLEU-style rendering and signatures. */
  bleuText: string;
  bleuSignature: string;
  chrfSignature: string;
  sentences: number;
  /** File of the translations, one per line. */
  file: string;
}

const isEpoch = (r: MetricsRecord): r is MetricsRecord & EpochRecord => r.kind === "epoch";
const isFinal = (r: MetricsRecord): r is MetricsRecord & FinalRecord => r.kind === "final";

/**
 * Build the report of a run from its metrics records and summary.
 *
 * @example
 * const records = [1, 2, 3].map((epoch) => ({
 *   kind: "epoch", epoch, partial: false, step: 10 * epoch, trainLoss: 4 / epoch, trainPerplexity: Math.exp(4 / epoch),
 *   valLoss: 4.5 / epoch, valPerplexity: Math.exp(4.5 / epoch), valBleu: 10 * epoch, valChrf: 20 * epoch,
 *   lr: 1e-3, tokensPerSecond: 100, trainSeconds: 1, evalSeconds: 1, elapsedSeconds: 2 * epoch,
 * }));
 * const r = tg.translate.translationReport("demo", records, { bestValBleu: 30 });
 * console.log(r.toMarkdown().includes("![BLEU per epoch](figures/bleu.svg)")); // true
 */
export function translationReport(
  title: string,
  records: readonly MetricsRecord[],
  summary: Readonly<Record<string, unknown>>,
): Report {
  const epochs = records.filter(isEpoch);
  const finals = records.filter(isFinal);
  const r = new Report(title);
  // Nested values (the per-split scores) have their own table below.
  const flat = Object.entries(summary).filter(([, v]) => v === null || typeof v !== "object");
  r.keyValues(Object.fromEntries(flat), "Run summary");
  if (finals.length > 0) {
    r.heading("Scores of the best checkpoint");
    r.table(
      ["split", "beam", "BLEU", "chrF", "sentences", "file"],
      finals.map((f) => [f.split, f.beam, f.bleu, f.chrf, f.sentences, f.file]),
    );
    for (const f of finals) {
      r.paragraph(`${f.split}: ${f.bleuText} | BLEU ${f.bleuSignature} | chrF ${f.chrfSignature}`);
    }
  }
  if (epochs.length > 0) {
    const axis = { label: "epoch" };
    // A diverged epoch has an infinite perplexity: it is in the table, not on the curves.
    const series = (name: string, y: (e: EpochRecord) => number) => {
      const ok = epochs.filter((e) => Number.isFinite(y(e)));
      return { name, x: ok.map((e) => e.epoch), y: ok.map(y) };
    };
    r.heading("Training curves");
    r.figure(
      "loss",
      lineChart({
        title: "Cross-entropy per target token",
        series: [series("train", (e) => e.trainLoss), series("validation", (e) => e.valLoss)],
        x: axis,
        y: { label: "loss (nats)" },
      }),
      "Loss per epoch",
    );
    r.figure(
      "perplexity",
      lineChart({
        title: "Perplexity",
        series: [
          series("train", (e) => e.trainPerplexity),
          series("validation", (e) => e.valPerplexity),
        ],
        x: axis,
        y: { label: "perplexity", scale: "log" },
      }),
      "Perplexity per epoch",
    );
    r.figure(
      "bleu",
      lineChart({
        title: "Validation BLEU",
        series: [series("BLEU", (e) => e.valBleu), series("chrF", (e) => e.valChrf)],
        x: axis,
        y: { label: "score", min: 0 },
      }),
      "BLEU per epoch",
    );
    r.heading("Epochs");
    r.table(
      ["epoch", "step", "train loss", "val loss", "val ppl", "val BLEU", "val chrF", "lr", "tok/s"],
      epochs.map((e) => [
        e.partial ? `${e.epoch} (partial)` : e.epoch,
        e.step,
        e.trainLoss,
        e.valLoss,
        e.valPerplexity,
        e.valBleu,
        e.valChrf,
        e.lr,
        Math.round(e.tokensPerSecond),
      ]),
    );
  }
  return r;
}

/**
 * Write `report.html`, `report.md` and `figures/*.svg|png` of a run into `dir`.
 *
 * @example
 * const { mkdtempSync, existsSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * tg.translate.saveTranslationReport(dir, "empty run", [], { status: "interrupted" });
 * console.log(existsSync(dir + "/report.html"), existsSync(dir + "/report.md")); // true true
 */
export function saveTranslationReport(
  dir: string,
  title: string,
  records: readonly MetricsRecord[],
  summary: Readonly<Record<string, unknown>>,
): void {
  const r = translationReport(title, records, summary);
  r.saveHtml(`${dir}/report.html`);
  r.saveMarkdown(`${dir}/report.md`, { png: true });
}
