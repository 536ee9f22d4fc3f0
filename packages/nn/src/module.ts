import { inLibrary, inUserCode, Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';

/** A module's learnable tensor: a leaf that requires grad (unless told otherwise). */
export class Parameter extends Tensor {
  constructor(value: T.NDArray | Tensor, requiresGrad = true) {
    super(value instanceof Tensor ? value.value : value, { requiresGrad });
  }
}

/** Thrown by `loadStateDict` (and `functionalCall`) for missing or unexpected keys, values that are not tensors, shape and dtype mismatches. */
export class StateDictError extends T.ValueError {}

const isFloating = (dtype: T.DType) => dtype === 'float32' || dtype === 'float64';

/** Why `value` cannot be loaded into `target`, or undefined if it can (floats convert to the target's float dtype). */
function mismatch(name: string, value: unknown, target: Tensor): string | undefined {
  if (!(value instanceof Tensor) && !(value instanceof T.NDArray))
    return `the value for ${name} is not a Tensor or an NDArray`;
  if (value.shape.length !== target.ndim || value.shape.some((d, i) => d !== target.shape[i]))
    return `size mismatch for ${name}: the checkpoint has shape [${value.shape.join(',')}], the model [${target.shape.join(',')}]`;
  if (value.dtype !== target.dtype && !(isFloating(value.dtype) && isFloating(target.dtype)))
    return `dtype mismatch for ${name}: the checkpoint has ${value.dtype}, the model ${target.dtype}`;
  return undefined;
}

/**
 * What `loadStateDict` reports with `strict: false`: the names it did not find and the names it did not use.
 */
export interface LoadResult {
  /** Names of the model's parameters and buffers that the state dict lacks. */
  readonly missingKeys: string[];
  /** Names in the state dict that the model does not have. */
  readonly unexpectedKeys: string[];
}

/**
 * The base of every layer, as in PyTorch. Parameters, buffers and submodules are found from
 * the module's own properties, in the order they were assigned: a `Parameter` property is a
 * parameter, a `Module` property a submodule, and `registerBuffer` declares buffers (running
 * statistics and other state that is saved but not trained). Names are dotted paths
 * (`layers.0.weight`), the same as a PyTorch `state_dict`.
 *
 * @example
 * ```ts
 * class Mlp extends Module {
 *   fc1 = new Linear(784, 128);
 *   fc2 = new Linear(128, 10);
 *   forward(x: Tensor): Tensor {
 *     return this.fc2.forward(relu(this.fc1.forward(x)));
 *   }
 * }
 * const model = new Mlp();
 * model.namedParameters().map(([name]) => name); // fc1.weight, fc1.bias, fc2.weight, fc2.bias
 * ```
 */
export abstract class Module {
  /** Training mode (dropout active, batch norm uses batch statistics); see `train`/`eval`. */
  training = true;
  readonly #buffers = new Map<string, boolean>();

  /** The computation; subclasses declare their own signature. */
  abstract forward(...inputs: never[]): unknown;

  /** The module's direct submodules, by property name. */
  namedChildren(): [string, Module][] {
    return Object.entries(this).filter((entry): entry is [string, Module] => entry[1] instanceof Module);
  }

  /** The module's direct submodules, in property order. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every submodule (pre-order), each once, with dotted names. */
  namedModules(prefix = ''): [string, Module][] {
    const seen = new Set<Module>();
    const out: [string, Module][] = [];
    const visit = (name: string, module: Module) => {
      if (seen.has(module)) return;
      seen.add(module);
      out.push([name, module]);
      for (const [child, sub] of module.namedChildren()) visit(name ? `${name}.${child}` : child, sub);
    };
    visit(prefix, this);
    return out;
  }

  /** This module and every submodule (pre-order), each once. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Every parameter with its dotted name; a parameter shared by two modules is listed once. */
  namedParameters(): [string, Parameter][] {
    return this.collect((module) =>
      Object.entries(module).filter((entry): entry is [string, Parameter] => entry[1] instanceof Parameter),
    );
  }

  /** Every parameter, each once (the list an optimizer takes). */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Declares `name` as a buffer: state saved in `stateDict` but not trained. */
  registerBuffer(name: string, value: Tensor | null, options: { persistent?: boolean } = {}): void {
    (this as unknown as Record<string, unknown>)[name] = value;
    this.#buffers.set(name, options.persistent ?? true);
  }

  /**
   * Every buffer with its dotted name (only the persistent ones, those in `stateDict`, with
   * `persistentOnly`).
   */
  namedBuffers(options: { persistentOnly?: boolean } = {}): [string, Tensor][] {
    return this.collect((module) => module.ownBuffers(options.persistentOnly ?? false));
  }

  /** Every buffer (running statistics and other saved, untrained state). */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  private collect<V extends Tensor>(own: (module: Module) => [string, V][]): [string, V][] {
    const seen = new Set<V>();
    const out: [string, V][] = [];
    for (const [path, module] of this.namedModules()) {
      for (const [name, value] of own(module)) {
        if (seen.has(value)) continue;
        seen.add(value);
        out.push([path ? `${path}.${name}` : name, value]);
      }
    }
    return out;
  }

  /**
   * Parameters and persistent buffers by dotted name, as tensors sharing this module's data
   * (detached). The names match PyTorch's `state_dict` for the same architecture.
   */
  stateDict(): Record<string, Tensor> {
    const state: Record<string, Tensor> = {};
    for (const [name, value] of this.namedState()) state[name] = value.detach();
    return state;
  }

  /** Parameters and persistent buffers, module by module (each module's parameters first), as PyTorch orders a state_dict. */
  private namedState(): [string, Tensor][] {
    return this.collect<Tensor>((module) => [
      ...Object.entries(module).filter(
        (entry): entry is [string, Parameter] => entry[1] instanceof Parameter,
      ),
      ...module.ownBuffers(true),
    ]);
  }

  private ownBuffers(persistentOnly: boolean): [string, Tensor][] {
    return [...this.#buffers]
      .filter(([, persistent]) => persistent || !persistentOnly)
      .map(([name]) => [name, (this as unknown as Record<string, unknown>)[name]] as const)
      .filter((entry): entry is [string, Tensor] => entry[1] instanceof Tensor);
  }

  /**
   * Copies values into the parameters and buffers (in place, so optimizers keep working).
   * Strict by default: missing or unexpected keys throw; values that are not arrays, shape
   * mismatches and dtype mismatches (other than float32 ↔ float64) throw in both modes.
   * Everything is checked before anything is copied: on an error the module is unchanged.
   */
  loadStateDict(
    state: Readonly<Record<string, Tensor | T.NDArray>>,
    options: { strict?: boolean } = {},
  ): LoadResult {
    const op = `${this.constructor.name}.loadStateDict`;
    if (typeof state !== 'object' || state === null)
      throw new StateDictError(
        op,
        `expected a record of tensors, got ${state === null ? 'null' : typeof state}`,
      );
    const strict = options.strict ?? true;
    if (typeof strict !== 'boolean')
      throw new StateDictError(op, `strict must be true or false, got ${String(strict)}`);
    const targets = new Map<string, Tensor>([
      ...this.namedParameters(),
      ...this.namedBuffers({ persistentOnly: true }),
    ]);
    const missingKeys = [...targets.keys()].filter((k) => !(k in state));
    const unexpectedKeys = Object.keys(state).filter((k) => !targets.has(k));
    const problems = [
      strict && missingKeys.length > 0 ? `missing keys: ${missingKeys.join(', ')}` : '',
      strict && unexpectedKeys.length > 0 ? `unexpected keys: ${unexpectedKeys.join(', ')}` : '',
      ...[...targets]
        .filter(([name]) => state[name] !== undefined)
        .map(([name, target]) => mismatch(name, state[name], target) ?? ''),
    ].filter(Boolean);
    if (problems.length > 0) throw new StateDictError(op, problems.join('; '));
    inLibrary(() => {
      for (const [name, target] of targets) {
        const source = state[name];
        if (source === undefined) continue;
        const value = source instanceof Tensor ? source.peekValue() : source;
        target.assign(T.contiguous(T.cast(value, target.dtype)));
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /**
   * Converts every parameter and floating-point buffer to `dtype` in place, as PyTorch's
   * `module.to(dtype)`: the Parameter objects stay the same (so an optimizer made afterwards
   * sees them; one made before keeps state of the old dtype), gradients are converted too, and
   * integer buffers (e.g. `numBatchesTracked`) are left alone. Returns this module.
   */
  to(dtype: 'float32' | 'float64'): this {
    if (dtype !== 'float32' && dtype !== 'float64')
      throw new T.DTypeError(
        `${this.constructor.name}.to`,
        `expected float32 or float64, got ${String(dtype)}`,
      );
    const convert = (t: Tensor) => t.setData(T.contiguous(T.cast(t.peekValue(), dtype)));
    inLibrary(() => {
      for (const p of this.parameters()) {
        convert(p);
        const grad = p.peekGrad();
        if (grad !== null) p.grad = new Tensor(T.cast(grad.peekValue(), dtype));
      }
      for (const b of this.buffers()) if (isFloating(b.dtype)) convert(b);
    });
    return this;
  }

  /** `to('float64')`. */
  double(): this {
    return this.to('float64');
  }

  /** `to('float32')`. */
  float(): this {
    return this.to('float32');
  }

  /** Sets training mode on this module and every submodule. */
  train(mode = true): this {
    for (const module of this.modules()) module.training = mode;
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Calls `fn` on every submodule and then on this module (e.g. custom initialization). */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /** Sets every parameter's gradient to null. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** The number of parameter elements (only trainable ones with `trainableOnly`). */
  numParameters(options: { trainableOnly?: boolean } = {}): number {
    return this.parameters()
      .filter((p) => p.requiresGrad || !options.trainableOnly)
      .reduce((n, p) => n + p.size, 0);
  }

  /** The constructor arguments worth showing in `toString`, e.g. `inFeatures=2, outFeatures=3`. */
  extraRepr(): string {
    return '';
  }

  /** A PyTorch-style nested description of the module. */
  toString(): string {
    const children = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (children.length === 0) return `${head})`;
    const lines = children.map(([name, child]) => `  (${name}): ${child.toString().replace(/\n/g, '\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }

  /** A table of every module's own parameter count, with the total. */
  summary(): string {
    const rows = this.namedModules().map(([name, module]) => {
      const own = Object.values(module)
        .filter((v): v is Parameter => v instanceof Parameter)
        .reduce((n, p) => n + p.size, 0);
      return [name || '(root)', module.constructor.name, own.toLocaleString('en-US')];
    });
    rows.push(['total', '', this.numParameters().toLocaleString('en-US')]);
    const widths = [0, 1, 2].map((c) =>
      Math.max(...rows.map((r) => r[c].length), ['name', 'type', 'params'][c].length),
    );
    const format = (r: string[]) =>
      `${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padStart(widths[2])}`;
    return [format(['name', 'type', 'params']), ...rows.map(format)].join('\n');
  }
}

/** A module mapping one tensor to one tensor (what Sequential chains). */
export interface TensorModule extends Module {
  forward(x: Tensor): Tensor;
}

/** The `forward` methods of this package's layers: library code, with no user code inside. */
const builtInForwards = new WeakSet<object>();

/** Declares the `forward` of these layer classes to be library code (see `callForward`). */
export function markBuiltIn(...layers: { readonly prototype: Module }[]): void {
  for (const layer of layers) builtInForwards.add(layer.prototype.forward);
}

/**
 * Runs `call` (a forward of `module` on `inputs`) from a layer of this package. A forward of
 * ours runs as part of the caller, whose frame frees what it leaves behind; any other (a user's
 * module, or a subclass that overrides forward) runs as user code, and the inputs become the
 * user's: the library never frees what user code may keep.
 */
export function callForward<R>(module: Module, inputs: readonly Tensor[], call: () => R): R {
  return builtInForwards.has(module.forward) ? call() : inUserCode(call, inputs);
}
