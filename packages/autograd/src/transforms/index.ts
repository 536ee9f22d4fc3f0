export { checkpoint } from './checkpoint.js';
export { customVjp } from './custom.js';
export { hessian, jacfwd, jacrev } from './jacobian.js';
export { jvp } from './jvp.js';
export { type GradOptions, grad, type ValueAndGradOptions, valueAndGrad, vjp } from './reverse.js';
export type { Argnums, GradOf, ReplaceLeaves } from './types.js';
export { type AxisSpec, type VmapOptions, vmap } from './vmap.js';
