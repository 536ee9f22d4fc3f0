import { Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { Module, StateDictError } from './module.js';

/** Options of `functionalCall`. */
export interface FunctionalCallOptions {
  /** Every parameter and buffer must be given (default false: the others keep their own values). */
  readonly strict?: boolean;
  /**
   * A tensor that several submodules share (tied weights) is replaced everywhere it appears,
   * whichever of its names the key uses (default true, as PyTorch's `tie_weights`).
   */
  readonly tieWeights?: boolean;
}

/** One property of one module that holds a parameter or buffer. */
interface Slot {
  readonly owner: Module;
  readonly property: string;
}

type Properties = Record<string, unknown>;

/** The module a dotted key leads to and the property it names, or why it leads nowhere. */
function resolve(root: Module, key: string, states: ReadonlySet<Tensor>): Slot | string {
  const path = key.split('.');
  const property = path.pop() as string;
  let owner = root;
  for (const [depth, name] of path.entries()) {
    const child = Object.hasOwn(owner, name) ? (owner as unknown as Properties)[name] : undefined;
    if (!(child instanceof Module)) return `${path.slice(0, depth + 1).join('.')} is not a submodule`;
    owner = child;
  }
  const value = Object.hasOwn(owner, property) ? (owner as unknown as Properties)[property] : undefined;
  if (!(value instanceof Tensor) || !states.has(value)) return 'no parameter or buffer has this name';
  return { owner, property };
}

/** Every property of every submodule that holds `tensor`. */
function slotsHolding(root: Module, tensor: Tensor): Slot[] {
  return root.modules().flatMap((owner) =>
    Object.entries(owner)
      .filter(([, value]) => value === tensor)
      .map(([property]) => ({ owner, property })),
  );
}

/**
 * Runs `fn(module)` with some of the module's parameters and buffers replaced by the tensors
 * in `params`, keyed by their dotted names (`layers.0.weight`, `bn.running_mean`), like
 * PyTorch's `torch.func.functional_call`. The replacement swaps the tensor objects held by the
 * owning submodules (the original parameters' data is never touched) and the originals are
 * put back when `fn` returns or throws. The module is then a pure function of the given
 * tensors: gradients (and jvp/vjp tangents) flow to them, e.g. to differentiate a layer with
 * respect to float64 copies of its weights. `fn` must finish synchronously.
 *
 * Throws a StateDictError, before calling `fn`, for a key that names no parameter or buffer,
 * a value that is not a Tensor, two different tensors for one tied weight, or (with `strict`)
 * a parameter or buffer left out.
 */
export function functionalCall<M extends Module, R>(
  module: M,
  params: Readonly<Record<string, Tensor>>,
  fn: (module: M) => R,
  options: FunctionalCallOptions = {},
): R {
  const op = 'functionalCall';
  if (!(module instanceof Module)) throw new StateDictError(op, 'the first argument must be a Module');
  T.checkRecord(op, 'params', params);
  if (typeof fn !== 'function') throw new StateDictError(op, 'fn must be a function');
  T.checkOptions(op, options);
  const where = module.constructor.name;
  const named = new Map<string, Tensor>([...module.namedParameters(), ...module.namedBuffers()]);
  const states = new Set(named.values());
  const tie = options.tieWeights ?? true;
  const unknown: string[] = [];
  const replacements: { slot: Slot; value: Tensor }[] = [];
  const byOriginal = new Map<Tensor, { key: string; replacement: Tensor }>();
  for (const [key, value] of Object.entries(params)) {
    if (!(value instanceof Tensor)) {
      throw new StateDictError(op, `${where}: the value for ${key} is not a Tensor`);
    }
    const slot = resolve(module, key, states);
    if (typeof slot === 'string') {
      unknown.push(`${key} (${slot})`);
      continue;
    }
    const original = (slot.owner as unknown as Properties)[slot.property] as Tensor;
    const earlier = byOriginal.get(original);
    if (tie && earlier !== undefined && earlier.replacement !== value) {
      throw new StateDictError(
        op,
        `${where}: ${key} and ${earlier.key} are tied, but were given different tensors`,
      );
    }
    byOriginal.set(original, { key, replacement: value });
    for (const s of tie ? slotsHolding(module, original) : [slot]) replacements.push({ slot: s, value });
  }
  if (unknown.length > 0) {
    throw new StateDictError(
      op,
      `${where}: unexpected keys: ${unknown.join(', ')}; its parameters and buffers are: ${[...named.keys()].join(', ') || 'none'}`,
    );
  }
  if (options.strict ?? false) {
    const missing = [...named].filter(([, tensor]) => !byOriginal.has(tensor)).map(([name]) => name);
    if (missing.length > 0) throw new StateDictError(op, `${where}: missing keys: ${missing.join(', ')}`);
  }

  const restore: { slot: Slot; original: unknown }[] = [];
  try {
    for (const { slot, value } of replacements) {
      const properties = slot.owner as unknown as Properties;
      restore.push({ slot, original: properties[slot.property] });
      properties[slot.property] = value;
    }
    return fn(module);
  } finally {
    for (const { slot, original } of restore.reverse()) {
      (slot.owner as unknown as Properties)[slot.property] = original;
    }
  }
}
