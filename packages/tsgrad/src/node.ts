/**
 * The Node entry of tsgrad: everything in `tsgrad`, plus files on disk (safetensors
 * checkpoints, IDX/NPY/CSV readers, ready-made data sets) and the Node wasm backend's controls.
 *
 * @packageDocumentation
 */
export { collectGarbage, createNodeWasmBackend } from '@tsgrad/backend-wasm/node';
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  type FashionMnist,
  type FashionMnistOptions,
  fashionMnist,
  type ImageSet,
  type ImageSetOptions,
  iris,
  mnistDigits,
  mobyDick,
  type ReadIdxOptions,
  readCsv,
  readIdx,
  readNpy,
  type WriteIdxOptions,
  writeIdx,
} from '@tsgrad/data/node';
export * from '@tsgrad/io/node';
export * from './index.js';
