import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as optim from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// The library frees, deterministically, every buffer it knows is dead: intermediates of the
// forward pass once backward has consumed them, gradients the backward pass made along the
// way, replaced optimizer state and parameter values, temporaries of composite ops. Each loop
// below trains without a single `dispose` and without awaiting (so the FinalizationRegistry
// never runs), on a backend that counts its live buffers. Between step 5 and step 50 the count
// may grow by at most what the loop's own code holds each step, which only the garbage
// collector can know to be dead.

/** The CPU backend, counting its live buffers (allocations − frees). */
function countingBackend(): { readonly backend: T.Backend; live(): number } {
  let live = 0;
  const cpu = T.cpuBackend;
  const backend: T.Backend = {
    ...cpu,
    name: 'counting',
    alloc(dtype, size) {
      live++;
      return cpu.alloc(dtype, size);
    },
    free() {
      live--;
    },
  };
  return { backend, live: () => live };
}

interface Growth {
  /** Live buffers after step 5 and after step 50. */
  readonly at5: number;
  readonly at50: number;
  readonly perStep: number;
}

/** Runs `step(0..49)` on a counting backend (`setup` first) and measures the live buffers. */
function measure<S>(setup: () => S, step: (state: S, i: number) => void): Growth {
  const { backend, live } = countingBackend();
  return T.withBackend(backend, () => {
    const state = setup();
    let at5 = 0;
    for (let i = 0; i < 50; i++) {
      step(state, i);
      if (i === 4) at5 = live();
    }
    const at50 = live();
    return { at5, at50, perStep: (at50 - at5) / 45 };
  });
}

/** `heldPerStep` counts the tensors the loop's own code creates and holds in one step. */
function expectBounded(name: string, growth: Growth, heldPerStep: number): void {
  console.log(
    `${name}: ${growth.perStep.toFixed(2)} live buffers/step (step 5: ${growth.at5}, step 50: ${growth.at50}); the loop holds ${heldPerStep}/step`,
  );
  expect(growth.perStep).toBeLessThanOrEqual(heldPerStep);
}

const key = T.random.key(7);

/** A batch of `n` random inputs of `shape` and int32 labels in [0, classes). */
function batch(i: number, n: number, shape: readonly number[], classes: number): [A.Tensor, A.Tensor] {
  const [kx, ky] = T.random.split(T.random.foldIn(key, i), 2);
  return [
    new A.Tensor(T.random.normal(kx, [n, ...shape])),
    new A.Tensor(T.random.randint(ky, [n], 0, classes)),
  ];
}

/** Held per step by a loop `x, y = batch; logits = model(x); loss = …; backward; step`. */
const INPUTS_LOGITS_LOSS = 4;

