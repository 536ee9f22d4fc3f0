import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as A from '@tsgrad/autograd';
import { jit } from '@tsgrad/compiler';
import * as optim from '@tsgrad/optim';
import * as T from '@tsgrad/tensor';
import { mismatch } from '@tsgrad/testing';
import { describe, expect, it } from 'vitest';
import { importOnnx, OnnxError, UnsupportedOperatorError } from '../src/index.js';
import { onnx } from '../src/proto.js';

// Models exported by PyTorch 1.13's torch.onnx.export (fixtures/make_fixtures.py wrote them,
// with PyTorch's outputs): they import, give PyTorch's outputs, run under jit and fine-tune.

const FIXTURES = join(import.meta.dirname, 'fixtures');
const TOLERANCE = { atol: 1e-5, rtol: 1e-4 };

interface Flat {
  readonly shape: number[];
  readonly data: number[];
}

function fixture(name: string) {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, `${name}.onnx`)));
  const { inputs, outputs } = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as {
    inputs: Flat[];
    outputs: Flat[];
  };
  const tensor = (f: Flat) => new A.Tensor(T.array(Float32Array.from(f.data), { shape: f.shape }));
  return { bytes, inputs: inputs.map(tensor), outputs: outputs.map(tensor) };
}

function expectClose(actual: readonly A.Tensor[], expected: readonly A.Tensor[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, k) => {
    expect(actual[k].shape, `output ${k}`).toEqual(e.shape);
    const values = actual[k].value.toTypedArray() as Float32Array;
    expect(
      mismatch(values, e.value.toTypedArray() as Float32Array, e.shape, TOLERANCE),
      `output ${k}`,
    ).toBeUndefined();
  });
}

describe("PyTorch's models import and give PyTorch's outputs", () => {
  for (const name of ['mlp', 'cnn', 'lstm', 'gru', 'norm_gelu', 'zoo']) {
    it(name, () => {
      const { bytes, inputs, outputs } = fixture(name);
      const model = importOnnx(bytes);
      expectClose(model.run(...inputs), outputs);
      // The same through jit, whose trace must find every shape computation static.
      const compiled = jit((...xs: A.Tensor[]) => model.run(...xs));
      expectClose(compiled(...inputs), outputs);
      expectClose(compiled(...inputs), outputs);
    });
  }

  it('names parameters and buffers as the file does, and keeps a symbolic batch size symbolic', () => {
    const { bytes, inputs, outputs } = fixture('cnn');
    const model = importOnnx(bytes);
    expect(Object.keys(model.stateDict()).sort()).toEqual(
      [
        'bn.bias',
        'bn.running_mean',
        'bn.running_var',
        'bn.weight',
        'conv.bias',
        'conv.weight',
        'fc.bias',
        'fc.weight',
      ].sort(),
    );
    expect(model.namedBuffers().map(([n]) => n)).toEqual(['bn.running_mean', 'bn.running_var']);
    expect(model.inputNames).toEqual(['x']);
    expect(model.outputNames).toEqual(['log_probs']);
    // Batch 3: the two samples and the first again.
    const [x] = inputs;
    const three = A.concat([x, A.narrow(x, 0, 0, 1)], 0);
    const [y] = model.run(three);
    expect(y.shape).toEqual([3, 5]);
    expectClose([A.narrow(y, 0, 0, 2), A.narrow(y, 0, 2, 1)], [outputs[0], A.narrow(outputs[0], 0, 0, 1)]);
  });

  it('fine-tunes: the loss of an imported model falls under Adam', () => {
    const { bytes } = fixture('norm_gelu');
    const model = importOnnx(bytes);
    const x = A.randn(T.random.key(1), [2, 3, 6]);
    const target = A.tanh(A.randn(T.random.key(2), [2, 3, 6]));
    const adam = new optim.Adam(model.parameters(), { lr: 0.01 });
    const lossOf = () => A.mean(A.square(A.sub(model.forward(x) as A.Tensor, target)));
    const first = Number(lossOf().item());
    for (let step = 0; step < 30; step++) {
      adam.zeroGrad();
      lossOf().backward();
      adam.step();
    }
    const last = Number(lossOf().item());
    console.log(`fine-tuning norm_gelu: loss ${first.toFixed(4)} → ${last.toFixed(4)} in 30 Adam steps`);
    expect(last).toBeLessThan(first / 2);
  }, 30_000);
});

