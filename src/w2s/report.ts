/**
 * The weak-to-strong report: a PGR table with intervals and the reasons for undefined entries,
 * per-seed numbers, and plots of PGR against strong-model size (per weak model, with and without
 * the confidence loss) and of weak / student / ceiling accuracies — HTML and Markdown (SVG + PNG
 * figures) in the run folder.
 */
import { type BarSeries, barChart } from "../report/bars.js";
import { Report } from "../report/document.js";
import { PALETTE } from "../report/svg.js";
import { type Series, lineChart } from "../report/xy.js";
import type { W2sResults } from "./experiment.js";
import type { MeanInterval } from "./stats.js";

const VARIANT_NAME = { ce: "cross-entropy", aux: "aux. confidence" } as const;

const pct = (x: number) => (100 * x).toFixed(2);

/** "84.12 ± 0.35" (percent) or "84.12" for a single seed. */
function fmtAcc(m: MeanInterval): string {
  return m.high === null ? pct(m.mean) : `${pct(m.mean)} ± ${pct(m.high - m.mean)}`;
}

function fmtPgr(m: MeanInterval | null, reason: string | null): string {
  if (m === null) return `undefined: ${reason ?? ""}`;
  return m.high === null
    ? `${m.mean.toFixed(3)} (one seed)`
    : `${m.mean.toFixed(3)} [${m.low!.toFixed(3)}, ${m.high.toFixed(3)}]`;
}

/** The setup paragraphs of the report. */
function describeSetup(r: W2sResults): string[] {
  const c = r.config;
  const held = (n: number) => Math.round(c.heldoutFraction * n);
  return [
    r.task.description,
    `Per seed, the training pool is split at random into ${c.weakSize} examples with ground truth for ` +
      `the weak supervisor (${held(c.weakSize)} held out) and a disjoint ${c.transferSize} examples the weak ` +
      `model labels with its soft predictions (${held(c.transferSize)} held out); ceilings train on the ` +
      `transfer examples' ground truth, students on the weak soft labels. Test set: ${r.task.testSize} examples, ` +
      `the same for every seed, used for reporting only.`,
    `Every model: Adam, learning rate ${c.lr} cosine-decayed to 0, batch ${c.batchSize}, ${c.epochs} epochs, ` +
      `no augmentation or weight decay. Early stopping: ${
        c.earlyStop === "final"
          ? "none — the last epoch's weights are used"
          : "the epoch with the best agreement with the model's own supervision on its held-out slice " +
            "(weak labels for students: no ground truth involved)"
      }. Auxiliary confidence loss: (1 − α)·CE(f, weak) + α·CE(f, hardened f), α rising linearly from 0 to ` +
      `α_max = ${c.alphaMax} (${c.alphaMaxLargest} for the top of the ladder, ${r.task.ladder.at(-1)}) over the ` +
      `first ${100 * c.warmupFraction}% of steps; student predictions hardened ${
        c.hardening === "prior"
          ? "by the assignment matching the batch's weak-label class prior"
          : "by argmax"
      }.`,
    `PGR = (student − weak) / (ceiling − weak) per seed, undefined when the ceiling does not beat the weak ` +
      `model by more than 1.96 paired test-set standard errors. Aggregate: ${r.method}, over the seeds where it ` +
      `is defined; undefined when that is fewer than half of them. "Pooled" is the PGR of the mean accuracies.`,
  ];
}

/**
 * Write report.html, report.md and figures/ (SVG and PNG) into `dir`.
 *
 * @example
 * const { mkdtempSync, existsSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * const { config } = tg.w2s.w2sDefaults("fashion-mnist-sample", true);
 * const cfg = { ...config, epochs: 1, batchSize: 50, weakSize: 200, transferSize: 400 };
 * const grid = { weak: ["logistic"], strong: ["mlp:0.0625"], seeds: [0], auxConf: "off" };
 * const out = await tg.w2s.runWeakToStrong(cfg, grid, { dir, progress: null, report: false });
 * tg.w2s.writeW2sReport(dir, out.results);
 * console.log(existsSync(dir + "/report.html"), existsSync(dir + "/figures/accuracy.png")); // true true
 */
