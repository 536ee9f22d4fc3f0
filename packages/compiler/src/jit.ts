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
import {
  getBackend,
  isFloat,
  isTracingBackend,
  type NDArray,
  runPrimitive,
  withBackend,
} from '@tsgrad/tensor';
import { Executable, type ExecutableStats } from './executor.js';
import { type Graph, GraphText } from './graph.js';
import { optimizeGraph } from './passes/index.js';
import { Recorder } from './trace.js';

export interface JitOptions {
  /** Arguments that are not traced: part of the cache key, passed to `f` as they are. */
  readonly staticArgnums?: number | readonly number[];
  /** Arguments whose buffers the compiled function may overwrite; they are disposed after the call. */
  readonly donateArgnums?: number | readonly number[];
  /** Run the graph passes (default true). */
  readonly optimize?: boolean;
}

/** What one compilation took, in milliseconds, and what it produced. */
export interface CompileReport {
  readonly traceMs: number;
  readonly optimizeMs: number;
  readonly planMs: number;
  /** Equations traced, and left after the passes. */
  readonly tracedEquations: number;
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

// ---- tracing ---------------------------------------------------------------------------------

/** An array as a non-strided kernel needs it: contiguous and spanning its whole buffer. */
function packed(x: NDArray): NDArray {
  if (x.isContiguous && x.offset === 0 && x.storage.size === x.size) return x;
  return runPrimitive('copy', [x], {}, [{ shape: x.shape, dtype: x.dtype }])[0];
}

/** Calls `f` on the leaves in place of the tensors of the dynamic arguments. */
function callWithLeaves(
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  statics: ReadonlySet<number>,
  argsDef: TreeDef,
  leaves: readonly Tensor[],
): unknown {
  const dynamic = treeUnflatten(argsDef, leaves) as unknown[];
  return (f as (...a: unknown[]) => unknown)(...args.map((a, i) => (statics.has(i) ? a : dynamic[i])));
}

interface Traced {
  readonly graph: Graph;
  readonly outDef: TreeDef;
}

/** Traces `call` on placeholders of `inputs` into a graph. */
function trace(inputs: readonly NDArray[], call: (leaves: Tensor[]) => unknown): Traced {
  const backend = inputs[0]?.backend ?? getBackend();
  const recorder = new Recorder(backend);
  const ready = inputs.map(packed);
  let outDef: TreeDef = { kind: 'static', value: undefined };
  const outputs = withBackend(recorder, () =>
    inUserCode(() => {
      const [results, def] = treeFlatten(call(ready.map((x) => new Tensor(recorder.input(x)))));
      outDef = def;
      // A result that does not depend on the inputs (e.g. a tensor f closes over) is a constant.
      return results.map((t) => {
        const v = t.peekValue();
        return v.backend === recorder ? v : recorder.constant(v);
      });
    }),
  );
  ready.forEach((x, i) => {
    if (x !== inputs[i]) x.dispose();
  });
  return { graph: recorder.graph(outputs), outDef };
}

/**
 * The graph of `f` at these arguments, as `jit` traces it (before its passes unless
 * `optimize`): print it with `toString()`, like JAX's `make_jaxpr`.
 */
export function makeGraph<Args extends unknown[]>(
  f: (...args: Args) => unknown,
  options: Pick<JitOptions, 'staticArgnums' | 'optimize'> = {},
): (...args: Args) => GraphText {
  const statics = indices(options.staticArgnums);
  return (...args) => {
    const [leaves, argsDef] = treeFlatten(args.map((a, i) => (statics.has(i) ? null : a)));
    const call = (ts: Tensor[]) => callWithLeaves(f as never, args, statics, argsDef, ts);
    const { graph } = trace(
      leaves.map((x) => x.peekValue()),
      call,
    );
    const backend = leaves[0]?.peekValue().backend ?? getBackend();
    return new GraphText(options.optimize ? optimizeGraph(graph, backend) : graph);
  };
}

// ---- jit -------------------------------------------------------------------------------------

interface Compiled {
  readonly executable: Executable;
  readonly outDef: TreeDef;
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
 */
export function jit<Args extends unknown[], R>(
  f: (...args: Args) => R,
  options: JitOptions = {},
): Jitted<Args, R> {
  const statics = indices(options.staticArgnums);
  const donated = indices(options.donateArgnums);
  const cache = new Map<string, Compiled>();
  let lastCompile: CompileReport | undefined;
  const name = `jit(${f.name || 'anonymous'})`;
  const op = defineOp<JitParams>(
    {
      name,
      forward: (arrays, { compiled }) => compiled.executable.run(arrays),
      vjp: ({ inputs, params }, cotangents) => pullback(params.compiled, inputs, cotangents),
      spec: { inputs: [], samples: [], order: 0 },
    },
    { register: false },
  );

  // The plan's arrays (constants, intermediate cells) live as long as the plan: compiling runs
  // as user code, so that no library frame it is called from (an op's forward, backward)
  // records them and frees them when it closes.
  const compile = (args: readonly unknown[], argsDef: TreeDef, leaves: readonly Tensor[]): Compiled =>
    inUserCode(() => compileNow(args, argsDef, leaves));
  const compileNow = (args: readonly unknown[], argsDef: TreeDef, leaves: readonly Tensor[]): Compiled => {
    const started = performance.now();
    const flat = (ts: Tensor[]) => treeFlatten(callWithLeaves(f as never, args, statics, argsDef, ts))[0];
    const { graph, outDef } = trace(
      leaves.map((x) => x.peekValue()),
      (ts) => callWithLeaves(f as never, args, statics, argsDef, ts),
    );
    const traced = performance.now();
    const backend = leaves[0]?.peekValue().backend ?? getBackend();
    const optimized = options.optimize === false ? graph : optimizeGraph(graph, backend);
    const optimizedAt = performance.now();
    const donatedLeaves = args.flatMap((a, i) =>
      statics.has(i) ? [] : treeFlatten(a)[0].map(() => donated.has(i)),
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
    return { executable, outDef, flat, floatOutputs };
  };

  const jitted = (...args: Args): R => {
    const dynamic = args.map((a, i) => (statics.has(i) ? null : a));
    const [leaves, argsDef] = treeFlatten(dynamic);
    // Inside another trace or a vmap, f is simply traced inline (vmap batches its primitives).
    if (isTracingBackend(getBackend()) || leaves.some((x) => isTracingBackend(x.peekValue().backend)))
      return f(...args);
    const key = `${treeKey(argsDef)}|${leaves.map((x) => `${x.dtype}[${x.shape.join(',')}]`).join(';')}|${[
      ...statics,
    ]
      .map((i) => staticKey(args[i]))
      .join(';')}`;
    let compiled = cache.get(key);
    if (compiled === undefined) {
      compiled = compile(args, argsDef, leaves);
      cache.set(key, compiled);
    }
    const differentiate = (isGradEnabled() && leaves.some((x) => x.requiresGrad)) || isForwardActive();
    let results: Tensor[];
    if (differentiate && compiled.executable.graph.outputs.length > 0) {
      results = op.apply(leaves, { compiled });
    } else {
      results = compiled.executable.run(leaves.map((x) => x.peekValue())).map((v) => new Tensor(v));
      args.forEach((a, i) => {
        if (donated.has(i) && !statics.has(i)) for (const x of treeFlatten(a)[0]) x.dispose();
      });
    }
    return treeUnflatten(compiled.outDef, results) as R;
  };
  return Object.defineProperties(jitted, {
    lastCompile: { get: () => lastCompile },
    cacheSize: { get: () => cache.size },
  }) as Jitted<Args, R>;
}
