import type { DType, Shape } from '@tsgrad/tensor';

/** How the conformance harness draws one input of an op. */
export interface InputSpec<P = unknown> {
  /**
   * 'float': a differentiable floating-point input (the default); 'index': int32 values in
   * [0, bound); 'mask': a random bool array. Only 'float' inputs are differentiated.
   */
  readonly kind?: 'float' | 'index' | 'mask';
  /** Float values are drawn uniformly from this range. Default [-2, 2]. */
  readonly range?: readonly [number, number];
  /** Points where the op has a kink or pole; drawn values keep at least 0.1 away from them. */
  readonly avoid?: readonly number[];
  /** Exclusive upper bound of 'index' values, from the sample's shapes and params. */
  readonly bound?: (shapes: readonly Shape[], params: P) => number;
  /** Custom values (e.g. distinct numbers, a permutation); `random` is uniform in [0, 1). */
  readonly values?: (shape: Shape, params: P, random: () => number) => ArrayLike<number>;
}

/** One concrete call: the shapes of the inputs and the op's params. */
export interface OpSample<P = unknown> {
  /** One shape per input (broadcasting shapes where the op broadcasts). */
  readonly shapes: readonly Shape[];
  /** The op's params for this call. */
  readonly params?: P;
  /** Override the dtype of some inputs (e.g. a bool condition). */
  readonly dtypes?: readonly (DType | undefined)[];
}

/** A call that must throw `throws` (a typed error class), with a message naming the op. */
export interface ErrorSample<P = unknown> extends OpSample<P> {
  /** The typed error class the call must throw. */
  readonly throws: abstract new (
    ...args: never[]
  ) => Error;
}

/**
 * An op's test spec (an OpInfo entry): the conformance harness in @tsgrad/testing reads it to
 * check the op's forward in float32 against float64 and against `reference`, gradcheck,
 * gradgradcheck (order 2), the jvp/vjp dot-product identity, broadcasting and `errors`.
 */
export interface OpSpec<P = unknown> {
  /** One domain per input: where the harness draws values from. */
  readonly inputs: readonly InputSpec<P>[];
  /** Sample calls; include broadcasting shapes where the op broadcasts and size-1 dims. */
  readonly samples: readonly OpSample<P>[];
  /** Highest derivative order checked: 0 (not differentiable), 1 or 2 (default). */
  readonly order?: 0 | 1 | 2;
  /**
   * An independent float64 reference of the forward, on row-major values; returns every
   * output's values. Optional for ops that are compositions of checked ops.
   */
  readonly reference?: (
    inputs: readonly Float64Array[],
    shapes: readonly Shape[],
    params: P,
  ) => readonly ArrayLike<number>[];
  /** Calls that must throw a typed error naming the op. */
  readonly errors?: readonly ErrorSample<P>[];
  /** Loosen gradcheck for ill-conditioned ops. */
  readonly tolerance?: { readonly atol?: number; readonly rtol?: number };
}
