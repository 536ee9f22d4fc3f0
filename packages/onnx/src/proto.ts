import type { DType } from '@tsgrad/tensor';
import onnxProto from 'onnx-proto';
import { OnnxError, UnsupportedOperatorError } from './errors.js';

// The ONNX protobuf messages come from `onnx-proto` (protobufjs code generated from onnx.proto,
// with typings), so no wire format is written by hand. Everything else in the package talks
// to ONNX through the helpers here.

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.IModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

export { OnnxError, UnsupportedOperatorError };

export const DataType = onnx.TensorProto.DataType;

const TO_ONNX: Record<DType, number> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  int32: DataType.INT32,
  bool: DataType.BOOL,
};

export const onnxType = (dtype: DType): number => TO_ONNX[dtype];

/** The tsgrad dtype an ONNX element type is read as (int64 becomes int32: tsgrad has no int64). */
export function dtypeOfOnnx(op: string, type: number): DType {
  switch (type) {
    case DataType.FLOAT:
    case DataType.FLOAT16:
      return 'float32';
    case DataType.DOUBLE:
      return 'float64';
    case DataType.INT32:
    case DataType.INT64:
    case DataType.INT8:
    case DataType.UINT8:
    case DataType.INT16:
    case DataType.UINT16:
      return 'int32';
    case DataType.BOOL:
      return 'bool';
    default:
      throw new OnnxError(op, `element type ${DataType[type] ?? type} is not supported`);
  }
}

/** A protobuf int64 (a number, or a Long when the `long` package is present) as a number. */
export function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxError('importOnnx', `not an ONNX model: ${(e as Error).message}`);
  }
}
