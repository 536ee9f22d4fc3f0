import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Peer, Step } from './peers/peer.js';
import { tsgradPeers } from './peers/tsgrad.js';
import { tsgradJitPeer } from './peers/tsgrad-jit.js';
import {
  chainProblem,
  charRnnProblem,
  cnnProblem,
  elementwiseInput,
  matmulProblem,
  mlpProblem,
} from './problems.js';
import { type Cell, formatRatio, formatValue, markdownTable, speedRatio, type Unit } from './table.js';
import { FULL, measure, QUICK, type TimingPolicy } from './timing.js';

// tsgrad against its peers, all in this process and on the same inputs: one markdown table of
// medians and ratios on stdout, progress on stderr. `--quick` for a fast pass, `--only TEXT`
// for the rows whose name contains TEXT. Every workload has two rows: tsgrad's code freeing its
// results by hand, and the same code without any `dispose` (the peers have one idiomatic way
// each, measured once and shown in both rows).

interface Workload {
  readonly name: string;
  readonly unit: Unit;
  /** Floating-point operations per run, for GFLOP/s rows. */
  readonly flops?: number;
  readonly build: (peer: Peer) => Step;
}

/** Makes the shared problem on first use, so that every peer gets the very same arrays. */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

function matmulWorkload(n: number): Workload {
  const problem = once(() => matmulProblem(n));
  return { name: `matmul n=${n}`, unit: 'GFLOP/s', flops: 2 * n ** 3, build: (p) => p.matmul(problem()) };
}

const elementwise = once(() => elementwiseInput(1_000_000));
const mlp = once(mlpProblem);
const cnn = once(cnnProblem);
const chain = once(() => chainProblem(2000));
const charRnn = once(charRnnProblem);

const WORKLOADS: readonly Workload[] = [
  ...[128, 256, 512, 1024].map(matmulWorkload),
  { name: 'y = exp(x)·x + 1, 1e6 elements', unit: 'ms', build: (p) => p.elementwise(elementwise()) },
  { name: 'MLP step 784-256-256-10, batch 128, Adam', unit: 'ms', build: (p) => p.mlpStep(mlp()) },
  { name: 'CNN step (2 conv3×3 + pool, dense), batch 64, SGD', unit: 'ms', build: (p) => p.cnnStep(cnn()) },
  { name: 'grad chain: 2,000 elementwise ops + backward', unit: 'ms', build: (p) => p.gradChain(chain()) },
  {
    name: 'char-RNN step (embed 64, LSTM 128, seq 32), batch 16, Adam',
    unit: 'ms',
    build: (p) => p.charRnnStep(charRnn()),
  },
];

/** How the tsgrad code of a row frees what it makes. */
type Style = 'disposed' | 'no dispose';

/** Peers other than tsgrad load lazily: one that fails to install or start leaves an n/a column. */
const PEERS: readonly { name: string; load: () => Promise<Peer> }[] = [
  { name: 'tsgrad', load: async () => tsgradPeers()[0] },
  { name: 'tsgrad-jit', load: async () => tsgradJitPeer(false) },
  { name: 'tsgrad-jit+fusion', load: async () => tsgradJitPeer(true) },
  { name: 'tfjs-wasm', load: async () => (await import('./peers/tfjs.js')).createTfjs() },
  { name: 'jax-js', load: async () => (await import('./peers/jaxjs.js')).createJaxjs() },
  { name: 'tsgrad-cpu', load: async () => tsgradPeers()[1] },
];

type Column = Peer | { readonly name: string; readonly error: string };

/** One peer on one workload: the cell, its first result, and any remark of the peer's. */
interface Outcome {
  readonly cell: Cell;
  readonly probe?: number;
  readonly remark?: string;
}

/** Probes that differ by more than this (relative) mean the peers do not compute the same thing. */
const AGREEMENT_TOLERANCE = 1e-3;

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];
const log = (text: string) => process.stderr.write(`${text}\n`);

async function loadPeers(): Promise<Column[]> {
  const columns: Column[] = [];
  for (const entry of PEERS) {
    try {
      columns.push(await entry.load());
    } catch (e) {
      columns.push({ name: entry.name, error: errorText(e) });
      log(`${entry.name}: unavailable: ${errorText(e)}`);
    }
  }
  return columns;
}

async function runCell(workload: Workload, peer: Peer, policy: TimingPolicy, style: Style): Promise<Outcome> {
  const started = performance.now();
  let step: Step | undefined;
  let outcome: Outcome;
  try {
    step = workload.build(peer);
    const probe = await step.probe();
    const { medianMs, runs } = await measure(step.run, policy);
    const value = workload.unit === 'ms' ? medianMs : (workload.flops ?? 0) / (medianMs * 1e6);
    outcome = { cell: { value, runs }, probe, remark: step.note };
  } catch (e) {
    outcome = { cell: { error: errorText(e) } };
  } finally {
    step?.dispose();
    globalThis.gc?.();
  }
  const { cell, remark } = outcome;
  const shown =
    'value' in cell ? `${formatValue(cell.value)} ${workload.unit} (${cell.runs} runs)` : cell.error;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  log(`${workload.name} · ${peer.name}, ${style}: ${shown}${remark ? ` [${remark}]` : ''}, ${seconds} s`);
  return outcome;
}

/** Footnotes: `note(text)` returns the marker to put in a cell (the same one for the same text). */
class Notes {
  readonly texts: string[] = [];
  note(text: string): string {
    const index = this.texts.indexOf(text);
    if (index < 0) this.texts.push(text);
    return `(${index < 0 ? this.texts.length : index + 1})`;
  }
}

