import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as A from '@tsgrad/autograd';
import {
  decodeJsonMetadata,
  encodeJsonMetadata,
  fromBytes,
  type SafetensorsContents,
  type StateDict,
  toBytes,
} from '@tsgrad/io';
import { load, save } from '@tsgrad/io/node';
import * as nn from '@tsgrad/nn';
import * as optim from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import { afterAll, describe, expect, it } from 'vitest';

// Training resumes identically from a checkpoint: a model trained k steps, saved with its
// optimizer (and LR scheduler) and loaded into fresh objects, then trained n more steps, ends
// bit for bit where an uninterrupted run of k + n steps ends. And the functional optimizers
// (init/update + applyUpdates) follow the object API (step) bit for bit on an nn model.

type AnyOptimizer = optim.Optimizer<{ lr: number }>;

interface Scheduler {
  step(): void;
  stateDict(): optim.LRSchedulerStateDict;
  loadStateDict(state: optim.LRSchedulerStateDict): void;
}

/** One training setup: an optimizer for the model, and maybe a scheduler stepped after each step. */
interface Setup {
  readonly name: string;
  readonly optimizer: (model: nn.Module) => AnyOptimizer;
  readonly scheduler?: (optimizer: AnyOptimizer) => Scheduler;
}

/** Weights and biases in separate groups (biases without weight decay), as is common. */
const weightsAndBiases = (model: nn.Module) => {
  const named = model.namedParameters();
  return [
    named.filter(([name]) => name.endsWith('weight')).map(([, p]) => p),
    named.filter(([name]) => name.endsWith('bias')).map(([, p]) => p),
  ];
};

const setups: Setup[] = [
  {
    name: 'SGD, Nesterov momentum, + StepLR',
    optimizer: (model) =>
      new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
    scheduler: (optimizer) => new optim.StepLR(optimizer, { stepSize: 4, gamma: 0.5 }),
  },
  {
    name: 'Adam, amsgrad, + CosineAnnealingLR',
    optimizer: (model) => new optim.Adam(model.parameters(), { lr: 0.02, amsgrad: true }),
    scheduler: (optimizer) => new optim.CosineAnnealingLR(optimizer, { tMax: 20, etaMin: 1e-3 }),
  },
  {
    name: 'AdamW, two parameter groups',
    optimizer: (model) => {
      const [weights, biases] = weightsAndBiases(model);
      return new optim.AdamW(
        [
          { params: weights, weightDecay: 0.1 },
          { params: biases, weightDecay: 0, lr: 0.03 },
        ],
        { lr: 0.01 },
      );
    },
  },
  {
    name: 'RMSprop, centered, + OneCycleLR',
    optimizer: (model) =>
      new optim.RMSprop(model.parameters(), { lr: 0.01, momentum: 0.9, centered: true, weightDecay: 1e-3 }),
    // OneCycleLR also sets the momentum of every group at each step.
    scheduler: (optimizer) => new optim.OneCycleLR(optimizer, { maxLr: 0.02, totalSteps: 30 }),
  },
];

const DATA_KEY = T.random.key(7);

/** The batch of step `step`: inputs [16, 4] and class labels [16] in 0…2, the same in every run. */
function batchAt(step: number) {
  const [inputKey, labelKey] = T.random.split(T.random.foldIn(DATA_KEY, step));
  return {
    inputs: new A.Tensor(T.random.normal(inputKey, [16, 4])),
    labels: new A.Tensor(T.random.randint(labelKey, [16], 0, 3)),
  };
}

/** A small MLP whose initial weights come from `seed`. */
function mlp(seed: number): nn.Sequential {
  nn.manualSeed(seed);
  return new nn.Sequential(new nn.Linear(4, 8), new nn.Tanh(), new nn.Linear(8, 3));
}

const lossAt = (model: nn.Sequential, step: number) => {
  const { inputs, labels } = batchAt(step);
  return A.crossEntropy(model.forward(inputs), labels);
};

interface Run {
  readonly model: nn.Sequential;
  readonly optimizer: AnyOptimizer;
  readonly scheduler?: Scheduler;
}

function startRun(setup: Setup, seed: number): Run {
  const model = mlp(seed);
  const optimizer = setup.optimizer(model);
  return { model, optimizer, scheduler: setup.scheduler?.(optimizer) };
}

