import {
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  avgPool1d,
  avgPool2d,
  type MaxPoolWithIndices,
  maxPool1d,
  maxPool1dWithIndices,
  maxPool2d,
  maxPool2dWithIndices,
  type Tensor,
} from '@tsgrad/autograd';
import type * as T from '@tsgrad/tensor';
import { Module, markBuiltIn } from '../module.js';

// Pooling layers (no parameters) over the functional pools; inputs are [N, C, …] or unbatched
// [C, …], and stride defaults to the kernel size, as in PyTorch.

const sizeText = (size: number | readonly (number | null)[]) =>
  typeof size === 'number' ? `${size}` : `[${size.map((s) => (s === null ? 'null' : s)).join(', ')}]`;

/** Options of `MaxPool1d` and `MaxPool2d`; `Size` is a number, or a pair for 2-D. */
export interface MaxPoolOptions<Size> {
  /** Default: kernelSize. */
  readonly stride?: Size;
  /** Implicit −∞ padding on both sides, at most half the kernel. Default 0. */
  readonly padding?: Size;
  /** Spacing between window taps. Default 1. */
  readonly dilation?: Size;
  /** Round the output size up instead of down. */
  readonly ceilMode?: boolean;
}

/** Options of `AvgPool1d` and `AvgPool2d`; `Size` is a number, or a pair for 2-D. */
export interface AvgPoolOptions<Size> {
  /** Default: kernelSize. */
  readonly stride?: Size;
  /** Implicit zero padding on both sides, at most half the kernel. Default 0. */
  readonly padding?: Size;
  /** Round the output size up instead of down. */
  readonly ceilMode?: boolean;
  /** Divide by the whole window, padding included (default true), or by the input elements only. */
  readonly countIncludePad?: boolean;
}

function maxPoolRepr(
  kernelSize: number | readonly number[],
  options: MaxPoolOptions<number | readonly number[]>,
) {
  return [
    `kernelSize=${sizeText(kernelSize)}`,
    `stride=${sizeText(options.stride ?? kernelSize)}`,
    `padding=${sizeText(options.padding ?? 0)}`,
    `dilation=${sizeText(options.dilation ?? 1)}`,
    `ceilMode=${options.ceilMode ?? false}`,
  ].join(', ');
}

function avgPoolRepr(
  kernelSize: number | readonly number[],
  options: AvgPoolOptions<number | readonly number[]>,
) {
  return [
    `kernelSize=${sizeText(kernelSize)}`,
    `stride=${sizeText(options.stride ?? kernelSize)}`,
    `padding=${sizeText(options.padding ?? 0)}`,
  ].join(', ');
}

/** PyTorch's `nn.MaxPool1d` over `[N, C, L]` or `[C, L]`. */
export class MaxPool1d extends Module {
  constructor(
    /** The window length. */
    readonly kernelSize: number,
    /** Stride, padding, dilation and ceil mode. */
    readonly options: MaxPoolOptions<number> = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return maxPool1d(x, { kernelSize: this.kernelSize, ...this.options });
  }

  /** The pooled values and the int32 position of each maximum in its input row (`return_indices`). */
  forwardWithIndices(x: Tensor): MaxPoolWithIndices {
    return maxPool1dWithIndices(x, { kernelSize: this.kernelSize, ...this.options });
  }

  override extraRepr(): string {
    return maxPoolRepr(this.kernelSize, this.options);
  }
}

/** PyTorch's `nn.MaxPool2d` over `[N, C, H, W]` or `[C, H, W]`. */
export class MaxPool2d extends Module {
  constructor(
    /** The window size: a number for both axes, or `[h, w]`. */
    readonly kernelSize: T.PoolSize2d,
    /** Stride, padding, dilation and ceil mode. */
    readonly options: MaxPoolOptions<T.PoolSize2d> = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, { kernelSize: this.kernelSize, ...this.options });
  }

  /** The pooled values and the int32 position `h·W + w` of each maximum in its plane (`return_indices`). */
  forwardWithIndices(x: Tensor): MaxPoolWithIndices {
    return maxPool2dWithIndices(x, { kernelSize: this.kernelSize, ...this.options });
  }

  override extraRepr(): string {
    return maxPoolRepr(this.kernelSize, this.options);
  }
}

/** PyTorch's `nn.AvgPool1d` over `[N, C, L]` or `[C, L]`. */
export class AvgPool1d extends Module {
  constructor(
    /** The window length. */
    readonly kernelSize: number,
    /** Stride, padding, ceil mode and whether padding counts in the mean. */
    readonly options: AvgPoolOptions<number> = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return avgPool1d(x, { kernelSize: this.kernelSize, ...this.options });
  }

  override extraRepr(): string {
    return avgPoolRepr(this.kernelSize, this.options);
  }
}

/** PyTorch's `nn.AvgPool2d` over `[N, C, H, W]` or `[C, H, W]`. */
export class AvgPool2d extends Module {
  constructor(
    /** The window size: a number for both axes, or `[h, w]`. */
    readonly kernelSize: T.PoolSize2d,
    /** Stride, padding, ceil mode and whether padding counts in the mean. */
    readonly options: AvgPoolOptions<T.PoolSize2d> = {},
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, { kernelSize: this.kernelSize, ...this.options });
  }

  override extraRepr(): string {
    return avgPoolRepr(this.kernelSize, this.options);
  }
}

/** PyTorch's `nn.AdaptiveAvgPool1d`: averages `[N, C, L]` down to `[N, C, outputSize]`. */
export class AdaptiveAvgPool1d extends Module {
  /** @param outputSize The output length. */
  constructor(readonly outputSize: number) {
    super();
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool1d(x, this.outputSize);
  }

  override extraRepr(): string {
    return `outputSize=${this.outputSize}`;
  }
}

/**
 * PyTorch's `nn.AdaptiveAvgPool2d`: averages `[N, C, H, W]` down to `[N, C, oh, ow]` whatever
 * H and W are; `null` keeps that axis. `new AdaptiveAvgPool2d(1)` is global average pooling.
 */
export class AdaptiveAvgPool2d extends Module {
  /** @param outputSize `[oh, ow]` (a number for both); `null` keeps that axis. */
  constructor(readonly outputSize: number | readonly [number | null, number | null]) {
    super();
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  override extraRepr(): string {
    return `outputSize=${sizeText(this.outputSize)}`;
  }
}

markBuiltIn(MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool1d, AdaptiveAvgPool2d);
