import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The monorepo's package rules, checked for every workspace package so they cannot drift:
// tsconfig references match the workspace dependencies, and libraries export types first,
// block ./internal/* and have no side effects.

const root = join(import.meta.dirname, '..', '..', '..');
const folders = ['packages', 'apps'].flatMap((dir) =>
  readdirSync(join(root, dir), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(dir, entry.name)),
);

interface PackageJson {
  name: string;
  private?: boolean;
  sideEffects?: boolean | string[];
  dependencies?: Record<string, string>;
  exports?: Record<string, Record<string, string> | string | null>;
}

const read = (folder: string) =>
  JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8')) as PackageJson;
const packageFolder = new Map(folders.map((folder) => [read(folder).name, folder]));

describe.each(folders)('%s', (folder) => {
  const pkg = read(folder);

  it('references exactly the workspace packages it depends on', () => {
    const tsconfig = JSON.parse(readFileSync(join(root, folder, 'tsconfig.json'), 'utf8')) as {
      references?: { path: string }[];
    };
    const referenced = (tsconfig.references ?? []).map((r) => join(folder, r.path)).sort();
    const depended = Object.keys(pkg.dependencies ?? {})
      .filter((name) => packageFolder.has(name))
      .map((name) => packageFolder.get(name) as string)
      .sort();
    expect(referenced).toEqual(depended);
  });
});

const libraries = folders.filter((folder) => !read(folder).private || read(folder).exports !== undefined);

describe.each(libraries)('%s', (folder) => {
  const pkg = read(folder);

  it('exports types first, blocks ./internal/*, has no side effects but two (tsgrad, autograd)', () => {
    const main = pkg.exports?.['.'];
    expect(typeof main === 'object' && main !== null ? Object.keys(main)[0] : undefined).toBe('types');
    expect(pkg.exports?.['./internal/*']).toBeNull();
    // Importing tsgrad selects the wasm backend and importing autograd attaches the Tensor
    // methods (methods.ts); bundlers must keep both calls.
    const entry = ['./src/index.ts', './dist/index.js'];
    const expected = pkg.name === 'tsgrad' || pkg.name === '@tsgrad/autograd' ? entry : false;
    expect(pkg.sideEffects).toEqual(expected);
  });
});
