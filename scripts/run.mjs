#!/usr/bin/env node
// One entry point for README's commands on a machine that has only Node 20+ and npm:
// installs the pinned pnpm if missing, installs dependencies, builds, then runs a task.
//   node scripts/run.mjs demo | test | bench | playground | docs | lint | typecheck
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.replace(
  /^pnpm@/,
  '',
);
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1' };

function versionOf(command) {
  try {
    return execFileSync(command, ['--version'], {
      encoding: 'utf8',
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/** The pinned pnpm: the one on PATH if it matches, else a copy installed under .cache/. */
function ensurePnpm() {
  if (versionOf('pnpm') === pinned) return 'pnpm';
  const local = join(root, '.cache', 'pnpm', 'node_modules', '.bin', 'pnpm');
  // turbo looks pnpm up on PATH, so the local copy goes first on it for every child process.
  env.PATH = `${dirname(local)}${delimiter}${env.PATH ?? ''}`;
  if (existsSync(local) && versionOf(local) === pinned) return local;
  console.log(`> installing pnpm@${pinned} into .cache/pnpm`);
  run('npm', [
    'install',
    '--prefix',
    join(root, '.cache', 'pnpm'),
    '--no-save',
    '--no-audit',
    '--no-fund',
    `pnpm@${pinned}`,
  ]);
  return local;
}

function run(command, args, options = {}) {
  console.log(`> ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  if (result.status !== 0 && !options.allowFailure) {
    // CI reads the closing line: a set-up step that fails is one failure.
    if (task === 'test') console.log('0 passed, 1 failed');
    process.exit(result.status ?? 1);
  }
  return result.status ?? 1;
}

/**
 * What the test suite needs from the operating system: the real Fashion-MNIST files (the IDX
 * reader and the trainer are tested on them) and a Chromium (the wasm backend runs in it).
 * Both are Debian packages; as root (or with password-less sudo) they are installed here.
 */
const systemPackages = [
  { name: 'dataset-fashion-mnist', file: '/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz' },
  { name: 'chromium', file: '/usr/bin/chromium' },
];

function ensureSystemPackages() {
  const missing = systemPackages.filter((p) => !existsSync(p.file)).map((p) => p.name);
  if (missing.length === 0) return;
  const asRoot = process.getuid?.() === 0;
  if (versionOf('apt-get') === undefined || (!asRoot && versionOf('sudo') === undefined)) {
    console.error(`The tests need the Debian packages: apt-get install ${missing.join(' ')}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.log(`> installing the Debian packages the tests use: ${missing.join(', ')}`);
  const options = { env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } };
  const aptGet = (...args) =>
    asRoot ? run('apt-get', args, options) : run('sudo', ['-n', 'apt-get', ...args], options);
  aptGet('update', '-qq');
  aptGet('install', '-y', '-qq', ...missing);
}

function setup() {
  const pnpm = ensurePnpm();
  run(pnpm, ['install', '--frozen-lockfile']);
  run(pnpm, ['run', 'build']);
  return pnpm;
}

/** Runs vitest and ends with the plain summary line CI reads: `N passed, N failed, N skipped`. */
function test(pnpm) {
  ensureSystemPackages();
  run(pnpm, ['exec', 'depcruise', 'packages', 'apps', '--config', '.dependency-cruiser.cjs']);
  const report = join(root, 'test-results.json');
  rmSync(report, { force: true });
  const status = run(
    pnpm,
    ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
    { allowFailure: true, env: { ...env, CI: process.env.CI ?? 'true' } },
  );
  if (!existsSync(report)) {
    console.log('0 passed, 1 failed');
    process.exit(status || 1);
  }
  const results = JSON.parse(readFileSync(report, 'utf8'));
  // A file that fails to load has no failed tests of its own: count it as one failure.
  const brokenFiles = results.testResults.filter(
    (file) => file.status === 'failed' && !file.assertionResults.some((t) => t.status === 'failed'),
  ).length;
  const failed = results.numFailedTests + brokenFiles;
  const skipped = results.numPendingTests + results.numTodoTests;
  console.log(`${results.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(status === 0 && failed === 0 ? 0 : 1);
}

const task = process.argv[2];
const tasks = {
  // INIT_CWD: the trainer writes to out/spirals under the repository root, not under apps/spirals.
  demo: (pnpm) => run(pnpm, ['--filter', '@tsgrad/spirals', 'start'], { env: { ...env, INIT_CWD: root } }),
  test,
  bench: (pnpm) => run(pnpm, ['--filter', '@tsgrad/bench', 'bench']),
  // The page's static build (made by setup), served with the cross-origin isolation headers.
  playground: (pnpm) => run(pnpm, ['--filter', '@tsgrad/playground', 'preview']),
  docs: (pnpm) => run(pnpm, ['--filter', '@tsgrad/docs', 'docs']),
  lint: (pnpm) => run(pnpm, ['exec', 'biome', 'check', '.']),
  typecheck: (pnpm) => run(pnpm, ['exec', 'tsc', '-p', 'tsconfig.tests.json']),
};
if (!(task in tasks)) {
  console.error(`usage: node scripts/run.mjs ${Object.keys(tasks).join(' | ')}`);
  process.exit(2);
}
tasks[task](setup());
