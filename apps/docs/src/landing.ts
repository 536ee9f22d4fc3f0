import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntryPoint } from './entry-points.js';

/**
 * Writes the site's landing page (a Markdown file in a temporary folder) and returns its path:
 * what the reference covers and a table of the entry points, each linked to its page.
 */
export function landingPage(entryPoints: EntryPoint[]): string {
  const rows = entryPoints.map(
    (e) => `| {@link "${e.specifier}"! | \`${e.specifier}\`} | ${e.description ?? ''} |`,
  );
  const text = [
    '# tsgrad API reference',
    '',
    'Every public entry point of the tsgrad packages, generated from their doc comments.',
    'Most programs need only `tsgrad` (and `tsgrad/node` in Node), which re-export the rest;',
    'the inner packages are for library authors who want one layer without the others.',
    '',
    '| import | what it holds |',
    '|---|---|',
    ...rows,
    '',
  ].join('\n');
  const file = join(mkdtempSync(join(tmpdir(), 'tsgrad-docs-')), 'landing.md');
  writeFileSync(file, text);
  return file;
}
