// The package graph of ARCHITECTURE.md, checked in CI: dependencies point one way, upward, and
// there are no import cycles. Packages are matched by folder.
const core = '(tensor|backend-[^/]+|autograd|compiler|nn|optim|data|io|onnx)';

/** `from` may import nothing under packages/ except its own folder and `allowed`. */
const only = (from, allowed) => ({
  name: `${from}-depends-only-on-${allowed.join('-') || 'itself'}`,
  severity: 'error',
  from: { path: `^packages/${from}/` },
  to: { path: `^packages/(?!(${[from, ...allowed].join('|')})/)` },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'No import cycles, type-only imports included (tsPreCompilationDeps). Types that refer to each ' +
        'other live in one module (autograd: Tensor and the tape Node); code that would call back up ' +
        'is reached through a setter the lower module owns (op.ts: withTangentRule, watchOps).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    only('tensor', []),
    only('backend-[^/]+', ['tensor']),
    only('autograd', ['tensor']),
    only('compiler', ['tensor', 'autograd']),
    only('nn', ['tensor', 'autograd']),
    only('optim', ['tensor', 'autograd']),
    only('data', ['tensor']),
    only('io', ['tensor', 'autograd']),
    only('onnx/src', ['tensor', 'autograd', 'compiler', 'nn']),
    // Its tests also train (optim) and reuse the harness's layer cases and input draws (testing).
    only('onnx/test', ['onnx', 'tensor', 'autograd', 'compiler', 'nn', 'optim', 'testing']),
    only('testing', [core, 'testing']),
    only('tsgrad', [core]),
    {
      name: 'packages-never-import-apps',
      severity: 'error',
      from: { path: '^packages/' },
      to: { path: '^apps/' },
    },
    {
      name: 'no-relative-imports-across-packages',
      comment: 'Import other packages by name (@tsgrad/tensor), never by a relative path into them.',
      severity: 'error',
      from: { path: '^(packages|apps)/([^/]+)/', pathNot: '/vitest\\.config\\.ts$' },
      to: { dependencyTypes: ['local'], pathNot: '^$1/$2/' },
    },
    {
      name: 'node-builtins-only-in-node-entries',
      comment:
        'Core packages run in browsers: node: imports live behind a Node entry (src/node.ts or src/node/).',
      severity: 'error',
      from: { path: `^packages/(${core}|tsgrad)/src/`, pathNot: '/src/(node\\.ts|node/)' },
      to: { dependencyTypes: ['core'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules|\\.turbo)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@tsgrad/source', 'import', 'default'],
    },
  },
};
