import { add, defineOp, mul, type Op, type OpDefinition, registeredOps, type Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import {
  ConformanceError,
  checkAllOps,
  checkOp,
  expectOpConforms,
  formatReport,
  summarize,
} from '@tsgrad/testing';
import { describe, expect, it } from 'vitest';

// User-defined ops, registered in this file only (each test file has its own registry).

type NoParams = Record<string, never>;
const squareSpec = {
  inputs: [{}],
  samples: [{ shapes: [[3]] }, { shapes: [[2, 1]] }],
  reference: ([x]: readonly Float64Array[]) => [x.map((v) => v * v)],
  errors: [{ shapes: [[2]], dtypes: ['bool' as const], throws: T.DTypeError }],
};

/** x², with the given rules; registered only when `register` (wrong ops stay out of the registry). */
function square(
  name: string,
  rules: Pick<OpDefinition<NoParams>, 'vjp' | 'jvp'>,
  register = false,
): Op<NoParams> {
  return defineOp<NoParams>(
    {
      name,
      forward: ([x]) => {
        if (x.dtype === 'bool') throw new T.DTypeError(name, 'expected a float array, got bool');
        return T.mul(x, x);
      },
      ...rules,
      spec: squareSpec,
    },
    { register },
  );
}

/** A test's deliberately broken op: kept out of the registry. */
const unregistered = (definition: OpDefinition<NoParams>) => defineOp(definition, { register: false });
const twice = (x: Tensor) => mul(x, 2);
const goodSquare = square(
  'goodSquare',
  {
    vjp: ({ inputs: [x] }, [g]) => [mul(g, twice(x))],
    jvp: ({ inputs: [x] }, [t]) => [mul(t, twice(x))],
  },
  true,
);
// d(x²)/dx is 2x, not x: gradcheck must catch it (and the dot product with the correct JVP).
const wrongVjp = square('wrongVjpSquare', {
  vjp: ({ inputs: [x] }, [g]) => [mul(g, x)],
  jvp: ({ inputs: [x] }, [t]) => [mul(t, twice(x))],
});
/** x² computed on the host: it cannot run on batched arrays (unless vmap loops over the batch). */
const hostSquare = (name: string, batch?: { readonly loop: string }) =>
  unregistered({
    ...goodSquare.definition,
    name,
    forward: ([x]) => {
      if (x.dtype === 'bool') throw new T.DTypeError(name, 'expected a float array, got bool');
      const squares = Float64Array.from(x.toTypedArray(), (v) => Number(v) ** 2);
      return T.cast(T.array(squares, { shape: x.shape }), x.dtype);
    },
    ...(batch ? { batch } : {}),
  });
const wrongJvp = square('wrongJvpSquare', {
  vjp: ({ inputs: [x] }, [g]) => [mul(g, twice(x))],
  jvp: ({ inputs: [x] }, [t]) => [mul(t, x)],
});

describe('checkOp on user-defined ops', () => {
  it('passes a correct op and counts every check', () => {
    const report = checkOp(goodSquare, { numRuns: 2 });
    expect(report.failures).toEqual([]);
    expect(report.order).toBe(2);
    for (const check of ['forward', 'reference', 'gradcheck', 'gradgradcheck', 'dotProduct'] as const) {
      expect(report.checks[check].status, check).toBe('passed');
    }
    expect(report.checks.broadcasting.status).toBe('skipped'); // one input: nothing broadcasts
    expect(report.checks.gradcheck.runs).toBe(4); // 2 samples × 2 draws
    expect(report.checks.errors).toEqual({ status: 'passed', runs: 1 });
    expect(() => expectOpConforms(goodSquare)).not.toThrow();
  });

  it('reports a wrong VJP, naming the op, the sample and the element', () => {
    const report = checkOp(wrongVjp, { throwOnFailure: false });
    expect(report.checks.gradcheck.status).toBe('failed');
    expect(report.checks.dotProduct.status).toBe('failed');
    const failure = report.failures.find((f) => f.check === 'gradcheck');
    expect(failure?.shapes).toEqual([[3]]);
    expect(failure?.message).toMatch(
      /^gradcheck: Jacobian mismatch for output\[0\] with respect to input\[0\] at output element \[\d\], input element \[\d\]: numerical .*, analytical /,
    );
    expect(() => expectOpConforms(wrongVjp)).toThrow(
      /wrongVjpSquare: gradcheck failed \(sample #0, shapes \[3\].*element \[\d\]/,
    );
  });

  it('reports a JVP that disagrees with the VJP (dot-product test)', () => {
    const report = checkOp(wrongJvp, { throwOnFailure: false });
    expect(report.checks.gradcheck.status).toBe('passed');
    expect(report.checks.dotProduct.status).toBe('failed');
    expect(formatReport(report)).toMatch(
      /wrongJvpSquare: dotProduct failed .*⟨J u, v⟩ = .* but ⟨u, Jᵀ v⟩ = /,
    );
  });

  it('reports a forward that disagrees with the reference', () => {
    const cube = unregistered({
      ...goodSquare.definition,
      name: 'notQuiteSquare',
      forward: ([x]) => T.mul(T.mul(x, x), 1.001),
    });
    const report = checkOp(cube, { throwOnFailure: false });
    expect(report.checks.reference.status).toBe('failed');
    expect(report.failures[0].message).toMatch(/vs reference: output 0 element \[0\]: got .*, expected/);
  });

  it('reports an op that cannot be batched by vmap (its forward computes on the host)', () => {
    const report = checkOp(hostSquare('hostSquare'), { throwOnFailure: false });
    expect(report.checks.forward.status).toBe('passed');
    expect(report.checks.vmap.status).toBe('failed');
    expect(report.failures.find((f) => f.check === 'vmap')?.message).toMatch(
      /cannot read the value of an array batched by vmap/,
    );
  });

  it('runs an op declared with batch: { loop } once per batch element, and lists it', () => {
    const looped = hostSquare('loopedHostSquare', { loop: 'squares on the host' });
    const report = checkOp(looped, { throwOnFailure: false });
    // jit cannot trace a host computation either: that is the only failure.
    expect(report.failures.filter((f) => f.check !== 'jit')).toEqual([]);
    expect(report.checks.vmap.status).toBe('passed');
    expect(report.batchedByLoop).toBe('squares on the host');
    expect(formatReport(summarize([report]))).toMatch(
      /under vmap: 1 of 1 \(1 by a loop\).*\n {2}loopedHostSquare: under vmap by a loop over the batch: squares on the host/,
    );
    expect(() => unregistered({ ...goodSquare.definition, batch: { loop: 3 } as never })).toThrow(
      T.ValueError,
    );
  });

  it('reports error samples that do not throw the declared class or do not name the op', () => {
    const silent = unregistered({
      ...goodSquare.definition,
      name: 'silentSquare',
      forward: ([x]) => (x.dtype === 'bool' ? T.cast(x, 'float32') : T.mul(x, x)),
    });
    const anonymous = unregistered({
      ...goodSquare.definition,
      name: 'anonymousSquare',
      forward: ([x]) => {
        if (x.dtype === 'bool') throw new T.DTypeError('elsewhere', 'bad dtype');
        return T.mul(x, x);
      },
    });
    const silentReport = checkOp(silent, { throwOnFailure: false });
    expect(silentReport.failures.find((f) => f.check === 'errors')?.message).toMatch(
      /expected DTypeError, but nothing was thrown/,
    );
    const anonymousReport = checkOp(anonymous, { throwOnFailure: false });
    expect(anonymousReport.failures.find((f) => f.check === 'errors')?.message).toMatch(
      /does not name the op/,
    );
  });
});

describe('float32 and broadcasting checks', () => {
  it('reports a float32 forward that drifts from the float64 one', () => {
    const drifting = unregistered({
      ...goodSquare.definition,
      name: 'driftingSquare',
      forward: ([x]) => (x.dtype === 'float32' ? T.mul(T.mul(x, x), 1.01) : T.mul(x, x)),
    });
    const report = checkOp(drifting, { throwOnFailure: false });
    expect(report.checks.forward.status).toBe('failed');
    expect(report.failures[0].message).toMatch(/^float32 vs float64: output 0 element \[0\]: got /);
  });

  const addSpec = {
    inputs: [{}, {}],
    samples: [
      { shapes: [[2, 3], [3]] },
      {
        shapes: [
          [2, 1],
          [1, 4],
        ],
      },
    ],
  };
  const addRules = {
    vjp: (_: unknown, [g]: readonly Tensor[]) => [g, g],
    jvp: (_: unknown, [ta, tb]: readonly Tensor[]) => [add(ta, tb)],
  };

  it('checks gradient shapes and a leading size-1 dim on broadcasting ops', () => {
    const goodAdd = unregistered({
      name: 'goodAdd',
      forward: ([a, b]) => T.add(a, b),
      ...addRules,
      spec: addSpec,
    });
    const report = checkOp(goodAdd, { numRuns: 1 });
    expect(report.checks.broadcasting).toEqual({ status: 'passed', runs: 2 });
  });

  it('reports an op that loses a leading size-1 dim', () => {
    const squeezing = unregistered({
      name: 'squeezingAdd',
      forward: ([a, b]) => {
        const y = T.add(a, b);
        return y.ndim > 2 && y.shape[0] === 1 ? T.reshape(y, y.shape.slice(1)) : y;
      },
      ...addRules,
      spec: addSpec,
    });
    const report = checkOp(squeezing, { throwOnFailure: false, numRuns: 1 });
    expect(report.checks.broadcasting.status).toBe('failed');
    expect(report.failures[0].message).toMatch(
      /^with a leading size-1 dim on input 0 \(\[1,2,3\]\): output 0 has shape \[2,3\], expected \[1,2,3\]/,
    );
  });
});

describe('specs', () => {
  const withoutSpec = {
    ...goodSquare.definition,
    name: 'specless',
    spec: undefined,
  } as unknown as OpDefinition<NoParams>;

  it('defineOp refuses an op without a spec', () => {
    expect(() => defineOp(withoutSpec)).toThrow(/no spec/);
  });

  it('an op without a spec fails checkAllOps', () => {
    const specless: Op<NoParams> = { definition: withoutSpec, apply: goodSquare.apply };
    const ops = [goodSquare, specless];
    const report = checkAllOps({ ops, throwOnFailure: false, log: false });
    expect(report.counts).toMatchObject({ ops: 2, order1: 1, failedOps: 1 });
    expect(report.failures).toEqual([
      expect.objectContaining({ op: 'specless', check: 'spec', message: expect.stringMatching(/no spec/) }),
    ]);
    expect(() => checkAllOps({ ops, log: false })).toThrow(ConformanceError);
  });

  it('a spec claiming derivatives with nothing to differentiate fails', () => {
    const indexOnly = unregistered({
      name: 'indexOnly',
      forward: ([i]) => T.cast(i, 'float64'),
      vjp: () => [null],
      spec: { inputs: [{ kind: 'index', bound: () => 4 }], samples: [{ shapes: [[3]] }] },
    });
    expect(checkOp(indexOnly, { throwOnFailure: false }).failures[0]).toMatchObject({
      check: 'spec',
      message: expect.stringMatching(/order is 2/),
    });
  });
});

describe('checkAllOps', () => {
  it('checks every registered op by default, user-defined ones included, and prints the counts', () => {
    const names = registeredOps().map((op) => op.definition.name);
    expect(names).toContain('goodSquare');
    expect(names).not.toContain('wrongVjpSquare');
    const lines: string[] = [];
    const report = checkAllOps({ numRuns: 1, throwOnFailure: false, log: (line) => lines.push(line) });
    expect(report.ops.map((r) => r.op)).toEqual(names);
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^conformance: ${names.length} ops; checked at order 1: \\d+; at order 2: \\d+; under jit: \\d+ of ${names.length}; under vmap: \\d+ of ${names.length}; failed: \\d+$`,
        ),
      ),
    ]);
  }, 60_000);

  it('reports every failing op of a given list', () => {
    const lines: string[] = [];
    const ops = [goodSquare, wrongVjp, wrongJvp];
    const report = checkAllOps({ ops, throwOnFailure: false, log: (line) => lines.push(line) });
    expect(lines).toEqual([
      'conformance: 3 ops; checked at order 1: 3; at order 2: 3; under jit: 3 of 3; under vmap: 3 of 3; failed: 2',
    ]);
    expect(new Set(report.failures.map((f) => f.op))).toEqual(new Set(['wrongVjpSquare', 'wrongJvpSquare']));
    expect(() => checkAllOps({ ops, log: false })).toThrow(
      /conformance: 3 ops.*\n.*wrongVjpSquare: gradcheck failed/,
    );
  });
});
