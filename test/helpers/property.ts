/**
 * Settings for property-based tests (fast-check): a fixed seed, so that a failure
 * reproduces as it was seen; FC_SEED=<n> in the environment tries another one, and
 * FC_RUNS=<n> multiplies nothing but sets the number of runs of every property
 * (for a long exploration by hand: FC_RUNS=5000 npx tap test/plugin/hostile.test.ts).
 * fast-check prints the seed and the counterexample's path when a property fails.
 */
export const FC_SEED = Number(process.env.FC_SEED ?? 20261121)

export function fcParams(numRuns: number): { seed: number; numRuns: number; endOnFailure: true } {
  return { seed: FC_SEED, numRuns: process.env.FC_RUNS ? Number(process.env.FC_RUNS) : numRuns, endOnFailure: true }
}
