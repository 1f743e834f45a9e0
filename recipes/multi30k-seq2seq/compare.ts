/**
 * The reversal ablation of the Multi30k seq2seq recipe: one row per finished run of the
 * experiment, read from the run folders only (nothing is trained here).
 *
 *   npx tsx recipes/multi30k-seq2seq/compare.ts [runs-folder] [experiment]
 *
 * defaults: runs, multi30k-seq2seq.
 */
import * as tg from "../../src/index.ts";

const [root = "runs", experiment = "multi30k-seq2seq"] = process.argv.slice(2);
const fmt = (v: unknown, digits = 2) => (typeof v === "number" ? v.toFixed(digits) : "—");
const rows = tg.io
  .listRuns(root, experiment)
  .filter((r) => r.summary !== null)
  .map((r) => {
    const c = r.config as { reverseSource: boolean; maxMinutes: number; seed: number };
    const s = r.summary!;
    return [
      c.reverseSource ? "reversed" : "as is",
      String(c.seed),
      String(s.epochs),
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
    "val BLEU",
    "test BLEU",
    "minutes",
    "tok/s",
    "backend",
    "run",
  ];
  console.log(`| ${head.join(" | ")} |\n|${head.map(() => "---").join("|")}|`);
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
}
