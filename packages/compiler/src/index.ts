export { type BufferPlan, type Cell, type CellKind, lastUses, planBuffers } from './buffers.js';
export { Executable, type ExecutableStats, profileKernels } from './executor.js';
export {
  type BufferInfo,
  type BufferSource,
  type Equation,
  type FusedEquation,
  type Graph,
  GraphInvariantError,
  GraphText,
  graphText,
  isWholeView,
  type PlanEquation,
  type PlanGraph,
  type ViewRef,
} from './graph.js';
export {
  type CompileReport,
  DEFAULT_JIT_CACHE_SIZE,
  type JitOptions,
  type Jitted,
  jit,
  makeGraph,
} from './jit.js';
export * from './passes/index.js';
export { type CompiledStep, type CompileStepOptions, compileStep, type LossResult } from './step.js';
export { type HostStep, Recorder, TracerReadError } from './trace.js';
