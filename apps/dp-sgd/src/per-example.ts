import * as tg from 'tsgrad';

export interface PerExampleResult {
  /** One array [B, ...parameter shape] per parameter, in `model.parameters()` order. */
  grads: tg.NDArray[];
  /** Each example's loss. */
  losses: Float32Array;
}

/**
 * Per-example gradients of `loss(model(x_b), y_b)` with respect to the model's parameters: a
 * jitted gradient of one example's loss (through `functionalCall`), run for each example and
 * stacked. This is the loop that `vmap(grad)` replaces; the rest of DP-SGD only sees the
 * stacked arrays.
 */
export function perExampleGradients(
  model: tg.nn.Module & { forward(x: tg.Tensor): tg.Tensor },
  lossFn: (logits: tg.Tensor, y: tg.Tensor) => tg.Tensor,
): (x: tg.Tensor, y: tg.Tensor) => PerExampleResult {
  const names = [...model.namedParameters()].map(([name]) => name);
  const lossOf = (params: tg.Tensor[], x: tg.Tensor, y: tg.Tensor) => {
    const loss = tg.nn.functionalCall(model, Object.fromEntries(names.map((n, i) => [n, params[i]])), (m) =>
      lossFn(m.forward(x), y),
    );
    return [loss, loss.detach()] as const;
  };
  const gradOne = tg.jit(tg.grad(lossOf, { hasAux: true }));
  return (x, y) => {
    const params = model.parameters();
    const batch = x.shape[0];
    const perParam: tg.Tensor[][] = params.map(() => []);
    const losses = new Float32Array(batch);
    for (let b = 0; b < batch; b++) {
      const rows = [{ start: b, stop: b + 1 }];
      const [grads, loss] = gradOne(params, tg.slice(x, rows), tg.slice(y, rows));
      grads.forEach((g, i) => {
        perParam[i].push(g);
      });
      losses[b] = Number(loss.item());
    }
    return {
      grads: perParam.map((gs, i) => (batch === 0 ? tg.zeros([0, ...params[i].shape]) : tg.stack(gs)).value),
      losses,
    };
  };
}
