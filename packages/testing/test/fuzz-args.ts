import * as A from '@tsgrad/autograd';
import * as nn from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import fc from 'fast-check';

// Hostile arguments for the fuzz test. An argument is drawn as a recipe (plain data, so that
// a counterexample prints readably and shrinks) and built fresh for every call, since a call
// may dispose or change what it is given.

export type Recipe =
  | { readonly kind: 'value'; readonly value: unknown }
  | {
      readonly kind: 'ndarray' | 'tensor';
      readonly shape: number[];
      readonly dtype: T.DType;
      readonly grad: boolean;
    }
  | { readonly kind: 'typed'; readonly type: 'f32' | 'f64' | 'i32' | 'u8' | 'i16'; readonly length: number }
  | { readonly kind: 'deep'; readonly depth: number }
  | { readonly kind: 'nested'; readonly rows: number[][] }
  | { readonly kind: 'key'; readonly seed: number }
  | { readonly kind: 'params'; readonly count: number }
  | { readonly kind: 'module' }
  | { readonly kind: 'fn'; readonly name: keyof typeof FUNCTIONS }
  | { readonly kind: 'list'; readonly items: Recipe[] }
  | { readonly kind: 'object'; readonly fields: Record<string, Recipe> };

/** Numbers that break naive code: non-integers, NaN, infinities, negatives and huge sizes. */
const hostileNumbers = [
  0,
  1,
  2,
  3,
  -1,
  -2,
  0.5,
  1.5,
  Number.NaN,
  Infinity,
  -Infinity,
  1e10,
  2 ** 31,
  -(2 ** 31),
  2 ** 53,
];
const numberArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -1, max: 4 }) },
  { weight: 2, arbitrary: fc.constantFrom(...hostileNumbers) },
  { weight: 1, arbitrary: fc.double({ min: -10, max: 10 }) },
);
const stringArb = fc.constantFrom(
  'float32',
  'float64',
  'int32',
  'bool',
  'float16',
  'mean',
  'sum',
  'none',
  '',
  'x',
);
const dtypeArb = fc.constantFrom<T.DType>('float32', 'float32', 'float64', 'int32', 'bool');
/** Small shapes, now and then with a hostile size. */
const shapeArb = fc.array(fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 3 }) }, numberArb), {
  maxLength: 4,
});
const smallShapeArb = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 });

/** Functions given where callbacks are expected (a model, a loss, a transform, a hook). */
export const FUNCTIONS = {
  identity: (x: unknown) => x,
  sum: (x: unknown) => (x instanceof A.Tensor ? A.sum(x) : x),
  square: (x: unknown) => (x instanceof A.Tensor ? A.mul(x, x) : x),
  constant: () => 1,
  garbage: () => 'garbage',
};

const leafArb: fc.Arbitrary<Recipe> = fc.oneof(
  { weight: 4, arbitrary: numberArb.map((value): Recipe => ({ kind: 'value', value })) },
  {
    weight: 4,
    arbitrary: fc
      .record({
        kind: fc.constantFrom<'ndarray' | 'tensor'>('ndarray', 'tensor'),
        shape: smallShapeArb,
        dtype: dtypeArb,
        grad: fc.boolean(),
      })
      .map((r): Recipe => r),
  },
  { weight: 2, arbitrary: shapeArb.map((value): Recipe => ({ kind: 'value', value })) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom<unknown>(true, false, null, undefined, {}, [], [[]], NaN)
      .map((value): Recipe => ({ kind: 'value', value })),
  },
  { weight: 1, arbitrary: stringArb.map((value): Recipe => ({ kind: 'value', value })) },
  {
    weight: 1,
    arbitrary: fc
      .record({
        type: fc.constantFrom('f32', 'f64', 'i32', 'u8', 'i16'),
        length: fc.integer({ min: 0, max: 24 }),
      })
      .map((r): Recipe => ({ kind: 'typed', ...r }) as Recipe),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(70, 20_000).map((depth): Recipe => ({ kind: 'deep', depth })),
  },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.array(numberArb, { maxLength: 3 }), { maxLength: 3 })
      .map((rows): Recipe => ({ kind: 'nested', rows })),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((seed): Recipe => ({ kind: 'key', seed })) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 2 }).map((count): Recipe => ({ kind: 'params', count })),
  },
  { weight: 1, arbitrary: fc.constant<Recipe>({ kind: 'module' }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...(Object.keys(FUNCTIONS) as (keyof typeof FUNCTIONS)[]))
      .map((name): Recipe => ({ kind: 'fn', name })),
  },
);

/** Option-like field names the public functions read. */
const FIELDS = [
  'axis',
  'keepdims',
  'dtype',
  'shape',
  'lr',
  'reduction',
  'requiresGrad',
  'stride',
  'padding',
  'batchSize',
  'momentum',
  'eps',
  'weight',
  'bias',
  'seed',
  'correction',
  'retainGraph',
  'createGraph',
  'argnums',
  'k',
  // @tsgrad/compiler: graphs, jit and compileStep options
  'buffers',
  'equations',
  'outputs',
  'parameters',
  'loss',
  'cacheSize',
];

/** An argument: a leaf, a list of arguments, or an options object with hostile fields. */
export const argArb: fc.Arbitrary<Recipe> = fc.letrec<{ arg: Recipe }>((tie) => ({
  arg: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: leafArb },
    {
      weight: 1,
      arbitrary: fc.array(tie('arg'), { maxLength: 3 }).map((items): Recipe => ({ kind: 'list', items })),
    },
    {
      weight: 2,
      arbitrary: fc
        .dictionary(fc.constantFrom(...FIELDS), tie('arg'), { maxKeys: 3 })
        .map((fields): Recipe => ({ kind: 'object', fields })),
    },
  ),
})).arg;

const typedArrays = {
  f32: Float32Array,
  f64: Float64Array,
  i32: Int32Array,
  u8: Uint8Array,
  i16: Int16Array,
};

/** Builds the value a recipe describes, fresh. */
export function build(recipe: Recipe): unknown {
  switch (recipe.kind) {
    case 'value':
      return Array.isArray(recipe.value) ? structuredClone(recipe.value) : recipe.value;
    case 'ndarray':
    case 'tensor': {
      const size = recipe.shape.reduce((a, b) => a * b, 1);
      const values = Float64Array.from({ length: size }, (_, i) => ((i * 7) % 5) - 2);
      const array = T.array(values, { shape: recipe.shape, dtype: recipe.dtype });
      if (recipe.kind === 'ndarray') return array;
      return new A.Tensor(array, { requiresGrad: recipe.grad && T.isFloat(recipe.dtype) });
    }
    case 'typed':
      return new typedArrays[recipe.type](recipe.length).map((_, i) => i % 3);
    case 'deep': {
      let nested: unknown = 1;
      for (let i = 0; i < recipe.depth; i++) nested = [nested];
      return nested;
    }
    case 'nested':
      return structuredClone(recipe.rows);
    case 'key':
      return T.random.key(recipe.seed);
    case 'params':
      return Array.from({ length: recipe.count }, () => A.zeros([2], { requiresGrad: true }));
    case 'module':
      return new nn.Linear(2, 2);
    case 'fn':
      return FUNCTIONS[recipe.name];
    case 'list':
      return recipe.items.map(build);
    case 'object':
      return Object.fromEntries(Object.entries(recipe.fields).map(([k, v]) => [k, build(v)]));
  }
}
