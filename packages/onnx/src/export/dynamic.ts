import type { Tensor } from '@tsgrad/autograd';
import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { protoValues } from '../import/node.js';
import { type NodeProto, OnnxError, onnx, type TensorProto, toNumber } from '../proto.js';

// Dynamic axes. A traced graph has every size built in (reshape targets, broadcast shapes,
// slice bounds). To make some input sizes symbolic, the model is traced at sizes 2 and 3 of
// each symbol (every combination), and once more at 4 to verify. The graphs must agree but for
// int64 constants; each element of those must be multilinear in the symbols (as N·H, N·T·C…),
// and is then computed at run time from the inputs' shapes. Anything else that changes with a
// symbol (a float constant such as 1/N, a Gather's indices) is refused with the node's name.

/** A graph input or output: its name, dtype and shape (-1 for a size that follows a symbol). */
export interface Signature {
  readonly name: string;
  readonly dtype: T.DType;
  readonly shape: readonly number[];
}

/** The ONNX nodes and initializers of a traced graph, as export.ts lowers it. */
export interface Lowered {
  readonly nodes: NodeProto[];
  readonly initializers: TensorProto[];
  readonly inputs: Signature[];
  readonly outputs: Signature[];
}

export type DynamicAxes = Readonly<Record<string, Readonly<Record<number, string>>>>;

const OP = 'exportOnnx';
const MAX_SYMBOLS = 3;

interface SymbolicAxis {
  readonly input: number;
  readonly axis: number;
  readonly symbol: string;
}

/** The symbolic axes of the inputs, checked against their ranks when `examples` are given. */
export function symbolicInputs(
  inputNames: readonly string[],
  dynamicAxes: DynamicAxes,
  examples?: readonly Tensor[],
): SymbolicAxis[] {
  return inputNames.flatMap((name, input) =>
    Object.entries(dynamicAxes[name] ?? {}).map(([key, symbol]) => {
      const axis = Number(key);
      const rank = examples?.[input].ndim ?? Number.POSITIVE_INFINITY;
      if (!Number.isInteger(axis) || axis < 0 || axis >= rank)
        throw new OnnxError(OP, `dynamicAxes: input ${name} has no axis ${T.describe(key)}`);
      if (typeof symbol !== 'string' || symbol === '')
        throw new OnnxError(
          OP,
          `dynamicAxes: the name of axis ${axis} of ${name} must be a non-empty string`,
        );
      return { input, axis, symbol };
    }),
  );
}

/** `x` with `axis` resized to `size` by repeating its rows. */
function resized(x: Tensor, axis: number, size: number): Tensor {
  const index = A.tensor(
    Array.from({ length: size }, (_, i) => i % x.shape[axis]),
    { dtype: 'int32' },
  );
  return A.indexSelect(x, axis, index);
}

const attributesKey = (node: NodeProto) =>
  JSON.stringify(
    (node.attribute ?? []).map((a) =>
      node.opType === 'Constant' ? a.name : onnx.AttributeProto.toObject(onnx.AttributeProto.create(a)),
    ),
  );

function constantOf(node: NodeProto): TensorProto {
  return (node.attribute ?? [])[0]?.t ?? {};
}

const constantKey = (t: TensorProto) =>
  `${t.dataType}|${(t.dims ?? []).join(',')}|${(t.int64Data ?? []).join(',')}|${Array.from(t.rawData ?? []).join(',')}`;

const popcount = (mask: number) => mask.toString(2).replace(/0/g, '').length;

/** Möbius inversion over the corners {2, 3}^k: value = Σ_S d_S Π_{s∈S} (N_s − 2); returns the d_S. */
function mobius(values: readonly (readonly number[])[]): number[][] {
  const corners = 2 ** Math.round(Math.log2(values.length - 1));
  return Array.from({ length: corners }, (_, mask) =>
    values[0].map((_, e) => {
      let sum = 0;
      for (let sub = mask; ; sub = (sub - 1) & mask) {
        sum += (popcount(mask ^ sub) % 2 === 0 ? 1 : -1) * values[sub][e];
        if (sub === 0) break;
      }
      return sum;
    }),
  );
}

/** The first element of a constant, as a one-element tensor's data fields. */
function oneElement(t: TensorProto): Partial<TensorProto> {
  if (t.rawData && t.rawData.length > 0) {
    const size =
      t.rawData.length /
      Math.max(
        1,
        (t.dims ?? []).map(toNumber).reduce((n, d) => n * d, 1),
      );
    return { rawData: t.rawData.slice(0, size) };
  }
  return { int64Data: (t.int64Data ?? []).slice(0, 1) };
}

/** Builds the nodes of the merged graph: the symbols' sizes first, then the base graph with varying constants computed. */
class Merger {
  readonly nodes: NodeProto[] = [];
  private count = 0;
  private readonly products = new Map<number, string>();
  /** N_s − 2 for each symbol s. */
  offsets: readonly string[] = [];

  name(): string {
    return `sym_${this.count++}`;
  }

  add(opType: string, input: string[], output = this.name(), tensor?: TensorProto): string {
    const attribute = tensor
      ? [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: tensor }]
      : [];
    this.nodes.push({ opType, name: `${output}_node`, input, output: [output], attribute });
    return output;
  }

  int64(values: readonly number[], dims: readonly number[]): string {
    return this.add('Constant', [], this.name(), {
      dataType: onnx.TensorProto.DataType.INT64,
      dims: [...dims],
      int64Data: [...values],
    });
  }

  /** Π (N_s − 2) over the symbols in `mask`. */
  product(mask: number): string {
    let name = this.products.get(mask);
    if (name === undefined) {
      const low = mask & -mask;
      const j = Math.log2(low);
      name = mask === low ? this.offsets[j] : this.add('Mul', [this.product(mask ^ low), this.offsets[j]]);
      this.products.set(mask, name);
    }
    return name;
  }
}

