import { Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import {
  type AttributeProto,
  dtypeOfOnnx,
  type NodeProto,
  OnnxError,
  onnx,
  type TensorProto,
  toNumber,
  UnsupportedOperatorError,
} from '../proto.js';

// What an operator's implementation sees of its node: inputs as tensors, static integer
// inputs (shapes, axes) as numbers, and typed attribute readers.

const INT32_MAX = 2 ** 31 - 1;
/** ONNX's int64 (INT64_MAX as "to the end") read as tsgrad's int32, clamped. */
const clampInt = (v: number) => Math.max(-INT32_MAX - 1, Math.min(INT32_MAX, v));

/** The elements of a TensorProto, whichever field holds them. */
export function protoValues(op: string, t: TensorProto): ArrayLike<number> {
  const type = t.dataType ?? 0;
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const read = (size: number, get: (at: number) => number) =>
      Array.from({ length: Math.floor(raw.length / size) }, (_, i) => get(i * size));
    switch (type) {
      case onnx.TensorProto.DataType.FLOAT:
        return read(4, (at) => view.getFloat32(at, true));
      case onnx.TensorProto.DataType.DOUBLE:
        return read(8, (at) => view.getFloat64(at, true));
      case onnx.TensorProto.DataType.INT64:
        return read(8, (at) => clampInt(Number(view.getBigInt64(at, true))));
      case onnx.TensorProto.DataType.INT32:
        return read(4, (at) => view.getInt32(at, true));
      case onnx.TensorProto.DataType.INT8:
        return read(1, (at) => view.getInt8(at));
      case onnx.TensorProto.DataType.UINT8:
      case onnx.TensorProto.DataType.BOOL:
        return read(1, (at) => view.getUint8(at));
      default:
        throw new OnnxError(
          op,
          `raw data of type ${onnx.TensorProto.DataType[type] ?? type} is not supported`,
        );
    }
  }
  if (t.floatData?.length) return t.floatData;
  if (t.doubleData?.length) return t.doubleData;
  if (t.int64Data?.length) return t.int64Data.map((v) => clampInt(toNumber(v)));
  if (t.int32Data?.length) return t.int32Data;
  return [];
}

/** A TensorProto (an initializer or a Constant's value) as a tensor on the current backend. */
export function tensorOfProto(op: string, t: TensorProto): Tensor {
  const dtype = dtypeOfOnnx(op, t.dataType ?? 0);
  const shape = (t.dims ?? []).map(toNumber);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
    throw new OnnxError(op, `tensor ${t.name ?? ''} is stored in an external file, which is not supported`);
  const values = protoValues(op, t);
  if (values.length !== T.sizeOf(shape))
    throw new OnnxError(
      op,
      `tensor ${t.name ?? ''} has ${values.length} values for shape ${T.formatShape(shape)}`,
    );
  return new Tensor(T.array(Float64Array.from(values), { shape, dtype }));
}

/** One node being evaluated. */
export class NodeCall {
  private readonly attributes: ReadonlyMap<string, AttributeProto>;

  constructor(
    readonly node: NodeProto,
    private readonly values: readonly (Tensor | undefined)[],
  ) {
    this.attributes = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
  }

  /** "Conv (node conv_3)", for messages. */
  get where(): string {
    return `${this.node.opType} (node ${this.node.name || (this.node.output ?? [])[0] || '?'})`;
  }

  unsupported(what: string): UnsupportedOperatorError {
    return new UnsupportedOperatorError('importOnnx', `${this.where}: ${what} is not supported`);
  }

  get inputCount(): number {
    return this.values.length;
  }

  /** Input i, or undefined when it is absent (an empty name or past the end). */
  optional(i: number): Tensor | undefined {
    return this.values[i];
  }

  input(i: number): Tensor {
    const x = this.values[i];
    if (x === undefined) throw new OnnxError('importOnnx', `${this.where}: input ${i} is missing`);
    return x;
  }

  /** The values of a static integer input (a shape, axes, pads): it must not depend on the model's inputs under `jit`. */
  ints(i: number): number[] {
    return Array.from(this.input(i).value.toTypedArray() as ArrayLike<number>, Number);
  }

  /** A scalar input's value. */
  number(i: number): number {
    return Number((this.input(i).value.toTypedArray() as ArrayLike<number>)[0]);
  }

  has(name: string): boolean {
    return this.attributes.has(name);
  }

  int(name: string, fallback: number): number {
    const a = this.attributes.get(name);
    return a === undefined ? fallback : clampInt(toNumber(a.i));
  }

  intList(name: string, fallback: readonly number[]): number[] {
    const a = this.attributes.get(name);
    return a === undefined ? [...fallback] : (a.ints ?? []).map((v) => clampInt(toNumber(v)));
  }

  float(name: string, fallback: number): number {
    const a = this.attributes.get(name);
    return a === undefined ? fallback : (a.f ?? 0);
  }

  floatList(name: string): number[] | undefined {
    return this.attributes.get(name)?.floats ?? undefined;
  }

  string(name: string, fallback: string): string {
    const a = this.attributes.get(name);
    return a?.s ? new TextDecoder().decode(a.s) : fallback;
  }

  strings(name: string): string[] | undefined {
    return this.attributes.get(name)?.strings?.map((s) => new TextDecoder().decode(s));
  }

  tensor(name: string): Tensor | undefined {
    const t = this.attributes.get(name)?.t;
    return t ? tensorOfProto('importOnnx', t) : undefined;
  }

  /** Rejects attributes the implementation does not honour when set to something but their default. */
  refuse(name: string, isDefault: (a: AttributeProto) => boolean): void {
    const a = this.attributes.get(name);
    if (a !== undefined && !isDefault(a)) throw this.unsupported(`attribute ${name}`);
  }
}
