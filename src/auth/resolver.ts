/**
 * The DNS resolver handed to mailauth: `resolve(name, rrtype)` with mailauth's
 * contract (answers as node:dns returns them, meaning in `err.code`), cached on
 * lru-cache's fetchMethod.
 *
 * - One query in flight per name and type; callers that arrive meanwhile join it.
 * - Answers are kept for the smaller of their TTL and `maxTtlMs` (at least 1 s): A/AAAA
 *   with node:dns's TTL, TXT (SPF, DKIM, DMARC) through src/auth/dns-client.ts, which
 *   reads it; node:dns does not report it for the other types, which are kept for the cap.
 * - ENOTFOUND / ENODATA are kept for `negativeTtlMs`; timeouts, SERVFAIL, refusals
 *   and every other error are never kept.
 * - Every failure reaches each caller as a fresh Error (mailauth writes onto errors),
 *   every answer as a copy (mailauth sorts MX lists in place).
 * - A hard timeout per query, and per message a budget (`forMessage`), so a dead
 *   resolver cannot hold an SMTP transaction.
 */
import { promises as dnsPromises } from 'node:dns'
import { LRUCache } from 'lru-cache'

import { DnsClient, parseServer } from './dns-client.js'

export type DnsAnswer = unknown[]
export type ResolveFn = (name: string, rrtype: string) => Promise<DnsAnswer>

/** What a query can do: the part of node:dns's promise Resolver that this uses. */
export interface Lookup {
  resolve(name: string, rrtype: string): Promise<DnsAnswer>
  resolve4(name: string, opts: { ttl: true }): Promise<{ address: string; ttl: number }[]>
  resolve6(name: string, opts: { ttl: true }): Promise<{ address: string; ttl: number }[]>
  /** the answer with its TTL in seconds, for the types this lookup can give one for (else undefined) */
  resolveWithTtl?(name: string, rrtype: string): Promise<{ answer: DnsAnswer; ttl: number }> | undefined
}

export interface Clock {
  now(): number
}

export interface ResolverOptions {
  /** `ip` or `ip:port`; empty means the system's resolvers */
  servers?: readonly string[]
  timeoutMs?: number
  cacheSize?: number
  maxTtlMs?: number
  negativeTtlMs?: number
  /** for tests: another lookup than node:dns */
  lookup?: Lookup
  /** for tests: a fake clock (performance.now() semantics) */
  clock?: Clock
}

export interface ResolverStats {
  queries: number
  hits: number
  misses: number
  inflightJoins: number
  negativeHits: number
  errors: number
  timeouts: number
}

type Entry = { ok: true; answer: DnsAnswer } | { ok: false; code: string; message: string }

/** Codes that mean "no such record": cacheable, and never a temporary failure. */
export const NO_RECORD_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', 'ENODATA'])

export function dnsError(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(message)
  err.code = code
  return err
}

const TTL_TYPES = new Set(['A', 'AAAA'])

/**
 * Why `name` cannot be a name in the DNS (RFC 1035 2.3.4: labels of 1 to 63 octets, 255 on
 * the wire, so 253 written; RFC 1123 2.1 and RFC 6376 3.1 / RFC 7208 4.3 for the names mail
 * looks up: no white space, no control characters; a backslash is the resolver's escape, so
 * a name with one would be asked as another name). Undefined for a name that can exist.
 */
export function dnsNameProblem(name: string): string | undefined {
  const n = name.endsWith('.') ? name.slice(0, -1) : name
  if (!n) return 'an empty name'
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f\\]/.test(n)) return 'white space, a control character or a backslash'
  if (Buffer.byteLength(n) > 253) return 'longer than 253 octets'
  for (const label of n.split('.')) {
    if (!label) return 'an empty label'
    if (Buffer.byteLength(label) > 63) return 'a label longer than 63 octets'
  }
  return undefined
}

/** ENOTFOUND for a name that cannot exist, or undefined. */
const impossible = (name: string, rrtype: string): NodeJS.ErrnoException | undefined => {
  const problem = dnsNameProblem(name)
  return problem ? dnsError('ENOTFOUND', `${rrtype.toUpperCase()} ${JSON.stringify(name)}: not a DNS name (${problem})`) : undefined
}

const keyOf = (name: string, rrtype: string): string => `${rrtype.toUpperCase()} ${name.toLowerCase().replace(/\.$/, '')}`

/**
 * A copy of a node:dns answer for one caller: its rows are strings (A, AAAA, NS, PTR…),
 * lists of strings (TXT) or flat objects (MX, SOA, CAA, SRV…), so one level deep is whole.
 */
export function copyAnswer(answer: DnsAnswer): DnsAnswer {
  return answer.map((row) => (Array.isArray(row) ? [...(row as unknown[])] : row !== null && typeof row === 'object' ? { ...row } : row))
}

export class CachedResolver {
  readonly stats: ResolverStats = { queries: 0, hits: 0, misses: 0, inflightJoins: 0, negativeHits: 0, errors: 0, timeouts: 0 }
  readonly #cache: LRUCache<string, Entry, undefined>
  readonly #lookup: Lookup
  readonly #timeoutMs: number
  readonly #negativeTtlMs: number
  readonly #maxTtlMs: number
  readonly #clock: Clock

