import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// The PyTorch-style tape API: hooks, retainGrad, backward with gradOutput, retainGraph,
// createGraph, noGrad/enableGrad, detach, and anomaly mode.

const leaf = (values: number[], shape?: number[]) =>
  new A.Tensor(T.array(Float64Array.from(values), { shape: shape ?? [values.length] }), {
    requiresGrad: true,
  });
const list = (x: A.Tensor | null) => Array.from((x as A.Tensor).toTypedArray() as Float64Array);

describe('hooks', () => {
  it('lets a leaf hook replace the gradient that accumulates in .grad', () => {
    const x = leaf([1, 2]);
    const seen: number[][] = [];
    const handle = x.registerHook((g) => {
      seen.push(list(g));
      return A.mul(g, 10);
    });
    A.sum(A.mul(x, x)).backward();
    expect(seen).toEqual([[2, 4]]);
    expect(list(x.grad)).toEqual([20, 40]);
    handle.remove();
    A.sum(x).backward();
    expect(list(x.grad)).toEqual([21, 41]);
  });

  it('lets an intermediate hook change what flows further back', () => {
    const x = leaf([1, 2, 3]);
    const y = A.mul(x, 2);
    y.registerHook((g) => A.where(A.gt(g, 1), g, A.mul(g, 0))); // drop small gradients
    A.sum(A.mul(y, A.constant(T.array([1, 2, 3], { dtype: 'float64' })))).backward();
    expect(list(x.grad)).toEqual([0, 4, 6]);
  });

  it('calls an observing hook (returning nothing) without changing the gradient', () => {
    const x = leaf([3]);
    let observed = 0;
    x.registerHook((g) => {
      observed = g.item() as number;
      return undefined;
    });
    A.sum(A.mul(x, x)).backward();
    expect(observed).toBe(6);
    expect(list(x.grad)).toEqual([6]);
  });

  it('keeps gradients of intermediates with retainGrad', () => {
    const x = leaf([1, 2]);
    const y = A.exp(x);
    y.retainGrad();
    const z = A.mul(y, y);
    z.retainGrad();
    A.sum(z).backward();
    expect(list(z.grad)).toEqual([1, 1]);
    for (const [i, v] of list(y.grad).entries()) expect(v).toBeCloseTo(2 * Math.exp(i + 1), 12);
    expect(() => A.mul(A.constant(T.array([1])), 2).registerHook((g) => g)).toThrow(/does not require grad/);
  });
});

describe('backward', () => {
  it('takes a gradOutput for non-scalar outputs and refuses to imply one', () => {
    const x = leaf([1, 2, 3]);
    const y = A.mul(x, x);
    expect(() => y.backward()).toThrow(/single-element/);
    y.backward(A.constant(T.array([1, 0.5, -1], { dtype: 'float64' })));
    expect(list(x.grad)).toEqual([2, 2, -6]);
  });

  it('runs twice through a graph only with retainGraph, accumulating', () => {
    const x = leaf([2]);
    const y = A.sum(A.sin(x));
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(list(x.grad)[0]).toBeCloseTo(2 * Math.cos(2), 12);
    expect(() => y.backward()).toThrow(/second time/);
  });

  it('records the backward pass with createGraph', () => {
    const x = leaf([0.5]);
    A.sum(A.mul(x, A.mul(x, x))).backward(undefined, { createGraph: true });
    const g = x.grad as A.Tensor; // 3x²
    expect(g.requiresGrad).toBe(true);
    expect(list(g)).toEqual([0.75]);
    const [h] = A.gradients([g], [x]); // 6x
    expect(list(h as A.Tensor)).toEqual([3]);
    // Without createGraph .grad is a constant.
    const z = leaf([0.5]);
    A.sum(A.mul(z, z)).backward();
    expect(z.grad?.requiresGrad).toBe(false);
  });

  it('zeroGrad clears accumulated gradients', () => {
    const x = leaf([1]);
    A.sum(x).backward();
    x.zeroGrad();
    expect(x.grad).toBe(null);
  });
});

describe('grad modes and detach', () => {
  it('records nothing under noGrad, except inside enableGrad', () => {
    const x = leaf([1, 2]);
    const y = A.noGrad(() => A.mul(x, 2));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBe(null);
    const z = A.noGrad(() => {
      expect(A.isGradEnabled()).toBe(false);
      return A.enableGrad(() => A.mul(x, 2));
    });
    expect(z.requiresGrad).toBe(true);
    expect(A.isGradEnabled()).toBe(true);
  });

  it('detach cuts the graph and shares the data', () => {
    const x = leaf([1, 2]);
    const y = A.mul(x, 3);
    const d = y.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    // Its own view of the same buffer: disposing one never disposes the other.
    expect(d.value.storage).toBe(y.value.storage);
    expect(d.value).not.toBe(y.value);
    A.sum(A.add(A.mul(d, x), y)).backward(); // d is a constant: d(d·x + 3x)/dx = d + 3
    expect(list(x.grad)).toEqual([6, 9]);
  });

  it('only leaves can change requiresGrad, and only to a float dtype', () => {
    const x = leaf([1]);
    expect(() => {
      A.mul(x, 2).requiresGrad = false;
    }).toThrow(/leaf/);
    const ints = new A.Tensor(T.array([1, 2], { dtype: 'int32' }));
    expect(() => {
      ints.requiresGrad = true;
    }).toThrow(/floating-point/);
  });
});

describe('anomaly mode', () => {
  it('throws at the forward op that produced NaN, naming it and where its input was created', () => {
    const x = leaf([1, -1]);
    let error: unknown;
    A.detectAnomaly(() => {
      const doubled = A.mul(x, 2);
      try {
        A.log(doubled);
      } catch (e) {
        error = e;
      }
    });
    expect(error).toBeInstanceOf(A.AnomalyError);
    expect((error as A.AnomalyError).op).toBe('log');
    expect((error as A.AnomalyError).phase).toBe('forward');
    expect(String(error)).toMatch(/log: forward produced NaN in output 0 at element 1/);
    expect(String(error)).toMatch(/created at .*hooks\.test\.ts:\d+/);
    expect(A.isAnomalyEnabled()).toBe(false);
  });

  it('throws at the backward of the op whose gradient is infinite (sqrt at 0)', () => {
    const x = A.detectAnomaly(() => leaf([4, 0]));
    const y = A.sum(A.sqrt(x));
    // Outside anomaly mode the infinity passes silently.
    y.backward(undefined, { retainGraph: true });
    expect(list(x.grad)[1]).toBe(Number.POSITIVE_INFINITY);
    expect(() => A.detectAnomaly(() => y.backward())).toThrow(
      /sqrt: backward produced Infinity in gradient for input 0 at element 1 .*created at .*hooks\.test\.ts/,
    );
  });

  it('stays quiet for finite computations', () => {
    const x = leaf([1, 2]);
    A.detectAnomaly(() => A.sum(A.log(x)).backward());
    expect(list(x.grad)).toEqual([1, 0.5]);
  });
});
