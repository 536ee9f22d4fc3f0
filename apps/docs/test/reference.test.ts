import { join } from 'node:path';
import { expect, it } from 'vitest';
import { publicEntryPoints } from '../src/entry-points.js';
import { convertReference, findUndocumented, formatUndocumented } from '../src/reference.js';

// TypeDoc converts every public entry point's sources: about 10 s on a quiet 2-core machine,
// 30–50 s under a load average of 20. Each test converts once.
const timeout = 180_000;

it(
  'every export of every public entry point has a doc comment, and every link resolves',
  async () => {
    const entryPoints = publicEntryPoints();
    expect(entryPoints.map((e) => e.specifier)).toEqual(
      expect.arrayContaining(['@tsgrad/tensor', '@tsgrad/data/node', 'tsgrad', 'tsgrad/node']),
    );
    const { project, problems } = await convertReference(entryPoints);
    expect(problems, 'TypeDoc warnings or errors (broken {@link}s, bad Markdown links…)').toEqual([]);
    if (!project) expect.unreachable('TypeDoc could not convert the sources');
    const undocumented = findUndocumented(project);
    expect(
      undocumented.length,
      'exports without a doc comment: write one above each declaration (for a module, a leading ' +
        `/** … @packageDocumentation */ comment in its file):\n${formatUndocumented(undocumented)}`,
    ).toBe(0);
  },
  timeout,
);

it(
  'reports each undocumented export with its file and line, and nothing that is documented',
  async () => {
    const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);
    const { project, problems } = await convertReference(
      [
        { specifier: 'fixture', file: fixture('exports.ts'), description: 'A package description.' },
        { specifier: 'fixture/bare', file: fixture('bare.ts') },
      ],
      { tsconfig: fixture('tsconfig.json') },
    );
    expect(problems).toEqual([]);
    if (!project) expect.unreachable('TypeDoc could not convert the fixture');
    const found = findUndocumented(project);
    expect(found.map((u) => `${u.name} (${u.kind})`).sort()).toEqual(
      [
        'fixture/bare (Module)',
        'fixture.DocumentedClass.undocumentedAccessor (Accessor)',
        'fixture.DocumentedClass.undocumentedMethod (Method)',
        'fixture.DocumentedClass.undocumentedProperty (Property)',
        'fixture.DocumentedInterface.undocumentedMember (Property)',
        'fixture.DocumentedNamespace.undocumentedInside (Variable)',
        'fixture.UndocumentedAlias (TypeAlias)',
        'fixture.UndocumentedClass (Class)',
        'fixture.UndocumentedInterface (Interface)',
        'fixture.UndocumentedNamespace (Namespace)',
        'fixture.undocumentedFunction (Function)',
        'fixture.undocumentedVariable (Variable)',
      ].sort(),
    );
    const line = found.find((u) => u.name === 'fixture.undocumentedFunction');
    expect(line).toMatchObject({ file: 'apps/docs/test/fixtures/exports.ts', line: 9 });
    expect(formatUndocumented(found)).toContain(
      'apps/docs/test/fixtures/exports.ts:9  fixture.undocumentedFunction (Function)',
    );
  },
  timeout,
);
