/**
 * The JS reference backend: plain loops over typed arrays, implementing every primitive. It is
 * the specification every other backend is tested against, and the fallback for any kernel a
 * faster backend does not provide. Each family file exports its slice of the kernel table; the
 * `KernelTable` annotation below makes a primitive without a reference kernel a compile error.
 */
import type { KernelTable } from "../../ops/primitives.js";
import type { Backend } from "../backend.js";
import { elementwiseKernels } from "./elementwise.js";
import { indexingKernels } from "./indexing.js";
import { linalgKernels } from "./linalg.js";
import { movementKernels } from "./movement.js";
import { reduceKernels } from "./reduce.js";
import { scanKernels } from "./scan.js";

export const jsKernels: KernelTable = {
  ...elementwiseKernels,
  ...reduceKernels,
  ...movementKernels,
  ...linalgKernels,
  ...indexingKernels,
  ...scanKernels,
};

export const jsBackend: Backend = {
  name: "js",
  kernels: jsKernels,
  available: () => true,
  numThreads: () => 1,
  info: () => ({
    backend: "js",
    description: "reference kernels in plain TypeScript, single-threaded",
  }),
};
