import * as tg from 'tsgrad';

export interface PerExampleResult {
  /** One array [B, ...parameter shape] per parameter, in `model.parameters()` order. */
  grads: tg.NDArray[];
  /** Each example's loss. */
  losses: Float32Array;
}

/**
 * Per-example gradients of `loss(model(x_b), y_b)` with respect to the model's parameters, as
 * `jit(vmap(grad(loss of one example)))` through `functionalCall`. Batches are padded to
 * `chunk` examples (repeating the first) so that Poisson batches of any size reuse one compiled
 * plan; the padding's rows are dropped from the result.
 */
export function perExampleGradients(
  model: tg.nn.Module & { forward(x: tg.Tensor): tg.Tensor },
  lossFn: (logits: tg.Tensor, y: tg.Tensor) => tg.Tensor,
  chunk: number,
): (x: tg.Tensor, y: tg.Tensor) => PerExampleResult {
  const names = [...model.namedParameters()].map(([name]) => name);
  const lossOfOne = (params: tg.Tensor[], x: tg.Tensor, y: tg.Tensor) => {
    const loss = tg.nn.functionalCall(model, Object.fromEntries(names.map((n, i) => [n, params[i]])), (m) =>
      lossFn(m.forward(x.unsqueeze(0)), y.unsqueeze(0)),
    );
    return [loss, loss.detach()] as const;
  };
  const perExample = tg.jit(tg.vmap(tg.grad(lossOfOne, { hasAux: true }), { inAxes: [null, 0, 0] }));
  return (x, y) => {
    const batch = x.shape[0];
    if (batch > chunk || batch === 0) {
      throw new tg.ValueError('perExampleGradients', `a batch of ${batch}, expected 1 to ${chunk} examples`);
    }
    const padding = Int32Array.from({ length: chunk }, (_, i) => (i < batch ? i : 0));
    const [grads, losses] = perExample(
      model.parameters(),
      tg.indexSelect(x, 0, padding),
      tg.indexSelect(y, 0, padding),
    );
    const rows = [{ start: 0, stop: batch }];
    return {
      grads: grads.map((g) => tg.slice(g, rows).value),
      losses: Float32Array.from(tg.slice(losses, rows).toTypedArray()),
    };
  };
}
