import { GradcheckError, jvp, Tensor, vjp } from '@tsgrad/autograd';
import type { Module } from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { formatIndex, mismatch, sameShape, type Tolerance } from './compare.js';
import { randomTensor } from './draw.js';

// The individual checks of the layer harness (checkLayer). Each throws an Error describing the
// first problem it finds, naming the layer's parameters and inputs.

/** The layer's float outputs for float32 or float64 state and inputs. */
export type Evaluate = (dtype: 'float32' | 'float64') => Tensor[];

const numbersOf = (x: Tensor): ArrayLike<number> => x.value.toTypedArray() as ArrayLike<number>;

/** The float64 forward is deterministic (bit-identical twice) and float32 agrees with it; returns the float64 outputs. */
export function checkForward(evaluate: Evaluate, float32: Tolerance): Tensor[] {
  const out64 = evaluate('float64');
  const again = evaluate('float64');
  out64.forEach((y, k) => {
    const a = numbersOf(y);
    const b = numbersOf(again[k]);
    const at = Array.from(a).findIndex((v, i) => !Object.is(v, b[i]));
    if (at >= 0 || a.length !== b.length) {
      throw new Error(
        `not deterministic: two float64 calls differ at output ${k} element ${formatIndex(Math.max(at, 0), y.shape)} ` +
          `(${a[at]} vs ${b[at]}); check layers with randomness in eval mode`,
      );
    }
  });
  const out32 = evaluate('float32');
  if (out32.length !== out64.length)
    throw new Error(`float32 gives ${out32.length} outputs, float64 ${out64.length}`);
  out32.forEach((y, k) => {
    const e = out64[k];
    if (!sameShape(y.shape, e.shape))
      throw new Error(
        `float32 output ${k} has shape ${T.formatShape(y.shape)}, float64 ${T.formatShape(e.shape)}`,
      );
    const problem = mismatch(numbersOf(y), numbersOf(e), y.shape, float32);
    if (problem) throw new Error(`float32 vs float64: output ${k} ${problem}`);
  });
  return out64;
}

/** gradcheck calls the variables input[k] and the outputs output[a]; use the layer's names. */
function rename(text: string, labels: readonly string[]): string {
  return text
    .replace(/\binput\[(\d+)\]/g, (whole, k: string) => labels[Number(k)] ?? whole)
    .replace(/\boutput\[(\d+)\]/g, 'output $1');
}

/** Runs gradcheck or gradgradcheck; a mismatch is rethrown as ∂(output element) / ∂(parameter or input element). */
export function explained(body: () => unknown, labels: readonly string[]): void {
  try {
    body();
  } catch (e) {
    if (!(e instanceof GradcheckError)) throw e;
    const m = e.mismatch;
    const at = (name: string, element?: readonly number[]) =>
      element && element.length > 0
        ? `${rename(name, labels)} element [${element.join(',')}]`
        : rename(name, labels);
    const where =
      m.inputElement && m.outputElement
        ? `∂(${at(m.output, m.outputElement)}) / ∂(${at(m.input, m.inputElement)})`
        : `a random projection of ∂(${rename(m.output, labels)}) / ∂(${rename(m.input, labels)})`;
    throw new Error(`${where}: numerical ${m.numerical}, analytical ${m.analytical}`);
  }
}

const dot = (a: readonly Tensor[], b: readonly Tensor[]) =>
  a.reduce((total, x, i) => {
    const xs = numbersOf(x);
    const ys = numbersOf(b[i]);
    let s = total;
    for (let k = 0; k < xs.length; k++) s += xs[k] * ys[k];
    return s;
  }, 0);

const agree = (a: number, b: number) => Math.abs(a - b) <= 1e-9 + 1e-7 * Math.max(Math.abs(a), Math.abs(b));

/** ⟨J u, v⟩ (jvp) = ⟨u, Jᵀ v⟩ (vjp); on a mismatch, names the first variable whose part disagrees. */
export function checkDotProduct(
  f: (...xs: Tensor[]) => Tensor[],
  xs: readonly Tensor[],
  outputShapes: readonly T.Shape[],
  labels: readonly string[],
  random: () => number,
): void {
  const u = xs.map((x) => randomTensor(x.shape, random));
  const v = outputShapes.map((shape) => randomTensor(shape, random));
  const [, pullback] = vjp(f, ...xs);
  const reverse = pullback(v);
  const forward = dot(jvp(f, [...xs], u)[1], v);
  const total = dot(u, reverse);
  if (agree(forward, total)) return;
  const culprit = xs.findIndex((_, j) => {
    const only = u.map((t, i) => (i === j ? t : new Tensor(T.zerosLike(t.value))));
    return !agree(dot(jvp(f, [...xs], only)[1], v), dot([u[j]], [reverse[j]]));
  });
  const part = culprit >= 0 ? ` (the part of ${labels[culprit]} disagrees)` : '';
  throw new Error(`⟨J u, v⟩ = ${forward} (jvp) but ⟨u, Jᵀ v⟩ = ${total} (vjp)${part}`);
}

/** The module's parameters and buffers (the tensor objects and their data), to check and restore. */
export function snapshot(module: Module) {
  return [...module.namedParameters(), ...module.namedBuffers()].map(([name, tensor]) => ({
    name,
    tensor,
    value: tensor.value,
    data: tensor.value.toTypedArray(),
  }));
}

function bytesOf(data: T.TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The module holds the same tensors with the same bits as before; puts back anything that changed. */
export function checkAndRestoreState(module: Module, saved: ReturnType<typeof snapshot>): void {
  const now = new Map([...module.namedParameters(), ...module.namedBuffers()]);
  const changed: string[] = [];
  for (const { name, tensor, value, data } of saved) {
    const held = now.get(name);
    // Another array is a change without reading it (it may be a tracer that leaked out of jit).
    const differs = (a: Uint8Array, b: Uint8Array) =>
      a.length !== b.length || a.some((byte, i) => byte !== b[i]);
    if (held !== tensor) changed.push(`${name} (a different tensor object)`);
    else if (tensor.value !== value || differs(bytesOf(data), bytesOf(tensor.value.toTypedArray()))) {
      changed.push(name);
      tensor.assign(T.array(data, { shape: value.shape, dtype: value.dtype }));
    }
  }
  if (changed.length > 0)
    throw new Error(`the checks changed the module's own state (now restored): ${changed.join(', ')}`);
}
