/**
 * `[store]` and `[redis]` of shop-notice.ini, validated. Pure: every error names the file,
 * the key and what is wrong (ConfigError); unknown keys are warnings.
 */
import { Checker, isRecord } from '../shared/validate.js'
import { BACKENDS, type Backend, type StoreConfig } from './types.js'

/** Every key, its default and what it is (docs/configuration.md lists the same). */
export const STORE_DEFAULTS = {
  store: {
    backend: 'sqlite',
    path: 'var/shop-notice.sqlite',
    retention_days: 400,
    max_entries: 1_000_000,
    timeout_ms: 200,
  },
  redis: {
    host: '127.0.0.1',
    port: 6379,
    db: 0,
    username: '',
    password: '',
  },
} as const

/**
 * Validates the `[store]` and `[redis]` sections as haraka-config parsed them (`sections.store`,
 * `sections.redis`; either may be missing). A key with no value takes its default.
 */
export function parseStoreConfig(
  sections: { readonly store?: unknown; readonly redis?: unknown },
  file: string,
): { value: StoreConfig; warnings: string[] } {
  const c: Checker = new Checker(file)
  const section = (name: 'store' | 'redis'): Record<string, unknown> => {
    const given = sections[name]
    if (given === undefined) return {}
    if (!isRecord(given)) return c.fail(`[${name}]`, 'expected a section')
    c.unknownKeys(given, STORE_DEFAULTS[name], (key) => `[${name}] ${key}`)
    return given
  }
  const store = section('store')
  const redis = section('redis')

  const has = (v: unknown): boolean => v !== undefined && v !== ''
  const bad = (key: string, what: string, raw: unknown): never => c.bad(key, what, raw)
  const integer = (key: string, raw: unknown, fallback: number, min: number, max: number, what: string): number =>
    has(raw) ? c.integerIn(raw, key, min, max, what) : fallback
  const text = (key: string, raw: unknown, fallback: string): string => (has(raw) ? c.string(raw, key) : fallback)

  const backendRaw = has(store.backend) ? store.backend : STORE_DEFAULTS.store.backend
  const backend = typeof backendRaw === 'string' ? backendRaw.trim().toLowerCase() : backendRaw
  if (typeof backend !== 'string' || !(BACKENDS as readonly string[]).includes(backend)) {
    bad('[store] backend', `expected one of ${BACKENDS.join(', ')}`, store.backend)
  }

  const path = text('[store] path', store.path, STORE_DEFAULTS.store.path).trim()
  if (path === '' || path.includes('\0')) bad('[store] path', 'expected a file path', store.path)
  if (/[\\/]$/.test(path)) bad('[store] path', 'expected a file, not a folder', store.path)

  const host = has(redis.host) ? c.host(text('[redis] host', redis.host, ''), '[redis] host') : STORE_DEFAULTS.redis.host

  return {
    value: {
      backend: backend as Backend,
      path,
      retention_days: integer('[store] retention_days', store.retention_days, STORE_DEFAULTS.store.retention_days, 1, 36_500, 'expected a whole number of days (1-36500)'),
      max_entries: integer('[store] max_entries', store.max_entries, STORE_DEFAULTS.store.max_entries, 1, 1e9, 'expected a positive integer'),
      timeout_ms: integer('[store] timeout_ms', store.timeout_ms, STORE_DEFAULTS.store.timeout_ms, 1, 60_000, 'expected milliseconds (1-60000)'),
      redis: {
        host,
        port: integer('[redis] port', redis.port, STORE_DEFAULTS.redis.port, 1, 65_535, 'expected a port number (1-65535)'),
        db: integer('[redis] db', redis.db, STORE_DEFAULTS.redis.db, 0, 65_535, 'expected a database number (0 or more)'),
        username: text('[redis] username', redis.username, STORE_DEFAULTS.redis.username),
        password: text('[redis] password', redis.password, STORE_DEFAULTS.redis.password),
      },
    },
    warnings: c.warnings,
  }
}
