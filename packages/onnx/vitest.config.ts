import { defineProject } from 'vitest/config';
import { defaultBackendSetup, sourceResolution } from '../../vitest.shared.js';

export default defineProject({
  ...sourceResolution,
  test: { name: 'onnx', include: ['test/**/*.test.ts'], setupFiles: ['test/setup.ts', defaultBackendSetup] },
});
