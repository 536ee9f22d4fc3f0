import { TsgradError } from '@tsgrad/tensor';
import type { Node, Tensor } from './tensor.js';

/**
 * A tensor a tape node saved for its backward rule was changed in place afterwards (e.g. by
 * `assign` or an optimizer step), so the gradient would be computed from the wrong values.
 */
export class InPlaceModificationError extends TsgradError {}

/** The versions of the tensors a node saves, inputs then outputs (recorded when it is made). */
export function savedVersions(inputs: readonly Tensor[], outputs: readonly Tensor[]): number[] {
  const versions = new Array<number>(inputs.length + outputs.length);
  for (let i = 0; i < inputs.length; i++) versions[i] = inputs[i].version;
  for (let i = 0; i < outputs.length; i++) versions[inputs.length + i] = outputs[i].version;
  return versions;
}

/** Throws if a tensor `node` saved has been changed in place since `op` (`backward`, …) recorded it. */
export function checkSavedVersions(
  op: string,
  node: Node,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
): void {
  const versions = node.savedVersions;
  for (let i = 0; i < versions.length; i++) {
    const t = i < inputs.length ? inputs[i] : outputs[i - inputs.length];
    if (t.version !== versions[i]) throw modified(op, node, t, i, inputs.length);
  }
}

function modified(
  op: string,
  node: Node,
  t: Tensor,
  i: number,
  inputCount: number,
): InPlaceModificationError {
  const role = i < inputCount ? `input ${i}` : `output ${i - inputCount}`;
  const where = t.createdAt
    ? `it was created at ${t.createdAt}`
    : 'its creation site is unknown (run under detectAnomaly to record it)';
  return new InPlaceModificationError(
    op,
    `one of the tensors needed for gradient computation has been modified by an in-place operation: ` +
      `${role} of '${node.op.name}' (${t.dtype} [${t.shape.join(',')}]) was saved at version ${node.savedVersions[i]} ` +
      `and is now at version ${t.version}; ${where}`,
  );
}
