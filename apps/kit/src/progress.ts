/**
 * Training progress: a live bar in a terminal, plain periodic lines everywhere else.
 *
 * The bar is `cli-progress` (3.12): small, pure JavaScript, widely used, with throttled redraws
 * (10 per second, however fast the steps come) and the cursor and line-wrap handling done for us.
 * A bar is made of control characters, which are noise in a CI log or a pipe, so when the stream is
 * not a TTY this class writes a plain line every `logEvery` steps instead, and never a control
 * character.
 */
import { SingleBar } from 'cli-progress';
import { formatDuration, Stopwatch } from './timing.js';

/** `auto` picks `bar` when the stream is a TTY and `lines` otherwise; `silent` writes nothing. */
export type ProgressMode = 'auto' | 'bar' | 'lines' | 'silent';

export interface TrainingProgressOptions {
  /** Number of epochs of the whole run, shown as `epoch 3/10`. */
  epochs: number;
  /** Steps (batches) per epoch; `startEpoch` can override it for one epoch. */
  stepsPerEpoch: number;
  /** Where to write; process.stdout by default. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  mode?: ProgressMode;
  /** In `lines` mode, write a line every this many steps (default: a tenth of the epoch). */
  logEvery?: number;
}

export interface StepMetrics {
  /** The loss of this step (averaged over the epoch for display). */
  loss: number;
  /** The accuracy of this step, if the task has one. */
  accuracy?: number;
  /** Examples in this step's batch: weights the averages and gives examples per second. */
  examples?: number;
}

export interface EpochSummary {
  epoch: number;
  steps: number;
  examples: number;
  seconds: number;
  /** Mean training loss over the epoch (weighted by examples when given). */
  loss: number;
  /** Mean training accuracy over the epoch, if steps reported one. */
  accuracy: number | undefined;
}

export class TrainingProgress implements Disposable {
  private readonly mode: Exclude<ProgressMode, 'auto'>;
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private bar: SingleBar | undefined;
  private epoch = 0;
  private stepsThisEpoch = 0;
  private stepsDone = 0;
  private examplesDone = 0;
  private weightSum = 0;
  private lossSum = 0;
  private accuracySum = 0;
  private accuracyWeight = 0;
  private clock = new Stopwatch();

  constructor(private readonly options: TrainingProgressOptions) {
    this.stream = options.stream ?? process.stdout;
    const mode = options.mode ?? 'auto';
    this.mode = mode === 'auto' ? (this.stream.isTTY === true ? 'bar' : 'lines') : mode;
  }

  /** Starts epoch `epoch` (counted from 1), optionally with its own number of steps. */
  startEpoch(epoch: number, steps = this.options.stepsPerEpoch): void {
    this.stopBar();
    this.epoch = epoch;
    this.stepsThisEpoch = steps;
    this.stepsDone = 0;
    this.examplesDone = 0;
    this.weightSum = 0;
    this.lossSum = 0;
    this.accuracySum = 0;
    this.accuracyWeight = 0;
    this.clock = new Stopwatch();
    if (this.mode === 'bar') {
      this.bar = new SingleBar({
        stream: this.stream,
        format: '{label} {bar} {value}/{total} | {metrics}',
        barsize: 24,
        barCompleteChar: '\u2588',
        barIncompleteChar: '\u2591',
        clearOnComplete: true,
      });
      this.bar.start(steps, 0, { label: this.label(), metrics: '' });
    }
  }

  /** Records one finished step. */
  step(metrics: StepMetrics): void {
    const weight = metrics.examples ?? 1;
    this.stepsDone += 1;
    this.examplesDone += metrics.examples ?? 0;
    this.weightSum += weight;
    this.lossSum += metrics.loss * weight;
    if (metrics.accuracy !== undefined) {
      this.accuracySum += metrics.accuracy * weight;
      this.accuracyWeight += weight;
    }
    if (this.mode === 'bar') {
      this.bar?.update(this.stepsDone, { metrics: this.metricsText(true) });
    } else if (this.mode === 'lines' && this.stepsDone % this.logEvery() === 0) {
      this.writeLine(
        `${this.label()} step ${this.stepsDone}/${this.stepsThisEpoch} | ${this.metricsText(true)}`,
      );
    }
  }

  /**
   * Ends the epoch: replaces the bar by one summary line (also in `lines` mode), with any extra
   * results such as `{ 'val loss': 0.41, 'val acc': 0.87 }` appended.
   */
  endEpoch(extra: Record<string, number> = {}): EpochSummary {
    const seconds = this.clock.elapsed();
    this.stopBar();
    const summary: EpochSummary = {
      epoch: this.epoch,
      steps: this.stepsDone,
      examples: this.examplesDone,
      seconds,
      loss: this.lossSum / this.weightSum,
      accuracy: this.accuracyWeight > 0 ? this.accuracySum / this.accuracyWeight : undefined,
    };
    const extras = Object.entries(extra).map(([name, value]) => `${name} ${formatMetric(value)}`);
    const parts = [
      `${this.label()} | ${this.stepsDone} steps in ${formatDuration(seconds)}`,
      this.metricsText(false),
      ...extras,
    ];
    this.writeLine(parts.filter((part) => part !== '').join(' | '));
    return summary;
  }

  /** Writes a line of text without breaking the bar. */
  log(message: string): void {
    if (this.mode === 'silent') return;
    const bar = this.bar;
    if (bar === undefined) {
      this.stream.write(`${message}\n`);
      return;
    }
    // The bar clears its line when stopped; print there, then restart it one line below.
    bar.stop();
    this.stream.write(`${message}\n`);
    bar.start(this.stepsThisEpoch, this.stepsDone, { label: this.label(), metrics: this.metricsText(true) });
  }

  /** Stops a running bar (call in `finally`, or use `using progress = new TrainingProgress(...)`). */
  stop(): void {
    this.stopBar();
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  private stopBar(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  private writeLine(line: string): void {
    if (this.mode !== 'silent') this.log(line);
  }

  private logEvery(): number {
    return this.options.logEvery ?? Math.max(1, Math.ceil(this.stepsThisEpoch / 10));
  }

  private label(): string {
    return `epoch ${this.epoch}/${this.options.epochs}`;
  }

  private metricsText(withEta: boolean): string {
    if (this.stepsDone === 0) return '';
    const parts = [`loss ${formatMetric(this.lossSum / this.weightSum)}`];
    if (this.accuracyWeight > 0) parts.push(`acc ${formatMetric(this.accuracySum / this.accuracyWeight)}`);
    const seconds = this.clock.elapsed();
    parts.push(
      this.examplesDone > 0
        ? `${formatRate(this.examplesDone / seconds)} ex/s`
        : `${formatRate(this.stepsDone / seconds)} steps/s`,
    );
    if (withEta) {
      const remaining = this.stepsThisEpoch - this.stepsDone;
      parts.push(`ETA ${formatDuration((seconds / this.stepsDone) * remaining)}`);
    }
    return parts.join(' | ');
  }
}

function formatMetric(value: number): string {
  return Number.isFinite(value) ? value.toFixed(4) : String(value);
}

function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '?';
  return perSecond >= 100 ? Math.round(perSecond).toString() : perSecond.toPrecision(3);
}
