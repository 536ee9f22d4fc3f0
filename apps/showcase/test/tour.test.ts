import { expect, it } from 'vitest';
import { tour } from '../src/tour.js';

it('runs the whole tour and prints every section', () => {
  const lines: string[] = [];
  tour((line) => lines.push(line));
  const text = lines.join('\n');
  for (const title of [
    'Creation',
    'Broadcasting',
    'Views',
    'Reductions',
    'randomness',
    'Matmul',
    'Convolution',
    'top-k',
  ]) {
    expect(text).toContain(title);
  }
  expect(text).toContain('ShapeError: add: shapes [2,3] and [4] cannot be broadcast together');
  expect(text).toContain('same key, same values: true');
  expect(text).toMatch(/GFLOP\/s/);
});
