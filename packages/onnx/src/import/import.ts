import { Tensor } from '@tsgrad/autograd';
import { Module, Parameter } from '@tsgrad/nn';
import * as T from '@tsgrad/tensor';
import {
  decodeModel,
  dtypeOfOnnx,
  type NodeProto,
  OnnxError,
  toNumber,
  UnsupportedOperatorError,
} from '../proto.js';
import { NodeCall, tensorOfProto } from './node.js';
import { OPERATORS } from './operators.js';

const OP = 'importOnnx';

/** Operators whose outputs depend on no input's values: always computed on the host. */
const SHAPE_ONLY = new Set(['Shape', 'Constant']);

/** Float initializers with these names are buffers (running statistics), not parameters. */
const BUFFER_NAME = /(^|\.)(running_mean|running_var)$/;

interface GraphInput {
  readonly name: string;
  readonly dtype: T.DType;
  /** Static sizes; null for a symbolic dimension. */
  readonly shape: readonly (number | null)[];
}

/** What an OnnxModule evaluates (declared without protobuf types, which stay out of the public typings). */
interface Evaluator {
  readonly state: readonly (readonly [string, Tensor])[];
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(inputs: readonly Tensor[], state: ReadonlyMap<string, Tensor>): Tensor[];
}

/** The decoded graph, ready to evaluate. */
class Program implements Evaluator {
  /** Non-float initializers: constants kept on the CPU backend, where their values can be read under `jit`. */
  readonly constants = new Map<string, Tensor>();
  readonly state: [string, Tensor][] = [];
  readonly inputs: GraphInput[];
  readonly outputs: string[];
  readonly nodes: NodeProto[];

  constructor(bytes: Uint8Array) {
    const model = decodeModel(bytes);
    const graph = model.graph;
    if (!graph) throw new OnnxError(OP, 'the model has no graph');
    for (const opset of model.opsetImport ?? []) {
      const domain = opset.domain ?? '';
      if ((domain === '' || domain === 'ai.onnx') && toNumber(opset.version) < 13)
        throw new OnnxError(OP, `opset ${toNumber(opset.version)} is older than 13, the oldest supported`);
    }
    this.nodes = graph.node ?? [];
    for (const node of this.nodes) {
      const where = `${node.opType} (node ${node.name || (node.output ?? [])[0] || '?'})`;
      if (node.domain && node.domain !== 'ai.onnx')
        throw new UnsupportedOperatorError(
          OP,
          `${where}: operators of domain ${node.domain} are not supported`,
        );
      if (!Object.hasOwn(OPERATORS, node.opType ?? ''))
        throw new UnsupportedOperatorError(
          OP,
          `operator ${node.opType} (node ${node.name || (node.output ?? [])[0]}) is not supported`,
        );
    }
    const initialized = new Set<string>();
    for (const proto of graph.initializer ?? []) {
      const name = proto.name ?? '';
      initialized.add(name);
      if (T.isFloat(dtypeOfOnnx(OP, proto.dataType ?? 0))) this.state.push([name, tensorOfProto(OP, proto)]);
      else
        this.constants.set(
          name,
          T.withBackend(T.cpuBackend, () => tensorOfProto(OP, proto)),
        );
    }
    this.inputs = (graph.input ?? [])
      .filter((v) => !initialized.has(v.name ?? ''))
      .map((v) => {
        const type = v.type?.tensorType;
        if (!type) throw new OnnxError(OP, `input ${v.name} is not a tensor`);
        const dims = type.shape?.dim ?? [];
        return {
          name: v.name ?? '',
          dtype: dtypeOfOnnx(OP, type.elemType ?? 0),
          shape: dims.map((d) =>
            d.dimValue !== null && d.dimValue !== undefined && !d.dimParam ? toNumber(d.dimValue) : null,
          ),
        };
      });
    this.outputs = (graph.output ?? []).map((v) => v.name ?? '');
  }

  get inputNames(): string[] {
    return this.inputs.map((x) => x.name);
  }

  get outputNames(): string[] {
    return [...this.outputs];
  }

  /** The graph's outputs for `inputs`, reading parameters and buffers from `state`. */
  run(inputs: readonly Tensor[], state: ReadonlyMap<string, Tensor>): Tensor[] {
    this.checkInputs(inputs);
    const values = new Map<string, Tensor>();
    const onHost = new Set<Tensor>();
    const moved = new Map<Tensor, Tensor>();
    const here = (x: Tensor) => {
      if (!onHost.has(x)) return x;
      let copy = moved.get(x);
      if (copy === undefined) {
        copy = new Tensor(T.array(x.value.toTypedArray(), { shape: x.shape, dtype: x.dtype }));
        moved.set(x, copy);
      }
      return copy;
    };
    for (const [name, t] of this.constants) {
      values.set(name, t);
      onHost.add(t);
    }
    for (const [name, t] of state) values.set(name, t);
    this.inputs.forEach((input, i) => {
      values.set(input.name, inputs[i]);
    });
    for (const node of this.nodes) {
      const args = (node.input ?? []).map((name) => {
        if (name === '') return undefined;
        const value = values.get(name);
        if (value === undefined)
          throw new OnnxError(
            OP,
            `${node.opType} (node ${node.name}) reads ${name}, which no earlier node computes`,
          );
        return value;
      });
      const operator = OPERATORS[node.opType ?? ''];
      const host = SHAPE_ONLY.has(node.opType ?? '') || args.every((x) => x === undefined || onHost.has(x));
      const results = host
        ? T.withBackend(T.cpuBackend, () => operator(new NodeCall(node, args)))
        : operator(
            new NodeCall(
              node,
              args.map((x) => (x === undefined ? x : here(x))),
            ),
          );
      (node.output ?? []).forEach((name, k) => {
        const y = results[k];
        if (name === '' || y === undefined) return;
        values.set(name, y);
        if (host) onHost.add(y);
      });
    }
    return this.outputs.map((name) => {
      const y = values.get(name);
      if (y === undefined) throw new OnnxError(OP, `output ${name} is computed by no node`);
      return here(y);
    });
  }

