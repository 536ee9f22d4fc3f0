// `npm run docs`: the API reference as a static site in docs/api (git-ignored), built from the doc
// comments of every public entry point. It refuses to write a site with a broken link or an
// undocumented export, the same checks `test/reference.test.ts` runs in `npm test`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publicEntryPoints, repositoryRoot } from './entry-points.js';
import { landingPage } from './landing.js';
import {
  checkDocumented,
  convertReference,
  findUndocumented,
  formatUndocumented,
  notYetDocumented,
} from './reference.js';

const out = join(repositoryRoot, 'docs', 'api');
const entryPoints = publicEntryPoints();
const started = performance.now();
const { app, project, problems } = await convertReference(entryPoints, { readme: landingPage(entryPoints) });
const { missing, stale } = checkDocumented(project ? findUndocumented(project) : [], notYetDocumented());
if (problems.length > 0 || missing.length > 0 || stale.length > 0) {
  if (missing.length > 0) {
    console.error(`${missing.length} exports have no doc comment:\n${formatUndocumented(missing)}`);
  }
  if (stale.length > 0) console.error(`delete from apps/docs/not-yet-documented.txt:\n${stale.join('\n')}`);
  console.error(`docs: ${problems.length} TypeDoc warnings or errors; no site written`);
  process.exit(1);
}
mkdirSync(out, { recursive: true });
await app.generateDocs(project, out);
if (app.logger.hasErrors() || app.logger.hasWarnings()) process.exit(1);
writeFileSync(join(out, '.nojekyll'), '');
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`docs: ${entryPoints.length} entry points → ${join(out, 'index.html')} (${seconds} s)`);
