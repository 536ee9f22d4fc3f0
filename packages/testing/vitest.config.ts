import { defineProject } from 'vitest/config';
import { defaultBackendSetup, sourceResolution } from '../../vitest.shared.js';

export default defineProject({
  ...sourceResolution,
  test: {
    name: 'testing',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts', defaultBackendSetup],
  },
});
