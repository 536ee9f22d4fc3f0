/**
 * Differential privacy: the Rényi-DP accountant of the sampled Gaussian mechanism and the
 * clipping and noising of DP-SGD. Exported from @tsgrad/optim as the `privacy` namespace.
 * @packageDocumentation
 */
export {
  type GetPrivacySpentOptions,
  type MechanismSteps,
  type NoiseMultiplierForOptions,
  noiseMultiplierFor,
  RdpAccountant,
  type RdpAccountantStateDict,
} from './accountant.js';
export { type Conversion, type PrivacySpent, type RdpToEpsilonOptions, rdpToEpsilon } from './conversion.js';
export { type ClippedSum, clipAndSum, type NoiseOptions, noisyMean, poissonSample } from './dp-sgd.js';
export { DEFAULT_ORDERS, type SampledGaussianOptions, sampledGaussianRdp } from './rdp.js';
