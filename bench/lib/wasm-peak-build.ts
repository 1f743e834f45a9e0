/**
 * Build `bench/wasm-peak.c` into its two WebAssembly variants with the toolchain the wasm
 * backend is built with (`wasm/build.js`: Debian's clang-16 and wasm-ld-16, no libc), cached in
 * the OS temp directory by the source's and the compiler's hash.
 */
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import { RELAXED_SIMD_PROBE } from "./wasm-peak.js";

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd}: ${(stderr || err.message).trim().split("\n")[0]}`));
      else resolve(stdout);
    });
  });
}

/** The first of `names` that runs with --version; its path and version line. */
async function findTool(names: string[]): Promise<{ cmd: string; version: string } | undefined> {
  for (const cmd of names) {
    try {
      const out = await run(cmd, ["--version"]);
      return { cmd, version: out.split("\n")[0] ?? "" };
    } catch {
      // Try the next name.
    }
  }
  return undefined;
}

export interface WasmPeakBinaries {
  simd: Uint8Array<ArrayBuffer>;
  relaxed: Uint8Array<ArrayBuffer>;
  /** The compiler's version line. */
  compiler: string;
}

/** `cmd` as an absolute path: clang's -fuse-ld takes a linker name only when it is a path. */
function onPath(cmd: string): string {
  if (isAbsolute(cmd)) return cmd;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return cmd;
}

let built: Promise<WasmPeakBinaries> | undefined;

/** Both variants of wasm-peak.c (CLANG and WASM_LD override the tools, as in wasm/build.js). */
export function buildWasmPeak(source: string): Promise<WasmPeakBinaries> {
  built ??= (async () => {
    const clang = await findTool(process.env.CLANG ? [process.env.CLANG] : ["clang-16", "clang"]);
    const ld = await findTool(
      process.env.WASM_LD ? [process.env.WASM_LD] : ["wasm-ld-16", "wasm-ld"],
    );
    if (!clang || !ld) {
      throw new Error(
        "building bench/wasm-peak.c needs clang and wasm-ld with the wasm32 target " +
          "(Debian: apt-get install clang-16 lld-16), or CLANG and WASM_LD set",
      );
    }
    const hash = createHash("sha256")
      .update(readFileSync(source))
      .update(clang.version)
      .update(ld.version)
      .digest("hex")
      .slice(0, 12);
    const dir = join(tmpdir(), "tsgrad-bench");
    mkdirSync(dir, { recursive: true });
    const out = (v: string) => join(dir, `wasm-peak-${hash}-${v}.wasm`);
    const flags: Record<"simd" | "relaxed", string[]> = {
      simd: [],
      relaxed: ["-mrelaxed-simd", "-DPEAK_RELAXED"],
    };
    for (const [variant, extra] of Object.entries(flags)) {
      const file = out(variant);
      if (existsSync(file)) continue;
      const tmp = `${file}.${process.pid}`;
      await run(clang.cmd, [
        "--target=wasm32",
        "-O3",
        "-nostdlib",
        "-ffreestanding",
        "-msimd128",
        ...extra,
        `-fuse-ld=${onPath(ld.cmd)}`,
        "-Wl,--no-entry",
        "-Wl,--strip-all",
        "-o",
        tmp,
        source,
      ]);
      renameSync(tmp, file);
    }
    const read = (v: string) => new Uint8Array(readFileSync(out(v)));
    return { simd: read("simd"), relaxed: read("relaxed"), compiler: clang.version };
  })();
  return built;
}

/**
 * The Node flags that turn relaxed SIMD on: none where this Node validates it already, Node
 * 20's `--experimental-wasm-relaxed-simd` where that makes it validate; else why not (a string).
 */
export function nodeRelaxedSimdFlags(): string[] | string {
  relaxedFlags ??= probeRelaxedFlags();
  return relaxedFlags;
}

let relaxedFlags: string[] | string | undefined;

function probeRelaxedFlags(): string[] | string {
  if (WebAssembly.validate(RELAXED_SIMD_PROBE)) return [];
  const flag = "--experimental-wasm-relaxed-simd";
  const probe = `process.exit(WebAssembly.validate(new Uint8Array([${RELAXED_SIMD_PROBE.join(",")}])) ? 0 : 1)`;
  const r = spawnSync(process.execPath, [flag, "-e", probe], { stdio: "ignore" });
  return r.status === 0
    ? [flag]
    : `Node ${process.version} has no relaxed SIMD, with or without ${flag}`;
}
