import { loadavg } from 'node:os';
import * as tg from 'tsgrad';
import { labelArray, uniformArray } from './problems.js';
import { formatRatio, formatValue, markdownTable } from './table.js';
import { FULL, measure } from './timing.js';

// vmap against the loops it replaces, in one process on the default (wasm) backend, float32:
// Jacobians and a Hessian computed one basis vector at a time (how jacrev, jacfwd and hessian
// worked before) against the vmapped transforms, and per-sample gradients (one backward pass
// per example, and `nn.perSampleGrads`) against one batch gradient, eager and under `jit`.
// Every run's results are disposed, as a trainer disposes gradients it has used. Run with
// `node --expose-gc dist/vmap.js [--only TEXT]` after `tsc -b`.

const N = 64;
const randn = (seed: number, shape: number[]) => tg.randn(tg.random.key(seed), shape);
const w = tg.mul(randn(1, [N, N]), 1 / Math.sqrt(N));
const b = randn(2, [N]);
const x64 = randn(3, [N]);

/** [64] → [64] */
const layer = (x: tg.Tensor) => tg.tanh(tg.add(tg.matmul(w, x), b));
/** [64] → scalar */
const energy = (x: tg.Tensor) => tg.sum(tg.mul(layer(x), tg.sin(x)));

const basis = Array.from({ length: N }, (_, k) =>
  tg.tensor(Float32Array.from({ length: N }, (_, i) => (i === k ? 1 : 0))),
);

/** The Jacobian one cotangent at a time (jacrev before vmap). */
function jacobianByRows(x: tg.Tensor): tg.Tensor {
  const [, pullback] = tg.vjp(layer, x);
  return tg.stack(basis.map((e) => pullback(e)[0]));
}

/** The Jacobian one tangent at a time (jacfwd before vmap). */
function jacobianByColumns(x: tg.Tensor): tg.Tensor {
  return tg.stack(
    basis.map((e) => tg.jvp(layer, [x], [e])[1]),
    1,
  );
}

/** The Hessian one Hessian-vector product at a time (forward over reverse, as before vmap). */
function hessianByColumns(x: tg.Tensor): tg.Tensor {
  return tg.stack(basis.map((e) => tg.jvp(tg.grad(energy), [x], [e])[1]));
}

function maxDiff(a: tg.Tensor, b: tg.Tensor): number {
  const x = a.toTypedArray();
  const y = b.toTypedArray();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(Number(x[i]) - Number(y[i])));
  return m;
}

// Per-sample gradients: the MLP 784-256-10 at batch 128, and a small CNN at batch 32.
tg.manualSeed(0);
const batch = 128;
const mlp = new tg.nn.Sequential(new tg.nn.Linear(784, 256), new tg.nn.ReLU(), new tg.nn.Linear(256, 10));
const mlpX = tg.tensor(uniformArray(batch * 784, 0, 1, 10)).reshape([batch, 784]);
const mlpY = tg.tensor(labelArray(batch, 10, 11));
const cnnBatch = 32;
const cnn = new tg.nn.Sequential(
  new tg.nn.Conv2d(1, 16, 3, { padding: 1 }),
  new tg.nn.ReLU(),
  new tg.nn.MaxPool2d(2),
  new tg.nn.Conv2d(16, 32, 3, { padding: 1 }),
  new tg.nn.ReLU(),
  new tg.nn.MaxPool2d(2),
  new tg.nn.Flatten(),
  new tg.nn.Linear(32 * 7 * 7, 10),
);
const cnnX = tg.tensor(uniformArray(cnnBatch * 784, 0, 1, 12)).reshape([cnnBatch, 1, 28, 28]);
const cnnY = tg.tensor(labelArray(cnnBatch, 10, 13));
const loss = (out: tg.Tensor, target: tg.Tensor) => tg.crossEntropy(out, target);

function batchGradient(model: tg.nn.Sequential, x: tg.Tensor, y: tg.Tensor): void {
  model.zeroGrad();
  loss(model.forward(x), y).backward();
}

