/**
 * The reversal ablation of the Multi30k seq2seq recipe: one row per finished run of the
 * experiment, read from the run folders only (nothing is trained here). A second table gives
 * each run's validation BLEU after every full epoch: the runs see the same batches step for step,
 * so that comparison holds at equal compute even when a shared machine gave one run fewer steps
 * within the same time budget.
 *
 *   npx tsx recipes/multi30k-seq2seq/compare.ts [runs-folder] [experiment]
 *
 * defaults: runs, multi30k-seq2seq.
 */
import { readFileSync } from "node:fs";
import * as tg from "../../src/index.js";

const [root = "runs", experiment = "multi30k-seq2seq"] = process.argv.slice(2);
const fmt = (v: unknown, digits = 2) => (typeof v === "number" ? v.toFixed(digits) : "—");
const finished = tg.io.listRuns(root, experiment).filter((r) => r.summary !== null);
const source = (r: (typeof finished)[number]) =>
  (r.config as { reverseSource: boolean }).reverseSource ? "reversed" : "as is";
const rows = finished.map((r) => {
  const c = r.config as { reverseSource: boolean; maxMinutes: number; seed: number };
  const s = r.summary!;
  return [
    source(r),
    String(c.seed),
    String(s.epochs),
    String(s.steps),
    fmt(s.bestValBleu),
    fmt(s.testBleu),
    fmt(s.elapsedMinutes, 1),
    fmt(s.tokensPerSecond, 0),
    String(s.backend),
    r.dir,
  ];
});
if (rows.length === 0) {
  console.error(`no finished runs in ${root}/${experiment}`);
  process.exitCode = 1;
} else {
  const head = [
    "source",
    "seed",
    "epochs",
    "steps",
    "val BLEU",
    "test BLEU",
    "minutes",
    "tok/s",
    "backend",
    "run",
  ];
  console.log(`| ${head.join(" | ")} |\n|${head.map(() => "---").join("|")}|`);
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);

  // Validation BLEU (greedy) after each full epoch, per run.
  const perEpoch = finished.map((r) => {
    const bleu = new Map<number, number>();
    for (const line of readFileSync(`${r.dir}/metrics.jsonl`, "utf8").split("\n")) {
      if (line.trim() === "") continue;
      const m = JSON.parse(line) as { kind?: string; partial?: boolean; epoch?: number };
      if (m.kind === "epoch" && m.partial === false) {
        bleu.set(m.epoch!, (m as { valBleu: number }).valBleu);
      }
    }
    return bleu;
  });
  const epochs = Math.max(0, ...perEpoch.map((b) => Math.max(0, ...b.keys())));
  const cols = Array.from({ length: epochs }, (_, i) => String(i + 1));
  console.log(`\nvalidation BLEU (greedy) after each full epoch\n`);
  console.log(`| source | ${cols.join(" | ")} |\n|---|${cols.map(() => "---:").join("|")}|`);
  finished.forEach((r, i) => {
    const cells = cols.map((_, e) => fmt(perEpoch[i]!.get(e + 1)));
    console.log(`| ${source(r)} | ${cells.join(" | ")} |`);
  });
}
