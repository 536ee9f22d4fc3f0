import fc from 'fast-check';

// A fixed seed everywhere (override with FC_SEED to explore); failures print the seed,
// the path and the shrunk counterexample.
fc.configureGlobal({
  seed: Number(process.env.FC_SEED ?? 20261124),
  numRuns: Number(process.env.FC_RUNS ?? 60),
});
