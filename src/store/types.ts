/** The state store's vocabulary, shared by its backends. */

export const BACKENDS = ['sqlite', 'redis', 'none'] as const
export type Backend = (typeof BACKENDS)[number]

export interface RedisSettings {
  readonly host: string
  readonly port: number
  readonly db: number
  /** ACL user (Redis 6+); '' for none */
  readonly username: string
  /** '' for none */
  readonly password: string
  /** connect with TLS; the server's certificate is always verified */
  readonly tls: boolean
  /** absolute path of a PEM file of the CA(s) to trust; '' for the system's and Node's own */
  readonly tls_ca: string
  /** absolute paths of a PEM client certificate and its key (both or neither); '' for none */
  readonly tls_cert: string
  readonly tls_key: string
  /** the name the server's certificate must carry; '' for `host` */
  readonly tls_servername: string
}

/** `[store]` and `[redis]` of shop-notice.ini, validated (see parseStoreConfig). */
export interface StoreConfig {
  readonly backend: Backend
  /** sqlite file; relative to the Haraka folder (openStore's baseDir) */
  readonly path: string
  /** a memory not renewed for this many days is forgotten */
  readonly retention_days: number
  /** sqlite: rows kept at most per table (contacts, names); the oldest go first */
  readonly max_entries: number
  /** the longest a recall or learn may take before it counts as failed and the message goes on */
  readonly timeout_ms: number
  readonly redis: RedisSettings
}

/** What a notice's recipient has had before from one sender. */
export interface Recollection {
  /**
   * false: the store could not answer (backend `none`, not ready, error, timeout). Everything
   * else is then "nothing remembered" and no signal should be drawn from it.
   */
  readonly ok: boolean
  /** ok, and no authenticated notice of this sender to this recipient is remembered */
  readonly firstContact: boolean
  /** the remembered contact, when there is one (ms since the epoch) */
  readonly seen?: { readonly first: number; readonly last: number; readonly count: number }
  /** how many addressee names this recipient's earlier authenticated notices used (any sender) */
  readonly knownNames: number
  /** the given names that are among them (as given, first spelling of each) */
  readonly matchedNames: readonly string[]
  /** the given names that are not (as given; names that normalise to nothing are left out) */
  readonly unknownNames: readonly string[]
}

export type StoreOp = 'open' | 'recall' | 'learn' | 'prune'

/** What `forget` removed for one recipient: its contacts (one per sender) and its names. */
export interface Forgotten {
  /** the recipient as the store keys it (normalised, before hashing) */
  readonly recipient: string
  /** contacts removed: one per sender of an earlier authenticated notice */
  readonly contacts: number
  /** addressee names removed */
  readonly names: number
}

/** One failure, as the metrics count it. */
export interface StoreFailure {
  readonly backend: Backend
  readonly op: StoreOp
  readonly reason: 'timeout' | 'error' | 'unavailable'
  readonly error?: Error
}

export interface Store {
  readonly backend: Backend
  /**
   * What `recipient` has had from `senderKey` (a registry brand id, or the authenticated
   * organisational domain of a shop outside the registry), and which of `names` its earlier
   * authenticated notices used. One recipient per call: a message to several recipients is
   * recalled once per recipient. Never rejects, never takes longer than `[store] timeout_ms`.
   */
  recall(recipient: string, senderKey: string, names: readonly string[]): Promise<Recollection>
  /**
   * Remembers an authenticated notice of `senderKey` to `recipient`, addressed to `names`,
   * at `at` (ms since the epoch; default now). Call it only for authenticated notices. Never
   * rejects; resolves true when stored, false when the store failed (counted) or is `none`.
   */
  learn(recipient: string, senderKey: string, names: readonly string[], at?: number): Promise<boolean>
  /**
   * Removes everything remembered about `recipient` (normalised as `learn` and `recall` do it):
   * its contacts with every sender and its names, atomically per backend (docs/store.md,
   * "Forgetting a recipient"). For an erasure request or a mailbox that changed hands: the CLI's
   * `shop-notice forget`, not the mail path. Unlike `recall` and `learn` it is not cut at
   * `[store] timeout_ms` and it rejects when the store fails (not counted in `failures()`), or
   * with a TypeError when `recipient` is not an address. Backend `none` resolves to zeros.
   */
  forget(recipient: string): Promise<Forgotten>
  /** Failures so far, by operation (never reset). */
  failures(): Readonly<Record<StoreOp, number>>
  /** Resolves true once the store can answer (redis: connected and the secret read), false if it cannot within `ms`. */
  ready(ms?: number): Promise<boolean>
  close(): Promise<void>
}

export interface OpenOptions {
  /** the folder a relative `[store] path` is resolved against (the Haraka folder) */
  readonly baseDir: string
  /** the clock, for tests (ms since the epoch) */
  readonly now?: () => number
  /** called on each failure, after it is counted (metrics, logs); must not throw */
  readonly onFailure?: (failure: StoreFailure) => void
  /** sqlite: how often to prune expired and surplus rows (default 10 minutes); 0: never on a timer */
  readonly pruneIntervalMs?: number
}

/** Names kept per recipient at most: the ones used most recently stay. */
export const MAX_NAMES_PER_RECIPIENT = 32
/** Names read from one call at most. */
export const MAX_NAMES_PER_CALL = 8

export const DAY_MS = 86_400_000

export const NOTHING: Recollection = Object.freeze({
  ok: false,
  firstContact: false,
  knownNames: 0,
  matchedNames: Object.freeze([]) as readonly string[],
  unknownNames: Object.freeze([]) as readonly string[],
})
