import type { WasmBackend } from '@tsgrad/backend-wasm';
import * as tg from 'tsgrad';

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

function difference(make: () => tg.Tensor): number {
  const fast = make().toTypedArray();
  const reference = tg.withBackend(tg.cpuBackend, make).toTypedArray();
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
  const backend = tg.getBackend() as WasmBackend;
  const { runtime } = backend;
  if (runtime.pool.threads > 1) await until(() => runtime.pool.ready);
  const key = tg.random.key(0);
  const [ka, kb, kx, kw] = tg.random.split(key, 4);
  const maxDifference = Math.max(
    difference(() => tg.matmul(tg.randn(ka, [300, 200]), tg.randn(kb, [200, 300]))),
    difference(() => tg.conv2d(tg.randn(kx, [8, 3, 20, 20]), tg.randn(kw, [16, 3, 3, 3]), { padding: 1 })),
    difference(() => tg.exp(tg.randn(ka, [100_000]))),
  );
  tg.manualSeed(0);
  const model = new tg.nn.Sequential(new tg.nn.Linear(16, 64), new tg.nn.ReLU(), new tg.nn.Linear(64, 4));
  const optimizer = new tg.optim.Adam(model.parameters(), { lr: 1e-2 });
  const x = tg.randn(kx, [64, 16]);
  const y = tg.argmax(tg.randn(kw, [64, 4]), { axis: 1 }); // int32 labels in 0…3
  const losses: number[] = [];
  for (let step = 0; step < 100; step++) {
    optimizer.zeroGrad();
    const loss = tg.crossEntropy(model.forward(x), y);
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
