// What the page shows, as `window.playground`, for the browser test to read.

/** The page's state as the browser test reads it. */
export interface PageState {
  backend?: { threads: number; isolated: boolean };
  running: boolean;
  step: number;
  /** The last evaluation's held-out accuracy. */
  testAccuracy: number;
  /** Evaluations received since the last reset. */
  evaluations: number;
  /** Every evaluation since the last reset: the loss and accuracy trajectories. */
  history: { step: number; trainLoss: number; testLoss: number }[];
  boundary?: number[];
  probabilities?: number[];
  /** Imports whose weights the page shows. */
  imports: number;
  error?: string;
}

declare global {
  interface Window {
    playground: PageState;
  }
}
