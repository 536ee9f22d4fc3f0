import { inLibrary, type Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import * as V from './validate.js';

/** A learning rate (or any hyper-parameter) as a pure function of the step count, from 0. */
export type Schedule = (step: number) => number;

/**
 * An optimizer as a pure gradient transformation (optax style): `init` builds the state for
 * some parameters, `update` maps gradients to updates (added to the parameters by
 * `applyUpdates`) and returns the next state. Updates are computed with raw NDArray ops: no tape.
 * State holds NDArrays and plain numbers only, and is never mutated in place.
 */
export interface GradientTransformation<S> {
  /** The initial state for `params`. */
  init(params: readonly Tensor[]): S;
  /** The updates for `grads` (one per parameter; `applyUpdates` adds them) and the next state. */
  update(
    grads: readonly T.NDArray[],
    state: S,
    params: readonly Tensor[],
  ): { updates: T.NDArray[]; state: S };
}

/**
 * A gradient transformation from its init and update, whose update runs as library code: the
 * arrays it makes and does not return (as updates or state) are freed when it returns. Every
 * transformation of this package is made with it.
 */
export function defineTransformation<S>(
  transformation: GradientTransformation<S>,
): GradientTransformation<S> {
  V.checkFields(
    'defineTransformation',
    'transformation',
    { init: V.callable, update: V.callable },
    transformation,
  );
  const { init, update } = transformation;
  return { init, update: (grads, state, params) => inLibrary(() => update(grads, state, params)) };
}

/** The state of a transformation that keeps none. */
export type EmptyState = Readonly<Record<string, never>>;

const EMPTY: EmptyState = Object.freeze({});

/** A stateless transformation applying `fn` to each gradient (with its parameter's value). */
export function elementwise(
  fn: (grad: T.NDArray, param: T.NDArray) => T.NDArray,
): GradientTransformation<EmptyState> {
  return defineTransformation({
    init: () => EMPTY,
    update: (grads, state, params) => ({ updates: grads.map((g, i) => fn(g, params[i].peekValue())), state }),
  });
}

/** Leaves the gradients as they are. */
export const identity = (): GradientTransformation<EmptyState> => ({
  init: () => EMPTY,
  update: (grads, state) => ({ updates: [...grads], state }),
});

/** Runs transformations one after the other; the state is the tuple of their states. */
export function chain<S extends unknown[]>(
  ...transforms: { [K in keyof S]: GradientTransformation<S[K]> }
): GradientTransformation<S> {
  const list = transforms as readonly GradientTransformation<unknown>[];
  return defineTransformation({
    init: (params) => list.map((t) => t.init(params)) as S,
    update(grads, state, params) {
      let updates: readonly T.NDArray[] = grads;
      const next = list.map((t, i) => {
        const result = t.update(updates, state[i], params);
        updates = result.updates;
        return result.state;
      });
      return { updates: [...updates], state: next as S };
    },
  });
}

/**
 * Adds each update to its parameter in place (`p.assign(p + u)`), keeping the parameter's dtype.
 * The parameter's previous value is freed (unless it was handed out through `value`).
 */
export function applyUpdates(params: readonly Tensor[], updates: readonly T.NDArray[]): void {
  V.tensorList('applyUpdates', 'params', params);
  V.listOf(V.ndarray)('applyUpdates', 'updates', updates);
  if (params.length !== updates.length) {
    throw new T.ValueError('applyUpdates', `${params.length} parameters but ${updates.length} updates`);
  }
  inLibrary(() => {
    params.forEach((p, i) => {
      const u = updates[i];
      if (u.ndim !== p.ndim || u.shape.some((d, axis) => d !== p.shape[axis])) {
        throw new T.ShapeError(
          'applyUpdates',
          `update of shape [${u.shape}] does not match parameter [${p.shape}]`,
        );
      }
      p.assign(T.cast(T.add(p.peekValue(), u), p.dtype));
    });
  });
}

/** A zero array shaped like each parameter (the usual initial per-parameter state). */
export const zerosLikeParams = (params: readonly Tensor[]): T.NDArray[] =>
  params.map((p) => T.zerosLike(p.peekValue()));
