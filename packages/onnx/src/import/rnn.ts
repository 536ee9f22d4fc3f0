import type { Tensor } from '@tsgrad/autograd';
import * as A from '@tsgrad/autograd';
import type { NodeCall } from './node.js';

// ONNX's recurrent operators (LSTM, GRU, RNN) unrolled over the time steps with autograd ops.
// Layout 0 (X is [seq, batch, input]), default activations, forward, reverse or bidirectional.
// The input projection of all time steps is one matmul per direction.

/** One step of a cell: the new state from the step's projected input and the old state. */
type Step = (xt: Tensor, state: Tensor[], r: Tensor, rb: Tensor | undefined, n: NodeCall) => Tensor[];

const chunks = (x: Tensor, count: number) => A.split(x, count, -1);

/** Slot d of a [D, …] tensor. */
const slot = (x: Tensor, d: number) => A.squeeze(A.narrow(x, 0, d, 1), [0]);

function recurrent(
  n: NodeCall,
  stateCount: number,
  step: Step,
  inputBiasOnly: boolean,
  activations: readonly string[],
): Tensor[] {
  if (n.int('layout', 0) !== 0) throw n.unsupported('layout 1');
  if (n.has('clip')) throw n.unsupported('attribute clip');
  if (n.int('input_forget', 0) !== 0) throw n.unsupported('input_forget 1');
  const x = n.input(0);
  const [seq, batch] = x.shape;
  const seqLens = n.optional(4);
  if (seqLens !== undefined && n.ints(4).some((l) => l !== seq))
    throw n.unsupported('sequence_lens shorter than the sequence');
  if (n.optional(7) !== undefined) throw n.unsupported('peephole weights (P)');
  const direction = n.string('direction', 'forward');
  const directions = direction === 'bidirectional' ? [false, true] : [direction === 'reverse'];
  const given = n.strings('activations');
  const defaults = directions.flatMap(() => activations.map((a) => a.toLowerCase()));
  if (given !== undefined && given.map((a) => a.toLowerCase()).join() !== defaults.join())
    throw n.unsupported(`activations ${given.join(', ')} (only the defaults)`);
  const hidden = n.input(2).shape[2];
  const outputs: Tensor[][] = [];
  const finals: Tensor[][] = [];
  directions.forEach((reverse, d) => {
    const w = slot(n.input(1), d);
    const r = slot(n.input(2), d);
    const b = n.optional(3) === undefined ? undefined : slot(n.input(3), d);
    const [wb, rb] = b === undefined ? [undefined, undefined] : A.split(b, 2, 0);
    let projected = A.matmul(x, A.transpose(w));
    if (wb !== undefined && rb !== undefined)
      projected = A.add(projected, inputBiasOnly ? wb : A.add(wb, rb));
    let state = Array.from({ length: stateCount }, (_, k) => {
      const given = n.optional(5 + k);
      return given === undefined ? A.zeros([batch, hidden], { dtype: x.dtype }) : slot(given, d);
    });
    const hs = new Array<Tensor>(seq);
    for (let i = 0; i < seq; i++) {
      const t = reverse ? seq - 1 - i : i;
      state = step(slot(projected, t), state, r, inputBiasOnly ? rb : undefined, n);
      hs[t] = state[0];
    }
    outputs.push(hs);
    finals.push(state);
  });
  const y = A.stack(
    Array.from({ length: seq }, (_, t) =>
      A.stack(
        outputs.map((hs) => hs[t]),
        0,
      ),
    ),
    0,
  );
  const finalStates = Array.from({ length: stateCount }, (_, k) =>
    A.stack(
      finals.map((s) => s[k]),
      0,
    ),
  );
  return [y, ...finalStates];
}

const lstmStep: Step = (xt, [h, c], r) => {
  const [i, o, f, g] = chunks(A.add(xt, A.matmul(h, A.transpose(r))), 4);
  const cNext = A.add(A.mul(A.sigmoid(f), c), A.mul(A.sigmoid(i), A.tanh(g)));
  return [A.mul(A.sigmoid(o), A.tanh(cNext)), cNext];
};

const gruStep: Step = (xt, [h], r, rb, n) => {
  const [xz, xr, xh] = chunks(xt, 3);
  const [rz, rr, rh] = A.split(r, 3, 0);
  const [bz, br, bh] = rb === undefined ? [undefined, undefined, undefined] : A.split(rb, 3, 0);
  const recur = (w: Tensor, bias: Tensor | undefined, v: Tensor) => {
    const y = A.matmul(v, A.transpose(w));
    return bias === undefined ? y : A.add(y, bias);
  };
  const z = A.sigmoid(A.add(xz, recur(rz, bz, h)));
  const reset = A.sigmoid(A.add(xr, recur(rr, br, h)));
  const candidate =
    n.int('linear_before_reset', 0) === 1
      ? A.tanh(A.add(xh, A.mul(reset, recur(rh, bh, h))))
      : A.tanh(A.add(xh, recur(rh, bh, A.mul(reset, h))));
  return [A.add(A.mul(A.sub(1, z), candidate), A.mul(z, h))];
};

const rnnStep: Step = (xt, [h], r) => [A.tanh(A.add(xt, A.matmul(h, A.transpose(r))))];

export const lstm = (n: NodeCall) => recurrent(n, 2, lstmStep, false, ['Sigmoid', 'Tanh', 'Tanh']);
export const gru = (n: NodeCall) => recurrent(n, 1, gruStep, true, ['Sigmoid', 'Tanh']);
export const rnn = (n: NodeCall) => recurrent(n, 1, rnnStep, false, ['Tanh']);
