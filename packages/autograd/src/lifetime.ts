import {
  type ArrayCreatedHook,
  describe,
  holdsNoMemory,
  type NDArray,
  setArrayCreatedHook,
  ValueError,
} from '@tsgrad/tensor';

// When the library may free a buffer it made. Library code runs in frames (`inLibrary`): the
// tensors and raw arrays made while a frame is innermost belong to it, and when it ends
// whatever it does not return is dead to everyone but the tape. A raw array is freed at
// once; a tensor that tape nodes saved is freed when backward releases the last of them.
// What a frame returns passes to the enclosing frame, or to the user, whose tensors the
// library never frees. User code called from library code (hooks, the functions given to
// transforms, customVjp rules, user modules in a Sequential) runs in `inUserCode`, where
// nothing is tracked and every tensor handed to it becomes the user's. Every NDArray made
// while a library frame is innermost is recorded in it (a hook in @tsgrad/tensor); a
// temporary the tensor op already disposed is disposed again harmlessly (dispose is idempotent).

/** What a frame tracks of a tensor (the Tensor class has these members). */
export interface Owned {
  /** The library frame it belongs to while it is the library's. */
  frame: Frame | null;
  /** How many tape nodes save it for their backward rule. */
  saves: number;
  /** The library is done with it: it is freed when `saves` drops to 0. */
  released: boolean;
  dispose(): void;
}

/** `list` with `x` added; the first makes a list of one (a push onto [] makes room for 16). */
function appended<T>(list: T[] | null, x: T): T[] {
  if (list === null) return [x];
  list.push(x);
  return list;
}

/** The tensors and arrays made while one library call is innermost (a few, so lists). */
export class Frame {
  // Made on first use: every op opens a frame, and most track one tensor and one array.
  tensors: Owned[] | null = null;
  arrays: (NDArray | null)[] | null = null;

  addTensor(t: Owned): void {
    t.frame = this;
    this.tensors = appended(this.tensors, t);
  }

  addArray(a: NDArray): void {
    this.arrays = appended(this.arrays, a);
  }

  /** Removes `a` from the frame's arrays; returns whether it was there. */
  takeArray(a: NDArray): boolean {
    const { arrays } = this;
    if (arrays === null) return false;
    const at = arrays.lastIndexOf(a);
    if (at < 0) return false;
    // Usually the array just handed over: pop it, so that the list stays short.
    if (at === arrays.length - 1) arrays.pop();
    else arrays[at] = null;
    return true;
  }
}

/** The open frames, innermost last; null marks user code. */
const open: (Frame | null)[] = [];
/** How many of the open frames are library frames. */
let libraryFrames = 0;
/** Above zero inside forward mode, where tangents hang on tensors and nothing is tracked. */
let paused = 0;

function innermost(): Frame | null {
  return open.length === 0 ? null : open[open.length - 1];
}

/** Records a new array in the innermost frame (the hook @tsgrad/tensor calls). */
function recordArray(array: NDArray): void {
  open[open.length - 1]?.addArray(array);
}

/**
 * Runs library code in a frame: what it makes and does not return is freed when dead. While
 * jit traces, arrays are symbols that hold no memory: no frame, nothing to free.
 */
export function inLibrary<R>(fn: () => R): R {
  if (typeof fn !== 'function') throw new ValueError('inLibrary', `expected a function, got ${describe(fn)}`);
  if (holdsNoMemory()) return fn();
  const frame = new Frame();
  // The outermost library call installs the hook, so that arrays cost nothing outside one.
  const previousHook = libraryFrames++ === 0 ? setArrayCreatedHook(recordArray) : undefined;
  open.push(frame);
  let result: R;
  try {
    result = fn();
  } catch (error) {
    leave(previousHook);
    abandon(frame);
    throw error;
  }
  leave(previousHook);
  close(frame, result);
  return result;
}

/** Pops the innermost frame; the outermost library frame restores the hook it replaced. */
function leave(previousHook: ArrayCreatedHook | undefined): void {
  open.pop();
  if (--libraryFrames === 0) setArrayCreatedHook(previousHook);
}

/** How many times user code has been entered (`inUserCode`). */
let userCodeEntries = 0;

/**
 * A count that changes whenever user code runs: equal before and after a stretch of library
 * code, it shows no user code (a hook, a custom VJP) ran in between.
 */
export const userCodeRuns = (): number => userCodeEntries;

