/** tg.analysis — curve fitting for experiments (scaling laws) with bootstrap intervals. */
export {
  leastSquares,
  fitPowerLaw,
  fitChinchilla,
  bootstrap,
  type LeastSquaresResult,
  type PowerLawFit,
  type ChinchillaFit,
  type Interval,
} from "./fit.js";
