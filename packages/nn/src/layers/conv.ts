import {
  conv1d,
  conv2d,
  convTranspose1d,
  convTranspose2d,
  indexSelect,
  inLibrary,
  squeeze,
  type Tensor,
  unsqueeze,
} from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { nextKey } from '../init.js';
import { Module, markBuiltIn, type Parameter } from '../module.js';
import { checkTensor, integerList } from '../validate.js';
import { fanInBound, type LayerOptions, uniformParameter } from './linear.js';

/** How the input is padded before a convolution (PyTorch's `padding_mode`). */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

/** Options of the convolution layers (`Conv1d`, `Conv2d`); `Size` is a number, or a pair for 2-D. */
export interface ConvOptions<Size> extends LayerOptions {
  /** Default 1. */
  readonly stride?: Size;
  /** Padding on both sides of each axis, or 'same' (stride 1 only) / 'valid'. Default 0. */
  readonly padding?: Size | 'same' | 'valid';
  /** Default 1. */
  readonly dilation?: Size;
  /** Channels split into independent convolutions; must divide both channel counts. Default 1. */
  readonly groups?: number;
  /** Learn an additive per-channel bias (default true). */
  readonly bias?: boolean;
  /** Default 'zeros'. */
  readonly paddingMode?: PaddingMode;
}

/** Options of the transposed convolution layers (`ConvTranspose1d`, `ConvTranspose2d`). */
export interface ConvTransposeOptions<Size> extends LayerOptions {
  /** The step (default 1). */
  readonly stride?: Size;
  /** Trims this many rows/columns from each side of the full output (default 0). */
  readonly padding?: Size;
  /** Extra size on the bottom/right of the output, smaller than the stride (default 0). */
  readonly outputPadding?: Size;
  /** Spacing between kernel taps (default 1). */
  readonly dilation?: Size;
  /** Channels split into independent convolutions; must divide both channel counts (default 1). */
  readonly groups?: number;
  /** Learn an additive per-channel bias (default true). */
  readonly bias?: boolean;
}

type Size = number | readonly number[];

function perAxis(
  name: string,
  what: string,
  value: Size | undefined,
  rank: number,
  fallback: number,
): number[] {
  const values = value === undefined ? [fallback] : integerList(name, what, value);
  const out = values.length === 1 ? new Array<number>(rank).fill(values[0]) : values;
  if (out.length !== rank || out.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new T.ValueError(
      name,
      `${what} must be a non-negative integer or ${rank} of them, got ${T.describe(value)}`,
    );
  }
  return out;
}

const tupleText = (values: readonly number[]) => `[${values.join(', ')}]`;

/**
 * What every convolution layer shares: channel counts, geometry, and weight and bias drawn from
 * U(−1/√fanIn, 1/√fanIn), which is PyTorch's kaiming_uniform(a=√5) and its bias rule, with
 * fanIn = weight.shape[1] · kernel size (so a transposed convolution uses outChannels/groups).
 */
abstract class ConvLayer extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly kernelSize: readonly number[];
  readonly stride: readonly number[];
  readonly dilation: readonly number[];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Size,
    rank: number,
    transposed: boolean,
    options: LayerOptions & { stride?: Size; dilation?: Size; groups?: number; bias?: boolean } = {},
  ) {
    super();
    const name = new.target.name;
    T.checkOptions(name, options);
    this.kernelSize = perAxis(name, 'kernelSize', kernelSize, rank, 1);
    this.stride = perAxis(name, 'stride', options.stride, rank, 1);
    this.dilation = perAxis(name, 'dilation', options.dilation, rank, 1);
    this.groups = options.groups ?? 1;
    const counts = [inChannels, outChannels];
    if (counts.some((c) => !Number.isInteger(c) || c <= 0)) {
      throw new T.ValueError(
        name,
        `channel counts must be positive integers, got ${T.describe(inChannels)} and ${T.describe(outChannels)}`,
      );
    }
    if (!Number.isInteger(this.groups) || this.groups <= 0 || counts.some((c) => c % this.groups !== 0)) {
      throw new T.ValueError(
        name,
        `groups=${this.groups} must be a positive divisor of inChannels=${inChannels} and outChannels=${outChannels}`,
      );
    }
    if (this.kernelSize.some((k) => k === 0) || [...this.stride, ...this.dilation].some((s) => s === 0)) {
      throw new T.ValueError(name, 'kernelSize, stride and dilation must be positive');
    }
    const dtype = options.dtype ?? 'float32';
    const [first, second] = transposed ? [inChannels, outChannels] : [outChannels, inChannels];
    const shape = [first, second / this.groups, ...this.kernelSize];
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    const bound = fanInBound(fanIn);
    const [wKey, bKey] = T.random.split(options.key ?? nextKey());
    this.weight = uniformParameter(shape, bound, dtype, wKey);
    this.bias = (options.bias ?? true) ? uniformParameter([outChannels], bound, dtype, bKey) : null;
  }

  /** Runs `run` on an `[N, C, …]` input, or on an unbatched `[C, …]` one as a batch of one. */
  protected batched(x: Tensor, run: (x: Tensor) => Tensor): Tensor {
    checkTensor(this.constructor.name, 'the input', x);
    const rank = this.kernelSize.length;
    const layout = rank === 2 ? '[N, C, H, W] or [C, H, W]' : '[N, C, L] or [C, L]';
    if (x.ndim !== rank + 1 && x.ndim !== rank + 2) {
      throw new T.ShapeError(this.constructor.name, `expected input ${layout}, got [${x.shape.join(',')}]`);
    }
    const unbatched = x.ndim === rank + 1;
    const channels = x.shape[unbatched ? 0 : 1];
    if (channels !== this.inChannels) {
      throw new T.ShapeError(
        this.constructor.name,
        `expected ${this.inChannels} input channels, got input [${x.shape.join(',')}] with ${channels}`,
      );
    }
    return inLibrary(() => (unbatched ? squeeze(run(unsqueeze(x, 0)), 0) : run(x)));
  }

  protected geometryRepr(padding: string, extra: string[] = []): string {
    const ones = (v: readonly number[]) => v.every((d) => d === 1);
    return [
      `${this.inChannels}, ${this.outChannels}, kernelSize=${tupleText(this.kernelSize)}`,
      `stride=${tupleText(this.stride)}`,
      ...(padding ? [`padding=${padding}`] : []),
      ...extra,
      ...(ones(this.dilation) ? [] : [`dilation=${tupleText(this.dilation)}`]),
      ...(this.groups === 1 ? [] : [`groups=${this.groups}`]),
      ...(this.bias === null ? ['bias=false'] : []),
    ].join(', ');
  }
}

