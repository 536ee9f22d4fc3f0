import type { ChainProblem, CharRnnProblem, CnnProblem, MatmulProblem, MlpProblem } from '../problems.js';

/** One prepared workload of one peer: inputs and model built, ready to be run many times. */
export interface Step {
  /** One iteration; the work is finished when it returns (or its promise settles). */
  run(): void | Promise<void>;
  /**
   * A number every peer should agree on (a loss, or the sum of squares of the result); called
   * once, before the timed runs, so that training steps start from the shared initial weights.
   */
  probe(): number | Promise<number>;
  /** Frees what the peer does not collect by itself. */
  dispose(): void;
  /** Set when the peer had to measure something other than asked (printed under the table). */
  note?: string;
}

/** A library under test: builds each workload from the shared problem data. */
export interface Peer {
  /** Column heading. */
  readonly name: string;
  /** Backend, threads and execution mode, for the notes under the table. */
  readonly description: string;
  matmul(problem: MatmulProblem): Step;
  /** y = exp(x)·x + 1 */
  elementwise(x: Float32Array): Step;
  mlpStep(problem: MlpProblem): Step;
  cnnStep(problem: CnnProblem): Step;
  gradChain(problem: ChainProblem): Step;
  charRnnStep(problem: CharRnnProblem): Step;
  /**
   * The same library's code without a single `dispose` (tsgrad: what users write, relying on
   * the library and the FinalizationRegistry); a peer without it has one idiomatic way.
   */
  readonly withoutDispose?: Peer;
}
