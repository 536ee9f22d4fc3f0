import { allocTyped, type DType, type TypedArray } from '@tsgrad/tensor';
import { type AttributeProto, type NodeProto, onnx, onnxType, type TensorProto } from '../proto.js';

/** An attribute value: integers (and arrays of them) are INT(S); wrap floats as `{ float }`, tensors as `{ tensor }`. */
export type Attribute =
  | number
  | readonly number[]
  | string
  | { readonly float: number }
  | { readonly floats: readonly number[] }
  | { readonly tensor: TensorProto };

const AttributeType = onnx.AttributeProto.AttributeType;

function attributeProto(name: string, value: Attribute): AttributeProto {
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (typeof value === 'string')
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: [...(value as number[])] };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('tensor' in value) return { name, type: AttributeType.TENSOR, t: value.tensor };
  return { name, type: AttributeType.FLOATS, floats: [...(value as { floats: number[] }).floats] };
}

/** A tensor initializer holding `data` (row-major) of `shape`. */
export function tensorProto(
  name: string,
  dtype: DType,
  shape: readonly number[],
  data: TypedArray,
): TensorProto {
  const bytes =
    dtype === 'bool'
      ? Uint8Array.from(data as ArrayLike<number>, (v) => (v ? 1 : 0))
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return { name, dataType: onnxType(dtype), dims: [...shape], rawData: bytes };
}

/**
 * Accumulates the nodes and initializers of an ONNX graph, with fresh value names and
 * constants (shapes, axes, indices, scalars) as Constant nodes.
 */
export class GraphBuilder {
  constructor(readonly opset: number) {}

  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private count = 0;

  fresh(hint: string): string {
    return `${hint}_${this.count++}`;
  }

  /** Adds a node; returns its output names (`outputs` of them, fresh). */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, Attribute> = {},
    outputs = 1,
  ): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({
      opType,
      name: this.fresh(`${opType}_node`),
      input: [...inputs],
      output: names,
      attribute: Object.entries(attributes).map(([k, v]) => attributeProto(k, v)),
    });
    return names;
  }

  /** `node` with one output. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, Attribute> = {}): string {
    return this.node(opType, inputs, attributes, 1)[0];
  }

  /**
   * A 1-D int64 constant (or a scalar with `shape` []). Not shared between uses by value: the
   * graph's structure must not depend on sizes (see dynamic.ts).
   */
  int64(values: readonly number[], shape: readonly number[] = [values.length]): string {
    const tensor = { dataType: onnx.TensorProto.DataType.INT64, dims: [...shape], int64Data: [...values] };
    return this.op('Constant', [], { value: { tensor } });
  }

  /** A scalar constant of `dtype` (shape []). */
  scalar(dtype: DType, value: number): string {
    const data = allocTyped(dtype, 1);
    data[0] = value;
    return this.constant(dtype, [], data);
  }

  /** A constant tensor of `dtype`: a Constant node (initializers are the model's parameters and buffers). */
  constant(dtype: DType, shape: readonly number[], data: TypedArray): string {
    return this.op('Constant', [], { value: { tensor: tensorProto('', dtype, shape, data) } });
  }
}