  constructor(opts: ResolverOptions = {}) {
    this.#timeoutMs = opts.timeoutMs ?? 2000
    this.#maxTtlMs = opts.maxTtlMs ?? 3_600_000
    this.#negativeTtlMs = opts.negativeTtlMs ?? 300_000
    this.#clock = opts.clock ?? performance
    this.#lookup = opts.lookup ?? CachedResolver.systemLookup(opts.servers ?? [], this.#timeoutMs)
    this.#cache = new LRUCache<string, Entry, undefined>({
      max: opts.cacheSize ?? 20_000,
      ttl: this.#maxTtlMs,
      perf: this.#clock,
      fetchMethod: async (key, _stale, { options }) => {
        const sep = key.indexOf(' ')
        const rrtype = key.slice(0, sep)
        const name = key.slice(sep + 1)
        try {
          const { answer, ttlMs } = await this.#query(name, rrtype)
          if (ttlMs !== undefined) options.ttl = Math.max(1000, Math.min(ttlMs, this.#maxTtlMs))
          return { ok: true, answer }
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN'
          if (!NO_RECORD_CODES.has(code)) throw err // not cached: the next caller asks again
          options.ttl = this.#negativeTtlMs
          return { ok: false, code, message: (err as Error).message }
        }
      },
    })
  }

  /**
   * node:dns with the configured servers; c-ares retries once inside the hard timeout. TXT goes
   * to the same servers through the dns-packet client, the same way, to learn its TTL.
   */
  static systemLookup(servers: readonly string[], timeoutMs: number): Lookup {
    const tryTimeoutMs = Math.max(50, Math.floor(timeoutMs / 2))
    const r = new dnsPromises.Resolver({ timeout: tryTimeoutMs, tries: 2 })
    if (servers.length) r.setServers([...servers])
    const lookup = r as unknown as Lookup
    const known = r.getServers()
    if (!known.length) return lookup
    const client = new DnsClient({ servers: known.map(parseServer), tryTimeoutMs, tries: 2 })
    return {
      resolve: (name, rrtype) => lookup.resolve(name, rrtype),
      resolve4: (name, opts) => lookup.resolve4(name, opts),
      resolve6: (name, opts) => lookup.resolve6(name, opts),
      resolveWithTtl: (name, rrtype) => (rrtype === 'TXT' ? client.resolveTxt(name) : undefined),
    }
  }

  get size(): number {
    return this.#cache.size
  }

  /** Forget every cached answer (config reload with other servers). */
  clear(): void {
    this.#cache.clear()
  }

  /** mailauth's resolver: `resolve(name, rrtype)`. */
  readonly resolve: ResolveFn = async (name, rrtype) => {
    const type = rrtype.toUpperCase()
    const key = keyOf(name, rrtype)
    this.stats.queries++
    const bad = impossible(name, rrtype)
    if (bad) throw bad
    const status: LRUCache.Status<string, Entry, undefined> = {}
    let entry: Entry | undefined
    try {
      entry = await this.#cache.fetch(key, { status })
    } catch (err) {
      this.stats.errors++
      const e = err as NodeJS.ErrnoException
      throw dnsError(e.code ?? 'EUNKNOWN', e.message)
    } finally {
      if (status.fetch === 'hit') this.stats.hits++
      else if (status.fetch === 'inflight') this.stats.inflightJoins++
      else this.stats.misses++
    }
    if (!entry) throw dnsError('EUNKNOWN', `${type} ${name}: no answer`)
    if (!entry.ok) {
      if (status.fetch === 'hit') this.stats.negativeHits++
      throw dnsError(entry.code, entry.message)
    }
    return copyAnswer(entry.answer)
  }

  /**
   * A resolver for one message: each query gets at most what is left of
   * `budgetMs`, and once it is spent every query fails with ETIMEOUT.
   */
  forMessage(budgetMs: number): ResolveFn {
    const deadline = this.#clock.now() + budgetMs
    // set when a query is cut off at the deadline: the timer may fire a little before
    // the clock reaches the deadline, and the budget is spent all the same
    let spent = false
    return (name, rrtype) => {
      // a name that cannot exist is a permanent answer, even once the budget is spent
      const bad = impossible(name, rrtype)
      if (bad) return Promise.reject(bad)
      const left = deadline - this.#clock.now()
      if (spent || left <= 0) {
        this.stats.timeouts++
        return Promise.reject(dnsError('ETIMEOUT', `${rrtype} ${name}: DNS budget for this message spent`))
      }
      // an answer (or a "no such record") already in the cache needs no timer
      if (this.#cache.has(keyOf(name, rrtype))) return this.resolve(name, rrtype)
      return this.#withTimeout(this.resolve(name, rrtype), left, `${rrtype} ${name}`, () => (spent = true))
    }
  }

  async #query(name: string, rrtype: string): Promise<{ answer: DnsAnswer; ttlMs?: number }> {
    const q = (async () => {
      const withTtl = this.#lookup.resolveWithTtl?.(name, rrtype)
      if (withTtl) {
        const { answer, ttl } = await withTtl
        return { answer, ttlMs: ttl * 1000 }
      }
      if (TTL_TYPES.has(rrtype)) {
        const rows = rrtype === 'A' ? await this.#lookup.resolve4(name, { ttl: true }) : await this.#lookup.resolve6(name, { ttl: true })
        const ttl = rows.reduce((min, r) => Math.min(min, r.ttl), Infinity)
        return { answer: rows.map((r) => r.address), ttlMs: Number.isFinite(ttl) ? ttl * 1000 : undefined }
      }
      return { answer: await this.#lookup.resolve(name, rrtype) }
    })()
    return this.#withTimeout(q, this.#timeoutMs, `${rrtype} ${name}`)
  }

  #withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.stats.timeouts++
        onTimeout?.()
        reject(dnsError('ETIMEOUT', `${what}: no answer within ${Math.round(ms)} ms`))
      }, ms)
      timer.unref?.()
    })
    p.catch(() => {}) // a late rejection after the timeout is not unhandled
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
  }
}