  private checkInputs(inputs: readonly Tensor[]): void {
    const typeOf = (x: GraphInput) => `${x.dtype}[${x.shape.map((d) => d ?? '?').join(',')}]`;
    const expected = this.inputs.map((x) => `${x.name}: ${typeOf(x)}`).join(', ');
    if (
      !Array.isArray(inputs) ||
      inputs.length !== this.inputs.length ||
      inputs.some((x) => !(x instanceof Tensor))
    )
      throw new OnnxError(
        OP,
        `the model takes ${this.inputs.length} tensor(s) (${expected}), got ${T.describe(inputs)}`,
      );
    this.inputs.forEach((spec, i) => {
      const x = inputs[i];
      const fits = x.ndim === spec.shape.length && spec.shape.every((d, k) => d === null || d === x.shape[k]);
      const dtypeFits = x.dtype === spec.dtype || (T.isFloat(x.dtype) && T.isFloat(spec.dtype));
      if (!fits || !dtypeFits)
        throw new OnnxError(
          OP,
          `input ${spec.name} must be ${typeOf(spec)}, got ${x.dtype}${T.formatShape(x.shape)}`,
        );
    });
  }
}

/** A submodule that only holds parameters (the `fc1` of `fc1.weight`). */
class ParameterScope extends Module {
  forward(): never {
    throw new OnnxError(OP, 'a parameter scope of an imported model has no forward');
  }
}

/**
 * An imported ONNX model as a Module: its parameters are the file's floating-point
 * initializers (running statistics are buffers), named as in the file, so `stateDict`,
 * optimizers, `functionalCall` and `jit` work on it as on any module.
 */
export class OnnxModule extends Module {
  readonly #program: Evaluator;
  /** Where each initializer lives: read at every call, so that functionalCall's replacements are seen. */
  readonly #slots: {
    readonly name: string;
    readonly owner: Record<string, unknown>;
    readonly property: string;
  }[] = [];

  /** @internal Built by `importOnnx`. */
  constructor(program: Evaluator) {
    super();
    this.#program = program;
    for (const [name, tensor] of program.state) {
      const path = name.split('.');
      const leaf = path.pop() as string;
      let owner: Module = this;
      for (const part of path) {
        const slots = owner as unknown as Record<string, unknown>;
        if (!(slots[part] instanceof Module)) slots[part] = new ParameterScope();
        owner = slots[part] as Module;
      }
      if (BUFFER_NAME.test(name)) owner.registerBuffer(leaf, tensor);
      else (owner as unknown as Record<string, unknown>)[leaf] = new Parameter(tensor);
      this.#slots.push({ name, owner: owner as unknown as Record<string, unknown>, property: leaf });
    }
  }

  /** The graph's input names, in order. */
  get inputNames(): string[] {
    return [...this.#program.inputNames];
  }

  /** The graph's output names, in order. */
  get outputNames(): string[] {
    return [...this.#program.outputNames];
  }

  /** Every output of the graph, in order. */
  run(...inputs: Tensor[]): Tensor[] {
    const state = new Map(this.#slots.map(({ name, owner, property }) => [name, owner[property] as Tensor]));
    return this.#program.run(inputs, state);
  }

  /** The output, or the list of outputs when the graph has several. */
  forward(...inputs: Tensor[]): Tensor | Tensor[] {
    const outputs = this.run(...inputs);
    return outputs.length === 1 ? outputs[0] : outputs;
  }
}

/**
 * Imports an ONNX model (the bytes of a `.onnx` file) as a Module whose `forward` is built
 * from autograd ops, so it can be differentiated, jitted and fine-tuned. Initializers become
 * its parameters, named as in the file. Throws an UnsupportedOperatorError naming the first
 * operator (and its node) that tsgrad does not implement, and an OnnxError for a malformed file.
 */
export function importOnnx(bytes: Uint8Array): OnnxModule {
  if (!(bytes instanceof Uint8Array))
    throw new OnnxError(OP, `expected the bytes of a model (a Uint8Array), got ${T.describe(bytes)}`);
  return new OnnxModule(new Program(bytes));
}
