/**
 * Wall-clock timing for trainers: a stopwatch and a per-epoch recorder.
 *
 * No library: `performance.now()` is all this needs, and a dependency would be larger than the code.
 */

/** Measures elapsed wall time in seconds from construction or the last `reset()`. */
export class Stopwatch {
  private startedAt = performance.now();
  private lapStartedAt = this.startedAt;

  /** Seconds since construction or the last `reset()`. */
  elapsed(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  /** Seconds since the previous `lap()` (or the start), and starts the next lap. */
  lap(): number {
    const now = performance.now();
    const seconds = (now - this.lapStartedAt) / 1000;
    this.lapStartedAt = now;
    return seconds;
  }

  reset(): void {
    this.startedAt = performance.now();
    this.lapStartedAt = this.startedAt;
  }
}

/** Records the wall time of each epoch, for reports such as "12.3 s per epoch". */
export class EpochTimer {
  private readonly recorded: number[] = [];
  private current: Stopwatch | undefined;

  startEpoch(): void {
    this.current = new Stopwatch();
  }

  /** Ends the running epoch and returns its wall time in seconds. */
  endEpoch(): number {
    if (this.current === undefined) throw new Error('EpochTimer.endEpoch: no epoch was started');
    const seconds = this.current.elapsed();
    this.current = undefined;
    this.recorded.push(seconds);
    return seconds;
  }

  /** Wall time of every finished epoch, in seconds, in order. */
  get times(): readonly number[] {
    return this.recorded;
  }

  get total(): number {
    return this.recorded.reduce((sum, t) => sum + t, 0);
  }

  /** Mean seconds per finished epoch (NaN before the first one ends). */
  get mean(): number {
    return this.total / this.recorded.length;
  }
}

/** A short human-readable duration: `850ms`, `12.3s`, `4m 05s`, `2h 03m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const total = Math.round(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return hours > 0 ? `${hours}h ${pad(minutes)}m` : `${minutes}m ${pad(secs)}s`;
}