/** Runs user code: nothing it makes is tracked, and `handed` becomes the user's. */
export function inUserCode<R>(fn: () => R, handed: readonly (Owned | null | undefined)[] = []): R {
  if (typeof fn !== 'function')
    throw new ValueError('inUserCode', `expected a function, got ${describe(fn)}`);
  if (!Array.isArray(handed))
    throw new ValueError('inUserCode', `expected a list of tensors, got ${describe(handed)}`);
  // Structural: this module sits below the Tensor class, which has these members.
  const notOwned = handed.findIndex((t) => t != null && (typeof t !== 'object' || !('frame' in t)));
  if (notOwned >= 0)
    throw new ValueError(
      'inUserCode',
      `element ${notOwned} must be a Tensor, got ${describe(handed[notOwned])}`,
    );
  for (const t of handed) if (t) giveToUser(t);
  userCodeEntries++;
  open.push(null);
  try {
    return fn();
  } finally {
    open.pop();
  }
}

/** Runs `fn` without tracking tensors (forward mode: tangents hang on the tensors made). */
export function withoutTracking<R>(fn: () => R): R {
  paused++;
  try {
    return fn();
  } finally {
    paused--;
  }
}

/**
 * A tensor takes over `array` if a library frame made it: the tensor then belongs to that
 * frame instead (the one whose code still holds the array). Returns whether it did.
 */
export function adoptArray(tensor: Owned, array: NDArray): boolean {
  for (let i = open.length - 1; i >= 0; i--) {
    const frame = open[i];
    if (frame === null || !frame.takeArray(array)) continue;
    if (paused === 0) frame.addTensor(tensor);
    return true;
  }
  return false;
}

/** `array`, just made, outlives the innermost frame (e.g. a tensor's new value, see `assign`). */
export function keepArray(array: NDArray): void {
  innermost()?.takeArray(array);
}

/** The user may hold `t` from now on: the library never frees it. */
export function giveToUser(t: Owned): void {
  t.frame = null;
  t.released = false;
}

/**
 * The innermost frame is done with `t` (made in it and not handed on): it is freed now, or
 * when backward releases the last tape node that saved it. Does nothing to other tensors.
 */
export function release(t: Owned): void {
  if (t.frame !== null && t.frame === innermost()) letGo(t);
}

/**
 * Only the tape may still use `t` (a value f returned inside a transform that has returned, as
 * vmap's level arrays once they left the level): it is freed now, or when backward releases
 * the last tape node that saved it, whoever made it.
 */
export function letGo(t: Owned): void {
  t.frame = null;
  if (t.saves === 0) t.dispose();
  else t.released = true;
}

/** A tape node saved these tensors for its backward rule. */
export function noteSaved(tensors: readonly Owned[]): void {
  for (let i = 0; i < tensors.length; i++) tensors[i].saves++;
}

/** A tape node no longer needs these saved tensors. */
export function forgetSaved(tensors: readonly Owned[]): void {
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    if (--t.saves === 0 && t.released) t.dispose();
  }
}

/** Hands what `result` holds to the enclosing frame (or the user) and frees the rest. */
function close(frame: Frame, result: unknown): void {
  // Every library op closes a frame (thousands per traced function): indexed loops, no iterators.
  const kept = collect(result);
  const parent = innermost();
  // A tensor released elsewhere that this frame returns is alive again (e.g. a saved input a
  // backward rule returned as a gradient); it is the user's from now on.
  for (let i = 0; i < kept.length; i++) {
    const x = kept[i];
    if (isReleased(x)) giveToUser(x);
  }
  const tensors = frame.tensors ?? NONE;
  const arrays = frame.arrays ?? NONE;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    if (t.frame !== frame) continue;
    if (!kept.includes(t)) letGo(t);
    else if (parent !== null) parent.addTensor(t);
    else t.frame = null;
  }
  for (let i = 0; i < arrays.length; i++) {
    const a = arrays[i];
    if (a === null) continue;
    if (!kept.includes(a)) a.dispose();
    else parent?.addArray(a);
  }
}

const NONE: readonly never[] = [];

/** Whether `x` is a tensor the library released (arrays have no such flag). */
const isReleased = (x: object): x is Owned => (x as Partial<Owned>).released === true;

/** After an error nothing is freed: what the frame made may be anywhere. */
function abandon(frame: Frame): void {
  for (const t of frame.tensors ?? NONE) if (t.frame === frame) t.frame = null;
}

/** The tensors and arrays in a result: itself, or the leaves of arrays and plain objects. */
function collect(value: unknown): object[] {
  if (typeof value !== 'object' || value === null) return [];
  // The usual result, one tensor or array, in a list of one (a push would make room for 16).
  if (!Array.isArray(value) && !isPlain(value)) return [value];
  const into: object[] = [];
  // Iterative: a result may be nested arbitrarily deep.
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== 'object' || next === null) continue;
    if (Array.isArray(next)) {
      for (let i = next.length - 1; i >= 0; i--) pending.push(next[i]);
      continue;
    }
    if (isPlain(next)) pending.push(...Object.values(next).reverse());
    else into.push(next);
  }
  return into;
}

function isPlain(x: object): boolean {
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}
