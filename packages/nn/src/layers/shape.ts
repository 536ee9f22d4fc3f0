import { flatten, reshape, type Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { Module, markBuiltIn } from '../module.js';
import { checkTensor, integerList } from '../validate.js';

/** Returns its input unchanged (PyTorch's `nn.Identity`), e.g. to switch a block off. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Merges axes `startDim..endDim` into one; the defaults keep the batch axis (PyTorch's `nn.Flatten`). */
export class Flatten extends Module {
  constructor(
    /** The first axis merged (default 1, after the batch axis). */
    readonly startDim = 1,
    /** The last axis merged (default −1). */
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}

/** Splits axis `dim` into `unflattenedSize` (one entry may be −1), PyTorch's `nn.Unflatten`. */
export class Unflatten extends Module {
  /** The sizes axis `dim` is split into. */
  readonly unflattenedSize: readonly number[];

  constructor(
    /** The axis that is split. */
    readonly dim: number,
    unflattenedSize: readonly number[],
  ) {
    super();
    T.checkInteger('Unflatten', 'dim', dim);
    this.unflattenedSize = integerList('Unflatten', 'unflattenedSize', unflattenedSize);
  }

  forward(x: Tensor): Tensor {
    checkTensor('Unflatten', 'the input', x);
    const axis = this.dim < 0 ? this.dim + x.ndim : this.dim;
    if (!Number.isInteger(axis) || axis < 0 || axis >= x.ndim) {
      throw new T.IndexError('Unflatten', `dim ${this.dim} is out of range for input [${x.shape.join(',')}]`);
    }
    const known = this.unflattenedSize.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const fits = this.unflattenedSize.includes(-1) ? x.shape[axis] % known === 0 : x.shape[axis] === known;
    if (!fits) {
      throw new T.ShapeError(
        'Unflatten',
        `axis ${axis} of input [${x.shape.join(',')}] (size ${x.shape[axis]}) cannot be split into [${this.unflattenedSize.join(',')}]`,
      );
    }
    return reshape(x, [...x.shape.slice(0, axis), ...this.unflattenedSize, ...x.shape.slice(axis + 1)]);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, unflattenedSize=[${this.unflattenedSize.join(', ')}]`;
  }
}

markBuiltIn(Identity, Flatten, Unflatten);
