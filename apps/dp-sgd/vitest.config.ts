import { defineProject } from 'vitest/config';
import { sourceResolution } from '../../vitest.shared.js';

export default defineProject({
  ...sourceResolution,
  test: {
    name: 'dp-sgd',
    include: ['test/**/*.test.ts'],
    // Seconds of real training each; keep a slow, shared CI machine from failing them.
    testTimeout: 60_000,
  },
});
