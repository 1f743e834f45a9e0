/**
 * Kernels patched into tfjs-backend-wasm 4.22 for training. Registered for the "wasm" backend
 * only, before it initialises; `--check` compares each with direct loops.
 *
 * Two are missing, without which it cannot run the benchmark CNN (`Conv2DBackpropFilter`, the
 * weight gradient of conv2d) or the LSTM LM (`UnsortedSegmentSum`, the gradient of the embedding
 * gather):
 * - Conv2DBackpropFilter is a composite of the backend's own XNNPACK kernels: the weight
 *   gradient dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·s+kh−pt, ow·s+kw−pl, ci] · dy[n,oh,ow,co] is
 *   itself a convolution of x (channels as batch, batch as channels: [ci, H, W, n]) with dy as
 *   the filter ([OH, OW, n, co]), dilated by the forward stride. So it runs at the speed of the
 *   forward convolution instead of a JS loop.
 * - UnsortedSegmentSum is a scatter-add: O(elements) in JS over the wasm heap, which is cheaper
 *   than any composite (a one-hot matmul would cost vocab × embedding × tokens).
 *
 * One is slow where training needs it: BatchMatMul with a transposed operand (see
 * `batchMatMulTransposed`), wrapped so that tfjs is measured at its best, not at a slow path.
 */
import type {
  BatchMatMulAttrs,
  Conv2DBackpropFilterAttrs,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
  TypedArray,
} from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { Tfjs } from "./tfjs-common.js";

function call(
  tf: Tfjs,
  backend: BackendWasm,
  name: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
): TensorInfo {
  return tf.getKernel(name, "wasm").kernelFunc({ inputs, backend, attrs }) as TensorInfo;
}

const conv2dBackpropFilter =
  (tf: Tfjs): KernelFunc =>
  ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
      attrs as unknown as Conv2DBackpropFilterAttrs;
    if (dataFormat !== "NHWC") {
      throw new Error(`Conv2DBackpropFilter (bench patch): dataFormat ${dataFormat} unsupported`);
    }
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const [kh, kw, ci, co] = filterShape;
    const p = info.padInfo;
    const xT = call(tf, wasm, "Transpose", { x }, { perm: [3, 1, 2, 0] });
    const dyT = call(tf, wasm, "Transpose", { x: dy }, { perm: [1, 2, 0, 3] });
    const conv = call(
      tf,
      wasm,
      "Conv2D",
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [p.top, p.bottom],
          [p.left, p.right],
          [0, 0],
        ],
        dataFormat: "NHWC",
        dilations: [info.strideHeight, info.strideWidth],
      },
    );
    wasm.disposeData(xT.dataId);
    wasm.disposeData(dyT.dataId);
    // Padding the forward pass did not use (rows past the last window) yields extra taps: drop them.
    let taps = conv;
    if (conv.shape[1] !== kh || conv.shape[2] !== kw) {
      taps = call(tf, wasm, "Slice", { x: conv }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] });
      wasm.disposeData(conv.dataId);
    }
    const out = call(tf, wasm, "Transpose", { x: taps }, { perm: [1, 2, 0, 3] });
    wasm.disposeData(taps.dataId);
    return out;
  };

const unsortedSegmentSum =
  (tf: Tfjs): KernelFunc =>
  ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const numSegments = (attrs as { numSegments: number }).numSegments;
    // readSync copies out of the heap, so these stay valid when makeOutput grows it.
    const xs = wasm.readSync(x.dataId) as TypedArray;
    const ids = wasm.readSync(segmentIds.dataId) as TypedArray;
    const inner = tf.util.sizeFromShape(x.shape.slice(segmentIds.shape.length));
    const out = wasm.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
    const o = wasm.typedArrayFromHeap(out);
    o.fill(0);
    for (let i = 0; i < ids.length; i++) {
      const s = ids[i]!;
      // TensorFlow drops out-of-range (e.g. negative) segment ids.
      if (s < 0 || s >= numSegments) continue;
      const src = i * inner;
      const dst = s * inner;
      for (let j = 0; j < inner; j++) o[dst + j] = o[dst + j]! + xs[src + j]!;
    }
    return out;
  };

/**
 * The stock kernel with its operands' transposes materialised first. The wasm BatchMatMul runs
 * XNNPACK only for plain products: with transposeA or transposeB it takes a scalar path,
 * measured at 0.30–0.36 GFLOP/s against 5.4 for the plain product (1024×512·512×2000, loaded
 * machine). Every matmul gradient asks for a transpose (dW = xᵀ·dy, dx = dy·Wᵀ), so without this
 * tfjs-wasm would spend most of a training step in that path; the Transpose kernel is cheap.
 */
const batchMatMulTransposed =
  (tf: Tfjs, stock: KernelFunc): KernelFunc =>
  ({ inputs, backend, attrs }) => {
    const wasm = backend as BackendWasm;
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
    if (!transposeA && !transposeB) return stock({ inputs, backend, attrs });
    const swapLast = (t: TensorInfo) => {
      const r = t.shape.length;
      const perm = [...Array(r).keys()];
      [perm[r - 2], perm[r - 1]] = [r - 1, r - 2];
      return call(tf, wasm, "Transpose", { x: t }, { perm });
    };
    const a2 = transposeA ? swapLast(a) : a;
    const b2 = transposeB ? swapLast(b) : b;
    const out = stock({
      inputs: { a: a2, b: b2 },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    }) as TensorInfo;
    if (a2 !== a) wasm.disposeData(a2.dataId);
    if (b2 !== b) wasm.disposeData(b2.dataId);
    return out;
  };

/** Register the kernels for the "wasm" backend (call before `tf.setBackend("wasm")`). */
export function registerWasmTrainingKernels(tf: Tfjs): void {
  // Re-registering keeps the stock kernel's setup (its wasm function bindings).
  const stock = tf.getKernel("BatchMatMul", "wasm");
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({ ...stock, kernelFunc: batchMatMulTransposed(tf, stock.kernelFunc) });
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: conv2dBackpropFilter(tf),
  });
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: unsortedSegmentSum(tf),
  });
}
