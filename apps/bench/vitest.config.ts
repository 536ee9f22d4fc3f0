import { defineProject } from 'vitest/config';
import { sourceResolution } from '../../vitest.shared.js';

// No tests yet. passWithNoTests is a root-only option in vitest 4 (not accepted by defineProject).
export default defineProject({
  ...sourceResolution,
  test: { name: 'bench' },
});
