/** Small statistics for the benchmark: medians of rounds, percentiles of latencies, skewed choice. */

/** The value below which `p` (0..1) of the sorted sample lies (nearest rank). */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (!values.length) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))
  return sorted[rank]!
}

export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly n: number
}

/** Median, min and max of the rounds (the median of an even count is the mean of the middle two). */
export function spread(values: readonly number[]): Spread {
  if (!values.length) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 }
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
  return { median, min: s[0]!, max: s[s.length - 1]!, n: s.length }
}

/** `median (min-max)` with `digits` decimals. */
export function fmt(s: Spread, digits = 2, unit = ''): string {
  if (!s.n) return 'n/a'
  const f = (x: number): string => x.toFixed(digits)
  return s.n === 1 ? `${f(s.median)}${unit}` : `${f(s.median)}${unit} (${f(s.min)}-${f(s.max)})`
}

/** A deterministic pseudo-random generator (mulberry32): the same run draws the same mix. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Draws ranks 0..n-1 with probability proportional to 1/(rank+1)^s (Zipf): a few senders send most mail. */
export function zipf(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n)
  let total = 0
  for (let i = 0; i < n; i++) cdf[i] = total += 1 / (i + 1) ** s
  return () => {
    const x = random() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid]! < x) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** CPU time (user + system) of this process since `start`, in milliseconds. */
export function cpuSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start)
  return (d.user + d.system) / 1000
}
