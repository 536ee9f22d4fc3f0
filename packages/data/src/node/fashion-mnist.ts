import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { array, checkRecord, describe, type NDArray, ValueError } from '@tsgrad/tensor';
import { DatasetNotFoundError } from '../errors.js';
import { readIdxData } from '../formats/idx.js';
import { type IdxFile, openIdx } from './idx-file.js';

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The names of the ten Fashion-MNIST classes; label i is FASHION_MNIST_CLASSES[i]. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Options of `fashionMnist`. */
export interface FashionMnistOptions {
  /** The folder holding the four IDX files, gzip or plain (default: Debian's install folder). */
  readonly dir?: string;
  /** 'train' (60,000 images, default) or 'test' (10,000). */
  readonly split?: 'train' | 'test';
  /** Read only the first `limit` examples. */
  readonly limit?: number;
  /** Images as [N, 784] rows instead of [N, 1, 28, 28] (default false). */
  readonly flatten?: boolean;
}

/** Fashion-MNIST images and labels, as `fashionMnist` returns them. */
export interface FashionMnist {
  /** float32 pixels scaled to [0, 1]: [N, 1, 28, 28], or [N, 784] with `flatten`. */
  readonly images: NDArray;
  /** int32 class indices in 0…9, [N]. */
  readonly labels: NDArray;
  /** The ten class names, indexed by label. */
  readonly classes: readonly string[];
}

const FILE_LIST =
  'train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz';

/** The path of `name` in `dir`, gzip preferred, plain accepted. */
function locate(dir: string, name: string): string {
  for (const path of [join(dir, `${name}.gz`), join(dir, name)]) if (existsSync(path)) return path;
  throw new DatasetNotFoundError(
    'fashionMnist',
    join(dir, `${name}.gz`),
    `Install Fashion-MNIST with \`apt-get install dataset-fashion-mnist\` (Debian/Ubuntu; it puts the files in ${FASHION_MNIST_DIR}), ` +
      `or pass the folder holding ${FILE_LIST} as fashionMnist({ dir }).`,
  );
}

function expectLayout(file: IdxFile, ndim: number, what: string): void {
  const { header, fail } = file;
  if (header.type !== 'uint8') fail(`${what} must be uint8, got ${header.type}`, 2);
  if (header.shape.length !== ndim)
    fail(`${what} must have ${ndim} dimensions, got ${header.shape.length}`, 3);
}

/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 28×28 grey images of ten kinds of clothing,
 * read from the gzip IDX files that Debian's `dataset-fashion-mnist` package installs.
 */
export function fashionMnist(options: FashionMnistOptions = {}): FashionMnist {
  checkRecord('fashionMnist', 'options', options);
  const { dir = FASHION_MNIST_DIR, split = 'train', flatten = false } = options;
  if (split !== 'train' && split !== 'test') {
    throw new ValueError('fashionMnist', `split must be 'train' or 'test', got '${split}'`);
  }
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagePath = locate(dir, `${prefix}-images-idx3-ubyte`);
  const labelPath = locate(dir, `${prefix}-labels-idx1-ubyte`);
  const images = openIdx('fashionMnist', imagePath);
  const labels = openIdx('fashionMnist', labelPath);
  expectLayout(images, 3, 'images');
  expectLayout(labels, 1, 'labels');
  const [count, height, width] = images.header.shape;
  if (labels.header.shape[0] !== count) {
    labels.fail(`${labels.header.shape[0]} labels for ${count} images in ${imagePath}`, 4);
  }
  const limit = options.limit ?? count;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new ValueError('fashionMnist', `limit must be a non-negative integer, got ${describe(limit)}`);
  }
  const n = Math.min(limit, count);
  const pixels = readIdxData(images.bytes, images.header, 'float32', n);
  for (let i = 0; i < pixels.length; i++) pixels[i] /= 255;
  const classes = readIdxData(labels.bytes, labels.header, 'int32', n);
  classes.forEach((c, i) => {
    if (c > 9) labels.fail(`label ${c} of example ${i} is not a class in 0…9`, labels.header.dataOffset + i);
  });
  const shape = flatten ? [n, height * width] : [n, 1, height, width];
  return {
    images: array(pixels, { shape }),
    labels: array(classes),
    classes: FASHION_MNIST_CLASSES,
  };
}
