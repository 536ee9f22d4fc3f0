// The package graph of DESIGN.md, checked in CI: dependencies point one way, upward, and
// there are no import cycles. Packages are matched by folder.
const core = '(tensor|backend-[^/]+|autograd|compiler|nn|optim|data|io)';

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
        'No import cycles, except through the autograd Tensor class and op core: Tensor methods call ' +
        'the ops, and the ops create Tensors (the alternative is patching prototypes by side-effect imports).',
      severity: 'error',
      from: {},
      to: { circular: true, viaNot: '^packages/autograd/src/(tensor|op)\\.ts$' },
    },
    only('tensor', []),
    only('backend-[^/]+', ['tensor']),
    only('autograd', ['tensor', 'backend-wasm']),
    only('compiler', ['tensor', 'autograd']),
    only('nn', ['tensor', 'autograd']),
    only('optim', ['tensor', 'autograd']),
    only('data', ['tensor']),
    only('io', ['tensor', 'autograd']),
    only('testing', [core, 'testing']),
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
      from: { path: `^packages/${core}/src/`, pathNot: '/src/(node\\.ts|node/)' },
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
