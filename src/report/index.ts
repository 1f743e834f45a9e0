/**
 * tg.report: dependency-free SVG charts (line, scatter with fits and highlighted points,
 * confusion matrix, grouped bars with error bars), PNG rendering, HTML/Markdown reports, and a
 * progress bar for training loops.
 */
export {
  linearTicks,
  logTicks,
  formatTick,
  formatTicks,
  type LinearTicks,
  type LogTicks,
} from "./ticks.js";
export { type ChartOptions, type MarkerShape, type Numbers, PALETTE } from "./svg.js";
export { type AxisOptions, type ScaleKind } from "./axes.js";
export {
  lineChart,
  scatterChart,
  type Series,
  type XYChartOptions,
  type LineChartOptions,
  type FitCurve,
  type Highlight,
  type ScatterChartOptions,
} from "./xy.js";
export { confusionMatrixChart, type ConfusionMatrixOptions } from "./confusion.js";
export { barChart, type BarChartOptions, type BarSeries } from "./bars.js";
export { svgToPng, saveFigure, type PngOptions } from "./png.js";
export { Report, formatValue, type MarkdownOptions } from "./document.js";
export {
  ProgressBar,
  type ProgressBarOptions,
  type ProgressStream,
  type ProgressValues,
} from "./progress.js";