/** Trains steps `from`…`to − 1` (object API), stepping the scheduler after each. */
function trainSteps(run: Run, from: number, to: number): void {
  for (let step = from; step < to; step++) {
    run.optimizer.zeroGrad();
    lossAt(run.model, step).backward();
    run.optimizer.step();
    run.scheduler?.step();
  }
}

/** What a checkpoint's JSON metadata holds besides the tensors. */
interface CheckpointMeta {
  readonly step: number;
  readonly optimizer: optim.OptimizerStateDict['meta'];
  readonly scheduler: optim.LRSchedulerStateDict | null;
}

/** One safetensors file: `model.<name>` and `optimizer.<param>.<state>` tensors, the rest as JSON. */
function checkpointOf(run: Run, step: number): { tensors: StateDict; metadata: Record<string, string> } {
  const { state, meta } = run.optimizer.stateDict();
  const tensors: StateDict = {};
  for (const [name, value] of Object.entries(run.model.stateDict())) tensors[`model.${name}`] = value;
  for (const [name, value] of Object.entries(state)) tensors[`optimizer.${name}`] = value;
  const json: CheckpointMeta = { step, optimizer: meta, scheduler: run.scheduler?.stateDict() ?? null };
  return { tensors, metadata: encodeJsonMetadata(json) };
}

/** The tensors whose names start with `prefix`, without it. */
function withPrefix(tensors: Record<string, T.NDArray>, prefix: string): Record<string, T.NDArray> {
  return Object.fromEntries(
    Object.entries(tensors)
      .filter(([name]) => name.startsWith(prefix))
      .map(([name, value]) => [name.slice(prefix.length), value]),
  );
}

/** Loads a checkpoint into `run` (strictly: every key must match); returns the step to resume at. */
function restore(run: Run, contents: SafetensorsContents, options: { optimizer?: boolean } = {}): number {
  const meta = decodeJsonMetadata(contents.metadata) as CheckpointMeta;
  run.model.loadStateDict(withPrefix(contents.tensors, 'model.'));
  if (options.optimizer ?? true) {
    run.optimizer.loadStateDict({ state: withPrefix(contents.tensors, 'optimizer.'), meta: meta.optimizer });
  }
  if (meta.scheduler !== null) run.scheduler?.loadStateDict(meta.scheduler);
  return meta.step;
}

/** An array's bytes as hex: equal strings mean bit-identical arrays (NaN payloads and −0 included). */
function bitsOf(value: T.NDArray | A.Tensor): string {
  const data = value.toTypedArray();
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex');
}

const bitsByName = (tensors: Readonly<Record<string, T.NDArray | A.Tensor>>) =>
  Object.fromEntries(Object.entries(tensors).map(([name, value]) => [name, bitsOf(value)]));

/** How a checkpoint travels: as bytes in memory, or through a file written by the Node entry. */
type Transport = (checkpoint: ReturnType<typeof checkpointOf>) => SafetensorsContents;

const inMemory: Transport = ({ tensors, metadata }) => fromBytes(toBytes(tensors, metadata));