/** One backward pass per example: the gradients of the first parameter, stacked. */
function perSampleByLoop(model: tg.nn.Sequential, x: tg.Tensor, y: tg.Tensor): tg.Tensor {
  const first = model.parameters()[0];
  const rows = Array.from({ length: x.shape[0] }, (_, i) => {
    model.zeroGrad();
    loss(model.forward(tg.narrow(x, 0, i, 1)), tg.narrow(y, 0, i, 1)).backward();
    return (first.grad as tg.Tensor).detach();
  });
  return tg.stack(rows);
}

// The same per-sample and batch gradients as functions of the parameters, for `jit`.
const mlpNames = mlp.namedParameters().map(([name]) => name);
const mlpLoss = (params: tg.Tensor[], x: tg.Tensor, y: tg.Tensor) =>
  tg.nn.functionalCall(mlp, Object.fromEntries(mlpNames.map((n, i) => [n, params[i]])), (m) =>
    loss(m.forward(x), y),
  );
const mlpLossOfOne = (params: tg.Tensor[], x: tg.Tensor, y: tg.Tensor) =>
  mlpLoss(params, tg.unsqueeze(x, 0), tg.unsqueeze(y, 0));
const jitBatchGradient = tg.jit(tg.grad(mlpLoss));
const jitPerSample = tg.jit(tg.vmap(tg.grad(mlpLossOfOne), { inAxes: [null, 0, 0] }));
const jitJacrev = tg.jit(tg.jacrev(layer));

interface Row {
  readonly name: string;
  readonly before: string;
  /** Every tensor a run returns is disposed after it (a gradient a trainer has used). */
  readonly beforeRun: () => tg.Tensor[];
  readonly afterRun: () => tg.Tensor[];
  /** Whether the first results of both runs are the same values (else only the cost is compared). */
  readonly compare: boolean;
}

const perSampleMlp = () => Object.values(tg.nn.perSampleGrads(mlp, loss, mlpX, mlpY));
const perSampleCnn = () => Object.values(tg.nn.perSampleGrads(cnn, loss, cnnX, cnnY));
const batchGradientOf = (model: tg.nn.Sequential, x: tg.Tensor, y: tg.Tensor) => () => {
  batchGradient(model, x, y);
  return [];
};

const ROWS: readonly Row[] = [
  {
    name: 'jacrev, [64] → [64]',
    before: 'loop of 64 vjp',
    beforeRun: () => [jacobianByRows(x64)],
    afterRun: () => [tg.jacrev(layer)(x64)],
    compare: true,
  },
  {
    name: 'jit(jacrev), [64] → [64]',
    before: 'loop of 64 vjp',
    beforeRun: () => [jacobianByRows(x64)],
    afterRun: () => [jitJacrev(x64)],
    compare: true,
  },
  {
    name: 'jacfwd, [64] → [64]',
    before: 'loop of 64 jvp',
    beforeRun: () => [jacobianByColumns(x64)],
    afterRun: () => [tg.jacfwd(layer)(x64)],
    compare: true,
  },
  {
    name: 'hessian, [64] → scalar',
    before: 'loop of 64 jvp(grad)',
    beforeRun: () => [hessianByColumns(x64)],
    afterRun: () => [tg.hessian(energy)(x64)],
    compare: true,
  },
  {
    name: 'per-sample grads, MLP 784-256-10, batch 128',
    before: 'loop of 128 backward',
    beforeRun: () => [perSampleByLoop(mlp, mlpX, mlpY)],
    afterRun: perSampleMlp,
    compare: true,
  },
  {
    name: 'per-sample grads, CNN (2 conv3×3 + pool, dense), batch 32',
    before: 'loop of 32 backward',
    beforeRun: () => [perSampleByLoop(cnn, cnnX, cnnY)],
    afterRun: perSampleCnn,
    compare: true,
  },
  {
    name: 'per-sample grads (vmap) vs one batch gradient, MLP, batch 128',
    before: 'batch gradient',
    beforeRun: batchGradientOf(mlp, mlpX, mlpY),
    afterRun: perSampleMlp,
    compare: false,
  },
  {
    name: 'jit(vmap(grad)) vs jit(grad), MLP, batch 128',
    before: 'jit(grad), batch',
    beforeRun: () => jitBatchGradient(mlp.parameters(), mlpX, mlpY),
    afterRun: () => jitPerSample(mlp.parameters(), mlpX, mlpY),
    compare: false,
  },
  {
    name: 'per-sample grads (vmap) vs one batch gradient, CNN, batch 32',
    before: 'batch gradient',
    beforeRun: batchGradientOf(cnn, cnnX, cnnY),
    afterRun: perSampleCnn,
    compare: false,
  },
];

