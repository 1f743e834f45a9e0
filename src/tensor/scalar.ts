import { type DType, allocate } from "./dtype.js";
import { Tensor } from "./tensor.js";

/**
 * A 0-d tensor holding `value`.
 *
 * @example
 * console.log(tg.scalar(3, "int32").shape, tg.scalar(3).item()); // [] 3
 */
export function scalar(value: number, dtype: DType = "float32"): Tensor {
  const data = allocate(dtype, 1);
  data[0] = value;
  return new Tensor(data, dtype, []);
}
