/**
 * The checks every configuration file shares: shop-notice.ini (settings.ts, store/config.ts),
 * the registry, the phrase book and the scores file. One error format for all of them,
 * `file: key: problem` (ConfigError), where `key` is written the way the file writes it
 * (`[dns] timeout_ms` in the ini, `retailers.amazon.names[0]` in YAML). Pure.
 */
import net from 'node:net'

import { ConfigError } from './errors.js'

export type Mapping = Record<string, unknown>

export const isRecord = (v: unknown): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A value as an error message shows it: `"fast"`, `3`, `undefined`. */
export const shown = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v))

/** `a, b` or `a b` into its items, empty ones dropped. */
export const splitList = (v: string): string[] =>
  v
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean)

const HOST_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/

/** A host name or an IP address (`[ipv6]` unbracketed); undefined when it is neither. */
export function hostOf(raw: unknown): string | undefined {
  const host = typeof raw === 'string' ? raw.trim().replace(/^\[(.*)\]$/, '$1') : ''
  return net.isIP(host) || HOST_NAME.test(host) ? host : undefined
}

/**
 * The checks of one file: each returns the value, typed, or throws a ConfigError naming
 * the file, the key and the problem; `unknownKeys` collects warnings.
 */
export class Checker {
  readonly warnings: string[] = []

  constructor(readonly file: string) {}

  fail(key: string, problem: string): never {
    throw new ConfigError(this.file, key, problem)
  }

  /** `${what}, got <value>`: the message of a value of the wrong type or range. */
  bad(key: string, what: string, raw: unknown): never {
    return this.fail(key, `${what}, got ${shown(raw)}`)
  }

  warn(key: string, problem: string): void {
    this.warnings.push(`${this.file}: ${key}: ${problem}`)
  }

  /** Warns of each key of `given` that `known` does not have: `<key>: unknown key, ignored`. */
  unknownKeys(given: Mapping, known: ReadonlySet<string> | Readonly<Record<string, unknown>>, keyOf: (key: string) => string, what = 'unknown key'): void {
    const has = known instanceof Set ? (k: string) => known.has(k) : (k: string) => Object.hasOwn(known, k)
    for (const key of Object.keys(given)) if (!has(key)) this.warn(keyOf(key), `${what}, ignored`)
  }

  mapping(raw: unknown, key: string, what = 'expected a mapping'): Mapping {
    return isRecord(raw) ? raw : this.fail(key, what)
  }

  bool(raw: unknown, key: string): boolean {
    return typeof raw === 'boolean' ? raw : this.bad(key, 'expected true or false', raw)
  }

  /** A finite number; `positive` refuses 0 and below, `integer` refuses fractions. */
  number(raw: unknown, key: string, opts: { positive?: boolean; integer?: boolean; what?: string } = {}): number {
    const ok = typeof raw === 'number' && Number.isFinite(raw) && (!opts.positive || raw > 0) && (!opts.integer || Number.isInteger(raw))
    if (ok) return raw
    const what = opts.what ?? `expected a ${opts.positive ? 'positive ' : ''}${opts.integer ? 'integer' : 'number'}`
    return this.bad(key, what, raw)
  }

  /** A whole number from `min` to `max`; a string of digits counts (ini values may stay strings). */
  integerIn(raw: unknown, key: string, min: number, max: number, what: string): number {
    const n = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw
    if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return n
    return this.bad(key, what, raw)
  }

  port(raw: unknown, key: string): number {
    return this.integerIn(raw, key, 1, 65_535, 'expected a port number (1-65535)')
  }

  /** A string (a number is taken as written: ini values `8` come as numbers). */
  string(raw: unknown, key: string): string {
    return typeof raw === 'string' || typeof raw === 'number' ? String(raw) : this.bad(key, 'expected a string', raw)
  }

  /** One of `allowed`, as written. */
  oneOf<T extends string>(raw: unknown, key: string, allowed: readonly T[]): T {
    return typeof raw === 'string' && (allowed as readonly string[]).includes(raw) ? (raw as T) : this.bad(key, `expected one of ${allowed.join(', ')}`, raw)
  }

  host(raw: unknown, key: string): string {
    return hostOf(raw) ?? this.bad(key, 'expected a host name or an IP address', raw)
  }

  /**
   * A list of non-empty strings (trimmed), `key[i]` naming a bad item. `required`: a missing
   * or empty list is an error (`expected a non-empty list`); else a missing one is [].
   */
  strings(raw: unknown, key: string, required: boolean, item = 'expected a non-empty string'): string[] {
    if (raw === undefined && !required) return []
    if (!Array.isArray(raw) || (required && raw.length === 0)) return this.fail(key, 'expected a non-empty list')
    return raw.map((v, i) => (typeof v === 'string' && v.trim() ? v.trim() : this.fail(`${key}[${i}]`, item)))
  }

  /** Items of a list from `allowed`, each once. */
  enumList<T extends string>(items: readonly string[], key: string, allowed: readonly T[]): T[] {
    return items.map((v, i) => {
      if (!(allowed as readonly string[]).includes(v)) this.fail(`${key}[${i}]`, `${shown(v)}: expected one of ${allowed.join(', ')}`)
      if (items.indexOf(v) !== i) this.fail(`${key}[${i}]`, `${shown(v)} is listed twice`)
      return v as T
    })
  }
}
