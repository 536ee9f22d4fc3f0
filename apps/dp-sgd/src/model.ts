import { nn } from 'tsgrad';

export type ModelKind = 'cnn' | 'mlp';
export const MODEL_KINDS: readonly ModelKind[] = ['cnn', 'mlp'];

/**
 * The tanh CNN of Papernot et al. (2021, "Tempered Sigmoid Activations for Deep Learning with
 * Differential Privacy", Table 1, for MNIST and Fashion-MNIST): conv 16×8×8 stride 2 → tanh →
 * max-pool 2 stride 1 → conv 32×4×4 stride 2 → tanh → max-pool 2 stride 1 → dense 32 → tanh →
 * dense 10; 26,010 parameters. Bounded activations keep gradients small, so clipping loses less.
 */
export function tanhCnn(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 16, 8, { stride: 2, padding: 3 }), // 28 → 14
    new nn.Tanh(),
    new nn.MaxPool2d(2, { stride: 1 }), // → 13
    new nn.Conv2d(16, 32, 4, { stride: 2 }), // → 5
    new nn.Tanh(),
    new nn.MaxPool2d(2, { stride: 1 }), // → 4
    new nn.Flatten(),
    new nn.Linear(32 * 4 * 4, 32),
    new nn.Tanh(),
    new nn.Linear(32, 10),
  );
}

/** 784 → 128 → 10 with tanh: a faster, weaker baseline. */
export function tanhMlp(): nn.Sequential {
  return new nn.Sequential(new nn.Linear(28 * 28, 128), new nn.Tanh(), new nn.Linear(128, 10));
}

export const makeModel = (kind: ModelKind): nn.Sequential => (kind === 'cnn' ? tanhCnn() : tanhMlp());
