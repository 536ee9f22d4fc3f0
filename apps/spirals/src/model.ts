import { argmax, crossEntropy, type NDArray, nn, noGrad, type Tensor, tensor } from 'tsgrad';

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
export function evaluate(model: nn.TensorModule, x: NDArray, y: NDArray): { loss: number; accuracy: number } {
  return noGrad(() => {
    const logits = model.forward(tensor(x));
    const loss = Number(crossEntropy(logits, tensor(y)).item());
    return { loss, accuracy: countCorrect(logits, y) / y.shape[0] };
  });
}

/** The predicted class (the largest logit) of each row of `points` [n, 2]. */
export function classify(model: nn.TensorModule, points: Tensor): Int32Array {
  const logits = noGrad(() => model.forward(points));
  return Int32Array.from(argmax(logits, { axis: 1 }).toTypedArray());
}

/** How many rows of `logits` [n, classes] have their largest value at the label's index. */
export function countCorrect(logits: Tensor, labels: NDArray): number {
  const predicted = argmax(logits, { axis: 1 }).toTypedArray();
  const truth = labels.toTypedArray();
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === truth[i]) correct++;
  return correct;
}
