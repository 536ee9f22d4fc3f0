import * as A from '@tsgrad/autograd';
import { getBackend } from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import {
  eliminateCommonSubexpressions,
  eliminateDeadCode,
  foldConstants,
  type Graph,
  graphText,
  makeGraph,
  simplifyAlgebra,
} from '../src/index.js';
import { seeded } from './helpers.js';

const primitives = (g: Graph) => g.equations.map((eq) => eq.primitive);
const x = seeded([2, 3], 1);

describe('graph passes', () => {
  it('the text form lists inputs, constants, one equation a line and the outputs', () => {
    const g = makeGraph((v: A.Tensor) => A.sum(A.mul(A.exp(v).reshape([3, 2]).reshape([6]), 2)))(x);
    expect(graphText(g)).toBe(
      [
        '{ lambda a:f64[2,3] .',
        '  const c:f64[1] = [2]',
        '  let',
        '    b:f64[2,3] = exp a',
        '    d:f64[6] = mul b.reshape([6]) c.view([6] strides [0])',
        '    e:f64[] = sum[axes=[0]] d',
        '  in (e) }',
      ].join('\n'),
    );
    expect(g.toString()).toBe(graphText(g));
  });

  it("a gradient through log and a quotient divides once (PyTorch's grad / x), with no reciprocal", () => {
    const loss = (v: A.Tensor) => A.sum(A.add(A.log(v), A.div(v, 3)));
    const text = makeGraph(A.grad(loss))(A.tensor([0.5, 1, 2])).toString();
    expect(text).not.toMatch(/reciprocal/);
    // The forward's v / 3, then the backward's g / 3 and g / v.
    expect(text.match(/= div /g)).toHaveLength(3);
    expect(text.match(/= mul /g)).toBeNull();
  });

  it('dead-code elimination drops what no output needs', () => {
    const g = makeGraph((v: A.Tensor) => {
      A.exp(v); // unused
      return A.neg(v);
    })(x);
    expect(primitives(g)).toEqual(['exp', 'neg']);
    expect(primitives(eliminateDeadCode(g))).toEqual(['neg']);
  });

  it('common-subexpression elimination merges repeated equations and equal constants', () => {
    const g = makeGraph((v: A.Tensor) => [A.add(A.sin(v), 3), A.add(A.sin(v), 3)])(x);
    expect(primitives(g)).toEqual(['sin', 'add', 'sin', 'add']);
    const merged = eliminateCommonSubexpressions(g);
    expect(primitives(merged)).toEqual(['sin', 'add']);
    expect(merged.outputs[0].buffer).toBe(merged.outputs[1].buffer);
  });

  it('common-subexpression elimination keeps equations that differ only in params, view or output dtype', () => {
    const g = makeGraph((v: A.Tensor) => [
      A.sum(v, { axis: 0 }),
      A.sum(v, { axis: 1 }), // other params
      A.exp(v),
      A.exp(v.transpose()), // same buffer, other strides
      A.cast(v, 'float32'),
      A.cast(v, 'int32'), // other output dtype
      A.sum(v, { axis: 1 }), // repeats the second
    ])(seeded([3, 3], 2));
    const merged = eliminateCommonSubexpressions(g);
    expect(primitives(merged)).toEqual(['sum', 'sum', 'exp', 'exp', 'cast', 'cast']);
    expect(merged.outputs[6].buffer).toBe(merged.outputs[1].buffer);
    expect(new Set(merged.outputs.slice(0, 6).map((v) => v.buffer)).size).toBe(6);
  });

  it('constant folding evaluates equations of constants at compile time', () => {
    const g = makeGraph((v: A.Tensor) => A.mul(v, A.exp(A.tensor([0, 1], { dtype: 'float64' })).sum()))(x);
    expect(primitives(g)).toEqual(['exp', 'sum', 'mul']);
    const folded = eliminateDeadCode(foldConstants(g, getBackend()));
    expect(primitives(folded)).toEqual(['mul']);
    const constant = folded.buffers[folded.equations[0].inputs[1].buffer].source;
    expect(constant.kind === 'constant' && constant.data[0]).toBeCloseTo(1 + Math.E, 12);
  });

  it('algebraic simplification removes x·1, x+0, x−0, x/1, and double negation', () => {
    const g = makeGraph((v: A.Tensor) => A.neg(A.neg(A.div(A.sub(A.add(A.mul(v, 1), 0), 0), 1))))(x);
    expect(primitives(g)).toEqual(['mul', 'add', 'sub', 'div', 'neg', 'neg']);
    const simple = eliminateDeadCode(simplifyAlgebra(g));
    expect(primitives(simple)).toEqual([]);
    expect(simple.outputs[0].buffer).toBe(simple.inputs[0]);
    // A broadcasting x·1 changes the shape: it stays.
    const broadcast = makeGraph((v: A.Tensor) => A.mul(v, A.ones([4, 2, 3], { dtype: 'float64' })))(x);
    expect(primitives(eliminateDeadCode(simplifyAlgebra(broadcast)))).toEqual(['mul']);
  });
});
