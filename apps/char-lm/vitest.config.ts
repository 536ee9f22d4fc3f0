import { defineProject } from 'vitest/config';
import { sourceResolution } from '../../vitest.shared.js';

export default defineProject({
  ...sourceResolution,
  // The smoke tests train small models for a few seconds each: more than the 5 s default when
  // the machine is shared.
  test: { name: 'char-lm', include: ['test/**/*.test.ts'], testTimeout: 30_000 },
});
