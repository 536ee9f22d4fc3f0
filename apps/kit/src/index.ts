export {
  commonDefaults,
  parseArg,
  parseTrainerArgs,
  type TrainerOptions,
  type TrainerProgramConfig,
  trainerOptions,
  trainerProgram,
} from './cli.js';
export {
  MetricsFormatError,
  type MetricsInput,
  type MetricsRecord,
  MetricsWriter,
  type MetricsWriterOptions,
  readMetrics,
} from './metrics.js';
export {
  type DecisionBoundaryPlot,
  decisionBoundarySpec,
  type LinePlot,
  linePlotSpec,
  PlotDataError,
  renderSvg,
  type Series,
  svgToPng,
  type WriteOptions,
  writeChart,
  writeDecisionBoundary,
  writeLinePlot,
} from './plot.js';
export {
  type EpochSummary,
  type ProgressMode,
  type StepMetrics,
  TrainingProgress,
  type TrainingProgressOptions,
} from './progress.js';
export { EpochTimer, formatDuration, Stopwatch } from './timing.js';
