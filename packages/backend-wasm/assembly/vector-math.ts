// The float32 math of the SIMD kernels, exported one function per op on four lanes, for the
// generated fused kernels (src/codegen/fused-kernel.ts) to import and call.
import { cosV, erfV, expm1V, expV, log1pV, logV, sinV, tanhV } from './math';

export function vectorExp(x: v128): v128 {
  return expV(x);
}
export function vectorLog(x: v128): v128 {
  return logV(x);
}
export function vectorTanh(x: v128): v128 {
  return tanhV(x);
}
export function vectorSin(x: v128): v128 {
  return sinV(x);
}
export function vectorCos(x: v128): v128 {
  return cosV(x);
}
export function vectorErf(x: v128): v128 {
  return erfV(x);
}
export function vectorLog1p(x: v128): v128 {
  return log1pV(x);
}
export function vectorExpm1(x: v128): v128 {
  return expm1V(x);
}
