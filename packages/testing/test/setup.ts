import { setDeferThreshold } from '@tsgrad/tensor';
import fc from 'fast-check';

// A fixed seed everywhere (override with FC_SEED to explore); failures print the seed,
// the path and the shrunk counterexample.
fc.configureGlobal({
  seed: Number(process.env.FC_SEED ?? 20261124),
  numRuns: Number(process.env.FC_RUNS ?? 60),
});

// TSGRAD_DEFER_THRESHOLD=1 defers every elementwise op on the wasm backend (tensor's lazy.ts),
// to run the harness through deferred, fused evaluation.
if (process.env.TSGRAD_DEFER_THRESHOLD !== undefined)
  setDeferThreshold(Number(process.env.TSGRAD_DEFER_THRESHOLD));
