import {
  defineOp,
  inUserCode,
  isForwardActive,
  isGradEnabled,
  Tensor,
  type TreeDef,
  treeFlatten,
  treeUnflatten,
  vjp,
} from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import {
  getBackend,
  isFloat,
  isTracingBackend,
  NDArray,
  random,
  runPrimitive,
  ValueError,
  withBackend,
} from '@tsgrad/tensor';
import { checkFunction } from './check.js';
import { Executable, type ExecutableStats } from './executor.js';
import { type Graph, GraphText, type PlanGraph } from './graph.js';
import { fuseElementwise, optimizeGraph } from './passes/index.js';
import { type HostStep, Recorder } from './trace.js';

/** Options of `jit`. */
export interface JitOptions {
  /** Arguments that are not traced: part of the cache key, passed to `f` as they are. */
  readonly staticArgnums?: number | readonly number[];
  /** Arguments whose buffers the compiled function may overwrite; they are disposed after the call. */
  readonly donateArgnums?: number | readonly number[];
  /** Run the graph passes (default true). */
  readonly optimize?: boolean;
  /**
   * How many compiled signatures to keep (default 32): past it the least recently used plan
   * is dropped (and traced again if its signature comes back).
   */
  readonly cacheSize?: number;
  /** Fuse elementwise chains into generated kernels, where the backend has them (default true; needs `optimize`). */
  readonly fusion?: boolean;
}

/** The default bound of a jitted function's cache of compiled signatures. */
export const DEFAULT_JIT_CACHE_SIZE = 32;

/** What one compilation took, in milliseconds, and what it produced. */
export interface CompileReport {
  /** Running the function under the recorder. */
  readonly traceMs: number;
  /** The graph passes. */
  readonly optimizeMs: number;
  /** Buffer planning and binding the kernel calls. */
  readonly planMs: number;
  /** Equations traced, and left after the passes. */
  readonly tracedEquations: number;
  /** The size of the plan. */
  readonly stats: ExecutableStats;
}

/** A jitted function: `f` traced once per shape signature, then replayed. */
export type Jitted<Args extends unknown[], R> = ((...args: Args) => R) & {
  /** The compilation of the most recent new signature. */
  readonly lastCompile: CompileReport | undefined;
  /** How many signatures have been compiled. */
  readonly cacheSize: number;
};

const indices = (n: number | readonly number[] | undefined) =>
  new Set(typeof n === 'number' ? [n] : (n ?? []));

/** Checks `f` and jit's options (argument numbers, optimize, cacheSize). */
function checkJitArguments(op: string, f: unknown, options: JitOptions): void {
  checkFunction(op, 'the function', f);
  T.checkOptions(op, options);
  for (const name of ['staticArgnums', 'donateArgnums'] as const) {
    const value: unknown = options[name];
    const list = typeof value === 'number' ? [value] : (value ?? []);
    if (!Array.isArray(list) || !list.every((i) => Number.isInteger(i) && i >= 0))
      throw new ValueError(
        op,
        `${name} must be an argument number or a list of them, got ${T.describe(value)}`,
      );
  }
  if (options.optimize !== undefined && typeof options.optimize !== 'boolean')
    throw new ValueError(op, `optimize must be a boolean, got ${T.describe(options.optimize)}`);
  const size = options.cacheSize ?? DEFAULT_JIT_CACHE_SIZE;
  if (!Number.isSafeInteger(size) || size < 1)
    throw new ValueError(op, `cacheSize must be a whole number ≥ 1, got ${T.describe(options.cacheSize)}`);
}

// ---- cache keys ------------------------------------------------------------------------------

const identities = new WeakMap<object, number>();
let nextIdentity = 0;

/** A key for a static value: by value for plain data, by identity for other objects. */
function staticKey(value: unknown): string {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) {
    return `${typeof value}:${String(value)}`;
  }
  if (Array.isArray(value)) return `[${value.map(staticKey).join(',')}]`;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${staticKey(v)}`).join(',')}}`;
  }
  let id = identities.get(value as object);
  if (id === undefined) {
    id = nextIdentity++;
    identities.set(value as object, id);
  }
  return `#${id}`;
}

