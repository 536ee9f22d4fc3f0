import { Tensor } from '@tsgrad/autograd';
import { type Graph, makeGraph } from '@tsgrad/compiler';
import { functionalCall, Module } from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import { encodeModel, OnnxError, onnxType, type ValueInfoProto } from '../proto.js';
import { GraphBuilder, tensorProto } from './builder.js';
import { type Lowered, lowerDynamic, type Signature, symbolicInputs } from './dynamic.js';
import { LOWERINGS, type LoweringCall } from './lowerings.js';
import { lowerView } from './views.js';

/** Options of `exportOnnx`: the opset, the graph's input and output names, the symbolic axes. */
export interface ExportOptions {
  /** The ONNX opset (default 17, the first with LayerNormalization; at least 17). */
  readonly opset?: number;
  /** Names of the graph inputs (default `input_0`, `input_1`, …). */
  readonly inputNames?: readonly string[];
  /** Names of the graph outputs (default `output_0`, …). */
  readonly outputNames?: readonly string[];
  /**
   * Symbolic dimensions of inputs and outputs, by name: `{ input_0: { 0: 'batch' } }`. The
   * model is traced at more than one size to find how its shapes depend on each symbol.
   */
  readonly dynamicAxes?: Readonly<Record<string, Readonly<Record<number, string>>>>;
}

/** What can be exported: a module (called through `forward`) or a function of tensors. */
export type Exportable = Module | ((...inputs: Tensor[]) => unknown);

const OP = 'exportOnnx';
const IR_VERSION = 8;

function checkNames(
  what: string,
  names: readonly string[] | undefined,
  count: number,
  prefix: string,
): string[] {
  if (names === undefined) return Array.from({ length: count }, (_, i) => `${prefix}_${i}`);
  if (!Array.isArray(names) || names.length !== count || names.some((n) => typeof n !== 'string' || n === ''))
    throw new OnnxError(OP, `${what} must be ${count} non-empty strings, got ${T.describe(names)}`);
  if (new Set(names).size !== names.length) throw new OnnxError(OP, `${what} must be distinct`);
  return [...names];
}

/** The module's parameters and buffers by name, each tensor once (a tied weight keeps its first name). */
function namedState(module: Module): [string, Tensor][] {
  const byTensor = new Map<Tensor, string>();
  for (const [name, t] of Object.entries(module.stateDict())) if (!byTensor.has(t)) byTensor.set(t, name);
  return [...byTensor].map(([t, name]) => [name, t]);
}

