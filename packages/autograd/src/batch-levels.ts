import * as T from '@tsgrad/tensor';
import { defineOp } from './op.js';
import { sum } from './ops/index.js';
import type { Tensor } from './tensor.js';

// Entering and leaving a vmap level (@tsgrad/tensor's BatchingBackend) as ops on the tape, and
// the engine's reduction of a gradient over the levels whose vmap has returned: an array of an
// outer computation used inside vmap is broadcast over the batch, so its gradient from a
// reverse pass run after vmap returned is the sum over the batch (as JAX transposes the
// broadcast). While vmap runs, gradients stay per example: that is vmap(grad(f)).

export interface LevelParams {
  readonly level: T.BatchingBackend;
  /** The batch axis outside the level; null: not batched (an output the same for every example). */
  readonly axis: number | null;
}

/** [..., B at axis, ...] outside → one example inside the level. */
const enterOp = defineOp<LevelParams>(
  {
    name: 'vmapIn',
    forward: ([x], { level, axis }) => enterArray(level, x, axis ?? 0),
    vjp: ({ params }, [g]) => [leave(g, params)],
    jvp: ({ params }, [t]) => [enter(t, params)],
    save: { inputs: false },
    spec: { inputs: [], samples: [], order: 0 },
  },
  { register: false },
);

/** One example inside the level → [..., B at axis, ...] outside. */
const leaveOp = defineOp<LevelParams>(
  {
    name: 'vmapOut',
    forward: ([y], { level, axis }) => leaveArray(level, y, axis),
    vjp: ({ params }, [g]) => [params.axis === null ? g : enter(g, params)],
    jvp: ({ params }, [t]) => [leave(t, params)],
    save: { inputs: false },
    spec: { inputs: [], samples: [], order: 0 },
  },
  { register: false },
);

/** The level of `x` if it is a newer one than `level` (whose buffers hold `level`'s arrays). */
function newerLevel(level: T.BatchingBackend, x: T.NDArray): T.BatchingBackend | undefined {
  const b = x.backend;
  return b instanceof T.BatchingBackend && b.depth > level.depth ? b : undefined;
}

/**
 * x's batch axis `axis` becomes `level`'s. In a newer level's array (a reverse pass over a
 * finished vmap, run inside a newer one), that happens inside its physical value.
 */
function enterArray(level: T.BatchingBackend, x: T.NDArray, axis: number): T.NDArray {
  const newer = newerLevel(level, x);
  if (newer === undefined) return level.batch(moveAxis(x, axis, 0));
  return newer.batch(enterArray(level, newer.unbatch(x), axis + 1));
}

/** `level`'s batch axis becomes y's axis `axis` (null: y is the same for every element). */
function leaveArray(level: T.BatchingBackend, y: T.NDArray, axis: number | null): T.NDArray {
  const newer = newerLevel(level, y);
  if (newer !== undefined)
    return newer.batch(leaveArray(level, newer.unbatch(y), axis === null ? null : axis + 1));
  const all = level.unbatch(y);
  if (axis !== null) return moveAxis(all, 0, axis);
  if (level.isBatched(y)) {
    throw new T.ValueError('vmap', 'outAxes is null for an output that differs between batch elements');
  }
  return T.NDArray.view(all, all.shape.slice(1), all.strides.slice(1), all.offset, 'vmap');
}

export const enter = (x: Tensor, params: LevelParams): Tensor => enterOp.apply([x], params)[0];
export const leave = (y: Tensor, params: LevelParams): Tensor => leaveOp.apply([y], params)[0];

function moveAxis(x: T.NDArray, from: number, to: number): T.NDArray {
  if (from === to) return x;
  const order = x.shape.map((_, i) => i).filter((i) => i !== from);
  order.splice(to, 0, from);
  return T.permute(x, order);
}

/**
 * `grad` summed over the batch of every level whose vmap has returned and that the input it
 * is for (of levels `inputLevels`) does not belong to. The engine calls it for every gradient.
 */
export function sumFinishedLevels(grad: Tensor, inputLevels: readonly T.BatchingBackend[]): Tensor {
  let g = grad;
  for (const level of T.batchLevels(grad.peekValue())) {
    if (!level.active && !inputLevels.includes(level)) g = sum(leave(g, { level, axis: 0 }), { axis: 0 });
  }
  return g;
}
