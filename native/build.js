#!/usr/bin/env node
/**
 * Build the tsgrad native addon (native/build/Release/tsgrad_native.node) from source against the
 * system oneDNN. Nothing is downloaded: the Node headers come from the local Node installation
 * and oneDNN from the system (Debian/Ubuntu: `apt-get install libdnnl-dev`).
 *
 *   node native/build.js            build, or fail with the compiler's output (npm run build:native)
 *   node native/build.js --install  npm's install hook: build when oneDNN and a C++ compiler are
 *                                   present, otherwise print one line and exit 0, so that
 *                                   installing tsgrad never fails where the addon cannot be built
 *                                   (browsers, macOS without oneDNN, CI images without a compiler).
 *
 * Environment: TSGRAD_SKIP_NATIVE=1 skips the build; DNNLROOT points at a oneDNN install prefix.
 * TSGRAD_NATIVE_ASAN=1 builds with AddressSanitizer, for checking that no kernel reads or writes
 * outside its arrays; never for use otherwise. It sees the addon's own loops and libc copies, not
 * oneDNN's JIT kernels (valgrind does). Node itself is not instrumented, so load the runtime first
 * and leave leak checks off (Node and oneDNN keep allocations until exit):
 *
 *   TSGRAD_NATIVE_ASAN=1 node native/build.js
 *   LD_PRELOAD=$(gcc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 \
 *     npx vitest run test/backends/native-safety.test.ts
 *
 * and rebuild without it afterwards.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const installMode = process.argv.includes("--install");
const errorLog = join(here, "build", "build-error.log");

/** Print one line and stop: an error for `build:native`, a notice (exit 0) during install. */
function stop(message, detail = "") {
  if (installMode) {
    mkdirSync(join(here, "build"), { recursive: true });
    writeFileSync(errorLog, `${message}\n${detail}`);
    console.log(`tsgrad: native backend not built (${message}); the JS backend will be used.`);
    process.exit(0);
  }
  if (detail) console.error(detail);
  console.error(`tsgrad: native build failed: ${message}`);
  process.exit(1);
}

if (process.env.TSGRAD_SKIP_NATIVE === "1") stop("TSGRAD_SKIP_NATIVE=1");

const envDirs = (name, sub) =>
  (process.env[name] ?? "")
    .split(delimiter)
    .filter(Boolean)
    .map((d) => (sub ? join(d, sub) : d));
const root = process.env.DNNLROOT;
const includeDirs = [
  ...(root ? [join(root, "include")] : []),
  ...envDirs("CPATH"),
  ...envDirs("CPLUS_INCLUDE_PATH"),
  "/usr/include",
  "/usr/local/include",
  "/opt/homebrew/include",
];
const libDirs = [
  ...(root ? [join(root, "lib"), join(root, "lib64")] : []),
  ...envDirs("LIBRARY_PATH"),
  `/usr/lib/${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu`,
  "/usr/lib64",
  "/usr/lib",
  "/usr/local/lib",
  "/opt/homebrew/lib",
];
const dnnlInclude = includeDirs.find(
  (d) => existsSync(join(d, "oneapi", "dnnl", "dnnl.hpp")) || existsSync(join(d, "dnnl.hpp")),
);
const dnnlLib = libDirs.find(
  (d) => existsSync(join(d, "libdnnl.so")) || existsSync(join(d, "libdnnl.dylib")),
);
if (!dnnlInclude || !dnnlLib)
  stop(
    `oneDNN ${dnnlInclude ? "library" : "headers"} not found; install libdnnl-dev (apt-get install libdnnl-dev) or set DNNLROOT`,
  );

const onPath = (exe) =>
  envDirs("PATH").some((d) => existsSync(join(d, exe)) || existsSync(join(d, `${exe}.exe`)));
const cxx = process.env.CXX ?? ["c++", "g++", "clang++"].find(onPath);
if (!cxx || (process.env.CXX === undefined && !onPath(cxx)))
  stop("no C++ compiler found; install build-essential (apt-get install build-essential)");

// node-gyp: the project's own copy, else the one npm bundles (npm sets npm_config_node_gyp).
let nodeGyp;
try {
  nodeGyp = createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js");
} catch {
  nodeGyp = process.env.npm_config_node_gyp;
}
if (!nodeGyp || !existsSync(nodeGyp)) stop("node-gyp not found");

// Compile against the headers of the running Node when they are installed next to it (Debian's
// nodejs, the official tarballs), so that node-gyp does not try to download them.
const args = [nodeGyp, "rebuild", "--directory", here];
const prefix = dirname(dirname(process.execPath));
const versionH = join(prefix, "include", "node", "node_version.h");
if (existsSync(versionH)) {
  const h = readFileSync(versionH, "utf8");
  const part = (k) => h.match(new RegExp(`#define NODE_${k}_VERSION (\\d+)`))?.[1];
  if (`v${part("MAJOR")}.${part("MINOR")}.${part("PATCH")}` === process.version)
    args.push(`--nodedir=${prefix}`);
}
// The compiler searches /usr/include anyway; naming it with -I would break libstdc++'s include_next.
const extraInclude = dnnlInclude === "/usr/include" ? "" : dnnlInclude;
args.push("--", `-Ddnnl_include=${extraInclude}`, `-Ddnnl_lib=${dnnlLib}`);

// gyp's make generator appends CXXFLAGS and LDFLAGS from the environment to the target's flags.
const env = { ...process.env, CXX: cxx };
const asan = process.env.TSGRAD_NATIVE_ASAN === "1";
if (asan) {
  const flags = "-fsanitize=address -fno-omit-frame-pointer";
  env.CXXFLAGS = `${process.env.CXXFLAGS ?? ""} ${flags}`.trim();
  env.LDFLAGS = `${process.env.LDFLAGS ?? ""} ${flags}`.trim();
}
const started = Date.now();
const res = spawnSync(process.execPath, args, {
  cwd: here,
  encoding: "utf8",
  stdio: installMode ? "pipe" : "inherit",
  env,
});
if (res.status !== 0) {
  const out = `${res.stdout ?? ""}${res.stderr ?? ""}`;
  stop(
    `compiling the addon failed (exit ${res.status}); the compiler output is in ${errorLog}, or run \`node ${join(here, "build.js")}\``,
    out.split("\n").slice(-60).join("\n"),
  );
}
rmSync(errorLog, { force: true });
console.log(
  `tsgrad: native backend built in ${((Date.now() - started) / 1000).toFixed(0)} s (oneDNN from ${dnnlLib})${asan ? ", with AddressSanitizer" : ""}`,
);
