/**
 * The machine's measured fp32 peak: `bench/fma-peak.cc` (independent FMA chains on the widest
 * vectors the CPU has), built once with the system C++ compiler and run at the benchmark's thread
 * count. The sgemm "% of peak" is read against this rather than the nominal cores × FLOP/cycle ×
 * clock, which a VM gets wrong both ways (its /proc/cpuinfo shows the base clock, not the boost;
 * AMD's Zen 4 runs AVX-512 on 256-bit units), and it is measured in every round, because this
 * machine's speed drifts over minutes: a round's sgemm is divided by its own round's peak.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { cpuinfo } from "./machine.js";

/** A peak measurement: GFLOP/s, or why there is none. */
export type Peak = { gflops: number } | { unavailable: string };

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: env ?? process.env, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd}: ${(stderr || err.message).trim().split("\n")[0]}`));
      else resolve(stdout);
    });
  });
}

/** The figure a fma-peak run printed (its "best: X GFLOP/s" line). */
export function parsePeak(stdout: string): number | undefined {
  const m = /^best: ([\d.]+) GFLOP\/s$/m.exec(stdout);
  const x = m ? Number(m[1]) : Number.NaN;
  return Number.isFinite(x) && x > 0 ? x : undefined;
}

let built: Promise<string> | undefined;

/**
 * Build fma-peak.cc, cached in the OS temp directory by the source's and the CPU's hash (the
 * binary is built for this CPU's instruction set); the binary's path.
 */
function build(source: string): Promise<string> {
  built ??= (async () => {
    const hash = createHash("sha256")
      .update(readFileSync(source))
      .update(
        cpuinfo()
          .match(/^(model name|flags)\s*:.*$/gm)
          ?.join("\n") ?? "",
      )
      .digest("hex")
      .slice(0, 12);
    const bin = join(os.tmpdir(), `tsgrad-fma-peak-${hash}`);
    if (existsSync(bin)) return bin;
    const tmp = `${bin}.${process.pid}`;
    await run(process.env.CXX ?? "g++", ["-O3", "-march=native", "-fopenmp", source, "-o", tmp]);
    renameSync(tmp, bin);
    return bin;
  })();
  return built;
}

/** Measure the fp32 FMA peak on `threads` threads (a second or so). */
export async function measurePeak(source: string, threads: number): Promise<Peak> {
  try {
    const bin = await build(source);
    const out = await run(bin, [], {
      ...process.env,
      OMP_NUM_THREADS: String(threads),
      OMP_WAIT_POLICY: "PASSIVE",
    });
    const gflops = parsePeak(out);
    return gflops === undefined ? { unavailable: `no figure in: ${out.trim()}` } : { gflops };
  } catch (e) {
    return { unavailable: (e as Error).message };
  }
}
