import { crossEntropy, Tensor } from '@tsgrad/autograd';
import type { WasmBackend } from '@tsgrad/backend-wasm';
import * as nn from '@tsgrad/nn';
import { Adam } from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';

/** What the page reports to the test. */
export interface PageReport {
  readonly backend: string;
  readonly threads: number;
  readonly sharedMemory: boolean;
  readonly relaxedSimd: boolean;
  /** Largest |wasm − cpu| / (1 + |cpu|) over a matmul, a convolution and exp. */
  readonly maxDifference: number;
  readonly firstLoss: number;
  readonly lastLoss: number;
}

declare global {
  interface Window {
    tsgradReport?: PageReport | { error: string };
  }
}

const until = (ready: () => boolean) =>
  new Promise<void>((resolve, reject) => {
    const started = performance.now();
    const poll = () => {
      if (ready()) resolve();
      else if (performance.now() - started > 10_000) reject(new Error('the worker pool did not start'));
      else setTimeout(poll, 10);
    };
    poll();
  });

function difference(make: () => T.NDArray): number {
  const fast = make().toTypedArray();
  const reference = T.withBackend(T.cpuBackend, make).toTypedArray();
  let worst = 0;
  for (let i = 0; i < fast.length; i++) {
    worst = Math.max(
      worst,
      Math.abs(Number(fast[i]) - Number(reference[i])) / (1 + Math.abs(Number(reference[i]))),
    );
  }
  return worst;
}

async function run(): Promise<PageReport> {
  const backend = T.getBackend() as WasmBackend;
  const { runtime } = backend;
  if (runtime.pool.threads > 1) await until(() => runtime.pool.ready);
  const key = T.random.key(0);
  const [ka, kb, kx, kw] = T.random.split(key, 4);
  const maxDifference = Math.max(
    difference(() => T.matmul(T.random.normal(ka, [300, 200]), T.random.normal(kb, [200, 300]))),
    difference(() =>
      T.conv2d(T.random.normal(kx, [8, 3, 20, 20]), T.random.normal(kw, [16, 3, 3, 3]), { padding: 1 }),
    ),
    difference(() => T.exp(T.random.normal(ka, [100_000]))),
  );
  nn.manualSeed(0);
  const model = new nn.Sequential(new nn.Linear(16, 64), new nn.ReLU(), new nn.Linear(64, 4));
  const optimizer = new Adam(model.parameters(), { lr: 1e-2 });
  const x = new Tensor(T.random.normal(kx, [64, 16]));
  const y = new Tensor(T.random.randint(kw, [64], 0, 4));
  const losses: number[] = [];
  for (let step = 0; step < 100; step++) {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(x), y);
    loss.backward();
    optimizer.step();
    losses.push(Number(loss.item()));
  }
  return {
    backend: backend.name,
    threads: runtime.pool.activeThreads,
    sharedMemory: runtime.variant.shared,
    relaxedSimd: runtime.variant.relaxed,
    maxDifference,
    firstLoss: losses[0],
    lastLoss: losses[losses.length - 1],
  };
}

run().then(
  (report) => {
    window.tsgradReport = report;
  },
  (e: unknown) => {
    window.tsgradReport = { error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) };
  },
);
