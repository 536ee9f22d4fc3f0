import { describe, ValueError } from '@tsgrad/tensor';

// Global switches of the tape: whether ops are recorded, and anomaly detection.

let gradEnabled = true;
let anomalyEnabled = false;

/** Whether operations are recorded on the tape now (false inside `noGrad`). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Sets whether ops are recorded for backward; returns the previous setting. */
export function setGradEnabled(enabled: boolean): boolean {
  const previous = gradEnabled;
  gradEnabled = enabled;
  return previous;
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  if (typeof fn !== 'function') {
    throw new ValueError(enabled ? 'enableGrad' : 'noGrad', `expected a function, got ${describe(fn)}`);
  }
  const previous = setGradEnabled(enabled);
  try {
    return fn();
  } finally {
    setGradEnabled(previous);
  }
}

/** Runs `fn` without recording: results do not require grad (like `torch.no_grad`). */
export const noGrad = <T>(fn: () => T): T => withGradMode(false, fn);

/** Runs `fn` with recording on, even inside `noGrad`. */
export const enableGrad = <T>(fn: () => T): T => withGradMode(true, fn);

/**
 * Whether anomaly mode (`detectAnomaly`) is on: every op checks its outputs and gradients for NaN/Infinity.
 */
export function isAnomalyEnabled(): boolean {
  return anomalyEnabled;
}

/**
 * Anomaly mode: every op's forward and backward results are checked for NaN/Inf, and the
 * first op that produces one throws an AnomalyError naming the op and where in user code its
 * inputs were created. Slow; for debugging.
 */
export function setAnomalyDetection(enabled: boolean): boolean {
  const previous = anomalyEnabled;
  anomalyEnabled = enabled;
  return previous;
}

/** Runs `fn` with anomaly detection on. */
export function detectAnomaly<T>(fn: () => T): T {
  if (typeof fn !== 'function')
    throw new ValueError('detectAnomaly', `expected a function, got ${describe(fn)}`);
  const previous = setAnomalyDetection(true);
  try {
    return fn();
  } finally {
    setAnomalyDetection(previous);
  }
}