export function writeW2sReport(dir: string, r: W2sResults): void {
  const rep = new Report(`Weak-to-strong generalization: ${r.task.name}`);
  for (const p of describeSetup(r)) rep.paragraph(p);
  rep.keyValues({
    seeds: r.grid.seeds.join(", "),
    "weak models": r.grid.weak.join(", "),
    "strong models": r.grid.strong.join(", "),
    "early stopping": r.config.earlyStop,
    trainings: r.trainings.length,
    "training time (s)": Math.round(r.trainings.reduce((a, t) => a + t.seconds, 0)),
  });

  rep.heading("Performance gap recovered");
  rep.table(
    [
      "weak",
      "strong",
      "loss",
      "weak acc %",
      "student acc %",
      "ceiling acc %",
      "PGR [95% CI]",
      "defined seeds",
      "pooled PGR",
      "student–weak agreement %",
    ],
    r.pairs.map((p) => [
      p.weak,
      p.strong,
      p.variant === "aux" ? `aux (α_max ${p.alphaMax})` : "CE",
      fmtAcc(p.summary.weak),
      fmtAcc(p.summary.student),
      fmtAcc(p.summary.ceiling),
      fmtPgr(p.summary.pgr, p.summary.undefinedReason),
      `${p.summary.definedSeeds}/${p.summary.seeds}`,
      p.summary.pooled.defined
        ? p.summary.pooled.value.toFixed(3)
        : `undefined (${p.summary.pooled.kind})`,
      fmtAcc(p.studentWeakAgreement),
    ]),
    `Test accuracies as mean ± t-interval half-width over seeds; ${r.method}.`,
  );

  // PGR against strong-model size, one line per weak model and loss (defined points only).
  const series: Series[] = [];
  const weakModels = [...new Set(r.pairs.map((p) => p.weak))];
  weakModels.forEach((w, wi) => {
    for (const v of ["ce", "aux"] as const) {
      const pts = r.pairs.filter((p) => p.weak === w && p.variant === v && p.summary.pgr !== null);
      if (pts.length === 0) continue;
      series.push({
        name: `weak ${w}, ${VARIANT_NAME[v]}`,
        x: pts.map((p) => r.parameters[p.strong]!),
        y: pts.map((p) => p.summary.pgr!.mean),
        color: PALETTE[wi % PALETTE.length]!,
        ...(v === "aux" ? { dash: "6 3", marker: "square" as const } : {}),
      });
    }
  });
  if (series.length > 0) {
    rep.figure(
      "pgr-vs-strong",
      lineChart({
        title: "PGR vs strong-model size",
        x: { label: "strong model parameters", scale: "log" },
        // 0 (no better than the teacher) and 1 (the full ceiling) always in view.
        y: {
          label: "PGR (mean over seeds)",
          min: Math.min(0, ...series.flatMap((q) => Array.from(q.y as number[]))),
          max: Math.max(1, ...series.flatMap((q) => Array.from(q.y as number[]))),
        },
        series,
      }),
      "Mean PGR against the strong model's parameter count, per weak model; dashed: with the auxiliary confidence loss. Undefined PGRs are left out (see the table).",
    );
  } else {
    rep.paragraph(
      "No PGR is defined in this grid, so there is no PGR plot (see the reasons in the table).",
    );
  }

  const groups = [...new Set(r.pairs.map((p) => `${p.weak}→${p.strong}`))];
  const find = (g: string, v: "ce" | "aux") =>
    r.pairs.find((p) => `${p.weak}→${p.strong}` === g && p.variant === v);
  const variants = [...new Set(r.pairs.map((p) => p.variant))];
  const pgrGroups = groups.filter((g) => variants.some((v) => find(g, v)?.summary.pgr));
  if (pgrGroups.length > 0) {
    rep.figure(
      "pgr",
      barChart({
        title: "PGR per pair",
        groups: pgrGroups,
        series: variants.map((v) => {
          const m = pgrGroups.map((g) => find(g, v)?.summary.pgr ?? null);
          return {
            name: VARIANT_NAME[v],
            values: m.map((x) => x?.mean ?? 0),
            errors: m.map((x) => (x?.high != null ? x.high - x.mean : 0)),
          };
        }),
        y: { label: "PGR" },
      }),
      "Mean PGR with 95% t-intervals; a variant whose PGR is undefined for a pair is drawn at 0 without an interval.",
    );
  }
  const accSeries: BarSeries[] = [];
  const acc = (pick: (g: string) => MeanInterval | undefined, name: string) => {
    const m = groups.map(pick);
    accSeries.push({
      name,
      values: m.map((x) => x?.mean ?? 0),
      errors: m.map((x) => (x?.high != null ? x.high - x.mean : 0)),
    });
  };
  const any = (g: string) => find(g, "ce") ?? find(g, "aux");
  acc((g) => any(g)?.summary.weak, "weak");
  for (const v of variants) acc((g) => find(g, v)?.summary.student, `student, ${VARIANT_NAME[v]}`);
  acc((g) => any(g)?.summary.ceiling, "ceiling");
  const lows = accSeries.flatMap((s) => Array.from(s.values as number[]));
  rep.figure(
    "accuracy",
    barChart({
      title: "Test accuracy",
      groups,
      series: accSeries,
      y: {
        label: "accuracy",
        min: Math.max(0, Math.floor(20 * Math.min(...lows)) / 20 - 0.05),
        max: 1,
      },
    }),
    "Weak supervisor, students and strong ceiling per pair: mean test accuracy with 95% t-intervals over seeds.",
  );

  rep.heading("Per seed");
  rep.table(
    ["weak", "strong", "loss", "seed", "weak %", "student %", "ceiling %", "gap SE %", "PGR"],
    r.pairs.flatMap((p) =>
      p.seeds.map((s, i) => {
        const g = p.summary.perSeed[i]!;
        return [
          p.weak,
          p.strong,
          p.variant,
          s.seed,
          pct(s.weak),
          pct(s.student),
          pct(s.ceiling),
          pct(s.gapSe),
          g.defined ? g.value.toFixed(3) : `undefined: ${g.reason}`,
        ];
      }),
    ),
    "Gap SE: paired standard error of ceiling − weak on the test set.",
  );
  rep.heading("Trainings");
  rep.table(
    [
      "model",
      "test acc %",
      "last-epoch %",
      "best-held-out %",
      "selected epoch",
      "seconds",
      "examples/s",
    ],
    r.trainings.map((t) => [
      t.key,
      pct(t.testAccuracy),
      pct(t.finalTestAccuracy),
      pct(t.selectedTestAccuracy),
      t.selectedEpoch,
      Number(t.seconds.toFixed(1)),
      Math.round(t.examplesPerSec),
    ]),
    `Early stopping used: ${r.config.earlyStop}. Held-out agreement is measured against each model's own supervision.`,
  );
  rep.heading("Configuration").paragraph(JSON.stringify({ config: r.config, grid: r.grid }));
  rep.saveHtml(`${dir}/report.html`);
  rep.saveMarkdown(`${dir}/report.md`, { png: true });
}
