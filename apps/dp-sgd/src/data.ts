import { data, FASHION_MNIST_DIR, fashionMnist } from 'tsgrad/node';

/** Mean and standard deviation of the 60,000 training images' pixels (in [0, 1]). */
const PIXEL_MEAN = 0.286;
const PIXEL_STD = 0.353;

/**
 * One split as (standardized images, int32 labels): [N, 1, 28, 28] for the CNN, [N, 784] for the
 * MLP. The statistics are public constants (not computed from the private training set here).
 */
export function loadSplit(
  split: 'train' | 'test',
  options: { dir?: string; limit?: number; flatten: boolean },
): data.TensorDataset {
  const { images, labels } = fashionMnist({
    dir: options.dir ?? FASHION_MNIST_DIR,
    split,
    limit: options.limit,
    flatten: options.flatten,
  });
  return new data.TensorDataset(data.normalize(PIXEL_MEAN, PIXEL_STD)(images), labels);
}
