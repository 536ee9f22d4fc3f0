import { defaultClientConditions, defaultServerConditions } from 'vite';
import type { UserWorkspaceConfig } from 'vitest/config';

/** Resolve workspace packages to their TypeScript sources, so tests need no build first. */
export const sourceResolution: Pick<UserWorkspaceConfig, 'resolve' | 'ssr'> = {
  resolve: { conditions: ['@tsgrad/source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['@tsgrad/source', ...defaultServerConditions] } },
};
