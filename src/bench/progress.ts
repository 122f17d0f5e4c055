/**
 * How a bench run reports progress and learns it should stop. The CLI
 * renders it with cli-progress; library users can pass their own.
 * @module
 */

/** Receives the phases of a run (training steps, evaluated images). */
export interface ProgressReporter {
  /**
   * A phase begins.
   * @param label - e.g. `train DifNet-18`
   * @param total - steps or images in the phase
   */
  start(label: string, total: number): void;
  /**
   * Progress within the phase.
   * @param done - steps or images completed so far
   * @param info - short status, e.g. `loss 0.412`
   */
  update(done: number, info?: string): void;
  /** The phase ended. */
  stop(): void;
  /**
   * A line of log (a finished entry, a skipped one).
   * @param message - the line
   */
  log(message: string): void;
}

/** A reporter that prints only log lines (for tests and scripts). */
export function quietReporter(log: (message: string) => void = () => undefined): ProgressReporter {
  return { start: () => undefined, update: () => undefined, stop: () => undefined, log };
}

/** Thrown inside a run when its stop signal fires; finished entries are kept. */
export class BenchStopped extends Error {
  constructor() {
    super('bench stopped by request');
    this.name = 'BenchStopped';
  }
}

/**
 * Throws {@link BenchStopped} if `signal` has fired.
 * @param signal - the run's abort signal
 */
export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BenchStopped();
}
