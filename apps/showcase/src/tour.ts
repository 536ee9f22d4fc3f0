import * as tg from 'tsgrad';

/** A short tour of tsgrad's tensors, written to `print` section by section. */
export function tour(print: (line: string) => void): void {
  const section = (title: string) => print(`\n== ${title} ==`);

  section('Creation and printing');
  const a = tg.tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  print(a.toString());
  print(tg.linspace(0, 1, 5).toString());
  print(tg.eye(3, 3, 0, { dtype: 'int32' }).toString());

  section('Broadcasting and type promotion');
  const column = tg.tensor([[10], [20]], { dtype: 'float64' });
  print(`float32 [2,3] + float64 [2,1] → ${tg.add(a, column).toString()}`);
  print(`int32 arange / 2 (true division) → ${tg.div(tg.arange(4), 2).toString()}`);
  try {
    tg.add(a, tg.zeros([4]));
  } catch (error) {
    print(`${(error as Error).name}: ${(error as Error).message}`);
  }

  section('Views share memory: transpose, slice with steps, flip');
  print(tg.transpose(a).toString());
  print(tg.slice(tg.arange(10), [{ start: 8, stop: 1, step: -3 }]).toString());

  section('Reductions');
  print(`sum over axis 0: ${tg.sum(a, { axis: 0 }).toString()}`);
  print(`argmax over axis 1: ${tg.argmax(a, { axis: 1 }).toString()}`);
  print(`cumsum: ${tg.cumsum(tg.arange(1, 6), 0).toString()}`);

  section('Seeded, splittable randomness');
  const [k1, k2] = tg.random.split(tg.random.key(42));
  const x = tg.randn(k1, [2, 4]);
  print(x.toString());
  print(`same key, same values: ${tg.randn(k1, [2, 4]).toString() === x.toString()}`);
  print(`uniform in [0, 1): ${tg.rand(k2, [4]).toString()}`);

  section('Matmul: batched, broadcasting, register-tiled');
  const n = 256;
  const [ka, kb] = tg.random.split(tg.random.key(7));
  const m1 = tg.rand(ka, [n, n]);
  const m2 = tg.rand(kb, [n, n]);
  tg.matmul(m1, m2);
  const start = performance.now();
  const reps = 5;
  for (let i = 0; i < reps; i++) tg.matmul(m1, m2);
  const seconds = (performance.now() - start) / 1000 / reps;
  print(`${n}×${n} float32 matmul: ${((2 * n ** 3) / seconds / 1e9).toFixed(2)} GFLOP/s`);

  section('Convolution and pooling (NCHW)');
  const image = tg.reshape(tg.arange(16, undefined, 1, { dtype: 'float32' }), [1, 1, 4, 4]);
  const edge = tg.tensor([[[[1, 0, -1]]]]);
  print(tg.conv2d(image, edge, { padding: 'same' }).toString());
  print(tg.maxPool2d(image, { kernelSize: 2 }).toString());

  section('Sorting and top-k');
  const scores = tg.tensor([0.1, 0.7, 0.2, 0.9, 0.4]);
  const best = tg.topk(scores, 2);
  print(`top-2 values ${best.values.toString()}, indices ${best.indices.toString()}`);
}
