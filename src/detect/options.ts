/**
 * How a hit's options list what it found: at most a few examples, each once.
 */
/** The first `n` of a list: the examples a hit names. */
export const examples = <T>(xs: readonly T[], n = 3): T[] => xs.slice(0, n)
export const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)]
