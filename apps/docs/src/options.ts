import { join } from 'node:path';
import type { TypeDocOptions } from 'typedoc';
import { type EntryPoint, repositoryRoot } from './entry-points.js';

/** What differs between the site, the check and the check's own test. */
export interface ReferenceSettings {
  /** The landing page's Markdown file (none when no site is written). */
  readme?: string;
  /** The TypeScript project holding the entry points (default: every package's sources). */
  tsconfig?: string;
}

/**
 * The TypeDoc options for the given entry points, read from the TypeScript sources. `paths`
 * maps each specifier to its source, so that a package importing another (and the umbrella
 * re-exporting them all) reaches the same declarations TypeDoc documents, not the built
 * `.d.ts` files that the packages' `types` condition names.
 */
export function typedocOptions(entryPoints: EntryPoint[], settings: ReferenceSettings = {}): TypeDocOptions {
  const paths = Object.fromEntries(entryPoints.map((e) => [e.specifier, [e.file]]));
  return {
    entryPoints: entryPoints.map((e) => e.file),
    entryPointStrategy: 'resolve',
    tsconfig: settings.tsconfig ?? join(repositoryRoot, 'apps', 'docs', 'tsconfig.typedoc.json'),
    compilerOptions: { paths },
    name: 'tsgrad',
    readme: settings.readme ?? 'none',
    excludePrivate: true,
    excludeInternal: true,
    excludeExternals: true,
    treatWarningsAsErrors: true,
    validation: {
      notExported: true,
      invalidLink: true,
      invalidPath: true,
      rewrittenLink: true,
      // `findUndocumented` checks this itself, to report each declaration's file and line.
      notDocumented: false,
    },
    logLevel: 'Warn',
    // Sources keep their file and line (the check reports them) without asking git for a
    // remote to link to: a clone may have none, or one that is not a known host. The links
    // point into the checkout the site was built in (pages sit one folder below docs/api).
    disableGit: true,
    basePath: repositoryRoot,
    sourceLinkTemplate: '../../../{path}#L{line}',
    // `tsc` type-checks the sources already (`pnpm typecheck`); doing it again here costs a quarter of the time.
    skipErrorChecking: true,
  };
}
