/**
 * Backend `redis`: several relays share one memory (the `redis` client; Redis 6.2 or later).
 *
 * Keys (hashes are base64url of 128-bit HMACs, see secret.ts):
 * - `shop-notice:secret` — the shared key, made once with SET NX by whichever relay starts first;
 * - `shop-notice:c:<rcpt>:<sender>` — hash `first`, `last`, `count`; expires `[store] retention_days`
 *   after the last notice;
 * - `shop-notice:n:<rcpt>` — sorted set of name hashes scored by last use; members past
 *   retention and beyond the newest 32 are trimmed on each learn; the key expires like a contact.
 *
 * A recipient's contact keys are found with SCAN MATCH `shop-notice:c:<rcpt>:*` (never KEYS): the
 * layout has no index of a recipient's senders, and `forget` is the only call that needs one.
 *
 * Mail never waits for Redis: commands are not queued while disconnected (they fail at once),
 * every call is cut at `[store] timeout_ms`, and the client reconnects in the background.
 *
 * `[redis] tls`: the connection is TLS, the server's certificate always verified (config.ts
 * redisTlsOptions). Its files are read when the store opens: a reconnection uses what was read then.
 */
import { createClient } from 'redis'

import { BaseStore, type Lookup, StoreUnavailable } from './base.js'
import { redisTlsOptions } from './config.js'
import { Hasher, isSecretHex, newSecretHex } from './secret.js'
import { DAY_MS, MAX_NAMES_PER_RECIPIENT, type OpenOptions, type StoreConfig } from './types.js'

export const KEY_PREFIX = 'shop-notice:'
export const SECRET_KEY = `${KEY_PREFIX}secret`
/** the longest a (re)connection attempt may take */
export const CONNECT_TIMEOUT_MS = 2000
/** commands waiting for a slow server at most; beyond, new ones fail at once */
const QUEUE_MAX = 10_000

type Client = ReturnType<typeof createClient>

const b64 = (b: Buffer): string => b.toString('base64url')

/** keys asked for per SCAN step: one step is then about a millisecond of the server's time */
export const SCAN_COUNT = 1000
/** `forget` scans again after deleting, until a scan finds nothing, at most this many times */
const FORGET_ROUNDS = 3

export class RedisStore extends BaseStore {
  readonly #client: Client
  #hasher: Hasher | undefined
  #secret: string | undefined
  #closed = false
  #agreeing = false
  #readyWaiters: ((ok: boolean) => void)[] = []
  /** the last connection error, for the "unavailable" message */
  #lastError = ''

