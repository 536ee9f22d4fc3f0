import { EpochTimer, formatDuration, Stopwatch } from '@tsgrad/app-kit';
import { describe, expect, it } from 'vitest';

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
}

describe('timing', () => {
  it('measures elapsed time and laps in seconds', () => {
    const watch = new Stopwatch();
    busyWait(20);
    const lap = watch.lap();
    busyWait(10);
    expect(lap).toBeGreaterThanOrEqual(0.019);
    expect(watch.lap()).toBeLessThan(watch.elapsed());
    expect(watch.elapsed()).toBeGreaterThanOrEqual(0.029);
    watch.reset();
    expect(watch.elapsed()).toBeLessThan(0.01);
  });

  it('records one wall time per epoch', () => {
    const timer = new EpochTimer();
    expect(timer.mean).toBeNaN();
    for (const ms of [10, 20]) {
      timer.startEpoch();
      busyWait(ms);
      expect(timer.endEpoch()).toBeGreaterThanOrEqual(ms / 1000 - 0.001);
    }
    expect(timer.times).toHaveLength(2);
    expect(timer.total).toBeCloseTo(timer.times[0] + timer.times[1], 12);
    expect(timer.mean).toBeCloseTo(timer.total / 2, 12);
    expect(() => timer.endEpoch()).toThrow(/no epoch was started/);
  });

  it('formats durations for people', () => {
    expect(formatDuration(0.25)).toBe('250ms');
    expect(formatDuration(12.34)).toBe('12.3s');
    expect(formatDuration(245)).toBe('4m 05s');
    expect(formatDuration(7380)).toBe('2h 03m');
    expect(formatDuration(Number.NaN)).toBe('?');
  });
});
