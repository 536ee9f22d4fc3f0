// tsgrad: what users install. One import for the common API, and the one place that picks a
// device: importing it makes the wasm backend (SIMD kernels; worker threads and relaxed SIMD
// in Node, through the `node` export condition) the default, unless the program already
// selected one. `setBackend(cpuBackend)` selects the reference backend.
import { defaultWasmBackend } from '@tsgrad/backend-wasm/default';
import { isBackendSelected, setBackend } from '@tsgrad/tensor';

if (!isBackendSelected()) setBackend(defaultWasmBackend());

export * from '@tsgrad/autograd';
export * as data from '@tsgrad/data';
export * as io from '@tsgrad/io';
export * as nn from '@tsgrad/nn';
export { manualSeed } from '@tsgrad/nn';
export * as optim from '@tsgrad/optim';
// `random`: PRNG keys (`key`, `split`, `foldIn`) for `randn`, `rand`, `dropout` and layer
// initializers, and samplers (`categorical`, `randint`…) whose arrays `tensor()` takes.
export {
  type Backend,
  cpuBackend,
  type DType,
  DTypeError,
  getBackend,
  IndexError,
  isBackendSelected,
  type NDArray,
  type NestedArray,
  random,
  type Shape,
  ShapeError,
  setBackend,
  TsgradError,
  ValueError,
  withBackend,
} from '@tsgrad/tensor';
