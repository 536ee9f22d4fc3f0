import { inLibrary, type Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { callForward, Module, markBuiltIn, type TensorModule } from './module.js';

/** The modules of an iterable, each checked to be a Module. */
function moduleList<M extends Module>(op: string, modules: Iterable<M>): M[] {
  const iterable = typeof modules === 'object' && modules !== null && Symbol.iterator in modules;
  const list = iterable ? [...modules] : [];
  const bad = list.findIndex((m) => !(m instanceof Module));
  if (!iterable || bad >= 0)
    throw new T.ValueError(op, iterable ? `item ${bad} is not a Module` : 'expected an iterable of Modules');
  return list;
}

/** Runs its modules one after another; they are named 0, 1, 2… as in PyTorch. */
export class Sequential extends Module {
  [index: number]: TensorModule;

  constructor(...modules: TensorModule[]) {
    super();
    moduleList('Sequential', modules).forEach((m, i) => {
      this[i] = m;
    });
  }

  /** The number of modules. */
  get length(): number {
    return this.children().length;
  }

  forward(x: Tensor): Tensor {
    return inLibrary(() =>
      (this.children() as TensorModule[]).reduce((h, m) => callForward(m, [h], () => m.forward(h)), x),
    );
  }
}

/** A list of submodules, registered as 0, 1, 2… (like `nn.ModuleList`). */
export class ModuleList<M extends Module = Module> extends Module {
  [index: number]: M;
  #length = 0;

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of moduleList('ModuleList', modules)) this.push(m);
  }

  /** Appends `module` under the next index; returns this list. */
  push(module: M): this {
    this[this.#length++] = module;
    return this;
  }

  /** The number of modules. */
  get length(): number {
    return this.#length;
  }

  /** The module at `index` (negative counts from the end), or undefined. */
  at(index: number): M | undefined {
    return this[index < 0 ? index + this.#length : index];
  }

  /** The modules in order: `for (const layer of list)`. */
  *[Symbol.iterator](): Iterator<M> {
    for (let i = 0; i < this.#length; i++) yield this[i];
  }

  forward(): never {
    throw new T.ValueError('ModuleList', 'it has no forward: iterate over its modules instead');
  }
}

/** Submodules by name (like `nn.ModuleDict`). */
export class ModuleDict<M extends Module = Module> extends Module {
  constructor(modules: Readonly<Record<string, M>> = {}) {
    super();
    T.checkRecord('ModuleDict', 'modules', modules);
    for (const [name, m] of Object.entries(modules)) this.set(name, m);
  }

  /** Registers `module` under `name` (replacing one of that name); returns this dict. */
  set(name: string, module: M): this {
    (this as unknown as Record<string, M>)[name] = module;
    return this;
  }

  /** The module named `name`, or undefined. */
  get(name: string): M | undefined {
    const value = (this as unknown as Record<string, unknown>)[name];
    return value instanceof Module ? (value as M) : undefined;
  }

  /** The names of the modules, in insertion order. */
  keys(): string[] {
    return this.namedChildren().map(([name]) => name);
  }

  forward(): never {
    throw new T.ValueError('ModuleDict', 'it has no forward: look up its modules instead');
  }
}

markBuiltIn(Sequential);
