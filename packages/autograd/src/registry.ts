import { ValueError } from '@tsgrad/tensor';
import type { Op } from './op.js';

/**
 * The list of defined ops. Built-in ops register while the core modules that import them are
 * still being evaluated (Tensor methods ↔ ops form an import cycle), so the list lives on a
 * hoisted function rather than in a `const`, which could still be uninitialized then.
 */
function opList(): Op<unknown>[] {
  const holder = opList as { list?: Op<unknown>[] };
  holder.list ??= [];
  return holder.list;
}

export function registerOp(op: Op<unknown>): void {
  if (opList().some((o) => o.definition.name === op.definition.name)) {
    throw new ValueError('defineOp', `an op named '${op.definition.name}' is already defined`);
  }
  opList().push(op);
}

/** Every op defined so far, built-in and user-defined: what the conformance harness checks. */
export function registeredOps(): readonly Op<unknown>[] {
  return opList();
}
