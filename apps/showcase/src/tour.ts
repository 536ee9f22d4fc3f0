import * as T from '@tsgrad/tensor';

/** A short tour of @tsgrad/tensor, written to `print` section by section. */
export function tour(print: (line: string) => void): void {
  const section = (title: string) => print(`\n== ${title} ==`);

  section('Creation and printing');
  const a = T.array([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  print(a.toString());
  print(T.linspace(0, 1, 5).toString());
  print(T.eye(3, 3, 0, { dtype: 'int32' }).toString());

  section('Broadcasting and type promotion');
  const column = T.array([[10], [20]], { dtype: 'float64' });
  print(`float32 [2,3] + float64 [2,1] → ${T.add(a, column).toString()}`);
  print(`int32 arange / 2 (true division) → ${T.div(T.arange(4), 2).toString()}`);
  try {
    T.add(a, T.zeros([4]));
  } catch (error) {
    print(`${(error as Error).name}: ${(error as Error).message}`);
  }

  section('Views share memory: transpose, slice with steps, flip');
  print(T.transpose(a).toString());
  print(T.slice(T.arange(10), [{ start: 8, stop: 1, step: -3 }]).toString());

  section('Reductions');
  print(`sum over axis 0: ${T.sum(a, { axis: 0 }).toString()}`);
  print(`argmax over axis 1: ${T.argmax(a, { axis: 1 }).toString()}`);
  print(`cumsum: ${T.cumsum(T.arange(1, 6), 0).toString()}`);

  section('Seeded, splittable randomness');
  const [k1, k2] = T.random.split(T.random.key(42));
  const x = T.random.normal(k1, [2, 4]);
  print(x.toString());
  print(`same key, same values: ${T.random.normal(k1, [2, 4]).toString() === x.toString()}`);
  print(`permutation: ${T.random.permutation(k2, 8).toString()}`);

  section('Matmul: batched, broadcasting, register-tiled');
  const n = 256;
  const [ka, kb] = T.random.split(T.random.key(7));
  const m1 = T.random.uniform(ka, [n, n]);
  const m2 = T.random.uniform(kb, [n, n]);
  T.matmul(m1, m2);
  const start = performance.now();
  const reps = 5;
  for (let i = 0; i < reps; i++) T.matmul(m1, m2);
  const seconds = (performance.now() - start) / 1000 / reps;
  print(`${n}×${n} float32 matmul: ${((2 * n ** 3) / seconds / 1e9).toFixed(2)} GFLOP/s`);

  section('Convolution and pooling (NCHW)');
  const image = T.reshape(T.arange(16, undefined, 1, { dtype: 'float32' }), [1, 1, 4, 4]);
  const edge = T.array([[[[1, 0, -1]]]]);
  print(T.conv2d(image, edge, { padding: 'same' }).toString());
  print(T.maxPool2d(image, { kernelSize: 2 }).toString());

  section('Sorting and top-k');
  const scores = T.array([0.1, 0.7, 0.2, 0.9, 0.4]);
  const best = T.topk(scores, 2);
  print(`top-2 values ${best.values.toString()}, indices ${best.indices.toString()}`);
}