function treeKey(def: TreeDef): string {
  switch (def.kind) {
    case 'leaf':
      return '*';
    case 'static':
      return staticKey(def.value);
    case 'array':
      return `[${def.children.map(treeKey).join(',')}]`;
    case 'object':
      return `{${def.keys.map((k, i) => `${JSON.stringify(k)}:${treeKey(def.children[i])}`).join(',')}}`;
  }
}

// ---- arguments and results -------------------------------------------------------------------
// Besides tensors, jit takes NDArrays (an optax-style optimizer state holds them) and PRNG keys
// as dynamic leaves: an NDArray travels as a tensor wrapping it, a key as a marker whose key
// the tracer follows (samples drawn from it are recomputed on the host for each call's key).

const KEY = Symbol('PRNGKey');
const MAX_DEPTH = 1000;

interface Lifted {
  readonly leaves: Tensor[];
  readonly def: TreeDef;
  /** Which leaves stand for NDArrays. */
  readonly arrays: readonly boolean[];
  readonly keys: readonly random.PRNGKey[];
}

const isPlain = (x: object) => {
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

/** Maps the arrays and plain objects of `tree`, applying `fn` to everything else. */
function mapTree(tree: unknown, fn: (node: unknown) => unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new ValueError('jit', `arguments nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(tree)) return tree.map((x) => mapTree(x, fn, depth + 1));
  if (typeof tree === 'object' && tree !== null && isPlain(tree)) {
    return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, mapTree(v, fn, depth + 1)]));
  }
  return fn(tree);
}

/** Flattens a tree whose leaves may be tensors, NDArrays or (unless `refuseKeys`) PRNG keys. */
function flattenLifted(tree: unknown, refuseKeys = false): Lifted {
  const wrappers = new Set<Tensor>();
  const keys: random.PRNGKey[] = [];
  const lifted = mapTree(tree, (node) => {
    if (node instanceof NDArray) {
      const t = new Tensor(node);
      wrappers.add(t);
      return t;
    }
    if (node instanceof random.PRNGKey) {
      if (refuseKeys) throw new ValueError('jit', 'a jitted function cannot return a PRNGKey');
      keys.push(node);
      return KEY;
    }
    return node;
  });
  const [leaves, def] = treeFlatten(lifted);
  return { leaves, def, arrays: leaves.map((t) => wrappers.has(t)), keys };
}

/** The tree of `def` with `leaves` (NDArrays where `arrays` says) and `keys` at the key markers. */
function unflattenLifted(
  def: TreeDef,
  leaves: readonly Tensor[],
  arrays: readonly boolean[],
  keys: readonly random.PRNGKey[],
): unknown {
  const tree = treeUnflatten(
    def,
    leaves.map((t, i) => (arrays[i] ? t.peekValue() : t)),
  );
  let next = 0;
  return keys.length === 0 ? tree : mapTree(tree, (node) => (node === KEY ? keys[next++] : node));
}

/** Fresh key objects with the words of `keys`, registered with the recorder as arguments. */
function keyArguments(recorder: Recorder, keys: readonly random.PRNGKey[]): random.PRNGKey[] {
  return keys.map((k) => {
    const traced = new random.PRNGKey(k.k0, k.k1);
    recorder.keyArgument(traced);
    return traced;
  });
}

/** Reruns the trace's host steps on one call's keys: the arrays they give, in input order. */
function hostInputs(steps: readonly HostStep[], keys: readonly random.PRNGKey[]): NDArray[] {
  const known: object[] = [...keys];
  const arrays: NDArray[] = [];
  for (const step of steps) {
    const result = step.compute(step.keys.map((i) => known[i]));
    if (step.yields === 'array') arrays.push(result as NDArray);
    else known.push(...(Array.isArray(result) ? result : [result]));
  }
  return arrays;
}

/**
 * The inputs with a copy in place of each donated one whose memory another input shares (the
 * plan may overwrite a donated input while it still reads the other, e.g. an AMSGrad state
 * whose two moments are one array after the first step) or a deferred expression still reads
 * (tensor's lazy.ts: it must see the value from before the call).
 */
function unshareDonated(inputs: readonly NDArray[], donated: readonly boolean[]): readonly NDArray[] {
  if (!donated.some(Boolean)) return inputs;
  const uses = new Map<unknown, number>();
  for (const x of inputs) uses.set(x.storage, (uses.get(x.storage) ?? 0) + 1);
  const shared = (x: NDArray) => (uses.get(x.storage) ?? 0) > 1 || x.storage.pendingReaders > 0;
  return inputs.map((x, i) => (donated[i] && shared(x) ? copyOf(x) : x));
}

const copyOf = (x: NDArray) => runPrimitive('copy', [x], {}, [{ shape: x.shape, dtype: x.dtype }])[0];

// ---- tracing ---------------------------------------------------------------------------------

/** An array as a non-strided kernel needs it: contiguous and spanning its whole buffer. */
function packed(x: NDArray): NDArray {
  if (x.isContiguous && x.offset === 0 && x.storage.size === x.size) return x;
  return runPrimitive('copy', [x], {}, [{ shape: x.shape, dtype: x.dtype }])[0];
}

/** Calls `f` on the leaves (and keys) in place of the dynamic arguments. */
function callWithLeaves(
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  statics: ReadonlySet<number>,
  lifted: Omit<Lifted, 'leaves'>,
  leaves: readonly Tensor[],
  keys: readonly random.PRNGKey[] = lifted.keys,
): unknown {
  const dynamic = unflattenLifted(lifted.def, leaves, lifted.arrays, keys) as unknown[];
  return (f as (...a: unknown[]) => unknown)(...args.map((a, i) => (statics.has(i) ? a : dynamic[i])));
}

interface Traced {
  readonly graph: Graph;
  readonly outDef: TreeDef;
  /** Which outputs are NDArrays (returned as such). */
  readonly outArrays: readonly boolean[];
  readonly hostSteps: readonly HostStep[];
}

/** Traces `call` on placeholders of `inputs` (and of `keys`) into a graph. */
function trace(
  inputs: readonly NDArray[],
  call: (leaves: Tensor[], keys: random.PRNGKey[]) => unknown,
  keys: readonly random.PRNGKey[] = [],
): Traced {
  const backend = inputs[0]?.backend ?? getBackend();
  const recorder = new Recorder(backend);
  const ready = inputs.map(packed);
  let outDef: TreeDef = { kind: 'static', value: undefined };
  let outArrays: readonly boolean[] = [];
  try {
    const outputs = withBackend(recorder, () =>
      inUserCode(() => {
        const placeholders = ready.map((x) => new Tensor(recorder.input(x)));
        const result = flattenLifted(call(placeholders, keyArguments(recorder, keys)), true);
        const results = result.leaves;
        outDef = result.def;
        outArrays = result.arrays;
        // A result that does not depend on the inputs (e.g. a tensor f closes over) is a constant.
        return results.map((t) => {
          const v = t.peekValue();
          return v.backend === recorder ? v : recorder.constant(v);
        });
      }),
    );
    return { graph: recorder.graph(outputs), outDef, outArrays, hostSteps: recorder.hostSteps };
  } finally {
    recorder.close();
    ready.forEach((x, i) => {
      if (x !== inputs[i]) x.dispose();
    });
    for (const x of recorder.hostArrays) x.dispose();
  }
}

/**
 * The graph of `f` at these arguments, as `jit` traces it (before its passes unless
 * `optimize`): print it with `toString()`, like JAX's `make_jaxpr`.
 */
export function makeGraph<Args extends unknown[]>(
  f: (...args: Args) => unknown,
  options: Pick<JitOptions, 'staticArgnums' | 'optimize'> = {},
): (...args: Args) => GraphText {
  checkJitArguments('makeGraph', f, options);
  const statics = indices(options.staticArgnums);
  return (...args) => {
    const lifted = flattenLifted(args.map((a, i) => (statics.has(i) ? null : a)));
    const { leaves } = lifted;
    const call = (ts: Tensor[], keys: random.PRNGKey[]) =>
      callWithLeaves(f as never, args, statics, lifted, ts, keys);
    const { graph } = trace(
      leaves.map((x) => x.peekValue()),
      call,
      lifted.keys,
    );
    const backend = leaves[0]?.peekValue().backend ?? getBackend();
    return new GraphText(options.optimize ? optimizeGraph(graph, backend) : graph);
  };
}

// ---- jit -------------------------------------------------------------------------------------

interface Compiled {
  readonly executable: Executable;
  readonly outDef: TreeDef;
  readonly outArrays: readonly boolean[];
  /** Host computations from the key arguments (random samples), rerun on every call. */
  readonly hostSteps: readonly HostStep[];
  /** Which leaves are donated. */
  readonly donatedLeaves: readonly boolean[];
  /** `f` on flat leaves, returning flat output tensors (for the VJP). */
  readonly flat: (leaves: Tensor[]) => Tensor[];
  /** Which outputs are floating point (they get cotangents). */
  readonly floatOutputs: readonly boolean[];
  backward?: (primals: Tensor[], others: Tensor[], cotangents: Tensor[]) => Tensor[];
}

interface JitParams {
  readonly compiled: Compiled;
}

/** The VJP of a compiled call, itself jitted (and differentiable again the same way). */
function pullback(
  compiled: Compiled,
  inputs: readonly Tensor[],
  cotangents: readonly Tensor[],
): (Tensor | null)[] {
  const isFloatInput = inputs.map((x) => isFloat(x.dtype));
  if (!isFloatInput.some(Boolean)) return inputs.map(() => null);
  compiled.backward ??= jit((primals: Tensor[], others: Tensor[], cts: Tensor[]) => {
    const merge = (floats: readonly Tensor[]) => {
      let f = 0;
      let o = 0;
      return isFloatInput.map((float) => (float ? floats[f++] : others[o++]));
    };
    const floatResults = (...floats: Tensor[]) =>
      compiled.flat(merge(floats)).filter((_, i) => compiled.floatOutputs[i]);
    const [, pull] = vjp(floatResults, ...primals);
    return pull(cts);
  });
  const grads = compiled.backward(
    inputs.filter((_, i) => isFloatInput[i]),
    inputs.filter((_, i) => !isFloatInput[i]),
    cotangents.filter((_, i) => compiled.floatOutputs[i]),
  );
  let next = 0;
  return isFloatInput.map((float) => (float ? grads[next++] : null));
}

/**
 * Compiles `f` (a function of tensors and pytrees of tensors) as JAX's `jit`: the first call
 * with a new signature (shapes, dtypes, tree structure and static arguments) traces `f` into
 * a graph of primitive equations, optimizes it and plans its buffers; every call replays the
 * plan. `f` must be a pure function of its arguments: tensors it closes over are baked in as
 * constants, and reading a traced value on the host (`item()`, `toArray()`) throws a
 * TracerReadError. A jitted function is one differentiable op for `grad`, `vjp` and `jvp`
 * (its VJP is traced and compiled too), and `grad(f)` can itself be jitted.
 *
 * @example
 * ```ts
 * const f = (x: Tensor) => sum(mul(tanh(x), 2));
 * const df = jit(grad(f));
 * df(tensor([0.5, -1, 2])); // traces and compiles; later calls with these shapes replay the plan
 * console.log(makeGraph(grad(f))(tensor([0.5, -1, 2])).toString()); // the graph, like a jaxpr
 * ```
 */
export function jit<Args extends unknown[], R>(
  f: (...args: Args) => R,
  options: JitOptions = {},
): Jitted<Args, R> {
  checkJitArguments('jit', f, options);
  const statics = indices(options.staticArgnums);
  const donated = indices(options.donateArgnums);
  const capacity = options.cacheSize ?? DEFAULT_JIT_CACHE_SIZE;
  /** Compiled signatures, least recently used first (a Map keeps insertion order). */
  const cache = new Map<string, Compiled>();
  let lastCompile: CompileReport | undefined;
  const name = `jit(${f.name || 'anonymous'})`;
  const op = defineOp<JitParams>(
    {
      name,
      forward: (arrays, { compiled }) =>
        compiled.executable.run(unshareDonated(arrays, compiled.donatedLeaves)),
      vjp: ({ inputs, params }, cotangents) => pullback(params.compiled, inputs, cotangents),
      spec: { inputs: [], samples: [], order: 0 },
    },
    { register: false },
  );

  // The plan's arrays (constants, intermediate cells) live as long as the plan: compiling runs
  // as user code, so that no library frame it is called from (an op's forward, backward)
  // records them and frees them when it closes.
  const compile = (args: readonly unknown[], lifted: Lifted): Compiled =>
    inUserCode(() => compileNow(args, lifted));
  const compileNow = (args: readonly unknown[], lifted: Lifted): Compiled => {
    const started = performance.now();
    const { leaves } = lifted;
    const flat = (ts: Tensor[]) =>
      flattenLifted(callWithLeaves(f as never, args, statics, lifted, ts), true).leaves;
    const { graph, outDef, outArrays, hostSteps } = trace(
      leaves.map((x) => x.peekValue()),
      (ts, keys) => callWithLeaves(f as never, args, statics, lifted, ts, keys),
      lifted.keys,
    );
    const traced = performance.now();
    const backend = leaves[0]?.peekValue().backend ?? getBackend();
    let optimized: PlanGraph = graph;
    if (options.optimize !== false) {
      const simplified = optimizeGraph(graph, backend);
      optimized = options.fusion === false ? simplified : fuseElementwise(simplified, backend);
    }
    const optimizedAt = performance.now();
    const donatedLeaves = args.flatMap((a, i) =>
      statics.has(i) ? [] : flattenLifted(a).leaves.map(() => donated.has(i)),
    );
    const executable = new Executable(optimized, backend, donatedLeaves);
    lastCompile = {
      traceMs: traced - started,
      optimizeMs: optimizedAt - traced,
      planMs: performance.now() - optimizedAt,
      tracedEquations: graph.equations.length,
      stats: executable.stats,
    };
    const floatOutputs = optimized.outputs.map((v) => isFloat(optimized.buffers[v.buffer].dtype));
    return { executable, outDef, outArrays, hostSteps, donatedLeaves, flat, floatOutputs };
  };

  /** The compiled plan of this signature, most recently used now; compiled on a miss. */
  const lookup = (key: string, args: readonly unknown[], lifted: Lifted): Compiled => {
    let compiled = cache.get(key);
    if (compiled !== undefined) {
      cache.delete(key);
    } else {
      compiled = compile(args, lifted);
      if (cache.size >= capacity) {
        const [oldest, evicted] = cache.entries().next().value as [string, Compiled];
        cache.delete(oldest);
        evicted.executable.dispose();
      }
    }
    cache.set(key, compiled);
    return compiled;
  };

  const jitted = (...args: Args): R => {
    const lifted = flattenLifted(args.map((a, i) => (statics.has(i) ? null : a)));
    const { leaves, arrays } = lifted;
    // Inside another trace or a vmap, f is simply traced inline (vmap batches its primitives).
    if (isTracingBackend(getBackend()) || leaves.some((x) => isTracingBackend(x.peekValue().backend)))
      return f(...args);
    const signature = leaves.map((x, i) => `${arrays[i] ? 'a' : 't'}${x.dtype}[${x.shape.join(',')}]`);
    const key = `${treeKey(lifted.def)}|${signature.join(';')}|${[...statics]
      .map((i) => staticKey(args[i]))
      .join(';')}`;
    const compiled = lookup(key, args, lifted);
    const differentiate = (isGradEnabled() && leaves.some((x) => x.requiresGrad)) || isForwardActive();
    let results: Tensor[];
    if (differentiate && compiled.executable.graph.outputs.length > 0) {
      if (compiled.hostSteps.length > 0) {
        throw new ValueError(
          name,
          'cannot differentiate through a jitted function that draws random numbers from its key arguments; ' +
            'take the gradient inside it instead (jit(grad(f)))',
        );
      }
      results = op.apply(leaves, { compiled });
    } else {
      const host = withBackend(compiled.executable.backend, () =>
        inUserCode(() => hostInputs(compiled.hostSteps, lifted.keys)),
      );
      const inputs = unshareDonated(
        leaves.map((x) => x.peekValue()),
        compiled.donatedLeaves,
      );
      try {
        results = compiled.executable.run([...inputs, ...host]).map((v) => new Tensor(v));
      } finally {
        for (const x of host) x.dispose();
        inputs.forEach((x, i) => {
          if (x !== leaves[i].peekValue()) x.dispose();
        });
      }
      args.forEach((a, i) => {
        if (donated.has(i) && !statics.has(i)) for (const x of flattenLifted(a).leaves) x.dispose();
      });
    }
    return unflattenLifted(compiled.outDef, results, compiled.outArrays, []) as R;
  };
  return Object.defineProperties(jitted, {
    lastCompile: { get: () => lastCompile },
    cacheSize: { get: () => cache.size },
  }) as Jitted<Args, R>;
}