  constructor(config: StoreConfig, options: OpenOptions) {
    super('redis', config, options)
    const r = config.redis
    // read at load already (loadSettings); should a file have gone since, the store stays unavailable
    let tlsOptions: ReturnType<typeof redisTlsOptions>
    let tlsError: Error | undefined
    try {
      tlsOptions = redisTlsOptions(r, 'shop-notice.ini')
    } catch (err) {
      tlsError = err as Error
    }
    this.#client = createClient({
      socket: {
        ...(tlsOptions ? { ...tlsOptions, tls: true as const } : {}),
        host: r.host,
        port: r.port,
        connectTimeout: CONNECT_TIMEOUT_MS,
        // back off to one attempt every 5 s; never give up while the relay runs
        reconnectStrategy: (retries) => Math.min(100 * 2 ** Math.min(retries, 6), 5000),
      },
      database: r.db,
      ...(r.username ? { username: r.username } : {}),
      ...(r.password ? { password: r.password } : {}),
      disableOfflineQueue: true,
      commandsQueueMaxLength: QUEUE_MAX,
    })
    // without a listener an 'error' event would end the process
    this.#client.on('error', (err: Error) => {
      this.#lastError = err.message
    })
    this.#client.on('ready', () => void this.#agreeSecret())
    if (tlsError) {
      // never fall back to plain TCP: no connection at all
      this.#lastError = tlsError.message
      this.fail('open', tlsError)
      return
    }
    this.#client.connect().catch((err: unknown) => {
      // the first attempt failed outright (reconnectStrategy gave up or bad options): count it once
      this.#lastError = err instanceof Error ? err.message : String(err)
      this.fail('open', err)
    })
  }

  /**
   * On every (re)connection: offer our secret (or a new one) with SET NX, then adopt what Redis
   * holds, so that all relays hash alike, even after Redis lost its data and one of them put
   * the secret back.
   */
  async #agreeSecret(): Promise<void> {
    if (this.#agreeing) return
    this.#agreeing = true
    try {
      await this.#client.set(SECRET_KEY, this.#secret ?? newSecretHex(), { condition: 'NX' })
      const held = await this.#client.get(SECRET_KEY)
      if (typeof held !== 'string' || !isSecretHex(held)) throw new Error(`${SECRET_KEY} in Redis is not 64 hex digits`)
      if (held !== this.#secret) {
        this.#secret = held
        this.#hasher = new Hasher(held)
      }
      this.#wake(true)
    } catch (err) {
      this.#lastError = err instanceof Error ? err.message : String(err)
      this.fail('open', err)
    } finally {
      this.#agreeing = false
    }
  }

  #wake(ok: boolean): void {
    const waiters = this.#readyWaiters
    this.#readyWaiters = []
    for (const w of waiters) w(ok)
  }

  #need(): Hasher {
    if (this.#closed) throw new StoreUnavailable('the store is closed')
    if (!this.#client.isReady) throw new StoreUnavailable(`redis ${this.config.redis.host}:${this.config.redis.port} not connected${this.#lastError ? ` (${this.#lastError})` : ''}`)
    if (!this.#hasher) {
      // connected, but reading the secret failed (or is under way): try again, and fail this call
      void this.#agreeSecret()
      throw new StoreUnavailable('the shared secret has not been read from redis yet')
    }
    return this.#hasher
  }

  protected async lookup(rcpt: string, sender: string, nameKeys: readonly string[], now: number): Promise<Lookup> {
    const h = this.#need()
    const r = b64(h.hash('rcpt', rcpt))
    const cutoff = this.cutoff(now)
    const namesKey = `${KEY_PREFIX}n:${r}`
    const members = nameKeys.map((k) => b64(h.hash('name', k)))
    const m = this.#client
      .multi()
      .hmGet(`${KEY_PREFIX}c:${r}:${b64(h.hash('sender', sender))}`, ['first', 'last', 'count'])
      .zCount(namesKey, cutoff, '+inf')
    if (members.length > 0) m.zmScore(namesKey, members)
    const replies = (await m.execAsPipeline()) as unknown[]
    const [first, last, count] = (replies[0] as (string | null)[]).map((v) => (v === null ? NaN : Number(v)))
    const scores = (replies[2] ?? []) as (number | null)[]
    const seen =
      first !== undefined && last !== undefined && count !== undefined && Number.isFinite(first) && Number.isFinite(last) && last >= cutoff
        ? { first, last, count: Number.isFinite(count) ? count : 1 }
        : undefined
    return {
      ...(seen ? { seen } : {}),
      knownNames: Number(replies[1]),
      matched: members.map((_, i) => {
        const s = scores[i]
        return s !== null && s !== undefined && Number(s) >= cutoff
      }),
    }
  }

  protected async remember(rcpt: string, sender: string, nameKeys: readonly string[], at: number): Promise<void> {
    const h = this.#need()
    const r = b64(h.hash('rcpt', rcpt))
    const ttl = this.config.retention_days * DAY_MS
    const contact = `${KEY_PREFIX}c:${r}:${b64(h.hash('sender', sender))}`
    const m = this.#client
      .multi()
      .hSetNX(contact, 'first', String(at))
      .hSet(contact, 'last', String(at))
      .hIncrBy(contact, 'count', 1)
      .pExpire(contact, ttl)
    if (nameKeys.length > 0) {
      const namesKey = `${KEY_PREFIX}n:${r}`
      // GT: a new name is added, a known one only moves forward in time
      m.zAdd(
        namesKey,
        nameKeys.map((k) => ({ score: at, value: b64(h.hash('name', k)) })),
        { comparison: 'GT' },
      )
      m.zRemRangeByScore(namesKey, '-inf', `(${this.cutoff(this.now())}`)
      m.zRemRangeByRank(namesKey, 0, -(MAX_NAMES_PER_RECIPIENT + 1))
      m.pExpire(namesKey, ttl)
    }
    await m.exec()
  }

  /**
   * The recipient's contact keys, found by SCAN MATCH on its hashed prefix (the whole keyspace
   * is walked, SCAN_COUNT keys a step: the server is never held), deleted with its name set in
   * one MULTI/EXEC. A notice learned for it while the scan ran (a contact key the scan had
   * passed) would survive one round: the scan is repeated after each delete until it finds
   * nothing, at most FORGET_ROUNDS times.
   */
  protected async erase(rcpt: string): Promise<{ contacts: number; names: number }> {
    const h = this.#need()
    const r = b64(h.hash('rcpt', rcpt))
    const namesKey = `${KEY_PREFIX}n:${r}`
    // base64url has no glob character (* ? [ ] \): the pattern matches this prefix only
    const match = `${KEY_PREFIX}c:${r}:*`
    const removed = { contacts: 0, names: 0 }
    for (let round = 0; round < FORGET_ROUNDS; round++) {
      const keys: string[] = []
      for await (const page of this.#client.scanIterator({ MATCH: match, COUNT: SCAN_COUNT })) keys.push(...page.map(String))
      const m = this.#client.multi().zCard(namesKey).del(namesKey)
      if (keys.length > 0) m.del([...new Set(keys)])
      const replies = (await m.exec()) as unknown[]
      const names = Number(replies[0])
      const contacts = keys.length > 0 ? Number(replies[2]) : 0
      removed.names += names
      removed.contacts += contacts
      if (keys.length === 0 && names === 0) break
    }
    return removed
  }

  override ready(ms = CONNECT_TIMEOUT_MS): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false)
    if (this.#client.isReady && this.#hasher) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#readyWaiters = this.#readyWaiters.filter((w) => w !== done)
        resolve(false)
      }, ms)
      const done = (ok: boolean): void => {
        clearTimeout(timer)
        resolve(ok)
      }
      this.#readyWaiters.push(done)
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#wake(false)
    // a clean QUIT when connected, bounded: a hung server must not hold a shutdown
    if (this.#client.isReady) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        this.#client.close().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.config.timeout_ms)
        }),
      ])
      clearTimeout(timer)
    }
    if (this.#client.isOpen) {
      try {
        this.#client.destroy()
      } catch {
        // already closed
      }
    }
  }
}
