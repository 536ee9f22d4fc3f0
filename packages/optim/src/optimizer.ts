import { inLibrary, Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { withDefaults } from './functional.js';
import { type NamedLeaf, numbersLike, replaceLeaf, scalarsAsArrays, stateLeaves } from './state-tree.js';
import { applyUpdates, type GradientTransformation } from './transform.js';
import * as V from './validate.js';

/** A value JSON can hold. */
export type JsonValue =
  | number
  | string
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A parameter group: its parameters and its own hyper-parameters (like a torch param group dict). */
export type ParamGroup<O> = O & { params: Tensor[] };

/** A parameter group as given to a constructor: hyper-parameters not given come from the defaults. */
export type ParamGroupInput<O> = Partial<O> & { readonly params: Iterable<Tensor> };

/** Parameters, or parameter groups, to optimize. */
export type OptimizerParams<O> = Iterable<Tensor> | Iterable<ParamGroupInput<O>>;

/** A saved param group: its hyper-parameters and the indices of its parameters. */
export type SavedParamGroup = { readonly params: readonly number[] } & { readonly [key: string]: JsonValue };

/**
 * An optimizer's state, split for checkpoint formats (e.g. safetensors in @tsgrad/io): the
 * arrays by name, everything else as one JSON-able object. Parameters are numbered across the
 * groups in order, as in torch.
 */
export interface OptimizerStateDict {
  /** Per-parameter state arrays, keyed "<param index>.<name>", e.g. "0.expAvg". */
  readonly state: Record<string, T.NDArray>;
  /** The parameter groups' hyper-parameters and the scalar state, as one JSON-able object. */
  readonly meta: {
    readonly paramGroups: readonly SavedParamGroup[];
    /** Per-parameter scalar state (e.g. `{ step: 3 }`), keyed by param index; one entry per parameter with state. */
    readonly scalars: Readonly<Record<string, Readonly<Record<string, number>>>>;
  };
}

/**
 * What a compiled training step passes to an optimizer's traced update (see `compileStep` in
 * @tsgrad/compiler): the state and learning rates are arguments of the plan, the other
 * hyper-parameters are baked in (a change traces the step again).
 */
export interface CompiledUpdateArguments {
  /** Every parameter's state, in order (numbers as 0-d float64 arrays; null before its first step). */
  readonly states: readonly unknown[];
  /** Each group's learning rate as a 0-d float64 array (schedulers change it between calls). */
  readonly learningRates: readonly T.NDArray[];
  /** Each group's other hyper-parameters. */
  readonly hyperParameters: readonly JsonValue[];
}

/** A copy of an array (so that a compiled step, which updates state in place, never writes to it). */
const copyOf = (x: T.NDArray): T.NDArray =>
  T.runPrimitive('copy', [x], {}, [{ shape: x.shape, dtype: x.dtype }])[0];

/** The arrays in a state tree (records, lists and their leaves). */
function arraysIn(tree: unknown): T.NDArray[] {
  if (tree instanceof T.NDArray) return [tree];
  if (Array.isArray(tree)) return tree.flatMap(arraysIn);
  if (typeof tree === 'object' && tree !== null) return Object.values(tree).flatMap(arraysIn);
  return [];
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** A group's hyper-parameters, without its parameters. */
function hyperParameters<O>(group: ParamGroup<O>): O {
  const { params: _, ...options } = group;
  return options as unknown as O;
}

const isGroupInput = <O>(x: Tensor | ParamGroupInput<O>): x is ParamGroupInput<O> => !(x instanceof Tensor);

/** Scalar state that counts steps; any other saved number only has to be finite. */
const COUNTERS = new Set(['step', 'count', 'numUpdates']);

/** Checks a saved scalar state value by its name. */
function checkScalar(op: string, key: string, value: unknown): void {
  const last = key.slice(key.lastIndexOf('.') + 1);
  (COUNTERS.has(last) ? V.count : V.finite)(op, key, value);
}

/** The saved parameter indices of every group: integers, each used once. */
function checkParamIds(op: string, saved: readonly unknown[]): void {
  const seen = new Set<number>();
  saved.forEach((group, g) => {
    T.checkRecord(op, `paramGroups[${g}]`, group);
    V.listOf(V.count)(op, `paramGroups[${g}].params`, group.params);
    for (const id of group.params as number[]) {
      if (seen.has(id)) throw new T.ValueError(op, `parameter ${id} is saved in more than one place`);
      seen.add(id);
    }
  });
}

/**
 * The PyTorch-style optimizer API over a gradient transformation: `step()` reads each
 * parameter's `.grad` (skipping parameters whose grad is null), and keeps one transformation
 * state per parameter (so, as in torch, a parameter's step count advances only when it has a
 * gradient). The transformation is rebuilt from the group's hyper-parameters at every step, so
 * changing `paramGroups[i].lr` (or any other option) takes effect at the next step.
 */
export abstract class Optimizer<O extends { lr: number }> {
  /**
   * The parameter groups: each holds its parameters and hyper-parameters (`lr`…), which may be changed
   * between steps.
   */
  readonly paramGroups: ParamGroup<O>[] = [];
  private states = new Map<Tensor, unknown>();

  protected constructor(
    /** The class name, used in error messages. */
    readonly name: string,
    params: OptimizerParams<O>,
    /** The hyper-parameters of groups that do not set their own. */
    readonly defaults: Readonly<O>,
  ) {
    if (typeof this.transformation !== 'function')
      throw new T.ValueError('Optimizer', 'is abstract: construct a subclass such as SGD or Adam');
    const iterable = typeof params === 'object' && params !== null && Symbol.iterator in params;
    if (!iterable) throw new T.ValueError(name, `params must be an iterable of Tensors or parameter groups`);
    const list = [...params] as (Tensor | ParamGroupInput<O>)[];
    if (list.length === 0) throw new T.ValueError(name, 'got an empty parameter list');
    if (list.every(isGroupInput)) for (const group of list) this.addParamGroup(group);
    else if (list.some(isGroupInput)) {
      throw new T.ValueError(name, 'expected either tensors or parameter groups, not a mix');
    } else this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupInput<O>);
  }

  /** The gradient transformation of one group's hyper-parameters. */
  protected abstract transformation(group: Readonly<O>): GradientTransformation<unknown>;

  /** Adds a group of parameters with its own hyper-parameters (the others from the defaults). */
  addParamGroup(input: ParamGroupInput<O>): void {
    T.checkRecord(this.name, 'parameter group', input);
    const params = V.tensorList(this.name, 'params', input.params);
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    for (const p of params) {
      if (!p.isLeaf) throw new T.ValueError(this.name, "can't optimize a non-leaf tensor");
      if (seen.has(p))
        throw new T.ValueError(this.name, 'some parameters appear in more than one parameter group');
      seen.add(p);
    }
    const { params: _, ...options } = input;
    const hyper = withDefaults(this.defaults as O, options as unknown as Partial<O>);
    this.checkHyperParameters(hyper);
    this.paramGroups.push({ ...hyper, params } as ParamGroup<O>);
  }

  /** Throws a ValueError naming the optimizer and the option on a bad hyper-parameter. */
  private checkHyperParameters(group: Readonly<O>): void {
    this.transformation(group); // checks the hyper-parameters now rather than at the first step
    if (typeof group.lr !== 'number')
      throw new T.ValueError(this.name, 'lr must be a number here (an LRScheduler drives it over time)');
  }

  /**
   * One update of every parameter that has a gradient. A `closure` that recomputes the loss
   * (and gradients) is called first, and its result returned.
   */
  step<R>(closure?: () => R): R | undefined {
    if (closure !== undefined) V.callable(this.name, 'closure', closure);
    const loss = closure?.();
    for (const group of this.paramGroups) {
      const transform = this.transformation(hyperParameters(group));
      for (const p of group.params) {
        const grad = p.peekGrad();
        if (grad === null) continue;
        if (!sameShape(grad.shape, p.shape)) {
          throw new T.ShapeError(
            `${this.name}.step`,
            `gradient of shape [${grad.shape}] for a parameter of shape [${p.shape}]`,
          );
        }
        this.states.set(p, this.stepParameter(transform, p, grad));
      }
    }
    return loss;
  }

  /**
   * One parameter's update; returns its next state. The optimizer owns every array of its
   * state (the gradient goes in as a view of its own), so the arrays the next state no longer
   * holds are freed, as is everything else the update made but did not keep.
   */
  private stepParameter(transform: GradientTransformation<unknown>, p: Tensor, grad: Tensor): unknown {
    return inLibrary(() => {
      const state = this.states.get(p) ?? transform.init([p]);
      const result = transform.update([T.view(grad.peekValue())], state, [p]);
      applyUpdates([p], result.updates);
      const kept = new Set(arraysIn(result.state));
      for (const old of arraysIn(state)) if (!kept.has(old)) old.dispose();
      return result.state;
    });
  }

  /** The state and learning rates a compiled step passes to `tracedStep` (see CompiledUpdateArguments). */
  compiledUpdateArguments(): CompiledUpdateArguments {
    const params = this.paramGroups.flatMap((g) => g.params);
    return {
      states: params.map((p) => {
        const state = this.states.get(p);
        return state === undefined ? null : scalarsAsArrays(state);
      }),
      learningRates: this.paramGroups.map((g) => T.scalar(g.lr, { dtype: 'float64' })),
      hyperParameters: this.paramGroups.map((g) => {
        const { params: _, lr: __, ...rest } = g;
        return JSON.parse(JSON.stringify(rest)) as JsonValue;
      }),
    };
  }

  /**
   * `step()` inside a compiled step's trace: updates every parameter that has a gradient (in
   * place, with `assign`) from `states` and the group's learning rate, both traced arrays, and
   * returns the next states. The update is the eager one, bit for bit in float32: the
   * transformation runs with lr 1 (its last factor is then −1) and the result is scaled by lr.
   */
  tracedStep(states: readonly unknown[], learningRates: readonly T.NDArray[]): unknown[] {
    const op = `${this.name}.tracedStep`;
    const params = this.paramGroups.flatMap((g) => g.params);
    V.check(Array.isArray(states) && states.length === params.length, op, `expected ${params.length} states`);
    V.listOf(V.ndarray)(op, 'learningRates', learningRates);
    V.check(
      learningRates.length === this.paramGroups.length,
      op,
      `expected ${this.paramGroups.length} learning rates`,
    );
    let k = 0;
    return this.paramGroups.flatMap((group, g) => {
      const transform = this.transformation({ ...hyperParameters(group), lr: 1 });
      return group.params.map((p) => {
        const state = states[k++];
        const grad = p.peekGrad();
        if (grad === null) return state;
        return inLibrary(() => {
          const initial = state ?? scalarsAsArrays(transform.init([p]));
          const result = transform.update([T.view(grad.peekValue())], initial, [p]);
          const lr = T.cast(learningRates[g], p.dtype);
          applyUpdates(
            [p],
            result.updates.map((u) => T.mul(u, lr)),
          );
          return result.state;
        });
      });
    });
  }

  /** Keeps the states a compiled step's `tracedStep` returned (their counts read back as numbers). */
  commitCompiled(states: readonly unknown[]): void {
    const op = `${this.name}.commitCompiled`;
    const params = this.paramGroups.flatMap((g) => g.params);
    V.check(Array.isArray(states) && states.length === params.length, op, `expected ${params.length} states`);
    let k = 0;
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const state = states[k++];
        if (state === null || state === undefined) continue;
        const previous = this.states.get(p);
        const template = previous ?? this.transformation(hyperParameters(group)).init([p]);
        this.states.set(p, numbersLike(op, template, state));
        if (previous === undefined) for (const x of arraysIn(template)) x.dispose();
      }
    }
  }

  /** Clears the gradients: sets them to null (torch's default), or to zeros. */
  zeroGrad(setToNone = true): void {
    for (const p of this.paramGroups.flatMap((g) => g.params)) {
      const grad = p.peekGrad();
      if (grad === null) continue;
      if (setToNone) p.grad = null;
      else p.replaceGrad(new Tensor(T.zerosLike(grad.peekValue())), true);
    }
  }

  /** A parameter's state by name (e.g. `{ step, expAvg, expAvgSq }`), undefined before its first step. */
  stateOf(param: Tensor): Readonly<Record<string, T.NDArray | number>> | undefined {
    const state = this.states.get(param);
    if (state === undefined) return undefined;
    const named: Record<string, T.NDArray | number> = {};
    for (const leaf of stateLeaves(`${this.name}.stateOf`, state)) {
      if (leaf.value !== null)
        named[leaf.key] = typeof leaf.value === 'number' ? leaf.value : copyOf(leaf.value);
    }
    return named;
  }

  /** The state split for a checkpoint (arrays by name, the rest JSON-able); `loadStateDict` restores it. */
  stateDict(): OptimizerStateDict {
    const op = `${this.name}.stateDict`;
    const state: Record<string, T.NDArray> = {};
    const scalars: Record<string, Record<string, number>> = {};
    let index = 0;
    const paramGroups = this.paramGroups.map((group) => {
      const ids = group.params.map((p) => {
        const id = index++;
        const paramState = this.states.get(p);
        if (paramState === undefined) return id;
        const numbers: Record<string, number> = {};
        for (const leaf of stateLeaves(op, paramState)) {
          if (typeof leaf.value === 'number') numbers[leaf.key] = leaf.value;
          else if (leaf.value !== null) state[`${id}.${leaf.key}`] = copyOf(leaf.value);
        }
        scalars[String(id)] = numbers;
        return id;
      });
      const { params: _, ...hyper } = group;
      return { ...(JSON.parse(JSON.stringify(hyper)) as Record<string, JsonValue>), params: ids };
    });
    return { state, meta: { paramGroups, scalars } };
  }

  /**
   * Restores hyper-parameters and state saved by `stateDict()` (from an optimizer over
   * parameters of the same shapes, grouped the same way). Everything is checked first — the
   * structure, group sizes, hyper-parameters (as the constructor checks them), missing or
   * unexpected keys, shapes, dtypes, finite values, step counts — and a bad state throws
   * leaving the optimizer exactly as it was.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    const op = `${this.name}.loadStateDict`;
    V.checkFields(op, 'state dict', { state: V.record, meta: V.any }, dict);
    V.checkFields(op, 'meta', { paramGroups: V.listOf(V.record), scalars: V.record }, dict.meta);
    const { paramGroups: saved, scalars } = dict.meta;
    if (saved.length !== this.paramGroups.length) {
      throw new T.ValueError(
        op,
        `${saved.length} parameter groups saved, the optimizer has ${this.paramGroups.length}`,
      );
    }
    checkParamIds(op, saved);
    const byId = new Map<string, { param: Tensor; group: Readonly<O> }>();
    const groups = this.paramGroups.map((group, g) => {
      const { params: ids, ...hyper } = saved[g];
      if (ids.length !== group.params.length) {
        throw new T.ValueError(
          op,
          `group ${g} has ${ids.length} parameters saved, ${group.params.length} in the optimizer`,
        );
      }
      const options = withDefaults(hyperParameters(group), hyper as unknown as Partial<O>);
      this.checkHyperParameters(options);
      ids.forEach((id, k) => {
        byId.set(String(id), { param: group.params[k], group: options });
      });
      return options;
    });
    const used = new Set<string>();
    const loaded: { param: Tensor; init: unknown; leaves: { path: NamedLeaf['path']; value: unknown }[] }[] =
      [];
    for (const [id, numbers] of Object.entries(scalars)) {
      const entry = byId.get(id);
      if (entry === undefined) throw new T.ValueError(op, `state for parameter ${id}, which no group has`);
      T.checkRecord(op, `scalars.${id}`, numbers);
      const { param, group } = entry;
      const init = this.transformation(group).init([param]);
      const leaves: { path: NamedLeaf['path']; value: unknown }[] = [];
      const scalarKeys = new Set<string>();
      for (const leaf of stateLeaves(op, init)) {
        const key = `${id}.${leaf.key}`;
        if (typeof leaf.value === 'number') {
          if (numbers[leaf.key] === undefined) throw new T.ValueError(op, `missing the number ${key}`);
          checkScalar(op, key, numbers[leaf.key]);
          scalarKeys.add(leaf.key);
          leaves.push({ path: leaf.path, value: numbers[leaf.key] });
          continue;
        }
        const array: unknown = dict.state[key];
        if (array === undefined) {
          if (leaf.value === null) continue; // not created yet when saved
          throw new T.ValueError(op, `missing the array ${key}`);
        }
        V.checkStateArray(op, key, array);
        const shape = leaf.value?.shape ?? param.shape;
        if (!sameShape(array.shape, shape)) {
          throw new T.ShapeError(op, `${key} has shape [${array.shape}], expected [${shape}]`);
        }
        used.add(key);
        leaves.push({ path: leaf.path, value: array });
      }
      const extraNumbers = Object.keys(numbers).filter((k) => !scalarKeys.has(k));
      if (extraNumbers.length > 0)
        throw new T.ValueError(op, `unexpected numbers ${extraNumbers.map((k) => `${id}.${k}`)}`);
      loaded.push({ param, init, leaves });
    }
    const unexpected = Object.keys(dict.state).filter((k) => !used.has(k));
    if (unexpected.length > 0) throw new T.ValueError(op, `unexpected arrays ${unexpected.join(', ')}`);

    // Everything checked: nothing below throws.
    const states = new Map<Tensor, unknown>();
    for (const { param, init, leaves } of loaded) {
      let tree = init;
      for (const { path, value } of leaves) {
        if (typeof value === 'number') tree = replaceLeaf(tree, path, value);
        else {
          const array = value as T.NDArray;
          const converted = T.cast(array, param.dtype);
          // The optimizer frees (or, compiled, overwrites) the state arrays it replaces: it keeps its own copy.
          tree = replaceLeaf(tree, path, converted === array ? copyOf(array) : converted);
        }
      }
      states.set(param, tree);
    }
    this.paramGroups.forEach((group, g) => {
      Object.assign(group, groups[g], { params: group.params });
    });
    this.states = states;
  }
}
