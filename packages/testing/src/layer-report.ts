import { type CheckSummary, formatRuns, tally } from './report.js';

// What the layer conformance harness (checkLayer) returns, and how it prints.

/** The checks the layer harness runs, in report order. */
export const LAYER_CHECKS = [
  'forward',
  'gradcheck',
  'gradgradcheck',
  'dotProduct',
  'state',
  'jit',
  'vmap',
] as const;
/**
 * 'forward': float64 twice (bit-identical: a deterministic function) and float32 vs float64;
 * 'state': the module's own parameters and buffers are unchanged after the checks;
 * 'jit': the layer compiled with jit gives the eager outputs and gradients;
 * 'vmap': the layer under vmap gives the per-example outputs and gradients, stacked.
 */
export type LayerCheckName = (typeof LAYER_CHECKS)[number];

/** One failed check of a layer. */
export interface LayerFailure {
  /** The layer's name (and configuration). */
  readonly layer: string;
  /** 'setup' when the options or the inputs are unusable. */
  readonly check: LayerCheckName | 'setup';
  /** Which draw failed and its seed: inputs and parameter perturbations are a pure function of it. */
  readonly run?: number;
  /** The seed of the failing draw. */
  readonly seed?: number;
  /** What went wrong. */
  readonly message: string;
}

/** What `checkLayer` found for one layer configuration. */
export interface LayerReport {
  /** The layer's name (and configuration). */
  readonly layer: string;
  /** Whether the layer was checked in training mode. */
  readonly training: boolean;
  /** The highest derivative order checked: 0, 1 or 2. */
  readonly order: 0 | 1 | 2;
  /** Dotted names of the parameters differentiated. */
  readonly parameters: readonly string[];
  /** Positions of the inputs differentiated. */
  readonly inputs: readonly number[];
  /** Each check's status and number of runs. */
  readonly checks: Readonly<Record<LayerCheckName, CheckSummary>>;
  /** Every failed check. */
  readonly failures: readonly LayerFailure[];
  /** The time the checks took. */
  readonly milliseconds: number;
}

/** The totals of a layer conformance run. */
export interface LayerConformanceCounts {
  /** The number of layer configurations checked. */
  readonly layers: number;
  /** Layers whose gradients were checked (gradcheck ran). */
  readonly order1: number;
  /** Layers whose second-order gradients were checked (gradgradcheck ran). */
  readonly order2: number;
  /** Layers with at least one failure. */
  readonly failedLayers: number;
  /** Layers checked under jit without a failure of that check. */
  readonly underJit: number;
  /** Layers checked under vmap without a failure of that check. */
  readonly underVmap: number;
}

/** The reports of many layers, with totals (`summarizeLayers`). */
export interface LayerConformanceReport {
  /** One report per layer. */
  readonly layers: readonly LayerReport[];
  /** The totals. */
  readonly counts: LayerConformanceCounts;
  /** Every failure of every layer. */
  readonly failures: readonly LayerFailure[];
  /** The total time, in milliseconds. */
  readonly milliseconds: number;
}

/** Thrown by checkLayer on failure (unless `throwOnFailure: false`); carries the report. */
export class LayerConformanceError extends Error {
  /** @param report What failed; the message is its printed form. */
  constructor(readonly report: LayerReport | LayerConformanceReport) {
    super(formatLayerReport(report));
    this.name = 'LayerConformanceError';
  }
}

/** One report for many layers, with the counts. */
export function summarizeLayers(reports: readonly LayerReport[]): LayerConformanceReport {
  const { order1, order2, failed, failures, milliseconds, underJit, underVmap } = tally(reports);
  return {
    layers: reports,
    counts: { layers: reports.length, order1, order2, failedLayers: failed, underJit, underVmap },
    failures,
    milliseconds,
  };
}

/** One line per failure: layer, check, draw and seed, then what went wrong. */
export function formatLayerFailure(f: LayerFailure): string {
  const where = f.run === undefined ? '' : ` (draw #${f.run}, seed ${f.seed})`;
  return `${f.layer}: ${f.check} failed${where}: ${f.message}`;
}

/** The counts line: "N layers; checked at order 1: A; at order 2: B; under jit: J of N; under vmap: V of N; failed: F". */
export function formatLayerCounts(counts: LayerConformanceCounts): string {
  return `${counts.layers} layers; checked at order 1: ${counts.order1}; at order 2: ${counts.order2}; under jit: ${counts.underJit} of ${counts.layers}; under vmap: ${counts.underVmap} of ${counts.layers}; failed: ${counts.failedLayers}`;
}

function formatLayer(r: LayerReport): string {
  const wrt = [...r.parameters, ...r.inputs.map((i) => `input ${i}`)].join(', ') || 'nothing';
  const runs = formatRuns(LAYER_CHECKS, r.checks, r.failures.length);
  return `${r.layer} (${r.training ? 'train' : 'eval'}, order ${r.order}, w.r.t. ${wrt}): ${runs}; ${r.milliseconds.toFixed(0)} ms`;
}

/** A readable report: the summary (or the layer's line), then every failure on its own line. */
export function formatLayerReport(report: LayerReport | LayerConformanceReport): string {
  const head =
    'counts' in report
      ? `layer conformance: ${formatLayerCounts(report.counts)} (${(report.milliseconds / 1000).toFixed(1)} s)`
      : formatLayer(report);
  return [head, ...report.failures.map((f) => `  ${formatLayerFailure(f)}`)].join('\n');
}
