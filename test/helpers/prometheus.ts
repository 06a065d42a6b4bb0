/**
 * Reads the Prometheus text exposition format (version 0.0.4) as a scraper
 * would: `# HELP` / `# TYPE` lines, then one sample a line,
 * `name{label="value",...} number`. Strict: a line it cannot read throws.
 */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Exposition {
  readonly samples: readonly Sample[]
  /** metric family name -> counter, gauge, histogram, ... */
  readonly types: ReadonlyMap<string, string>
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/

function parseLabels(s: string, line: string): [Record<string, string>, string] {
  const labels: Record<string, string> = {}
  let rest = s.slice(1)
  for (;;) {
    rest = rest.trimStart()
    if (rest.startsWith('}')) return [labels, rest.slice(1)]
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(rest)
    if (!m) throw new Error(`bad label in: ${line}`)
    rest = rest.slice(m[0].length)
    let value = ''
    for (;;) {
      const c = rest[0]
      if (c === undefined) throw new Error(`unterminated label value in: ${line}`)
      rest = rest.slice(1)
      if (c === '"') break
      if (c === '\\') {
        const e = rest[0]
        rest = rest.slice(1)
        value += e === 'n' ? '\n' : (e ?? '')
      } else value += c
    }
    labels[m[1]!] = value
    rest = rest.trimStart()
    if (rest.startsWith(',')) rest = rest.slice(1)
  }
}

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = []
  const types = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    if (line.startsWith('#')) {
      const t = /^# TYPE (\S+) (\S+)$/.exec(line)
      if (t) types.set(t[1]!, t[2]!)
      continue
    }
    const n = NAME.exec(line)
    if (!n) throw new Error(`bad sample line: ${line}`)
    let rest = line.slice(n[0].length)
    let labels: Record<string, string> = {}
    if (rest.startsWith('{')) [labels, rest] = parseLabels(rest, line)
    const v = /^\s+(\S+)(\s+-?\d+)?\s*$/.exec(rest)
    if (!v) throw new Error(`bad value in: ${line}`)
    const raw = v[1]!
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : raw === 'NaN' ? NaN : Number(raw)
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`bad number in: ${line}`)
    samples.push({ name: n[0], labels, value })
  }
  return { samples, types }
}

/** The value of the one sample with this name and exactly these labels; undefined when there is none. */
export function sample(e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
  const found = e.samples.filter(
    (s) => s.name === name && Object.keys(s.labels).length === want.length && want.every(([k, v]) => s.labels[k] === v),
  )
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${found.length} samples`)
  return found[0]?.value
}

/** The sum of every sample of `name` whose labels include `labels`. */
export function sum(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  return e.samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0)
}