/** Runs `body` with the module in eval mode, as PyTorch's exporter does, and restores every submodule's mode. */
function inEvalMode<R>(module: Module, body: () => R): R {
  const modes = module.modules().map((m) => [m, m.training] as const);
  module.eval();
  try {
    return body();
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
}

function lowerGraph(
  graph: Graph,
  state: readonly [string, Tensor][],
  inputNames: readonly string[],
  outputNames: readonly string[],
  opset: number,
): Lowered {
  const b = new GraphBuilder(opset);
  const bufferNames = new Map<number, string>();
  const inputs: Signature[] = [];
  graph.inputs.forEach((id, i) => {
    const buffer = graph.buffers[id];
    if (i < state.length) {
      const [name, tensor] = state[i];
      b.initializers.push(tensorProto(name, buffer.dtype, buffer.shape, tensor.value.toTypedArray()));
      bufferNames.set(id, name);
    } else {
      const name = inputNames[i - state.length];
      inputs.push({ name, dtype: buffer.dtype, shape: buffer.shape });
      bufferNames.set(id, name);
    }
  });
  /** The ONNX value of a buffer; a constant becomes an initializer when first read. */
  const bufferValue = (id: number): string => {
    const known = bufferNames.get(id);
    if (known !== undefined) return known;
    const buffer = graph.buffers[id];
    if (buffer.source.kind !== 'constant')
      throw new OnnxError(OP, `buffer ${id} is read before it is written`);
    const name = b.constant(buffer.dtype, buffer.shape, buffer.source.data);
    bufferNames.set(id, name);
    return name;
  };
  const views = new Map<string, string>();
  const read = (v: Graph['outputs'][number]): string => {
    const key = `${v.buffer}|${v.shape}|${v.strides}|${v.offset}`;
    let name = views.get(key);
    if (name === undefined) {
      name = lowerView(b, bufferValue(v.buffer), graph.buffers[v.buffer], v);
      views.set(key, name);
    }
    return name;
  };
  for (const eq of graph.equations) {
    const call: LoweringCall<unknown> = {
      inputs: eq.inputs.map((v) => ({ name: read(v), shape: v.shape, dtype: graph.buffers[v.buffer].dtype })),
      outputs: eq.outputs.map((id) => ({ shape: graph.buffers[id].shape, dtype: graph.buffers[id].dtype })),
      params: eq.params,
    };
    const lowering = LOWERINGS[eq.primitive] as (b: GraphBuilder, call: LoweringCall<unknown>) => string[];
    lowering(b, call).forEach((name, k) => {
      bufferNames.set(eq.outputs[k], name);
    });
  }
  const outputs = graph.outputs.map((v, k): Signature => {
    const name = outputNames[k];
    b.nodes.push({ opType: 'Identity', name: `${name}_identity`, input: [read(v)], output: [name] });
    return { name, dtype: graph.buffers[v.buffer].dtype, shape: v.shape };
  });
  return { nodes: b.nodes, initializers: b.initializers, inputs, outputs };
}

/** The traced graph: state tensors (for a module) come first among the graph's inputs. */
function traceGraph(model: Exportable, inputs: readonly Tensor[], state: readonly [string, Tensor][]): Graph {
  if (model instanceof Module) {
    const forward = (values: Tensor[], ...xs: Tensor[]) =>
      functionalCall(model, Object.fromEntries(state.map(([name], i) => [name, values[i]])), (m) =>
        (m.forward as (...a: Tensor[]) => unknown)(...xs),
      );
    return inEvalMode(model, () =>
      makeGraph(forward)(
        state.map(([, t]) => t),
        ...inputs,
      ),
    );
  }
  return makeGraph(model)(...inputs);
}

function valueInfo(
  name: string,
  dtype: T.DType,
  shape: readonly number[],
  symbols: Readonly<Record<number, string>> = {},
): ValueInfoProto {
  // A size that changes with a dynamic input axis (-1) is symbolic even where not named.
  const dim = shape.map((d, i) =>
    symbols[i] !== undefined
      ? { dimParam: symbols[i] }
      : d < 0
        ? { dimParam: `${name}_${i}` }
        : { dimValue: d },
  );
  return { name, type: { tensorType: { elemType: onnxType(dtype), shape: { dim } } } };
}

/**
 * Exports `model` (a Module, called through `forward`, or a function of tensors) as an ONNX
 * model: it is traced at `exampleInputs` into the compiler's graph of primitive equations,
 * and each equation is lowered to ONNX operators (`opset` 17 by default). A module is traced
 * in eval mode; its parameters and buffers become initializers named as in its `stateDict`
 * (`0.weight`, `fc1.bias`, …). Returns the serialized `ModelProto`.
 */
export function exportOnnx(
  model: Exportable,
  exampleInputs: readonly Tensor[],
  options: ExportOptions = {},
): Uint8Array {
  if (!(model instanceof Module) && typeof model !== 'function')
    throw new OnnxError(OP, `the model must be a Module or a function, got ${T.describe(model)}`);
  if (!Array.isArray(exampleInputs) || exampleInputs.some((x) => !(x instanceof Tensor)))
    throw new OnnxError(OP, `exampleInputs must be an array of Tensors, got ${T.describe(exampleInputs)}`);
  T.checkOptions(OP, options);
  const opset = options.opset ?? 17;
  if (!Number.isInteger(opset) || opset < 17 || opset > 21)
    throw new OnnxError(OP, `opset must be an integer from 17 to 21, got ${T.describe(opset)}`);
  const state = model instanceof Module ? namedState(model) : [];
  const inputNames = checkNames('inputNames', options.inputNames, exampleInputs.length, 'input');
  const graph = traceGraph(model, exampleInputs, state);
  const outputNames = checkNames('outputNames', options.outputNames, graph.outputs.length, 'output');
  const dynamicAxes = options.dynamicAxes ?? {};
  T.checkRecord(OP, 'dynamicAxes', dynamicAxes);
  for (const name of Object.keys(dynamicAxes)) {
    if (!inputNames.includes(name) && !outputNames.includes(name))
      throw new OnnxError(
        OP,
        `dynamicAxes names ${T.describe(name)}, which is neither an input nor an output`,
      );
  }

  const lowered =
    symbolicInputs(inputNames, dynamicAxes, exampleInputs).length === 0
      ? lowerGraph(graph, state, inputNames, outputNames, opset)
      : lowerDynamic(
          (inputs) => lowerGraph(traceGraph(model, inputs, state), state, inputNames, outputNames, opset),
          exampleInputs,
          inputNames,
          dynamicAxes,
        );
  for (const output of lowered.outputs) {
    for (const axis of Object.keys(dynamicAxes[output.name] ?? {})) {
      if (!(output.shape[Number(axis)] < 0))
        throw new OnnxError(
          OP,
          `dynamicAxes: axis ${axis} of output ${output.name} does not depend on any dynamic input axis`,
        );
    }
  }
  const info = (x: Signature) => valueInfo(x.name, x.dtype, x.shape, dynamicAxes[x.name]);
  return encodeModel({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'tsgrad',
    producerVersion: '0.1.0',
    graph: {
      name: model instanceof Module ? model.constructor.name : model.name || 'main',
      node: lowered.nodes,
      initializer: lowered.initializers,
      input: lowered.inputs.map(info),
      output: lowered.outputs.map(info),
    },
  });
}
