import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import * as ort from 'onnxruntime-node';

// Runs an exported model in onnxruntime-node, the reference runtime the exports are checked against.

const ORT_TYPE: Record<T.DType, ort.Tensor.Type> = {
  float32: 'float32',
  float64: 'float64',
  int32: 'int32',
  bool: 'bool',
};

function toOrt(x: Tensor): ort.Tensor {
  const data = x.value.toTypedArray();
  const values = x.dtype === 'bool' ? Uint8Array.from(data as ArrayLike<number>) : data;
  return new ort.Tensor(ORT_TYPE[x.dtype], values as never, [...x.shape]);
}

function fromOrt(y: ort.Tensor): Tensor {
  const dtype = (Object.keys(ORT_TYPE) as T.DType[]).find((d) => ORT_TYPE[d] === y.type);
  if (dtype === undefined) throw new Error(`ORT returned a ${y.type} tensor`);
  const data = y.data as ArrayLike<number>;
  return new Tensor(T.array(Float64Array.from(data, Number), { shape: [...y.dims], dtype }));
}

let written = 0;

/** The outputs of `model` (ONNX bytes) on `inputs`, in the model's output order. */
export async function runOrt(model: Uint8Array, inputs: readonly Tensor[]): Promise<Tensor[]> {
  // ONNX_EXPORT_DIR=dir keeps every model run here, for `make_fixtures.py --check dir/*.onnx` (onnx.checker).
  const keep = process.env.ONNX_EXPORT_DIR;
  if (keep) writeFileSync(join(keep, `model-${process.pid}-${written++}.onnx`), model);
  const session = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'disabled',
    intraOpNumThreads: 1,
  });
  try {
    const feeds = Object.fromEntries(session.inputNames.map((name, i) => [name, toOrt(inputs[i])]));
    const results = await session.run(feeds);
    return session.outputNames.map((name) => fromOrt(results[name]));
  } finally {
    await session.release();
  }
}
