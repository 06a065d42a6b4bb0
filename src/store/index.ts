/**
 * The state store: what earlier authenticated notices told us about a recipient, kept
 * across messages, worker processes and (with Redis) relays. See docs/store.md.
 *
 *   const store = openStore(parseStoreConfig(ini, file).value, { baseDir, onFailure })
 *   const seen = await store.recall(rcpt, brandOrOrgDomain, namesInGreeting)
 *   if (authenticated) await store.learn(rcpt, brandOrOrgDomain, namesInGreeting)
 *   await store.forget(rcpt)   // an erasure request: `shop-notice forget`
 */
import { NoneStore } from './base.js'
import { RedisStore } from './redis.js'
import { SqliteStore } from './sqlite.js'
import type { OpenOptions, Store, StoreConfig } from './types.js'

export { parseStoreConfig, STORE_DEFAULTS } from './config.js'
export { normaliseAddress, normaliseName } from './normalise.js'
export { RedisStore } from './redis.js'
export { SqliteStore, secretFileOf } from './sqlite.js'
export {
  BACKENDS,
  type Backend,
  type Forgotten,
  MAX_NAMES_PER_CALL,
  MAX_NAMES_PER_RECIPIENT,
  type OpenOptions,
  type Recollection,
  type RedisSettings,
  type Store,
  type StoreConfig,
  type StoreFailure,
  type StoreOp,
} from './types.js'

/**
 * The configured backend, opening at once: sqlite opens its file now (a failure is counted
 * and retried on a later call), redis connects in the background (`ready()` says when). Never
 * throws for a backend that cannot be reached: the store then answers "nothing remembered".
 */
export function openStore(config: StoreConfig, options: OpenOptions): Store {
  switch (config.backend) {
    case 'sqlite':
      return new SqliteStore(config, options)
    case 'redis':
      return new RedisStore(config, options)
    case 'none':
      return new NoneStore(config, options)
  }
}
