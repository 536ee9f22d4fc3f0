import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// gradcheck and gradgradcheck as a public API: they pass on correct gradients and name the
// input, output and element of a wrong one.

const random = (seed: number, shape: number[]) =>
  new A.Tensor(T.random.normal(T.random.key(seed), shape, { dtype: 'float64' }));

// A deliberately wrong VJP: d(x²)/dx is 2x, except at flat element 4 where it claims 3x.
// Not registered, so the conformance harness (which would rightly fail it) never sees it.
const wrongSquare = A.defineOp(
  {
    name: 'testWrongSquare',
    forward: ([x]) => T.mul(x, x),
    vjp: ({ inputs: [x] }, [g]) => {
      const factor = T.full(x.shape, 2, { dtype: x.dtype });
      const flat = T.reshape(factor, [x.size]).toTypedArray();
      flat[4] = 3;
      return [A.mul(g, A.mul(x, A.constant(T.array(flat, { shape: x.shape }))))];
    },
    jvp: ({ inputs: [x] }, [t]) => [A.mul(t, A.mul(x, 2))],
    spec: {
      inputs: [{}],
      samples: [{ shapes: [[2, 3]] }],
      reference: ([x]) => [x.map((v) => v * v)],
    },
  },
  { register: false },
);
const square = (x: A.Tensor) => wrongSquare.apply([x], {})[0];

// Right first derivative, but its VJP uses a raw kernel, so it cannot be differentiated again.
const opaqueSin = A.defineOp(
  {
    name: 'testOpaqueSin',
    forward: ([x]) => T.sin(x),
    vjp: ({ inputs: [x] }, [g]) => [A.mul(g, A.constant(T.cos(x.value)))],
    spec: { inputs: [{}], samples: [{ shapes: [[3]] }], order: 1 },
  },
  { register: false },
);

describe('gradcheck', () => {
  const composite = (x: A.Tensor, y: A.Tensor) => ({
    a: A.mul(A.tanh(x), A.sum(A.exp(y))),
    b: [A.div(A.sum(x), A.add(A.mul(y, y), 1))],
  });

  it('passes on correct gradients, with pytree outputs, in full and fast mode', () => {
    const inputs = [random(1, [2, 3]), random(2, [4])];
    expect(A.gradcheck(composite, inputs)).toBe(true);
    expect(A.gradcheck(composite, inputs, { fastMode: true, seed: 5 })).toBe(true);
    expect(A.gradgradcheck(composite, inputs)).toBe(true);
    expect(A.gradgradcheck(composite, inputs, { fastMode: true })).toBe(true);
  });

  it('takes pytree inputs, casts float32 to float64 and skips integer leaves', () => {
    const f = (p: { w: A.Tensor; k: A.Tensor }, x: A.Tensor) =>
      A.mul(A.sin(A.mul(p.w, x)), A.cast(p.k, 'float64'));
    const p = {
      w: A.cast(random(3, [3]), 'float32'),
      k: new A.Tensor(T.array([1, 2, 3], { dtype: 'int32' })),
    };
    expect(A.gradcheck(f, [p, random(4, [3])])).toBe(true);
  });

  it('reports a wrong VJP naming the input, output, element and both values', () => {
    const x = random(7, [2, 3]);
    let error: unknown;
    try {
      A.gradcheck((v: A.Tensor) => A.sum(square(v)), [x]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(A.GradcheckError);
    const { mismatch, message } = error as A.GradcheckError;
    const x4 = (x.toTypedArray() as Float64Array)[4];
    expect(mismatch.input).toBe('input[0]');
    expect(mismatch.output).toBe('output');
    expect(mismatch.inputElement).toEqual([1, 1]);
    expect(mismatch.outputElement).toEqual([]);
    expect(mismatch.numerical).toBeCloseTo(2 * x4, 6);
    expect(mismatch.analytical).toBeCloseTo(3 * x4, 12);
    expect(message).toMatch(
      /output with respect to input\[0\] at output element \[\], input element \[1,1\]: numerical .*, analytical/,
    );
    expect(A.registeredOps().some((op) => op.definition.name === 'testWrongSquare')).toBe(false);
  });

  it('locates a fast-mode mismatch with a full check of the failing pair', () => {
    const f = (a: A.Tensor, b: A.Tensor) => [A.sin(a), square(b)];
    const inputs = [random(8, [3]), random(9, [2, 3])];
    expect(() => A.gradcheck(f, inputs, { fastMode: true })).toThrow(
      /output\[1\] with respect to input\[1\] at output element \[1,1\], input element \[1,1\]/,
    );
    expect(A.gradcheck(f, inputs, { raiseException: false })).toBe(false);
  });

  it('names matching output and input elements for an elementwise output', () => {
    expect(() => A.gradcheck(square, [random(10, [2, 3])])).toThrow(
      /at output element \[1,1\], input element \[1,1\]/,
    );
  });

  it('respects eps, atol and rtol', () => {
    const f = (x: A.Tensor) => A.exp(A.mul(x, 20)); // large curvature: coarse eps fails
    const x = random(11, [2]);
    expect(A.gradcheck(f, [x])).toBe(true);
    expect(A.gradcheck(f, [x], { eps: 1e-2, raiseException: false })).toBe(false);
    expect(A.gradcheck(f, [x], { eps: 1e-2, rtol: 0.1 })).toBe(true);
  });
});

describe('gradgradcheck', () => {
  it('fails for a VJP that is right once but not differentiable again', () => {
    const f = (x: A.Tensor) => opaqueSin.apply([x], {})[0];
    const x = random(12, [3]);
    expect(A.gradcheck(f, [x])).toBe(true);
    expect(() => A.gradgradcheck(f, [x])).toThrow(/the gradient of input\[0\] with respect to input\[0\]/);
  });

  it('checks second derivatives of composites with respect to inputs and grad outputs', () => {
    const f = (x: A.Tensor, y: A.Tensor) => A.mul(A.sin(x), A.matmul(y, A.transpose(y)));
    expect(A.gradgradcheck(f, [random(13, [2, 2]), random(14, [2, 3])])).toBe(true);
  });
});