/** A convolution (Conv1d, Conv2d): weight `[outChannels, inChannels/groups, ...kernelSize]`. */
abstract class Conv extends ConvLayer {
  readonly padding: readonly number[] | 'same' | 'valid';
  readonly paddingMode: PaddingMode;

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Size,
    rank: number,
    options: ConvOptions<Size>,
  ) {
    super(inChannels, outChannels, kernelSize, rank, false, options);
    const name = new.target.name;
    const padding = options.padding ?? 0;
    this.padding = typeof padding === 'string' ? padding : perAxis(name, 'padding', padding, rank, 0);
    if (padding !== 'same' && padding !== 'valid' && typeof padding === 'string') {
      throw new T.ValueError(name, `padding must be a size, 'same' or 'valid', got '${padding}'`);
    }
    if (this.padding === 'same' && this.stride.some((s) => s !== 1)) {
      throw new T.ValueError(name, `padding='same' needs stride 1, got stride ${tupleText(this.stride)}`);
    }
    this.paddingMode = options.paddingMode ?? 'zeros';
    if (!['zeros', 'reflect', 'replicate', 'circular'].includes(this.paddingMode)) {
      throw new T.ValueError(
        name,
        `paddingMode must be 'zeros', 'reflect', 'replicate' or 'circular', got '${this.paddingMode}'`,
      );
    }
  }

  /** [before, after] per spatial axis; 'same' puts the odd element after, as PyTorch. */
  private padWidths(): [number, number][] {
    return this.kernelSize.map((k, a) => {
      if (this.padding === 'valid') return [0, 0];
      if (this.padding === 'same') {
        const total = this.dilation[a] * (k - 1);
        return [Math.floor(total / 2), total - Math.floor(total / 2)];
      }
      return [this.padding[a], this.padding[a]];
    });
  }

  /** The input and the padding the functional convolution still has to apply. */
  protected padded(x: Tensor): { x: Tensor; padding: number[] | 'same' | 'valid' } {
    if (this.paddingMode === 'zeros') {
      return { x, padding: typeof this.padding === 'string' ? this.padding : [...this.padding] };
    }
    const widths = this.padWidths();
    let y = x;
    widths.forEach(([before, after], a) => {
      const axis = a + 2;
      if (before > 0 || after > 0) y = indexSelect(y, axis, this.padIndices(y.shape[axis], before, after));
    });
    return { x: y, padding: 'valid' };
  }

  /** Source positions of a padded axis of size n for the non-zero padding modes. */
  private padIndices(n: number, before: number, after: number): Int32Array {
    const mode = this.paddingMode;
    if (
      (mode === 'reflect' && Math.max(before, after) >= n) ||
      (mode === 'circular' && Math.max(before, after) > n)
    ) {
      throw new T.ValueError(
        this.constructor.name,
        `${mode} padding of ${Math.max(before, after)} is too large for an axis of size ${n}`,
      );
    }
    const out = new Int32Array(n + before + after);
    for (let i = 0; i < out.length; i++) {
      const j = i - before;
      if (mode === 'replicate') out[i] = Math.min(Math.max(j, 0), n - 1);
      else if (mode === 'circular') out[i] = ((j % n) + n) % n;
      else out[i] = j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j;
    }
    return out;
  }

  override extraRepr(): string {
    const padding = typeof this.padding === 'string' ? `'${this.padding}'` : tupleText(this.padding);
    const zero = typeof this.padding !== 'string' && this.padding.every((p) => p === 0);
    const mode = this.paddingMode === 'zeros' ? [] : [`paddingMode='${this.paddingMode}'`];
    return this.geometryRepr(zero ? '' : padding, mode);
  }
}

