import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';

// Wrong arguments at the public boundary are TsgradErrors naming the layer or function (each of
// these was a TypeError from deep inside before).

const untyped = (value: unknown) => value as never;

const calls: [string, () => unknown, RegExp][] = [
  [
    'LeakyReLU(null)',
    () => new nn.LeakyReLU(untyped(null)),
    /^LeakyReLU: options must be an object, got null/,
  ],
  ['MSELoss(null)', () => new nn.MSELoss(untyped(null)), /^MSELoss: options must be an object/],
  ['KLDivLoss(null)', () => new nn.KLDivLoss(untyped(null)), /^KLDivLoss: options/],
  ['Linear(2, 3, null)', () => new nn.Linear(2, 3, untyped(null)), /^Linear: options/],
  [
    'Conv2d(2, 3, null)',
    () => new nn.Conv2d(2, 3, untyped(null)),
    /^Conv2d: kernelSize must be an integer or a list/,
  ],
  ['Embedding(2, 3, null)', () => new nn.Embedding(2, 3, untyped(null)), /^Embedding: options/],
  ['BatchNorm1d(2, null)', () => new nn.BatchNorm1d(2, untyped(null)), /^BatchNorm1d: options/],
  ['LayerNorm()', () => new nn.LayerNorm(untyped(undefined)), /^LayerNorm: normalizedShape must be/],
  ['RNN(2, 3, null)', () => new nn.RNN(2, 3, untyped(null)), /^RNN: options/],
  ['Unflatten(1)', () => new nn.Unflatten(1, untyped(undefined)), /^Unflatten: unflattenedSize/],
  [
    'ModuleList(null)',
    () => new nn.ModuleList(untyped(null)),
    /^ModuleList: expected an iterable of Modules/,
  ],
  ['ModuleDict(null)', () => new nn.ModuleDict(untyped(null)), /^ModuleDict: modules must be an object/],
  ['Sequential(5)', () => new nn.Sequential(untyped(5)), /^Sequential: item 0 is not a Module/],
  [
    'TransformerEncoder(2)',
    () => new nn.TransformerEncoder(untyped(2), 3),
    /^TransformerEncoder: layer must be/,
  ],
  [
    'functionalCall()',
    () => nn.functionalCall(untyped(undefined), {}, () => 0),
    /^functionalCall: the first argument/,
  ],
  [
    'scaledDotProductAttention()',
    () => nn.scaledDotProductAttention(untyped(1), untyped(2), untyped(3)),
    /^scaledDotProductAttention: q must be a Tensor/,
  ],
  [
    'init.kaimingUniform()',
    () => nn.init.kaimingUniform(untyped(undefined)),
    /^kaimingUniform: tensor must be a Tensor/,
  ],
  ['init.fans(5)', () => nn.init.fans(untyped(5)), /^init: fan in\/out need at least 2 dimensions/],
];

describe('public boundary checks', () => {
  for (const [name, call, message] of calls) {
    it(name, () => {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(T.TsgradError);
      expect((error as Error).message).toMatch(message);
    });
  }
});
