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
} from "./ticks.ts";
export { type ChartOptions, type MarkerShape, type Numbers, PALETTE } from "./svg.ts";
export { type AxisOptions, type ScaleKind } from "./axes.ts";
export {
  lineChart,
  scatterChart,
  type Series,
  type XYChartOptions,
  type LineChartOptions,
  type FitCurve,
  type Highlight,
  type ScatterChartOptions,
} from "./xy.ts";
export { confusionMatrixChart, type ConfusionMatrixOptions } from "./confusion.ts";
export { barChart, type BarChartOptions, type BarSeries } from "./bars.ts";
export { svgToPng, saveFigure, type PngOptions } from "./png.ts";
export { Report, formatValue, type MarkdownOptions } from "./document.ts";
export {
  ProgressBar,
  type ProgressBarOptions,
  type ProgressStream,
  type ProgressValues,
} from "./progress.ts";
