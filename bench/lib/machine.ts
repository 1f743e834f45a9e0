/** Facts about the machine and checkout a benchmark run records next to its figures. */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";

export interface MachineInfo {
  cpuModel: string;
  /** Cores this process may use. */
  cores: number;
  clockGHz: number;
  /** Where the clock came from: /proc/cpuinfo, --clock-ghz, or the 2.1 GHz default. */
  clockSource: string;
  /** fp32 FLOP per cycle per core: 2 FMA units × vector lanes × 2. */
  flopsPerCycle: number;
  isa: string[];
  /**
   * cores × FLOP/cycle × clock: the nominal peak. The report reads sgemm against the peak
   * measured in the same round (`peak.ts`) when it can, this only when it cannot.
   */
  peakGflops: number;
  memoryGiB: number;
  os: string;
  node: string;
}

/** The text of /proc/cpuinfo, or "" where there is none. */
export function cpuinfo(): string {
  try {
    return readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return "";
  }
}

/**
 * Read the CPU's model, clock and vector ISA, and derive its nominal fp32 peak (from `info`, the
 * text of /proc/cpuinfo by default).
 */
export function machineInfo(clockOverride?: number, info = cpuinfo()): MachineInfo {
  const field = (name: string) =>
    new RegExp(`^${name}\\s*:\\s*(.*)$`, "m").exec(info)?.[1]?.trim() ?? "";
  const flags = new Set(field("flags").split(/\s+/));
  const isa = ["avx2", "fma", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"].filter((f) =>
    flags.has(f),
  );
  // Two FMA pipes per core on every AVX-512 / AVX2 server core of the last decade; AMD before
  // Zen 5 (family 26) executes AVX-512 on 256-bit units, so Zen 4 has the FLOP/cycle of AVX2.
  const halfWidthAvx512 = field("vendor_id") === "AuthenticAMD" && Number(field("cpu family")) < 26;
  const lanes = flags.has("avx512f") && !halfWidthAvx512 ? 16 : flags.has("avx2") ? 8 : 4;
  const flopsPerCycle = 2 * lanes * 2;
  const mhz = Number(field("cpu MHz"));
  let clockGHz: number;
  let clockSource: string;
  if (clockOverride !== undefined) {
    clockGHz = clockOverride;
    clockSource = "--clock-ghz";
  } else if (mhz > 0) {
    clockGHz = mhz / 1000;
    clockSource = "/proc/cpuinfo (cpu MHz)";
  } else {
    clockGHz = 2.1;
    clockSource = "assumed 2.1 GHz (/proc/cpuinfo has no clock)";
  }
  const cores = os.availableParallelism();
  return {
    cpuModel: field("model name") || (os.cpus()[0]?.model ?? "unknown"),
    cores,
    clockGHz,
    clockSource,
    flopsPerCycle,
    isa,
    peakGflops: cores * flopsPerCycle * clockGHz,
    memoryGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

/** The checkout's short commit hash and whether the tree has uncommitted changes. */
export function gitInfo(root: string): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root })
      .toString()
      .trim();
    const status = execFileSync("git", ["status", "--porcelain"], { cwd: root }).toString();
    return { commit, dirty: status.trim() !== "" };
  } catch {
    return { commit: "nogit", dirty: false };
  }
}

/** Installed versions of the JS peers (from their package.json files). */
export function packageVersions(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [
    "@tensorflow/tfjs-core",
    "@tensorflow/tfjs-backend-cpu",
    "@tensorflow/tfjs-backend-wasm",
    "@jax-js/jax",
  ]) {
    const p = `${root}/node_modules/${name}/package.json`;
    out[name] = existsSync(p)
      ? (JSON.parse(readFileSync(p, "utf8")) as { version: string }).version
      : "not installed";
  }
  const own = JSON.parse(readFileSync(`${root}/package.json`, "utf8")) as { version: string };
  out.tsgrad = own.version;
  return out;
}

/** 1-, 5- and 15-minute load averages. */
export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = os.loadavg();
  return [a, b, c];
}