/**
 * 1-D convolution over `[N, C, L]` (or unbatched `[C, L]`), PyTorch's `nn.Conv1d`: weight
 * `[outChannels, inChannels/groups, kernelSize]`, bias `[outChannels]`.
 */
export class Conv1d extends Conv {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    options: ConvOptions<number> = {},
  ) {
    super(inChannels, outChannels, kernelSize, 1, options);
  }

  forward(x: Tensor): Tensor {
    return this.batched(x, (input) => {
      const { x: xp, padding } = this.padded(input);
      return conv1d(xp, this.weight, {
        stride: this.stride[0],
        padding: typeof padding === 'string' ? padding : padding[0],
        dilation: this.dilation[0],
        groups: this.groups,
        bias: this.bias ?? undefined,
      });
    });
  }
}

/**
 * 2-D convolution over `[N, C, H, W]` (or unbatched `[C, H, W]`), PyTorch's `nn.Conv2d`:
 * weight `[outChannels, inChannels/groups, kh, kw]`, bias `[outChannels]`.
 */
export class Conv2d extends Conv {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: T.Size2d,
    options: ConvOptions<T.Size2d> = {},
  ) {
    super(inChannels, outChannels, kernelSize, 2, options);
  }

  forward(x: Tensor): Tensor {
    return this.batched(x, (input) => {
      const { x: xp, padding } = this.padded(input);
      return conv2d(xp, this.weight, {
        stride: [this.stride[0], this.stride[1]],
        padding: typeof padding === 'string' ? padding : [padding[0], padding[1]],
        dilation: [this.dilation[0], this.dilation[1]],
        groups: this.groups,
        bias: this.bias ?? undefined,
      });
    });
  }
}

/** A transposed convolution: weight `[inChannels, outChannels/groups, ...kernelSize]`. */
abstract class ConvTranspose extends ConvLayer {
  readonly padding: readonly number[];
  readonly outputPadding: readonly number[];

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Size,
    rank: number,
    options: ConvTransposeOptions<Size>,
  ) {
    super(inChannels, outChannels, kernelSize, rank, true, options);
    const name = new.target.name;
    this.padding = perAxis(name, 'padding', options.padding, rank, 0);
    this.outputPadding = perAxis(name, 'outputPadding', options.outputPadding, rank, 0);
    if (this.outputPadding.some((p, a) => p >= this.stride[a])) {
      throw new T.ValueError(
        name,
        `outputPadding ${tupleText(this.outputPadding)} must be smaller than the stride ${tupleText(this.stride)}`,
      );
    }
  }

  override extraRepr(): string {
    const nonZero = (v: readonly number[]) => v.some((p) => p !== 0);
    return this.geometryRepr(
      nonZero(this.padding) ? tupleText(this.padding) : '',
      nonZero(this.outputPadding) ? [`outputPadding=${tupleText(this.outputPadding)}`] : [],
    );
  }
}

/** PyTorch's `nn.ConvTranspose1d` over `[N, Cin, L]` (or `[Cin, L]`). */
export class ConvTranspose1d extends ConvTranspose {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number,
    options: ConvTransposeOptions<number> = {},
  ) {
    super(inChannels, outChannels, kernelSize, 1, options);
  }

  forward(x: Tensor): Tensor {
    return this.batched(x, (input) =>
      convTranspose1d(input, this.weight, {
        stride: this.stride[0],
        padding: this.padding[0],
        outputPadding: this.outputPadding[0],
        dilation: this.dilation[0],
        groups: this.groups,
        bias: this.bias ?? undefined,
      }),
    );
  }
}

/**
 * PyTorch's `nn.ConvTranspose2d` over `[N, Cin, H, W]` (or `[Cin, H, W]`): weight
 * `[inChannels, outChannels/groups, kh, kw]`; the output size along each axis is
 * (n − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1.
 */
export class ConvTranspose2d extends ConvTranspose {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: T.Size2d,
    options: ConvTransposeOptions<T.Size2d> = {},
  ) {
    super(inChannels, outChannels, kernelSize, 2, options);
  }

  forward(x: Tensor): Tensor {
    const pair = (v: readonly number[]) => [v[0], v[1]] as const;
    return this.batched(x, (input) =>
      convTranspose2d(input, this.weight, {
        stride: pair(this.stride),
        padding: pair(this.padding),
        outputPadding: pair(this.outputPadding),
        dilation: pair(this.dilation),
        groups: this.groups,
        bias: this.bias ?? undefined,
      }),
    );
  }
}

markBuiltIn(Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d);
