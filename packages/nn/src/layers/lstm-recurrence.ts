import type { Tensor } from '@tsgrad/autograd';
import * as A from '@tsgrad/autograd';

// The LSTM's loop over time with a hand-written backward pass, as cuDNN and PyTorch's fused
// LSTM do it. On the tape, every step's h·W_hhᵀ would give W_hh a gradient of its own (a
// product over the batch only, 16 rows deep in the char-RNN bench) to be summed over the
// steps; here the backward loop keeps only what must be sequential (the gate gradients and
// dh = dgates·W_hh) and computes W_hh's and b_hh's gradients once, over all steps: one matmul
// and one sum. A compiled step then runs one matmul and one fused gate kernel per time step
// forward, and one fused kernel, one concat and one matmul backward.

/** What the backward pass keeps of one time step. */
interface StepResiduals {
  /** The state the step started from. */
  readonly h: Tensor;
  readonly c: Tensor;
  /** The activated gates σ(i), σ(f), tanh(g), σ(o), and tanh(c'). */
  readonly gates: readonly [Tensor, Tensor, Tensor, Tensor];
  readonly tanhCell: Tensor;
}

/** The recurrence's arguments: W_ih x for every step, W_hh, [b_ih, b_hh] and the start state. */
type Args = [
  projections: Tensor,
  weight: Tensor,
  biases: readonly [Tensor, Tensor] | null,
  h0: Tensor,
  c0: Tensor,
];
/** Its results: the output h of every step [seq, batch, hidden], and the final h and c. */
type Out = [Tensor, Tensor, Tensor];

/** Time step `t` of a [seq, …] tensor: a view, also of a strided one (squeezing one would copy it). */
const step = (x: Tensor, t: number) => A.slice(x, [t]);

/** Runs the steps (from the last to the first if `reverse`), keeping each step's residuals. */
function loop(reverse: boolean, [projections, weight, biases, h0, c0]: Args): [Out, StepResiduals[]] {
  const seq = projections.shape[0];
  // The biases join the gate kernel, rather than a pass of their own over all steps.
  const [biasIh, biasHh] = biases === null ? [null, null] : biases.map((b) => A.split(b, 4, -1));
  const outputs: Tensor[] = new Array(seq);
  const residuals: StepResiduals[] = new Array(seq);
  // W_hhᵀ copied once: the GEMM reads a B with contiguous rows in place when A has few rows
  // (a batch of 16), where a transposed view is packed again on every step.
  const [gateRows, hiddenSize] = weight.shape;
  const weightT = A.reshape(A.reshape(A.transpose(weight), [gateRows * hiddenSize]), [hiddenSize, gateRows]);
  let [h, c] = [h0, c0];
  for (let n = 0; n < seq; n++) {
    const t = reverse ? seq - 1 - n : n;
    // PyTorch's order of additions: (W_ih x + b_ih) + (W_hh h + b_hh), gate by gate.
    const hidden = A.split(A.matmul(h, weightT), 4, -1);
    const pre = A.split(step(projections, t), 4, -1).map((x, k) =>
      biasIh === null || biasHh === null
        ? A.add(x, hidden[k])
        : A.add(A.add(x, biasIh[k]), A.add(hidden[k], biasHh[k])),
    );
    const gates = [A.sigmoid(pre[0]), A.sigmoid(pre[1]), A.tanh(pre[2]), A.sigmoid(pre[3])] as const;
    const cell = A.add(A.mul(gates[1], c), A.mul(gates[0], gates[2]));
    const tanhCell = A.tanh(cell);
    residuals[t] = { h, c, gates, tanhCell };
    h = A.mul(gates[3], tanhCell);
    c = cell;
    outputs[t] = A.unsqueeze(h, 0);
  }
  return [[A.concat(outputs, 0), h, c], residuals];
}

// dy·σ' = dy·y(1 − y) and dy·tanh' = dy(1 − t²), written so that no factor depends on forward
// values alone: fusion would compute such a factor in the forward kernel and store it.
function sigmoidGrad(y: Tensor, dy: Tensor): Tensor {
  const dyY = A.mul(dy, y);
  return A.sub(dyY, A.mul(dyY, y));
}
const tanhGrad = (t: Tensor, dy: Tensor) => A.sub(dy, A.mul(A.mul(dy, t), t));

/** The gradients of the arguments from those of the results, a step at a time backwards. */
function backward(
  reverse: boolean,
  [, weight, biases]: Args,
  residuals: readonly StepResiduals[],
  [dOutput, dhLast, dcLast]: Out,
): [Tensor, Tensor, [Tensor, Tensor] | null, Tensor, Tensor] {
  const seq = residuals.length;
  const dGates: Tensor[] = new Array(seq);
  let [dh, dc] = [dhLast, dcLast];
  for (let n = seq - 1; n >= 0; n--) {
    const t = reverse ? seq - 1 - n : n;
    const { c, gates, tanhCell } = residuals[t];
    const [i, f, g, o] = gates;
    const dhTotal = A.add(step(dOutput, t), dh);
    const dCell = A.add(dc, tanhGrad(tanhCell, A.mul(dhTotal, o)));
    dGates[t] = A.concat(
      [
        sigmoidGrad(i, A.mul(dCell, g)),
        sigmoidGrad(f, A.mul(dCell, c)),
        tanhGrad(g, A.mul(dCell, i)),
        sigmoidGrad(o, A.mul(dhTotal, tanhCell)),
      ],
      -1,
    );
    dh = A.matmul(dGates[t], weight);
    dc = A.mul(dCell, f);
  }
  // W_hh's gradient over all steps at once: Σ_t dgates_tᵀ h_{t-1}.
  const [gateRows, hiddenSize] = weight.shape;
  const dGate = A.stack(dGates, 0);
  const starts = A.stack(
    residuals.map((r) => r.h),
    0,
  );
  const dWeight = A.matmul(
    A.transpose(A.reshape(dGate, [-1, gateRows])),
    A.reshape(starts, [-1, hiddenSize]),
  );
  // b_ih and b_hh get the same gradient (one sum, once common subexpressions merge).
  const dBias = () => A.sum(dGate, { axis: [0, 1] });
  return [dGate, dWeight, biases === null ? null : [dBias(), dBias()], dh, dc];
}

const recurrence = (reverse: boolean) =>
  A.customVjp(
    (...args: Args): Out => loop(reverse, args)[0],
    (...args: Args) => {
      const [out, residuals] = loop(reverse, args);
      return [out, { args, residuals }] as const;
    },
    ({ args, residuals }: { args: Args; residuals: StepResiduals[] }, cotangent: Out) =>
      backward(reverse, args, residuals, cotangent),
  );

const forwards = recurrence(false);
const backwards = recurrence(true);

/**
 * One LSTM layer and direction over a sequence: `projections` [seq, batch, 4·hidden] holds
 * W_ih x for every step, `weight` is W_hh [4·hidden, hidden], `biases` [b_ih, b_hh] (or null),
 * and `h0`, `c0` [batch, hidden] the start state. Returns every step's h [seq, batch, hidden]
 * and the final h and c; `reverse` runs from the last step to the first.
 */
export function lstmRecurrence(
  projections: Tensor,
  weight: Tensor,
  biases: readonly [Tensor, Tensor] | null,
  h0: Tensor,
  c0: Tensor,
  reverse: boolean,
): Out {
  return (reverse ? backwards : forwards)(projections, weight, biases, h0, c0);
}
