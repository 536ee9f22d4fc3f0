import { crossEntropy, noGrad, Tensor } from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';

export const activations = ['relu', 'tanh'] as const;
export type Activation = (typeof activations)[number];

export interface MlpOptions {
  inputs: number;
  /** Widths of the hidden layers, e.g. [64, 64]. */
  hidden: readonly number[];
  classes: number;
  activation: Activation;
}

/** A multilayer perceptron: Linear → activation for each hidden layer, then a Linear to the class logits. */
export function mlp(options: MlpOptions): nn.Sequential {
  const layers: nn.TensorModule[] = [];
  let width = options.inputs;
  for (const size of options.hidden) {
    layers.push(new nn.Linear(width, size), options.activation === 'relu' ? new nn.ReLU() : new nn.Tanh());
    width = size;
  }
  layers.push(new nn.Linear(width, options.classes));
  return new nn.Sequential(...layers);
}

/** `2→64→64→3`: the layer widths of an MLP, for logs and titles. */
export function describeMlp(options: MlpOptions): string {
  return [options.inputs, ...options.hidden, options.classes].join('→');
}

/** The model's loss and accuracy on a whole labelled set, without recording gradients. */
export function evaluate(
  model: nn.TensorModule,
  x: T.NDArray,
  y: T.NDArray,
): { loss: number; accuracy: number } {
  return noGrad(() => {
    const logits = model.forward(new Tensor(x));
    const loss = Number(crossEntropy(logits, new Tensor(y)).item());
    return { loss, accuracy: countCorrect(logits.value, y) / y.shape[0] };
  });
}

/** The predicted class (the largest logit) of each row of `points` [n, 2]. */
export function classify(model: nn.TensorModule, points: T.NDArray): Int32Array {
  const logits = noGrad(() => model.forward(new Tensor(points)));
  return Int32Array.from(T.argmax(logits.value, { axis: 1 }).toTypedArray());
}

/** How many rows of `logits` [n, classes] have their largest value at the label's index. */
export function countCorrect(logits: T.NDArray, labels: T.NDArray): number {
  const predicted = T.argmax(logits, { axis: 1 }).toTypedArray();
  const truth = labels.toTypedArray();
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === truth[i]) correct++;
  return correct;
}