describe('what importOnnx refuses', () => {
  const modelWith = (opType: string) =>
    onnx.ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'g',
        node: [{ opType, name: 'the_node', input: ['x'], output: ['y'] }],
        input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } }],
        output: [{ name: 'y' }],
      },
    }).finish();

  it('names an unsupported operator and its node', () => {
    expect(() => importOnnx(modelWith('Hardmax'))).toThrow(UnsupportedOperatorError);
    expect(() => importOnnx(modelWith('Hardmax'))).toThrow(
      /operator Hardmax \(node the_node\) is not supported/,
    );
    expect(
      importOnnx(modelWith('Relu'))
        .run(A.tensor([-1, 2]))[0]
        .toArray(),
    ).toEqual([0, 2]);
  });

  it('rejects bytes that are not a model, and inputs of the wrong shape', () => {
    expect(() => importOnnx(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(OnnxError);
    expect(() => importOnnx('model.onnx' as never)).toThrow(OnnxError);
    const model = importOnnx(modelWith('Relu'));
    expect(() => model.run(A.tensor([1, 2, 3]))).toThrow(/input x must be float32\[2\], got float32\[3\]/);
  });
});

describe('operators no fixture emits, in hand-built models', () => {
  /** A one-node model over float32 inputs of the given shapes. */
  const oneNode = (
    opType: string,
    shapes: number[][],
    attribute: object[] = [],
    opset = 17,
    extra: { input: string[]; constants?: object[] } = { input: [] },
  ) =>
    importOnnx(
      onnx.ModelProto.encode({
        irVersion: 8,
        opsetImport: [{ domain: '', version: opset }],
        graph: {
          name: 'g',
          initializer: extra.constants ?? [],
          node: [
            {
              opType,
              name: 'n',
              input: [...shapes.map((_, i) => `x${i}`), ...extra.input],
              output: ['y'],
              attribute,
            },
          ],
          input: shapes.map((shape, i) => ({
            name: `x${i}`,
            type: { tensorType: { elemType: 1, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
          })),
          output: [{ name: 'y' }],
        },
      }).finish(),
    );
  const a = A.tensor([
    [-1.5, 2, 0.25],
    [3, -0.5, -2],
  ]);
  const b = A.tensor([0.5, -1, 2]);
  const values = (x: A.Tensor) => Array.from(x.value.toTypedArray() as Float32Array);

  it('Sum, Mean, Gelu, Mod (fmod), GlobalMaxPool, Range', () => {
    expect(values(oneNode('Sum', [[2, 3], [3]]).run(a, b)[0])).toEqual(values(A.add(a, b)));
    expect(values(oneNode('Mean', [[2, 3], [3]]).run(a, b)[0])).toEqual(values(A.div(A.add(a, b), 2)));
    expect(values(oneNode('Gelu', [[2, 3]], [], 20).run(a)[0])).toEqual(values(A.gelu(a)));
    const fmod = oneNode('Mod', [[2, 3], [3]], [{ name: 'fmod', type: 2, i: 1 }]).run(a, b)[0];
    expect(values(fmod).map((v) => v + 0)).toEqual([0, 0, 0.25, 0, -0.5, 0]); // the dividend's sign: -1.5 fmod 0.5 is 0
    const image = A.reshape(A.arange(12, undefined, 1, { dtype: 'float32' }), [1, 3, 2, 2]);
    expect(values(oneNode('GlobalMaxPool', [[1, 3, 2, 2]]).run(image)[0])).toEqual([3, 7, 11]);
    const scalar = (name: string, v: number) => ({ name, dataType: 1, dims: [], floatData: [v] });
    const range = oneNode('Range', [], [], 17, {
      input: ['start', 'limit', 'delta'],
      constants: [scalar('start', 1), scalar('limit', 2.5), scalar('delta', 0.5)],
    });
    expect(values(range.run()[0])).toEqual([1, 1.5, 2]);
  });
});
