import * as A from '@tsgrad/autograd';
import { expect, it } from 'vitest';
import { jit, makeGraph } from '../src/index.js';

// The compiler example of the root README, kept here so it cannot rot.
it('runs the README example', () => {
  const f = (x: A.Tensor) => A.sum(A.mul(A.tanh(x), 2));
  const x = A.tensor([0.5, -1, 2]);
  expect(makeGraph(A.grad(f))(x).toString()).toBe(
    [
      '{ lambda a:f32[3] .',
      '  const c:f32[1] = [2]',
      '  const f:f32[1] = [1]',
      '  const i:f32[1] = [1]',
      '  let',
      '    b:f32[3] = tanh a',
      '    d:f32[3] = mul b c.view([3] strides [0])',
      '    e:f32[] = sum[axes=[0]] d',
      '    g:f32[3] = mul f.view([3] strides [0]) c.view([3] strides [0])',
      '    h:f32[3] = mul b b',
      '    j:f32[3] = sub i.view([3] strides [0]) h',
      '    k:f32[3] = mul g j',
      '  in (k) }',
    ].join('\n'),
  );
  expect(makeGraph(A.grad(f), { optimize: true })(x).toString()).toBe(
    [
      '{ lambda a:f32[3] .',
      '  const f:f32[1] = [1]',
      '  const g:f32[3] = [2, 2, 2]',
      '  let',
      '    b:f32[3] = tanh a',
      '    h:f32[3] = mul b b',
      '    j:f32[3] = sub f.view([3] strides [0]) h',
      '    k:f32[3] = mul g j',
      '  in (k) }',
    ].join('\n'),
  );
  const df = jit(A.grad(f));
  expect(df(x).toArray()).toEqual(A.grad(f)(x).toArray());
  expect(df.cacheSize).toBe(1);
});
