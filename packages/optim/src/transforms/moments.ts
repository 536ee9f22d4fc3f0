import * as T from '@tsgrad/tensor';

/** decay · average + (1 − decay) · x: one step of an exponential moving average. */
export const movingAverage = (average: T.NDArray, x: T.NDArray, decay: number): T.NDArray =>
  T.add(T.mul(average, decay), T.mul(x, 1 - decay));

/** decay · average + (1 − decay) · x²: the moving average of squares (Adam's second moment). */
export const movingAverageOfSquares = (average: T.NDArray, x: T.NDArray, decay: number): T.NDArray =>
  T.add(T.mul(average, decay), T.mul(T.mul(x, x), 1 - decay));
