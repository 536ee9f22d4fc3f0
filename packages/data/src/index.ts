export { type Collated, defaultCollate } from './collate.js';
export {
  ConcatDataset,
  type Dataset,
  type IterableDataset,
  isMapDataset,
  type MaybePromise,
  mapDataset,
  Subset,
  TensorDataset,
} from './dataset.js';
export { type DataFormat, DataFormatError, DatasetNotFoundError, MissingPackageError } from './errors.js';
export { type CsvOptions, type CsvTable, parseCsv } from './formats/csv.js';
export {
  type EncodeIdxOptions,
  encodeIdx,
  type IdxType,
  type ParseIdxOptions,
  parseIdx,
} from './formats/idx.js';
export { type ParseNpyOptions, parseNpy } from './formats/npy.js';
export { DataLoader, type DataLoaderOptions } from './loader.js';
export type { SeedOptions } from './seed.js';
export { randomSplit } from './split.js';
export {
  type BlobsOptions,
  blobs,
  type CirclesOptions,
  type Classification,
  circles,
  moons,
  type Regression,
  type SineRegressionOptions,
  type SpiralsOptions,
  type SyntheticOptions,
  sineRegression,
  spirals,
  xor,
} from './synthetic.js';
export { type CharTensor, textToCharTensor } from './text.js';
export {
  compose,
  normalize,
  oneHot,
  type RandomCropOptions,
  randomCrop,
  randomHorizontalFlip,
  type Transform,
} from './transforms.js';
