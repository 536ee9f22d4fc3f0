// tsgrad: what users install. One import for the common API, and the one place that picks a
// device: importing it makes the wasm backend (SIMD kernels; worker threads and relaxed SIMD
// in Node, through the `node` export condition) the default, unless the program already
// selected one. `setBackend(cpuBackend)` selects the reference backend.
import { defaultWasmBackend } from '@tsgrad/backend-wasm/default';
import { isBackendSelected, setBackend } from '@tsgrad/tensor';

if (!isBackendSelected()) setBackend(defaultWasmBackend());

export * from '@tsgrad/autograd';
// The compiler: `jit` and `makeGraph` (the IR) at the top level, like JAX; the rest under `compiler`.
export * as compiler from '@tsgrad/compiler';
export {
  type CompiledStep,
  type CompileStepOptions,
  compileStep,
  type JitOptions,
  type Jitted,
  jit,
  makeGraph,
  TracerReadError,
} from '@tsgrad/compiler';
export * as data from '@tsgrad/data';
export * as io from '@tsgrad/io';
export * as nn from '@tsgrad/nn';
export { manualSeed } from '@tsgrad/nn';
// ONNX: `onnx.exportOnnx(model, inputs)` and `onnx.importOnnx(bytes)`.
export * as onnx from '@tsgrad/onnx';
export * as optim from '@tsgrad/optim';
// `random`: PRNG keys (`key`, `split`, `foldIn`) for `randn`, `rand`, `dropout` and layer
// initializers, and samplers (`categorical`, `randint`…) whose arrays `tensor()` takes.
export {
  ArithmeticError,
  type Backend,
  BatchedReadError,
  cpuBackend,
  type DType,
  DTypeError,
  FileError,
  getBackend,
  IndexError,
  isBackendSelected,
  type NDArray,
  type NestedArray,
  OutOfMemoryError,
  random,
  type Shape,
  ShapeError,
  setBackend,
  setDeferThreshold,
  TsgradError,
  ValueError,
  withBackend,
} from '@tsgrad/tensor';
