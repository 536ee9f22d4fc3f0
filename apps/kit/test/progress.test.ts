import { Writable } from 'node:stream';
import { TrainingProgress } from '@tsgrad/app-kit';
import { describe, expect, it } from 'vitest';

/** A stream that keeps what is written; a TTY when asked, like a terminal. */
function captureStream(isTTY = false): Writable & { isTTY: boolean; columns: number; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return Object.assign(stream, { isTTY, columns: 120, text: () => chunks.join('') });
}

describe('TrainingProgress without a TTY', () => {
  it('writes a plain line every logEvery steps and one summary per epoch, no control characters', () => {
    const stream = captureStream();
    const progress = new TrainingProgress({ epochs: 2, stepsPerEpoch: 95, stream, logEvery: 10 });
    for (let epoch = 1; epoch <= 2; epoch++) {
      progress.startEpoch(epoch);
      for (let step = 0; step < 95; step++) progress.step({ loss: 1 / epoch, accuracy: 0.5, examples: 32 });
      progress.endEpoch({ 'val loss': 0.75 });
    }
    const text = stream.text();
    expect(text).not.toContain('\r');
    expect(text).not.toContain('\x1b');
    const lines = text.trimEnd().split('\n');
    const stepLines = lines.filter((line) => / step \d+\/95 /.test(line));
    expect(stepLines).toHaveLength(2 * 9);
    expect(stepLines[0]).toMatch(
      /^epoch 1\/2 step 10\/95 \| loss 1\.0000 \| acc 0\.5000 \| .* ex\/s \| ETA /,
    );
    expect(stepLines.map((line) => Number(/step (\d+)/.exec(line)![1])).slice(0, 9)).toEqual([
      10, 20, 30, 40, 50, 60, 70, 80, 90,
    ]);
    const summaries = lines.filter((line) => line.includes('steps in'));
    expect(summaries).toHaveLength(2);
    expect(summaries[1]).toMatch(
      /^epoch 2\/2 \| 95 steps in .* \| loss 0\.5000 \| acc 0\.5000 \| .* \| val loss 0\.7500$/,
    );
    expect(lines).toHaveLength(stepLines.length + summaries.length);
  });

  it('logs about ten lines per epoch by default, and weights the averages by examples', () => {
    const stream = captureStream();
    const progress = new TrainingProgress({ epochs: 1, stepsPerEpoch: 469, stream });
    progress.startEpoch(1);
    for (let step = 0; step < 469; step++) {
      progress.step({
        loss: step === 468 ? 4 : 1,
        accuracy: step === 468 ? 0 : 1,
        examples: step === 468 ? 32 : 96,
      });
    }
    const summary = progress.endEpoch();
    const lines = stream.text().trimEnd().split('\n');
    expect(lines.filter((line) => line.includes(' step '))).toHaveLength(9); // every 47 steps
    expect(summary.steps).toBe(469);
    expect(summary.examples).toBe(468 * 96 + 32);
    expect(summary.loss).toBeCloseTo((468 * 96 + 4 * 32) / (468 * 96 + 32), 12);
    expect(summary.accuracy).toBeCloseTo((468 * 96) / (468 * 96 + 32), 12);
    expect(summary.seconds).toBeGreaterThanOrEqual(0);
  });

  it('shows steps per second without example counts, and leaves accuracy out when not given', () => {
    const stream = captureStream();
    const progress = new TrainingProgress({ epochs: 1, stepsPerEpoch: 4, stream, logEvery: 2 });
    progress.startEpoch(1);
    for (let step = 0; step < 4; step++) progress.step({ loss: 2 });
    const summary = progress.endEpoch();
    expect(stream.text()).toMatch(/step 2\/4 \| loss 2\.0000 \| .* steps\/s \| ETA/);
    expect(stream.text()).not.toContain('acc');
    expect(summary.accuracy).toBeUndefined();
  });

  it('writes nothing when silent', () => {
    const stream = captureStream(true);
    const progress = new TrainingProgress({ epochs: 1, stepsPerEpoch: 3, stream, mode: 'silent' });
    progress.startEpoch(1);
    progress.step({ loss: 1 });
    progress.log('hello');
    progress.endEpoch();
    expect(stream.text()).toBe('');
  });
});

describe('TrainingProgress on a TTY', () => {
  it('draws a bar, then replaces it by the epoch summary', () => {
    const stream = captureStream(true);
    const progress = new TrainingProgress({ epochs: 3, stepsPerEpoch: 20, stream });
    progress.startEpoch(1);
    for (let step = 0; step < 20; step++) progress.step({ loss: 0.5, accuracy: 0.9, examples: 8 });
    progress.log('a message');
    progress.endEpoch();
    progress.stop();
    const text = stream.text();
    expect(text).toContain('\x1b'); // cursor control: this is the live bar
    expect(text).toContain('epoch 1/3 ');
    expect(text).toContain('\u2588');
    expect(text).toContain('a message\n');
    expect(text).toMatch(/epoch 1\/3 \| 20 steps in .* \| loss 0\.5000 \| acc 0\.9000 \| .* ex\/s\n$/);
  });
});
