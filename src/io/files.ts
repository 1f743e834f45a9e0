/** safetensors files on disk (Node only), written atomically. */
import type { Tensor } from "../tensor/tensor.js";
import { type DecodedSafetensors, decodeSafetensors, encodeSafetensors } from "./safetensors.js";
import { type FileSource, sourceBytes, writeFileAtomic } from "./atomic.js";

/**
 * Write named tensors to a safetensors file, atomically (see `encodeSafetensors` for the layout).
 *
 * @example
 * const { mkdtempSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * tg.io.saveSafetensors(dir + "/w.safetensors", { w: tg.eye(2) }, { note: "identity" });
 * const { tensors, metadata } = tg.io.loadSafetensors(dir + "/w.safetensors");
 * console.log(tensors.w!.toArray(), metadata.note); // [[1, 0], [0, 1]] "identity"
 */
export function saveSafetensors(
  path: string,
  tensors: Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/**
 * Read and validate a safetensors file (see `decodeSafetensors`): a path in Node, or the file's
 * bytes anywhere (a browser `File`'s or a `fetch` response's `arrayBuffer()`). Errors name the
 * file (or `name`, for bytes).
 *
 * @example
 * const { mkdtempSync } = process.getBuiltinModule("node:fs");
 * const dir = mkdtempSync(process.getBuiltinModule("node:os").tmpdir() + "/tg-");
 * tg.io.saveSafetensors(dir + "/b.safetensors", { b: tg.tensor([1, 2], { dtype: "int32" }) });
 * console.log(tg.io.loadSafetensors(dir + "/b.safetensors").tensors.b!.dtype); // "int32"
 */
export function loadSafetensors(source: FileSource, name?: string): DecodedSafetensors {
  const file = sourceBytes(source, "loadSafetensors", name);
  return decodeSafetensors(file.bytes, file.name);
}