/**
 * One row of the table. In the no-dispose row, `disposed` is tsgrad's outcome in the disposed
 * row, for the ratio of the two.
 */
function tableRow(
  workload: Workload,
  style: Style,
  columns: readonly Column[],
  outcomes: readonly Outcome[],
  notes: Notes,
  disposed?: Outcome,
) {
  const shown = outcomes.map(({ cell, remark }, i) => {
    // A peer that did not load gets one note for the whole column.
    const column = columns[i];
    const about = 'error' in column ? column.name : `${column.name}, ${workload.name}`;
    if (!('value' in cell)) return `n/a ${notes.note(`${about}: ${cell.error}`)}`;
    const value = formatValue(cell.value);
    return remark === undefined ? value : `${value} ${notes.note(`${about}: ${remark}`)}`;
  });
  const base = outcomes[0].cell;
  const ratios = outcomes
    .slice(1)
    .map(({ cell }) =>
      'value' in base && 'value' in cell
        ? formatRatio(speedRatio(workload.unit, base.value, cell.value))
        : '–',
    );
  const withoutDispose =
    disposed && 'value' in disposed.cell && 'value' in base
      ? formatRatio(speedRatio(workload.unit, disposed.cell.value, base.value))
      : '–';
  return [
    workload.name,
    style,
    workload.unit,
    ...shown,
    ...ratios,
    withoutDispose,
    agreement(outcomes.map((o) => o.probe)),
  ];
}

/** Largest relative difference of the peers' probes from tsgrad's (the first), flagged if too large. */
function agreement(probes: readonly (number | undefined)[]): string {
  const [reference, ...others] = probes;
  if (reference === undefined) return '–';
  const diffs = others
    .filter((p): p is number => p !== undefined)
    .map((p) => Math.abs(p - reference) / Math.max(Math.abs(reference), Number.MIN_VALUE));
  if (diffs.length === 0) return '–';
  const worst = Math.max(...diffs);
  if (worst === 0) return '0';
  return `${worst.toExponential(0)}${worst > AGREEMENT_TOLERANCE || Number.isNaN(worst) ? ' ⚠' : ''}`;
}

function printLegend(columns: readonly Column[], notes: Notes, policy: TimingPolicy, quick: boolean) {
  console.log(
    '`vs X`: X’s time ÷ tsgrad’s time (for matmul, tsgrad’s GFLOP/s ÷ X’s), i.e. how many times ' +
      'faster tsgrad is; below 1× the peer is faster. `check`: the largest relative difference ' +
      'between a peer’s first result (a loss, or the sum of squares of the output) and tsgrad’s, ' +
      'all starting from the same inputs and weights. `tsgrad code`: `disposed` frees every ' +
      'result and intermediate by hand (`dispose()`, as tfjs’s `tidy` would); `no dispose` is the ' +
      'same code without a single `dispose` call, as users write it (the library frees what it ' +
      'knows is dead, the FinalizationRegistry the rest), and `no dispose ÷ disposed` is its time ' +
      'over the disposed one (tsgrad column). tsgrad and tsgrad-cpu run both; the other peers ' +
      'run once, in their own idiomatic way, and the same numbers appear in both rows.',
  );
  for (const column of columns) if (!('error' in column)) console.log(`- ${column.description}`);
  notes.texts.forEach((text, i) => {
    console.log(`- (${i + 1}) ${text}`);
  });
  const runs = `median of ${policy.minRuns}–${policy.maxRuns} timed runs (more while under ${policy.budgetMs} ms)`;
  const warmup = `after ≥ ${policy.warmupRuns} warm-up run${policy.warmupRuns === 1 ? '' : 's'}${policy.warmupMs > 0 ? ` and ≥ ${policy.warmupMs} ms` : ''}`;
  console.log(`- ${quick ? '--quick: ' : ''}${runs} ${warmup}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
  });
  const policy = values.quick ? QUICK : FULL;
  const only = values.only?.toLowerCase();
  const workloads = WORKLOADS.filter((w) => only === undefined || w.name.toLowerCase().includes(only));
  const started = performance.now();
  const loadAtStart = loadavg()[0];

  const columns = await loadPeers();
  const notes = new Notes();
  const rows: string[][] = [];
  for (const workload of workloads) {
    // A peer's two cells run back to back, so that their ratio compares runs made under the same
    // load and in the same heap, not runs separated by the other peers' cells.
    const disposed: Outcome[] = [];
    const bare: Outcome[] = [];
    for (const column of columns) {
      const outcome: Outcome =
        'error' in column ? { cell: column } : await runCell(workload, column, policy, 'disposed');
      disposed.push(outcome);
      const peer = 'error' in column ? undefined : column.withoutDispose;
      bare.push(peer ? await runCell(workload, peer, policy, 'no dispose') : outcome);
    }
    rows.push(tableRow(workload, 'disposed', columns, disposed, notes));
    rows.push(tableRow(workload, 'no dispose', columns, bare, notes, disposed[0]));
  }

  const header = [
    'workload (float32)',
    'tsgrad code',
    'unit',
    ...columns.map((c) => c.name),
    ...columns.slice(1).map((c) => `vs ${c.name}`),
    'no dispose ÷ disposed',
    'check',
  ];
  console.log(markdownTable(header, rows));
  console.log();
  printLegend(columns, notes, policy, values.quick);
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(
    `- Node ${process.version}, ${cpus().length} × ${cpu}; 1-minute load average ${loadAtStart.toFixed(1)} ` +
      `at the start (other processes share the cores above ~0.5); whole run ${seconds} s`,
  );
}

await main();
