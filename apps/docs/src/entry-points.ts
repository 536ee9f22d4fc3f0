import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One public entry point: an `exports` subpath of a workspace package and its source file. */
export interface EntryPoint {
  /** What a user imports, e.g. `@tsgrad/data/node`. */
  specifier: string;
  /** The absolute path of the TypeScript source behind it (its `@tsgrad/source` condition). */
  file: string;
  /**
   * What it holds: the package's `description` for its main entry (`.`), the summary of the
   * file's `@packageDocumentation` comment for the others.
   */
  description?: string;
}

/** The repository root (this file is `apps/docs/{src,dist}/entry-points.*`). */
export const repositoryRoot = join(import.meta.dirname, '..', '..', '..');

/** The summary of a file's leading `@packageDocumentation` comment, on one line. */
function packageDocumentation(file: string): string | undefined {
  const comment = /^\/\*\*([\s\S]*?)\*\//.exec(readFileSync(file, 'utf8'))?.[1];
  if (!comment?.includes('@packageDocumentation')) return undefined;
  const summary = comment.slice(0, comment.search(/^\s*\* ?@/m));
  return summary
    .replace(/^\s*\* ?/gm, '')
    .replace(/\s+/g, ' ')
    .trim();
}

type ExportTarget = string | null | { [condition: string]: ExportTarget };

/**
 * Every public entry point of every package under `packages/`, read from the `exports` maps
 * (blocked `./internal/*` and `./package.json` are not entry points). The umbrella `tsgrad`
 * comes last, so that TypeDoc documents each symbol in the package that defines it and the
 * umbrella's re-exports link there.
 */
export function publicEntryPoints(root = repositoryRoot): EntryPoint[] {
  const packagesDir = join(root, 'packages');
  const entries: EntryPoint[] = [];
  for (const folder of readdirSync(packagesDir).sort()) {
    const dir = join(packagesDir, folder);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      name: string;
      description?: string;
      exports: Record<string, ExportTarget>;
    };
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (subpath === './package.json' || target === null || typeof target === 'string') continue;
      const source = target['@tsgrad/source'];
      if (typeof source !== 'string') continue;
      const file = join(dir, source);
      const description = subpath === '.' ? manifest.description : packageDocumentation(file);
      entries.push({
        specifier: join(manifest.name, subpath),
        file,
        ...(description ? { description } : {}),
      });
    }
  }
  const umbrella = (e: EntryPoint) => (e.specifier.startsWith('tsgrad') ? 1 : 0);
  return entries.sort((a, b) => umbrella(a) - umbrella(b));
}