describe('training without dispose keeps the live buffers flat', () => {
  it('an MLP with Adam and cross-entropy (object API)', () => {
    const growth = measure(
      () => {
        nn.manualSeed(1);
        const model = new nn.Sequential(
          new nn.Linear(8, 32),
          new nn.ReLU(),
          new nn.Linear(32, 32),
          new nn.ReLU(),
          new nn.Linear(32, 4),
        );
        return { model, optimizer: new optim.Adam(model.parameters(), { lr: 1e-2 }) };
      },
      ({ model, optimizer }, i) => {
        const [x, y] = batch(i, 16, [8], 4);
        const logits = model.forward(x);
        const loss = A.crossEntropy(logits, y);
        loss.backward();
        optimizer.step();
        optimizer.zeroGrad();
      },
    );
    expectBounded('MLP + Adam', growth, INPUTS_LOGITS_LOSS);
  });

  it('a CNN (conv2d, relu, maxPool2d, linear) with SGD and momentum', () => {
    const growth = measure(
      () => {
        nn.manualSeed(2);
        const model = new nn.Sequential(
          new nn.Conv2d(1, 4, 3, { padding: 1 }),
          new nn.ReLU(),
          new nn.MaxPool2d(2),
          new nn.Conv2d(4, 8, 3),
          new nn.ReLU(),
          new nn.MaxPool2d(2),
          new nn.Flatten(),
          new nn.Linear(8, 3),
        );
        return {
          model,
          criterion: new nn.CrossEntropyLoss(),
          optimizer: new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }),
        };
      },
      ({ model, criterion, optimizer }, i) => {
        const [x, y] = batch(i, 4, [1, 8, 8], 3);
        const logits = model.forward(x);
        const loss = criterion.forward(logits, y);
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
      },
    );
    expectBounded('CNN + SGD(momentum)', growth, INPUTS_LOGITS_LOSS);
  });

  it('the functional style: valueAndGrad, functionalCall and an optax-style chain', () => {
    let held = 0;
    const growth = measure(
      () => {
        nn.manualSeed(3);
        const model = new nn.Sequential(new nn.Linear(8, 16), new nn.Tanh(), new nn.Linear(16, 4));
        const named = model.namedParameters();
        // JAX style: the parameters are plain values. (Parameters that require grad would make
        // valueAndGrad record its backward pass, so that the gradients themselves could be
        // differentiated with respect to them, and keep that graph alive with the gradients.)
        const params = named.map(([, p]) => {
          p.requiresGrad = false;
          return p;
        });
        const transform = optim.chain(
          optim.clipByGlobalNorm(1),
          optim.scaleByAdam(),
          optim.addDecayedWeights(1e-4),
          optim.scaleByLearningRate(1e-2),
        );
        return { model, named, params, transform, state: transform.init(params) };
      },
      (s, i) => {
        const [x, y] = batch(i, 16, [8], 4);
        const lossOf = (...weights: A.Tensor[]) => {
          const replaced = Object.fromEntries(s.named.map(([name], k) => [name, weights[k]]));
          return nn.functionalCall(s.model, replaced, (m) => A.crossEntropy(m.forward(x), y));
        };
        const argnums = s.params.map((_, k) => k);
        const [loss, grads] = A.valueAndGrad(lossOf, { argnums })(...s.params);
        const { updates, state } = s.transform.update(
          grads.map((g) => g.value),
          s.state,
          s.params,
        );
        optim.applyUpdates(s.params, updates);
        s.state = state;
        // x, y, the logits and the loss (whose value is a view of it); one gradient and one
        // update per parameter; the state this step replaces (Adam's two moments per parameter).
        held = 4 + grads.length + updates.length + 2 * s.params.length;
        expect(loss.size).toBe(1);
      },
    );
    expectBounded('valueAndGrad + chain(clip, adam, decay, lr)', growth, held);
  });

  it('a model with BatchNorm and LayerNorm in training mode', () => {
    const growth = measure(
      () => {
        nn.manualSeed(4);
        const model = new nn.Sequential(
          new nn.Linear(8, 32),
          new nn.BatchNorm1d(32),
          new nn.ReLU(),
          new nn.Linear(32, 32),
          new nn.LayerNorm(32),
          new nn.GELU(),
          new nn.Dropout(0.1),
          new nn.Linear(32, 4),
        );
        return { model, optimizer: new optim.AdamW(model.parameters(), { lr: 1e-2 }) };
      },
      ({ model, optimizer }, i) => {
        const [x, y] = batch(i, 16, [8], 4);
        const logits = model.train().forward(x);
        const loss = A.crossEntropy(logits, y);
        loss.backward();
        optim.clipGradNorm(model.parameters(), 1);
        optimizer.step();
        optimizer.zeroGrad();
      },
    );
    expectBounded('BatchNorm/LayerNorm/Dropout + AdamW + clipGradNorm', growth, INPUTS_LOGITS_LOSS);
  });
});

describe('what the user holds is never freed', () => {
  it('gradients read through .grad, hooks and retainGrad survive zeroGrad and later steps', () => {
    const { backend } = countingBackend();
    T.withBackend(backend, () => {
      nn.manualSeed(5);
      const first = new nn.Linear(3, 4);
      const model = new nn.Sequential(first, new nn.ReLU(), new nn.Linear(4, 2));
      const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.5 });
      const seen: A.Tensor[] = [];
      const [x, y] = batch(0, 5, [3], 2);
      const hidden = model[0].forward(x);
      hidden.retainGrad();
      hidden.registerHook((g) => {
        seen.push(g);
        return undefined;
      });
      const loss = A.crossEntropy(model[2].forward(model[1].forward(hidden)), y);
      loss.backward();
      const weightGrad = first.weight.grad as A.Tensor;
      const weightBefore = first.weight.value;
      optimizer.step();
      optimizer.zeroGrad();
      for (let i = 1; i < 4; i++) {
        const [xi, yi] = batch(i, 5, [3], 2);
        A.crossEntropy(model.forward(xi), yi).backward();
        optimizer.step();
        optimizer.zeroGrad();
      }
      for (const t of [weightGrad, hidden.grad as A.Tensor, seen[0], hidden, loss, x]) {
        expect(() => t.toArray()).not.toThrow();
      }
      expect(() => weightBefore.toArray()).not.toThrow();
      expect(optimizer.stateOf(first.weight)?.momentumBuffer).toBeDefined();
    });
  });

  it('the arrays of a state dict stay valid while training continues', () => {
    const { backend } = countingBackend();
    T.withBackend(backend, () => {
      nn.manualSeed(6);
      const model = new nn.Linear(3, 2);
      const optimizer = new optim.Adam(model.parameters());
      const step = (i: number) => {
        const [x, y] = batch(i, 4, [3], 2);
        A.crossEntropy(model.forward(x), y).backward();
        optimizer.step();
        optimizer.zeroGrad();
      };
      step(0);
      const saved = optimizer.stateDict();
      const weights = model.stateDict();
      for (let i = 1; i < 4; i++) step(i);
      for (const array of Object.values(saved.state)) expect(() => array.toArray()).not.toThrow();
      for (const tensor of Object.values(weights)) expect(() => tensor.toArray()).not.toThrow();
    });
  });
});
