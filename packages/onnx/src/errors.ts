import { TsgradError } from '@tsgrad/tensor';

// The package's errors, apart from proto.ts so that the public typings never reach the
// protobuf library's (whose own typings do not compile under skipLibCheck: false).

/** An error about an ONNX model: a malformed file, or a model tsgrad cannot export or import. */
export class OnnxError extends TsgradError {}

/** An operator (or an attribute of one) that `importOnnx` does not support. */
export class UnsupportedOperatorError extends OnnxError {}
