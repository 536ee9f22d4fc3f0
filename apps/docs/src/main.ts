// `npm run docs`: the API reference as a static site in docs/api (git-ignored), built from the doc
// comments of every public entry point. It refuses to write a site with a broken link or an
// undocumented export, the same checks `test/reference.test.ts` runs in `npm test`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publicEntryPoints, repositoryRoot } from './entry-points.js';
import { landingPage } from './landing.js';
import { convertReference, findUndocumented, formatUndocumented } from './reference.js';

const out = join(repositoryRoot, 'docs', 'api');
const entryPoints = publicEntryPoints();
const started = performance.now();
const { app, project, problems } = await convertReference(entryPoints, { readme: landingPage(entryPoints) });
const undocumented = project ? findUndocumented(project) : [];
if (!project || problems.length > 0 || undocumented.length > 0) {
  if (undocumented.length > 0) {
    console.error(`${undocumented.length} exports have no doc comment:\n${formatUndocumented(undocumented)}`);
  }
  console.error(`docs: ${problems.length} TypeDoc warnings or errors; no site written`);
  process.exit(1);
}
mkdirSync(out, { recursive: true });
await app.generateDocs(project, out);
if (app.logger.hasErrors() || app.logger.hasWarnings()) process.exit(1);
writeFileSync(join(out, '.nojekyll'), '');
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`docs: ${entryPoints.length} entry points → ${join(out, 'index.html')} (${seconds} s)`);