const directory = mkdtempSync(join(tmpdir(), 'tsgrad-checkpoint-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const throughFile: Transport = ({ tensors, metadata }) => {
  const path = join(directory, 'checkpoint.safetensors');
  save(tensors, path, { metadata });
  return load(path);
};

const [K, N] = [7, 6];

describe.each(setups)('resuming from a checkpoint: $name', (setup) => {
  const transports: [string, Transport][] = [['toBytes/fromBytes', inMemory]];
  if (setup === setups[1]) transports.push(['save/load of @tsgrad/io/node', throughFile]);

  it.each(transports)('via %s, continues bit-identically to an uninterrupted run', (_, transport) => {
    const uninterrupted = startRun(setup, 0);
    trainSteps(uninterrupted, 0, K + N);

    const interrupted = startRun(setup, 0);
    trainSteps(interrupted, 0, K);
    const contents = transport(checkpointOf(interrupted, K));

    const resumed = startRun(setup, 1); // other initial weights, overwritten by the checkpoint
    expect(bitsByName(resumed.model.stateDict())).not.toEqual(bitsByName(interrupted.model.stateDict()));
    expect(restore(resumed, contents)).toBe(K);
    expect(bitsByName(resumed.model.stateDict())).toEqual(bitsByName(interrupted.model.stateDict()));
    expect(resumed.optimizer.paramGroups.map(({ params: _, ...hyper }) => hyper)).toEqual(
      interrupted.optimizer.paramGroups.map(({ params: _, ...hyper }) => hyper),
    );
    trainSteps(resumed, K, K + N);

    expect(bitsByName(resumed.model.stateDict())).toEqual(bitsByName(uninterrupted.model.stateDict()));
    const [after, expected] = [resumed.optimizer.stateDict(), uninterrupted.optimizer.stateDict()];
    expect(bitsByName(after.state)).toEqual(bitsByName(expected.state));
    expect(after.meta).toEqual(expected.meta);
    expect(resumed.scheduler?.stateDict()).toEqual(uninterrupted.scheduler?.stateDict());
  });

  it('needs the optimizer state: without it, training does not resume identically', () => {
    const uninterrupted = startRun(setup, 0);
    trainSteps(uninterrupted, 0, K + N);
    const interrupted = startRun(setup, 0);
    trainSteps(interrupted, 0, K);
    const resumed = startRun(setup, 0);
    restore(resumed, inMemory(checkpointOf(interrupted, K)), { optimizer: false });
    trainSteps(resumed, K, K + N);
    expect(bitsByName(resumed.model.stateDict())).not.toEqual(bitsByName(uninterrupted.model.stateDict()));
  });
});

/** A functional optimizer and the object-API optimizer (with its scheduler) it should match. */
interface Pair {
  readonly name: string;
  readonly functional: () => optim.GradientTransformation<optim.OptimizerState>;
  readonly object: (params: A.Tensor[]) => { optimizer: AnyOptimizer; scheduler?: Scheduler };
}

const cosine = { lr: 0.02, tMax: 10, etaMin: 1e-3 };

const pairs: Pair[] = [
  {
    name: 'SGD, momentum, dampening',
    functional: () => optim.sgd({ lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 }),
    object: (params) => ({
      optimizer: new optim.SGD(params, { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 }),
    }),
  },
  {
    name: 'Adam',
    functional: () => optim.adam({ lr: 0.01, weightDecay: 1e-3 }),
    object: (params) => ({ optimizer: new optim.Adam(params, { lr: 0.01, weightDecay: 1e-3 }) }),
  },
  {
    name: 'Adam + cosine schedule / LRScheduler',
    functional: () => optim.adam({ lr: optim.cosineAnnealingSchedule(cosine) }),
    object: (params) => {
      const optimizer = new optim.Adam(params, { lr: cosine.lr });
      return { optimizer, scheduler: new optim.CosineAnnealingLR(optimizer, cosine) };
    },
  },
  {
    name: 'AdamW',
    functional: () => optim.adamw({ lr: 0.01, weightDecay: 0.1 }),
    object: (params) => ({ optimizer: new optim.AdamW(params, { lr: 0.01, weightDecay: 0.1 }) }),
  },
  {
    name: 'RMSprop, centered, momentum',
    functional: () => optim.rmsprop({ lr: 0.01, momentum: 0.5, centered: true }),
    object: (params) => ({
      optimizer: new optim.RMSprop(params, { lr: 0.01, momentum: 0.5, centered: true }),
    }),
  },
  {
    name: 'Lion',
    functional: () => optim.lion({ lr: 1e-3, weightDecay: 0.1 }),
    object: (params) => ({ optimizer: new optim.Lion(params, { lr: 1e-3, weightDecay: 0.1 }) }),
  },
];

describe.each(pairs)('the functional and object APIs on an nn model: $name', (pair) => {
  it('agree bit for bit at every step', () => {
    const functionalModel = mlp(0);
    const objectModel = mlp(0);
    const params = functionalModel.parameters();
    const transformation = pair.functional();
    let state = transformation.init(params);
    const { optimizer, scheduler } = pair.object(objectModel.parameters());

    for (let step = 0; step < 12; step++) {
      const grads = A.gradients([lossAt(functionalModel, step)], params).map((g) => g!.value);
      const result = transformation.update(grads, state, params);
      optim.applyUpdates(params, result.updates);
      state = result.state;

      optimizer.zeroGrad();
      lossAt(objectModel, step).backward();
      optimizer.step();
      scheduler?.step();

      expect(bitsByName(functionalModel.stateDict()), `step ${step}`).toEqual(
        bitsByName(objectModel.stateDict()),
      );
    }
    // The models did move (from the same start), so the agreement is not trivial.
    expect(bitsByName(objectModel.stateDict())).not.toEqual(bitsByName(mlp(0).stateDict()));
  });
});
