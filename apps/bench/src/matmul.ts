import * as T from '@tsgrad/tensor';

// Square float32 matmul: tsgrad's tiled CPU kernel (through the public T.matmul, so frontend
// and allocation costs are included) against a textbook triple loop on Float32Arrays, both
// timed in this process. Run with `node dist/matmul.js` after `tsc -b`.

const SIZES = [128, 256, 512];
/** Warm-up (so that the JIT has optimized the code) lasts at least this many runs and this long. */
const WARMUP_RUNS = 2;
const WARMUP_MS = 300;
const TIMED_RUNS = 7;
const COLUMNS = ['    n', 'tsgrad GFLOP/s', 'naive JS GFLOP/s', 'ratio', 'max |diff|'];

/** The textbook i-j-p loop, the peer the tiled kernel is compared with. */
function naiveMatmul(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < n; p++) sum += a[i * n + p] * b[p * n + j];
      out[i * n + j] = sum;
    }
  }
}

/** Median wall time of `fn` in milliseconds, after warm-up runs. */
function medianMs(fn: () => void): number {
  const warmupStart = performance.now();
  for (let i = 0; i < WARMUP_RUNS || performance.now() - warmupStart < WARMUP_MS; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < TIMED_RUNS; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)];
}

const randomMatrix = (n: number) => Float32Array.from({ length: n * n }, () => Math.random() * 2 - 1);
const gflops = (n: number, ms: number) => (2 * n ** 3) / (ms * 1e6);

function benchSize(n: number): string {
  const aData = randomMatrix(n);
  const bData = randomMatrix(n);
  const a = T.array(aData, { shape: [n, n] });
  const b = T.array(bData, { shape: [n, n] });
  const tiledMs = medianMs(() => T.matmul(a, b).dispose());
  const naiveOut = new Float32Array(n * n);
  const naiveMs = medianMs(() => naiveMatmul(aData, bData, naiveOut, n));
  // Both compute the same product; a large difference would mean the timing compares apples with pears.
  const tiledOut = T.matmul(a, b).toTypedArray();
  let maxDiff = 0;
  for (let i = 0; i < tiledOut.length; i++) maxDiff = Math.max(maxDiff, Math.abs(tiledOut[i] - naiveOut[i]));
  const tiled = gflops(n, tiledMs);
  const naive = gflops(n, naiveMs);
  const cells = [
    n,
    tiled.toFixed(2),
    naive.toFixed(2),
    `${(tiled / naive).toFixed(1)}×`,
    maxDiff.toExponential(1),
  ];
  return cells.map((c, i) => String(c).padStart(COLUMNS[i].length)).join('  ');
}

console.log(`matmul, float32, n×n × n×n; median of ${TIMED_RUNS} runs after ≥ ${WARMUP_MS} ms of warm-up`);
console.log(COLUMNS.join('  '));
for (const n of SIZES) console.log(benchSize(n));
