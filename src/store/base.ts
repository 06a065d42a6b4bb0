/**
 * What every backend shares: input normalisation, the per-call timeout, and turning any
 * failure into "nothing remembered" plus a count. A backend only implements the lookups.
 */
import { normaliseAddress, normaliseName } from './normalise.js'
import {
  type Backend,
  type Forgotten,
  MAX_NAMES_PER_CALL,
  NOTHING,
  type OpenOptions,
  type Recollection,
  type Store,
  type StoreConfig,
  type StoreFailure,
  type StoreOp,
} from './types.js'

/** The backend cannot answer yet (redis not connected, secret not read) or any more (sqlite not open). */
export class StoreUnavailable extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StoreUnavailable'
  }
}

class StoreTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`)
    this.name = 'StoreTimeout'
  }
}

export interface Seen {
  readonly first: number
  readonly last: number
  readonly count: number
}

/** A backend's answer: the contact (if remembered and in retention), the recipient's name count, which keys matched. */
export interface Lookup {
  readonly seen?: Seen
  readonly knownNames: number
  readonly matched: readonly boolean[]
}

/** Given names, normalised, without empties and duplicates, at most MAX_NAMES_PER_CALL. */
export function prepareNames(names: readonly string[]): { given: string; key: string }[] {
  const out: { given: string; key: string }[] = []
  const keys = new Set<string>()
  for (const given of Array.isArray(names) ? names : []) {
    if (typeof given !== 'string') continue
    const key = normaliseName(given)
    if (!key || keys.has(key)) continue
    keys.add(key)
    out.push({ given, key })
    if (out.length >= MAX_NAMES_PER_CALL) break
  }
  return out
}

const normaliseSender = (s: string): string => (typeof s === 'string' ? s.trim().toLowerCase().replace(/\.$/, '') : '')

export abstract class BaseStore implements Store {
  readonly #failures: Record<StoreOp, number> = { open: 0, recall: 0, learn: 0, prune: 0 }

  constructor(
    readonly backend: Backend,
    protected readonly config: StoreConfig,
    protected readonly options: OpenOptions,
  ) {}

  protected now(): number {
    return this.options.now?.() ?? Date.now()
  }

  /** the oldest last-seen time still remembered at `now` */
  protected cutoff(now: number): number {
    return now - this.config.retention_days * 86_400_000
  }

  protected fail(op: StoreOp, err: unknown): void {
    this.#failures[op]++
    const error = err instanceof Error ? err : new Error(String(err))
    const reason: StoreFailure['reason'] =
      err instanceof StoreTimeout ? 'timeout' : err instanceof StoreUnavailable ? 'unavailable' : 'error'
    try {
      this.options.onFailure?.({ backend: this.backend, op, reason, error })
    } catch {
      // a failing listener must not turn a store failure into a mail failure
    }
  }

  failures(): Readonly<Record<StoreOp, number>> {
    return { ...this.#failures }
  }

  protected abstract lookup(rcpt: string, sender: string, nameKeys: readonly string[], now: number): Promise<Lookup>
  protected abstract remember(rcpt: string, sender: string, nameKeys: readonly string[], at: number): Promise<void>
  /** removes every contact and name of `rcpt` (normalised), atomically; rejects on failure */
  protected abstract erase(rcpt: string): Promise<{ contacts: number; names: number }>

  /** `work` within `[store] timeout_ms`, else a StoreTimeout (the work itself goes on, its answer unused) */
  protected withTimeout<T>(work: Promise<T>): Promise<T> {
    const ms = this.config.timeout_ms
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreTimeout(ms)), ms)
    })
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
  }

  async recall(recipient: string, senderKey: string, names: readonly string[]): Promise<Recollection> {
    const rcpt = typeof recipient === 'string' ? normaliseAddress(recipient) : ''
    const sender = normaliseSender(senderKey)
    if (!rcpt || !sender) return NOTHING
    const given = prepareNames(names)
    let found: Lookup
    try {
      found = await this.withTimeout(
        this.lookup(
          rcpt,
          sender,
          given.map((g) => g.key),
          this.now(),
        ),
      )
    } catch (err) {
      this.fail('recall', err)
      return NOTHING
    }
    const matchedNames = given.filter((_, i) => found.matched[i] === true).map((g) => g.given)
    const unknownNames = given.filter((_, i) => found.matched[i] !== true).map((g) => g.given)
    return {
      ok: true,
      firstContact: found.seen === undefined,
      ...(found.seen ? { seen: found.seen } : {}),
      knownNames: found.knownNames,
      matchedNames,
      unknownNames,
    }
  }

  async learn(recipient: string, senderKey: string, names: readonly string[], at?: number): Promise<boolean> {
    const rcpt = typeof recipient === 'string' ? normaliseAddress(recipient) : ''
    const sender = normaliseSender(senderKey)
    if (!rcpt || !sender) return false
    const when = typeof at === 'number' && Number.isFinite(at) ? Math.trunc(at) : this.now()
    try {
      await this.withTimeout(
        this.remember(
          rcpt,
          sender,
          prepareNames(names).map((g) => g.key),
          when,
        ),
      )
      return true
    } catch (err) {
      this.fail('learn', err)
      return false
    }
  }

  async forget(recipient: string): Promise<Forgotten> {
    const rcpt = typeof recipient === 'string' ? normaliseAddress(recipient) : ''
    if (!rcpt) throw new TypeError(`${JSON.stringify(recipient)}: not an address`)
    const { contacts, names } = await this.erase(rcpt)
    return { recipient: rcpt, contacts, names }
  }

  async ready(_ms?: number): Promise<boolean> {
    return true
  }

  abstract close(): Promise<void>
}

/** Backend `none`: remembers nothing, never fails; every recall answers `ok: false`. */
export class NoneStore extends BaseStore {
  constructor(config: StoreConfig, options: OpenOptions) {
    super('none', config, options)
  }

  override async recall(): Promise<Recollection> {
    return NOTHING
  }

  override async learn(): Promise<boolean> {
    return false
  }

  protected lookup(): Promise<Lookup> {
    return Promise.resolve({ knownNames: 0, matched: [] })
  }

  protected remember(): Promise<void> {
    return Promise.resolve()
  }

  /** nothing was ever remembered */
  protected erase(): Promise<{ contacts: number; names: number }> {
    return Promise.resolve({ contacts: 0, names: 0 })
  }

  override async ready(): Promise<boolean> {
    return false
  }

  async close(): Promise<void> {}
}
