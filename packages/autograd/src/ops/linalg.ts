import * as T from '@tsgrad/tensor';
import { checkTensor, checkTensorList } from '../check.js';
import { inLibrary } from '../lifetime.js';
import { defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';
import { constant } from './convert.js';
import { add, mul } from './elementwise.js';
import { permute, reshape, transpose } from './movement.js';
import { sum } from './reduce.js';

type NoParams = Record<string, never>;
const none: NoParams = {};

/** The product's shape once 1-D operands are promoted to a row (a) and a column (b). */
function promotedProductShape(a: T.Shape, b: T.Shape): number[] {
  const batch = T.broadcastShapes('matmul', a.slice(0, -2), b.slice(0, -2));
  return [...batch, a[a.length - 2], b[b.length - 1]];
}

/** Drops a size-1 axis (negative axes count from the end). */
function dropAxis(x: Tensor, axis: number): Tensor {
  return reshape(
    x,
    x.shape.filter((_, i) => i !== x.ndim + axis),
  );
}

/**
 * Whether x's matrices are stored column by column (a transposed view, such as the weight in
 * `linear`): its gradient is then computed transposed, so that it comes out in x's layout and
 * the gradient of the matrix x was transposed from is contiguous. Per-sample weight gradients
 * (103 MB for a 784×256 layer at batch 128) are otherwise a strided view that every consumer
 * (norms for clipping, optimizers) reads about 3× slower.
 */
function isColumnMajor(x: Tensor): boolean {
  const { shape, strides } = x.peekValue();
  const n = shape.length;
  return n >= 2 && shape[n - 2] > 1 && shape[n - 1] > 1 && strides[n - 2] === 1 && strides[n - 1] !== 1;
}

const matmulOp = defineOp<NoParams>({
  name: 'matmul',
  forward: ([a, b]) => T.matmul(a, b),
  // In matrix form dA = G·Bᵀ and dB = Aᵀ·G (or their transposes Bᵀ… as (B·Gᵀ)ᵀ, for the
  // layout); 1-D operands are promoted first so the rule stays this simple, and the tape sums
  // the broadcast batch axes back to each operand's shape.
  vjp: ({ inputs: [a, b], needsInputGrad }, [g]) => {
    const a2 = a.ndim === 1 ? reshape(a, [1, a.shape[0]]) : a;
    const b2 = b.ndim === 1 ? reshape(b, [b.shape[0], 1]) : b;
    const g2 = reshape(g, promotedProductShape(a2.shape, b2.shape));
    const gT = () => transpose(g2);
    let da: Tensor | null = null;
    if (needsInputGrad[0]) da = isColumnMajor(a2) ? transpose(matmul(b2, gT())) : matmul(g2, transpose(b2));
    let db: Tensor | null = null;
    if (needsInputGrad[1]) db = isColumnMajor(b2) ? transpose(matmul(gT(), a2)) : matmul(transpose(a2), g2);
    if (da !== null && a.ndim === 1) da = dropAxis(da, -2);
    if (db !== null && b.ndim === 1) db = dropAxis(db, -1);
    return [da, db];
  },
  jvp: ({ inputs: [a, b] }, [ta, tb]) => [add(matmul(ta, b), matmul(a, tb))],
  spec: {
    inputs: [{}, {}],
    // biome-ignore format: one sample per line
    samples: [
      { shapes: [[3, 4], [4, 2]] },
      { shapes: [[4], [4, 2]] },
      { shapes: [[3, 4], [4]] },
      { shapes: [[4], [4]] },
      { shapes: [[1, 1], [1, 3]] },
      { shapes: [[2, 3, 4], [4, 2]] },
      { shapes: [[2, 2, 3], [3]] },
      { shapes: [[2, 1, 2, 3], [3, 3, 2]] },
    ],
    reference: ([a, b], [aShape, bShape]) => [matmulReference(a, aShape, b, bShape)],
    errors: [
      {
        shapes: [
          [3, 4],
          [5, 2],
        ],
        throws: T.ShapeError,
      },
      { shapes: [[], [3]], throws: T.ShapeError },
      {
        shapes: [
          [2, 3, 4],
          [3, 4, 2],
        ],
        throws: T.ShapeError,
      },
      {
        shapes: [
          [2, 3],
          [3, 2],
        ],
        dtypes: ['bool'],
        throws: T.DTypeError,
      },
    ],
  },
});

/** A float64 matmul with NumPy semantics by plain loops, for the spec. */
function matmulReference(a: Float64Array, aShape: T.Shape, b: Float64Array, bShape: T.Shape): Float64Array {
  const a2 = aShape.length === 1 ? [1, aShape[0]] : aShape;
  const b2 = bShape.length === 1 ? [bShape[0], 1] : bShape;
  const out = promotedProductShape(a2, b2);
  const [m, k, n] = [a2[a2.length - 2], a2[a2.length - 1], b2[b2.length - 1]];
  const batch = out.slice(0, -2);
  const batchSize = T.sizeOf(batch);
  const result = new Float64Array(batchSize * m * n);
  // The flat matrix number of batch index `i` in an operand whose batch axes broadcast.
  const matrixOf = (i: number, own: T.Shape) => {
    let at = 0;
    let rest = i;
    let stride = 1;
    for (let d = batch.length - 1; d >= 0; d--) {
      const coord = rest % batch[d];
      rest = Math.floor(rest / batch[d]);
      const o = d - (batch.length - own.length);
      if (o >= 0) {
        at += (own[o] === 1 ? 0 : coord) * stride;
        stride *= own[o];
      }
    }
    return at;
  };
  for (let i = 0; i < batchSize; i++) {
    const aBase = matrixOf(i, a2.slice(0, -2)) * m * k;
    const bBase = matrixOf(i, b2.slice(0, -2)) * k * n;
    for (let r = 0; r < m; r++) {
      for (let c = 0; c < n; c++) {
        let total = 0;
        for (let j = 0; j < k; j++) total += a[aBase + r * k + j] * b[bBase + j * n + c];
        result[(i * m + r) * n + c] = total;
      }
    }
  }
  return result;
}

/**
 * Matrix product with NumPy/PyTorch semantics: `[..., m, k] × [..., k, n] → [..., m, n]` with
 * broadcast batch axes; a 1-D `a` is a row vector and a 1-D `b` a column vector, and their
 * axis is dropped from the result.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor('matmul', a, 'a');
  checkTensor('matmul', b, 'b');
  return matmulOp.apply([a, b], none)[0];
}

/**
 * PyTorch's `linear`: `x · weightᵀ + bias` with weight `[out, in]` (or `[in]`, which drops the
 * feature axis) and bias `[out]`.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  checkTensor('linear', x);
  checkTensor('linear', weight, 'weight');
  if (bias !== undefined) checkTensor('linear', bias, 'bias');
  return inLibrary(() => {
    if (weight.ndim !== 1 && weight.ndim !== 2) {
      throw new T.ShapeError('linear', `weight must be [out, in] or [in], got [${weight.shape.join(',')}]`);
    }
    const y =
      x.ndim > 2 && weight.ndim === 2 && x.shape[x.ndim - 1] === weight.shape[1]
        ? flatLinear(x, weight)
        : matmul(x, weight.ndim === 2 ? transpose(weight) : weight);
    return bias === undefined ? y : add(y, bias);
  });
}

/**
 * `x · weightᵀ` for x [..., in] as one [rows, in] × [in, out] product: its weight gradient is
 * then one product over all rows, where a batched matmul gives one per leading index and sums
 * them (the char-RNN's input projection over [32, 16, 64]: 32 products 16 rows deep).
 */
function flatLinear(x: Tensor, weight: Tensor): Tensor {
  const lead = x.shape.slice(0, -1);
  const rows = lead.reduce((n, d) => n * d, 1);
  const y = matmul(reshape(x, [rows, weight.shape[1]]), transpose(weight));
  return reshape(y, [...lead, weight.shape[0]]);
}

// ---- einsum ------------------------------------------------------------------------------------

/** An operand with one label per axis; ellipsis axes get labels '.0', '.1', … (right-aligned). */
interface Term {
  readonly x: Tensor;
  readonly labels: readonly string[];
}

interface ParsedEquation {
  readonly inputs: string[][];
  readonly output: string[];
}

function parseSubscripts(text: string): { before: string[]; after: string[] | null } {
  const parts = text.split('...');
  if (parts.length > 2) throw new T.ValueError('einsum', `'${text}' has more than one ellipsis`);
  for (const part of parts) {
    const bad = [...part].find((ch) => !/[a-zA-Z]/.test(ch));
    if (bad !== undefined)
      throw new T.ValueError('einsum', `invalid subscript '${bad}' in '${text}' (use letters a-z, A-Z)`);
  }
  return { before: [...parts[0]], after: parts.length === 2 ? [...parts[1]] : null };
}

function parseEquation(equation: string, operands: readonly Tensor[]): ParsedEquation {
  if (typeof equation !== 'string')
    throw new T.ValueError('einsum', `the equation must be a string, got ${T.describe(equation)}`);
  checkTensorList('einsum', operands);
  const [lhs, rhs, ...extra] = equation.replace(/\s+/g, '').split('->');
  if (extra.length > 0) throw new T.ValueError('einsum', `equation '${equation}' has more than one '->'`);
  const terms = lhs.split(',');
  if (terms.length !== operands.length) {
    throw new T.ValueError(
      'einsum',
      `equation '${equation}' names ${terms.length} operands but ${operands.length} were given`,
    );
  }
  const parsed = terms.map(parseSubscripts);
  const ellipsisRanks = parsed.map(({ before, after }, i) => {
    const explicit = before.length + (after?.length ?? 0);
    const extraAxes = operands[i].ndim - explicit;
    if (after === null ? extraAxes !== 0 : extraAxes < 0) {
      throw new T.ShapeError(
        'einsum',
        `operand ${i} has shape [${operands[i].shape.join(',')}] but subscripts '${terms[i]}' name ${explicit} axes`,
      );
    }
    return after === null ? 0 : extraAxes;
  });
  const ellipsisRank = Math.max(0, ...ellipsisRanks);
  const ellipsis = (rank: number) => Array.from({ length: rank }, (_, j) => `.${ellipsisRank - rank + j}`);
  const inputs = parsed.map(({ before, after }, i) => [
    ...before,
    ...ellipsis(ellipsisRanks[i]),
    ...(after ?? []),
  ]);
  const letters = inputs.flat().filter((l) => !l.startsWith('.'));
  let output: string[];
  if (rhs === undefined) {
    const once = [...new Set(letters)].filter((l) => letters.indexOf(l) === letters.lastIndexOf(l));
    output = [...ellipsis(ellipsisRank), ...once.sort()];
  } else {
    const { before, after } = parseSubscripts(rhs);
    output = after === null ? before : [...before, ...ellipsis(ellipsisRank), ...after];
    for (const l of before.concat(after ?? [])) {
      if (!letters.includes(l))
        throw new T.ValueError(
          'einsum',
          `output subscript '${l}' does not appear in the inputs of '${equation}'`,
        );
    }
    if (new Set(output).size !== output.length)
      throw new T.ValueError('einsum', `output subscripts of '${equation}' repeat a letter`);
  }
  return { inputs, output };
}

/** The size of every label; letters must agree exactly, ellipsis axes may broadcast from 1. */
function labelSizes(inputs: readonly string[][], operands: readonly Tensor[]): Map<string, number> {
  const sizes = new Map<string, number>();
  inputs.forEach((labels, i) => {
    labels.forEach((label, axis) => {
      const size = operands[i].shape[axis];
      const known = sizes.get(label);
      if (known === undefined || known === size || (label.startsWith('.') && known === 1))
        sizes.set(label, size);
      else if (!(label.startsWith('.') && size === 1)) {
        const name = label.startsWith('.') ? 'an ellipsis axis' : `subscript '${label}'`;
        throw new T.ShapeError('einsum', `${name} has size ${size} in operand ${i} but ${known} elsewhere`);
      }
    });
  });
  return sizes;
}

/** Takes the diagonal of each repeated label (as in 'ii->i'): multiply by an identity and sum. */
function takeDiagonals(term: Term): Term {
  let { x } = term;
  const labels = [...term.labels];
  for (let q = 0; q < labels.length; q++) {
    const p = labels.indexOf(labels[q]);
    if (p === q) continue;
    const n = x.shape[q];
    const eye = T.reshape(
      T.eye(n, n, 0, { dtype: x.dtype }),
      x.shape.map((_, i) => (i === p || i === q ? n : 1)),
    );
    x = sum(mul(x, constant(eye)), { axis: q });
    labels.splice(q, 1);
    q--;
  }
  return { x, labels };
}

/** Drops axes of size 1 that broadcast against a larger size elsewhere. */
function dropBroadcastAxes(term: Term, sizes: ReadonlyMap<string, number>): Term {
  const keep = term.labels.map((l, i) => term.x.shape[i] !== 1 || sizes.get(l) === 1);
  if (keep.every(Boolean)) return term;
  return {
    x: reshape(
      term.x,
      term.x.shape.filter((_, i) => keep[i]),
    ),
    labels: term.labels.filter((_, i) => keep[i]),
  };
}

/** Sums out the labels of `term` that are not in `keep`. */
function sumOut(term: Term, keep: (label: string) => boolean): Term {
  const axes = term.labels.flatMap((l, i) => (keep(l) ? [] : [i]));
  if (axes.length === 0) return term;
  return { x: sum(term.x, { axis: axes }), labels: term.labels.filter((l) => keep(l)) };
}

function arrange(term: Term, order: readonly string[]): Tensor {
  const axes = order.map((l) => term.labels.indexOf(l));
  return axes.every((a, i) => a === i) ? term.x : permute(term.x, axes);
}

/**
 * Contracts two terms with one batched matmul: shared labels that are still needed stay as
 * batch axes, other shared labels are summed by the product, the rest become its rows/columns.
 */
function contract(a: Term, b: Term, needed: ReadonlySet<string>, sizes: ReadonlyMap<string, number>): Term {
  const inB = (l: string) => b.labels.includes(l);
  const batch = a.labels.filter((l) => inB(l) && needed.has(l));
  const summed = a.labels.filter((l) => inB(l) && !needed.has(l));
  const rows = a.labels.filter((l) => !inB(l));
  const cols = b.labels.filter((l) => !a.labels.includes(l));
  const sizeOf = (labels: readonly string[]) => labels.map((l) => sizes.get(l) as number);
  const product = (labels: readonly string[]) => T.sizeOf(sizeOf(labels));
  const lhs = reshape(arrange(a, [...batch, ...rows, ...summed]), [
    ...sizeOf(batch),
    product(rows),
    product(summed),
  ]);
  const rhs = reshape(arrange(b, [...batch, ...summed, ...cols]), [
    ...sizeOf(batch),
    product(summed),
    product(cols),
  ]);
  const labels = [...batch, ...rows, ...cols];
  return { x: reshape(matmul(lhs, rhs), sizeOf(labels)), labels };
}

/**
 * Einstein summation (`torch.einsum`): e.g. 'ij,jk->ik', 'bhqd,bhkd->bhqk', 'i,i->', 'ii->i'.
 * Without '->' the output is the letters that appear once, sorted; '...' stands for broadcast
 * leading axes (summed if an explicit output leaves it out). Operands are contracted left to
 * right with batched matmuls, so the result is differentiable like any composition.
 */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  return inLibrary(() => {
    if (operands.length === 0) throw new T.ValueError('einsum', 'needs at least one operand');
    const { inputs, output } = parseEquation(equation, operands);
    const sizes = labelSizes(inputs, operands);
    const terms = operands.map((x, i) => dropBroadcastAxes(takeDiagonals({ x, labels: inputs[i] }), sizes));
    const neededAfter = (i: number) => new Set([...output, ...terms.slice(i + 1).flatMap((t) => t.labels)]);
    const first = neededAfter(0);
    let acc = sumOut(terms[0], (l) => first.has(l));
    for (let i = 1; i < terms.length; i++) {
      const needed = neededAfter(i);
      const next = sumOut(terms[i], (l) => needed.has(l) || acc.labels.includes(l));
      acc = sumOut(acc, (l) => needed.has(l) || next.labels.includes(l));
      acc = contract(acc, next, needed, sizes);
    }
    return arrange(
      sumOut(acc, (l) => output.includes(l)),
      output,
    );
  });
}
