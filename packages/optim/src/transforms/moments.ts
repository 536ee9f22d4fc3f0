import * as T from '@tsgrad/tensor';
import * as S from '../scalar.js';

/** decay · average + (1 − decay) · x: one step of an exponential moving average. */
export const movingAverage = (average: T.NDArray, x: T.NDArray, decay: S.Scalar): T.NDArray =>
  T.add(T.mul(average, S.operand(decay, average.dtype)), T.mul(x, S.operand(S.sub(1, decay), x.dtype)));

/** decay · average + (1 − decay) · x²: the moving average of squares (Adam's second moment). */
export const movingAverageOfSquares = (average: T.NDArray, x: T.NDArray, decay: number): T.NDArray =>
  T.add(T.mul(average, decay), T.mul(T.mul(x, x), 1 - decay));
