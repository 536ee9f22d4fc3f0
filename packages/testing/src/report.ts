import type { Shape } from '@tsgrad/tensor';

// What the conformance harness returns, and how it prints.

export const CHECKS = [
  'forward',
  'reference',
  'gradcheck',
  'gradgradcheck',
  'dotProduct',
  'broadcasting',
  'errors',
  'backend',
  'jit',
  'vmap',
] as const;
/** The name of one check of the op harness. */
export type CheckName = (typeof CHECKS)[number];

/** How one check went. */
export interface CheckSummary {
  /** 'skipped' when the check never ran (no reference, order 0, no broadcasting sample…). */
  readonly status: 'passed' | 'failed' | 'skipped';
  /** How many times it ran (samples × draws; error samples for 'errors'). */
  readonly runs: number;
}

/** One failed check of an op. */
export interface ConformanceFailure {
  /** The op's name. */
  readonly op: string;
  /** 'spec' when the spec itself is missing or malformed. */
  readonly check: CheckName | 'spec';
  /** Index into `spec.samples` (or `spec.errors` for the 'errors' check). */
  readonly sample?: number;
  /** The input shapes of the failing sample. */
  readonly shapes?: readonly Shape[];
  /** The op's params in the failing sample. */
  readonly params?: unknown;
  /** The draw's seed: the input values are a pure function of it. */
  readonly seed?: number;
  /** What went wrong. */
  readonly message: string;
}

/** What the harness found for one op. */
export interface OpReport {
  /** The op's name. */
  readonly op: string;
  /** The order of differentiability the spec declares (0 when there is no spec). */
  readonly order: 0 | 1 | 2;
  /** Each check's status and number of runs. */
  readonly checks: Readonly<Record<CheckName, CheckSummary>>;
  /** Every failed check. */
  readonly failures: readonly ConformanceFailure[];
  /** The time the checks took, in milliseconds. */
  readonly milliseconds: number;
  /** Why vmap runs the op once per batch element (its definition's `batch.loop`), if it does. */
  readonly batchedByLoop?: string;
}

/** The totals of a conformance run. */
export interface ConformanceCounts {
  /** The number of ops checked. */
  readonly ops: number;
  /** Ops whose gradients were checked (gradcheck ran). */
  readonly order1: number;
  /** Ops whose second-order gradients were checked (gradgradcheck ran). */
  readonly order2: number;
  /** Ops with at least one failure. */
  readonly failedOps: number;
  /** Ops checked under jit without a failure of that check. */
  readonly underJit: number;
  /** Ops checked under vmap without a failure of that check. */
  readonly underVmap: number;
  /** Of those, ops that vmap runs once per batch element (`batch: { loop }`). */
  readonly byLoop: number;
}

/** The reports of many ops, with totals (what `checkAllOps` returns). */
export interface ConformanceReport {
  /** One report per op. */
  readonly ops: readonly OpReport[];
  /** The totals. */
  readonly counts: ConformanceCounts;
  /** Every failure of every op. */
  readonly failures: readonly ConformanceFailure[];
  /** The total time, in milliseconds. */
  readonly milliseconds: number;
}

/** Thrown by the harness on failure (unless `throwOnFailure: false`); carries the report. */
export class ConformanceError extends Error {
  /** @param report What failed; the message is its printed form. */
  constructor(readonly report: OpReport | ConformanceReport) {
    super(formatReport(report));
    this.name = 'ConformanceError';
  }
}

/** One report for many ops, with the counts. */
export function summarize(reports: readonly OpReport[]): ConformanceReport {
  const { order1, order2, failed, failures, milliseconds, underJit, underVmap } = tally(reports);
  return {
    ops: reports,
    counts: {
      ops: reports.length,
      order1,
      order2,
      failedOps: failed,
      underJit,
      underVmap,
      byLoop: reports.filter((r) => r.batchedByLoop !== undefined).length,
    },
    failures,
    milliseconds,
  };
}

/** What every summary counts, for op and layer reports alike: gradient checks run, failures, time. */
export function tally<F>(
  reports: readonly {
    readonly checks: Readonly<Record<'gradcheck' | 'gradgradcheck' | 'jit' | 'vmap', CheckSummary>>;
    readonly failures: readonly F[];
    readonly milliseconds: number;
  }[],
) {
  return {
    order1: reports.filter((r) => r.checks.gradcheck.runs > 0).length,
    order2: reports.filter((r) => r.checks.gradgradcheck.runs > 0).length,
    failed: reports.filter((r) => r.failures.length > 0).length,
    underJit: reports.filter((r) => r.checks.jit.status === 'passed').length,
    underVmap: reports.filter((r) => r.checks.vmap.status === 'passed').length,
    failures: reports.flatMap((r) => r.failures),
    milliseconds: reports.reduce((t, r) => t + r.milliseconds, 0),
  };
}

/** "passed; forward ×3, gradcheck ×3" style status of one report's checks. */
export function formatRuns<C extends string>(
  names: readonly C[],
  checks: Readonly<Record<C, CheckSummary>>,
  failures: number,
): string {
  const ran = names.filter((c) => checks[c].runs > 0).map((c) => `${c} ×${checks[c].runs}`);
  const status = failures === 0 ? 'conforms' : `${failures} failure(s)`;
  return `${status}; ${ran.join(', ') || 'nothing ran'}`;
}

function brief(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** One line per failure: op, check, sample shapes, params, seed, then what went wrong. */
export function formatFailure(f: ConformanceFailure): string {
  const where: string[] = [];
  if (f.sample !== undefined) where.push(`${f.check === 'errors' ? 'error sample' : 'sample'} #${f.sample}`);
  if (f.shapes) where.push(`shapes ${f.shapes.map((s) => `[${s.join(',')}]`).join(' ')}`);
  if (f.params !== undefined) where.push(`params ${brief(f.params)}`);
  if (f.seed !== undefined) where.push(`draw seed ${f.seed}`);
  return `${f.op}: ${f.check} failed${where.length > 0 ? ` (${where.join(', ')})` : ''}: ${f.message}`;
}

/** The counts line: "N ops; checked at order 1: A; at order 2: B; under jit: J of N; under vmap: V of N; failed: F". */
export function formatCounts(counts: ConformanceCounts): string {
  return `${counts.ops} ops; checked at order 1: ${counts.order1}; at order 2: ${counts.order2}; under jit: ${counts.underJit} of ${counts.ops}; under vmap: ${counts.underVmap} of ${counts.ops}${counts.byLoop > 0 ? ` (${counts.byLoop} by a loop)` : ''}; failed: ${counts.failedOps}`;
}

function formatOp(r: OpReport): string {
  return `${r.op} (order ${r.order}): ${formatRuns(CHECKS, r.checks, r.failures.length)}; ${r.milliseconds.toFixed(0)} ms`;
}

/** A readable report: the summary (or the op's line), then every failure on its own line. */
export function formatReport(report: OpReport | ConformanceReport): string {
  const head =
    'counts' in report
      ? `conformance: ${formatCounts(report.counts)} (${(report.milliseconds / 1000).toFixed(1)} s)`
      : formatOp(report);
  const loops = ('counts' in report ? report.ops : [report]).flatMap((r) =>
    r.batchedByLoop === undefined
      ? []
      : [`  ${r.op}: under vmap by a loop over the batch: ${r.batchedByLoop}`],
  );
  return [head, ...loops, ...report.failures.map((f) => `  ${formatFailure(f)}`)].join('\n');
}
