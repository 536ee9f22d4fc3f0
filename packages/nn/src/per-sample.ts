import { grad, noGrad, Tensor, unsqueeze, vmap } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { functionalCall } from './functional-call.js';
import { Module, type TensorModule } from './module.js';

/**
 * Per-sample gradients of a module's trainable parameters, as `torch.func`'s
 * `vmap(grad(functional_call))`: for each example i of the batch, the gradient of
 * `lossFn(model(x[i:i+1]), y[i:i+1])`. Returns one tensor per parameter name, shaped
 * `[batch, ...parameter shape]`, computed in one batched pass (not a loop).
 *
 * Each example runs through the model as a batch of one, so layers that mix examples
 * (batch norm in training mode) see only that example, and randomness (dropout) draws one
 * mask for the whole batch: use `model.eval()` for them, as Opacus requires.
 *
 * The gradients are values, like `.grad`: nothing records how they depend on the parameters
 * or the inputs (differentiate `vmap(grad(f))` for that), so no tape is kept for them.
 */
export function perSampleGrads(
  model: TensorModule,
  lossFn: (output: Tensor, target: Tensor) => Tensor,
  x: Tensor,
  y: Tensor,
): Record<string, Tensor> {
  const op = 'perSampleGrads';
  if (!(model instanceof Module)) throw new T.ValueError(op, 'the first argument must be a Module');
  if (typeof lossFn !== 'function') throw new T.ValueError(op, 'lossFn must be a function');
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new T.ValueError(op, 'x and y must be Tensors');
  if (x.ndim === 0 || y.ndim === 0 || x.shape[0] !== y.shape[0]) {
    throw new T.ShapeError(
      op,
      `x and y need the same leading batch size, got ${T.formatShape(x.shape)} and ${T.formatShape(y.shape)}`,
    );
  }
  const params = Object.fromEntries(model.namedParameters().filter(([, p]) => p.requiresGrad));
  const lossOf = (p: Record<string, Tensor>, xi: Tensor, yi: Tensor) =>
    lossFn(
      functionalCall(model, p, (m) => m.forward(unsqueeze(xi, 0))),
      unsqueeze(yi, 0),
    );
  return noGrad(() => vmap(grad(lossOf), { inAxes: [null, 0, 0] })(params, x, y));
}
