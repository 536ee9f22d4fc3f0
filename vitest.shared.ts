import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defaultServerConditions } from 'vite';
import type { UserWorkspaceConfig } from 'vitest/config';

/** Resolve workspace packages to their TypeScript sources, so tests need no build first. */
export const sourceResolution: Pick<UserWorkspaceConfig, 'resolve' | 'ssr'> = {
  resolve: { conditions: ['@tsgrad/source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['@tsgrad/source', ...defaultServerConditions] } },
};

/** The setup file that selects the default wasm backend, as `import 'tsgrad'` does for users. */
export const defaultBackendSetup = fileURLToPath(new URL('./vitest.default-backend.ts', import.meta.url));