/** Lowers `lower` at several sizes of the symbolic input axes and merges the results. */
export function lowerDynamic(
  lower: (inputs: Tensor[]) => Lowered,
  examples: readonly Tensor[],
  inputNames: readonly string[],
  dynamicAxes: DynamicAxes,
): Lowered {
  const axes = symbolicInputs(inputNames, dynamicAxes, examples);
  const symbols = [...new Set(axes.map((a) => a.symbol))];
  if (symbols.length > MAX_SYMBOLS)
    throw new OnnxError(OP, `dynamicAxes: at most ${MAX_SYMBOLS} distinct symbols, got ${symbols.length}`);
  const at = (sizes: readonly number[]) =>
    lower(
      examples.map((x, i) =>
        axes
          .filter((a) => a.input === i)
          .reduce((y, a) => resized(y, a.axis, sizes[symbols.indexOf(a.symbol)]), x),
      ),
    );
  const corners = Array.from({ length: 2 ** symbols.length }, (_, mask) =>
    at(symbols.map((_, j) => 2 + ((mask >> j) & 1))),
  );
  const check = at(symbols.map(() => 4));
  const base = corners[0];
  const variants = [...corners, check];
  for (const v of variants) {
    const same =
      v.nodes.length === base.nodes.length &&
      v.initializers.length === base.initializers.length &&
      v.nodes.every((node, i) => {
        const b = base.nodes[i];
        return (
          node.opType === b.opType &&
          (node.input ?? []).join() === (b.input ?? []).join() &&
          (node.output ?? []).join() === (b.output ?? []).join() &&
          attributesKey(node) === attributesKey(b)
        );
      });
    if (!same)
      throw new OnnxError(
        OP,
        `dynamicAxes: the traced graph changes with the size of ${symbols.join(', ')}, beyond its constants`,
      );
  }

  const merger = new Merger();
  // Each symbol's size, read from the first input axis that carries it, minus 2.
  merger.offsets = symbols.map((symbol) => {
    const { input, axis } = axes.find((a) => a.symbol === symbol) as SymbolicAxis;
    const shape = merger.add('Shape', [inputNames[input]]);
    const size = merger.add('Gather', [shape, merger.int64([axis], [])]);
    return merger.add('Sub', [size, merger.int64([2], [])]);
  });

  base.nodes.forEach((node, i) => {
    if (node.opType !== 'Constant') {
      merger.nodes.push(node);
      return;
    }
    const tensors = variants.map((v) => constantOf(v.nodes[i]));
    if (tensors.every((t) => constantKey(t) === constantKey(tensors[0]))) {
      merger.nodes.push(node);
      return;
    }
    const output = (node.output ?? [])[0] as string;
    const where = `the constant ${output} (an input of ${base.nodes.find((n) => (n.input ?? []).includes(output))?.opType ?? 'nothing'})`;
    const multilinear = (values: readonly (readonly number[])[], dims: readonly number[]): string => {
      const coefficients = mobius(values);
      const predicted = values[0].map((_, e) =>
        coefficients.reduce((s, d, mask) => s + d[e] * 2 ** popcount(mask), 0),
      );
      if (predicted.some((p, e) => p !== values[corners.length][e]))
        throw new OnnxError(OP, `dynamicAxes: ${where} is not multilinear in ${symbols.join(', ')}`);
      let sum = merger.int64(coefficients[0], dims);
      coefficients.forEach((d, mask) => {
        if (mask === 0 || d.every((v) => v === 0)) return;
        sum = merger.add('Add', [sum, merger.add('Mul', [merger.int64(d, dims), merger.product(mask)])]);
      });
      return sum;
    };
    const dims = tensors.map((t) => (t.dims ?? []).map(toNumber));
    const sameDims = dims.every((d) => d.join() === dims[0].join());
    if (sameDims && tensors.every((t) => t.dataType === onnx.TensorProto.DataType.INT64)) {
      const values = tensors.map((t) => (t.int64Data ?? []).map(toNumber));
      merger.add('Identity', [multilinear(values, dims[0])], output);
      return;
    }
    // A constant filled with one value (zeros of an initial state): ConstantOfShape of a computed shape.
    const elements = tensors.map((t) => Array.from(protoValues(OP, t), Number));
    const fill = elements[0][0];
    const uniform = elements.every((e) => e.every((v) => Object.is(v, fill)));
    if (!uniform || dims.some((d) => d.length !== dims[0].length))
      throw new OnnxError(
        OP,
        `dynamicAxes: ${where} changes with ${symbols.join(', ')} in a way that cannot be computed from the input shapes`,
      );
    const shape = multilinear(dims, [dims[0].length]);
    const value = {
      ...tensors[0],
      dims: [1],
      rawData: undefined,
      int64Data: undefined,
      ...oneElement(tensors[0]),
    };
    merger.add('ConstantOfShape', [shape], output, value);
  });

  const symbolic = (shapes: readonly (readonly number[])[]) =>
    shapes[0].map((d, k) => (shapes.every((s) => s[k] === d) ? d : -1));
  return {
    nodes: merger.nodes,
    initializers: base.initializers,
    inputs: base.inputs.map((x, i) => ({ ...x, shape: symbolic(variants.map((v) => v.inputs[i].shape)) })),
    outputs: base.outputs.map((y, k) => ({ ...y, shape: symbolic(variants.map((v) => v.outputs[k].shape)) })),
  };
}
