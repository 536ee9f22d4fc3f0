import { data, FASHION_MNIST_DIR, fashionMnist } from 'tsgrad/node';

/** Mean and standard deviation of the 60,000 training images' pixels (in [0, 1]). */
export const PIXEL_MEAN = 0.286;
export const PIXEL_STD = 0.353;

export interface SplitOptions {
  /** The folder of the four IDX files (default: where Debian's dataset-fashion-mnist puts them). */
  dir?: string;
  /** Read only the first `limit` images. */
  limit?: number;
  /** Rows of 784 pixels (for the MLP) instead of [1, 28, 28] images (for the CNN). */
  flatten: boolean;
}

/** One split as a dataset of (standardized image, int32 label) pairs. */
export function loadSplit(split: 'train' | 'test', options: SplitOptions): data.TensorDataset {
  const { images, labels } = fashionMnist({
    dir: options.dir ?? FASHION_MNIST_DIR,
    split,
    limit: options.limit,
    flatten: options.flatten,
  });
  return new data.TensorDataset(data.normalize(PIXEL_MEAN, PIXEL_STD)(images), labels);
}