// `--only TEXT` runs the rows whose name contains TEXT.
const only = process.argv.indexOf('--only');
const selected = only < 0 ? ROWS : ROWS.filter((row) => row.name.includes(process.argv[only + 1] ?? ''));
const disposeAll = (tensors: tg.Tensor[]) => {
  for (const t of tensors) t.dispose();
};
const policy = { ...FULL, budgetMs: 1500 };
const rows: string[][] = [];
for (const row of selected) {
  process.stderr.write(`${row.name}…\n`);
  const expected = row.beforeRun();
  const got = row.afterRun();
  const diff = row.compare ? maxDiff(got[0], expected[0]).toExponential(1) : '–';
  disposeAll([...expected, ...got]);
  const before = await measure(() => disposeAll(row.beforeRun()), policy);
  const after = await measure(() => disposeAll(row.afterRun()), policy);
  rows.push([
    row.name,
    row.before,
    formatValue(before.medianMs),
    formatValue(after.medianMs),
    formatRatio(before.medianMs / after.medianMs),
    diff,
  ]);
}
console.log(`vmap, float32, ${tg.getBackend().name} backend; load average ${loadavg()[0].toFixed(1)}`);
console.log(markdownTable(['workload', 'before', 'before ms', 'vmap ms', 'speed-up', 'max |diff|'], rows));

// The floor of the MLP's per-sample gradients: their first weight gradient alone is 128 copies
// of 784×256 floats, one batched outer product (two threads) that no kernel writes faster than
// memory takes plain stores; with the forward's first product (the same in both) it is all a
// per-sample step must do beyond a batch gradient.
if (only < 0 || 'memory floor'.includes(process.argv[only + 1] ?? '')) {
  const deltas = randn(20, [batch, 256, 1]);
  const inputs = mlpX.reshape([batch, 1, 784]);
  const outer = await measure(() => tg.matmul(deltas, inputs).dispose(), policy);
  const weight = mlp.parameters()[0];
  const forward = await measure(
    () => tg.noGrad(() => tg.matmul(mlpX, tg.transpose(weight, 0, 1))).dispose(),
    policy,
  );
  const gradient = await measure(() => batchGradient(mlp, mlpX, mlpY), policy);
  const jitted = await measure(() => disposeAll(jitBatchGradient(mlp.parameters(), mlpX, mlpY)), policy);
  const floor = outer.medianMs + forward.medianMs;
  console.log(
    `memory floor: the ${((batch * 784 * 256 * 4) / 1e6).toFixed(0)} MB first-layer per-sample weight gradient ` +
      `(one batched outer product, two threads) takes ${formatValue(outer.medianMs)} ms, and with the forward's ` +
      `first product (${formatValue(forward.medianMs)} ms) ${formatValue(floor)} ms: ` +
      `${formatRatio(floor / gradient.medianMs)} the batch gradient (${formatValue(gradient.medianMs)} ms), ` +
      `${formatRatio(floor / jitted.medianMs)} jit(grad) (${formatValue(jitted.medianMs)} ms)`,
  );
}
