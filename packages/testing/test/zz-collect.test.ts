import fc from 'fast-check';
import { it } from 'vitest';
import { callables, check, type PackageName } from './fuzz.test.js';
import { argArb } from './fuzz-args.js';

const pkgs = (process.env.PKGS ?? 'tensor').split(',') as PackageName[];
it('collect', { timeout: 600_000 }, async () => {
  for (const pkg of pkgs) {
    const targets = callables(pkg);
    const found = new Map<string, string>();
    const samples = fc.sample(
      fc.tuple(
        fc.constantFrom(...targets),
        fc.array(argArb, { maxLength: 4 }),
        fc.array(argArb, { maxLength: 2 }),
      ),
      { numRuns: Number(process.env.N ?? 3000), seed: Number(process.env.SEED ?? 1) },
    );
    for (const [t, a, m] of samples) {
      const p = await check(t, a, m);
      if (p && !found.has(t.name))
        found.set(t.name, `${p.slice(0, 400)}\n    ARGS ${JSON.stringify([a, m]).slice(0, 300)}`);
    }
    console.log(
      `${pkg}: ${targets.length} targets, ${found.size} failing\n${[...found.values()].join('\n')}`,
    );
  }
});
