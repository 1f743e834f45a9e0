/**
 * One framework × workload measurement, as a Node child process (`bench/child.ts`) and a
 * browser Web Worker (`bench/browser/worker.ts`) both run it: sgemm at each size, or a training
 * step timed in windows (`measure.ts`); under `--check`, a few steps on one batch whose loss
 * must fall, sgemm results against float64 dot products, and the peer's own checks. Nothing
 * here touches Node or the DOM, so the two environments measure with the same code.
 */
import type { Peer, Sgemm } from "../peers/peer.js";
import { measure, seededUniform } from "./measure.js";
import {
  type CheckResult,
  type ChildRequest,
  type ChildResult,
  type Figure,
  PeerAbsent,
} from "./protocol.js";
import { LSTM_LM, lstmFlopsPerToken, modelFlopsPerImage } from "./specs.js";

/** Largest |C - A·B| over 64 sampled entries, against float64 dot products, relative to |C|max. */
async function sgemmError(g: Sgemm, n: number, a: Float32Array, b: Float32Array): Promise<number> {
  const c = await g.result();
  const u = seededUniform(7);
  let err = 0;
  let scale = 0;
  for (let s = 0; s < 64; s++) {
    const i = Math.floor(u() * n);
    const j = Math.floor(u() * n);
    let ref = 0;
    for (let k = 0; k < n; k++) ref += a[i * n + k]! * b[k * n + j]!;
    err = Math.max(err, Math.abs(c[i * n + j]! - ref));
    scale = Math.max(scale, Math.abs(ref));
  }
  return err / scale;
}

async function runSgemm(
  peer: Peer,
  req: ChildRequest,
  log: (msg: string) => void,
  figures: Figure[],
  checks: CheckResult[],
): Promise<void> {
  for (const n of req.sizes) {
    const u = seededUniform(n);
    const a = Float32Array.from({ length: n * n }, () => 2 * u() - 1);
    const b = Float32Array.from({ length: n * n }, () => 2 * u() - 1);
    const g = await peer.sgemm(n, a, b);
    if (req.check) {
      const rel = await sgemmError(g, n, a, b);
      // float32 accumulation over n terms: relative error grows like sqrt(n)·2^-24; with --bf16
      // each operand is first rounded to 8 significant bits (relative error up to 2^-9).
      checks.push({
        name: `sgemm-${n}`,
        ok: rel < (req.bf16 ? 1e-2 : 1e-4),
        detail: `max rel. error ${rel.toExponential(2)}`,
      });
      log(`sgemm ${n}: max relative error vs float64 ${rel.toExponential(2)}`);
      continue;
    }
    const flops = 2 * n ** 3;
    const f = await measure(
      {
        name: `sgemm-${n}`,
        unit: "GFLOP/s",
        itemsPerStep: flops / 1e9,
        flopsPerStep: flops,
        step: () => g.run(),
      },
      req.timing,
    );
    log(`sgemm ${n}: ${f.median.toFixed(2)} GFLOP/s (${f.windows} windows, ${f.steps} products)`);
    figures.push(f);
  }
}

async function runTraining(
  peer: Peer,
  req: ChildRequest,
  log: (msg: string) => void,
  figures: Figure[],
  checks: CheckResult[],
  losses: number[],
): Promise<void> {
  const trainer = await peer.trainer(req);
  if (req.check) {
    for (let i = 0; i < req.checkSteps; i++) {
      losses.push(await trainer.step());
      log(`step ${i + 1}: loss ${losses[i]!.toFixed(4)}`);
    }
    const first = losses[0]!;
    const last = losses[losses.length - 1]!;
    checks.push({
      name: `${req.workload}-trains`,
      ok: Number.isFinite(last) && last < first,
      detail: `loss ${first.toFixed(4)} → ${last.toFixed(4)} over ${losses.length} steps`,
    });
    return;
  }
  let items: number;
  let flops: number;
  let unit: Figure["unit"];
  if (req.workload === "lstm") {
    items = LSTM_LM.seq * LSTM_LM.batch;
    flops = items * lstmFlopsPerToken();
    unit = "tokens/s";
  } else {
    items = req.model!.batch;
    flops = items * modelFlopsPerImage(req.model!);
    unit = "images/s";
  }
  const f = await measure(
    {
      name: req.workload,
      unit,
      itemsPerStep: items,
      flopsPerStep: flops,
      step: () => trainer.step(),
      onStep: (loss) => {
        // Keep the first loss and the latest: enough to see the run trains.
        if (losses.length < 2) losses.push(loss as number);
        else losses[1] = loss as number;
      },
    },
    req.timing,
  );
  log(
    `${f.median.toFixed(2)} ${unit} (${f.windows} windows, ${f.steps} steps, ` +
      `${f.secondsPerStep.toFixed(3)} s/step)`,
  );
  figures.push(f);
}

/**
 * Set the peer up and measure (or check) the request's workload; never throws: a `PeerAbsent`
 * becomes an "absent" result with its reason, anything else a "failed" one (the stack goes to
 * `log`). The caller adds the process's peak RSS where it has one.
 */
export async function runPair(
  load: () => Promise<Peer>,
  req: ChildRequest,
  log: (msg: string) => void,
): Promise<ChildResult> {
  try {
    const peer = await load();
    const { threadsUsed, info } = await peer.setup(req);
    const figures: Figure[] = [];
    const checks: CheckResult[] = [];
    const losses: number[] = [];
    if (req.workload === "sgemm") await runSgemm(peer, req, log, figures, checks);
    else await runTraining(peer, req, log, figures, checks, losses);
    if (req.check && peer.selfChecks) checks.push(...(await peer.selfChecks(req)));
    return { status: "ok", figures, losses, checks, threadsUsed, info };
  } catch (e) {
    const absent = e instanceof PeerAbsent;
    const reason = e instanceof Error ? (absent ? e.message : (e.stack ?? e.message)) : String(e);
    if (!absent) log(reason);
    return {
      status: absent ? "absent" : "failed",
      reason: absent ? reason : reason.split("\n")[0]!,
    };
  }
}
