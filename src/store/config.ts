/**
 * `[store]` and `[redis]` of shop-notice.ini, validated. parseStoreConfig is pure: every error
 * names the file, the key and what is wrong (ConfigError); unknown keys are warnings.
 * redisTlsOptions reads the `[redis] tls_*` files, with errors of the same kind.
 */
import fs from 'node:fs'
import net from 'node:net'
import nodePath from 'node:path'
import tls from 'node:tls'

import { ConfigError } from '../shared/errors.js'
import { Checker, isRecord } from '../shared/validate.js'
import { BACKENDS, type Backend, type RedisSettings, type StoreConfig } from './types.js'

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
    tls: false,
    tls_ca: '',
    tls_cert: '',
    tls_key: '',
    tls_servername: '',
  },
} as const

const TLS_FILES = ['tls_ca', 'tls_cert', 'tls_key'] as const

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

  // [redis] tls: a boolean (haraka-config declares it), or true/false as written
  const tlsRaw = typeof redis.tls === 'string' ? redis.tls.trim().toLowerCase() : redis.tls
  const useTls = has(tlsRaw) ? c.bool(tlsRaw === 'true' ? true : tlsRaw === 'false' ? false : tlsRaw, '[redis] tls') : STORE_DEFAULTS.redis.tls
  const files = {} as Record<(typeof TLS_FILES)[number], string>
  for (const key of TLS_FILES) {
    const value = text(`[redis] ${key}`, redis[key], '').trim()
    if (value !== '' && (value.includes('\0') || !nodePath.isAbsolute(value))) bad(`[redis] ${key}`, 'expected the absolute path of a PEM file', redis[key])
    files[key] = value
  }
  const servername = has(redis.tls_servername) ? c.host(text('[redis] tls_servername', redis.tls_servername, ''), '[redis] tls_servername') : ''
  if (!useTls) {
    // a tls_* key is a wish for TLS: never go on in clear text while the admin thinks otherwise
    for (const key of [...TLS_FILES, 'tls_servername'] as const) {
      if ((key === 'tls_servername' ? servername : files[key]) !== '') {
        c.fail(`[redis] ${key}`, 'set, but [redis] tls is false, so the connection would be plain TCP: set tls=true, or remove it')
      }
    }
  }
  if (files.tls_cert !== '' && files.tls_key === '') c.fail('[redis] tls_key', 'missing: [redis] tls_cert is set, and a client certificate needs its private key')
  if (files.tls_key !== '' && files.tls_cert === '') c.fail('[redis] tls_cert', 'missing: [redis] tls_key is set, and a private key needs its client certificate')

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
        tls: useTls,
        ...files,
        tls_servername: servername,
      },
    },
    warnings: c.warnings,
  }
}

/** the PEM blocks of `text` whose label ends with `label` (CERTIFICATE, PRIVATE KEY) */
const pemBlocks = (text: string, label: string): number => {
  let n = 0
  for (const m of text.matchAll(/-----BEGIN ([A-Z0-9 ]{1,40})-----/g)) if (m[1]?.endsWith(label)) n++
  return n
}

/** the CAs trusted when `[redis] tls_ca` is empty: Node's own list (and NODE_EXTRA_CA_CERTS) and the system's */
function defaultCAs(): string[] | undefined {
  try {
    return [...new Set([...tls.getCACertificates('default'), ...tls.getCACertificates('system')])]
  } catch {
    return undefined // Node's default then
  }
}

/**
 * The TLS options of the Redis connection (`undefined` when `[redis] tls` is false), its files
 * read now. Throws a ConfigError naming `file` and the key: a file that cannot be read, that
 * holds no PEM certificate (tls_ca, tls_cert) or key (tls_key), or a key that does not match
 * its certificate. The server's certificate is always verified, against `tls_servername` (or
 * `host`), by name or by IP address.
 */
export function redisTlsOptions(r: RedisSettings, file: string): tls.ConnectionOptions | undefined {
  if (!r.tls) return undefined
  const read = (key: (typeof TLS_FILES)[number], label: string): string | undefined => {
    const at = r[key]
    if (at === '') return undefined
    let text: string
    try {
      text = fs.readFileSync(at, 'utf8')
    } catch (err) {
      throw new ConfigError(file, `[redis] ${key}`, `cannot read ${at}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    if (pemBlocks(text, label) === 0) throw new ConfigError(file, `[redis] ${key}`, `${at}: no PEM ${label} in it`)
    return text
  }
  const ca = read('tls_ca', 'CERTIFICATE')
  const cert = read('tls_cert', 'CERTIFICATE')
  const key = read('tls_key', 'PRIVATE KEY')
  if (cert !== undefined && key !== undefined) {
    try {
      tls.createSecureContext({ cert, key })
    } catch (err) {
      throw new ConfigError(file, '[redis] tls_key', `${r.tls_key} does not go with ${r.tls_cert}: ${(err as Error).message}`)
    }
  }
  if (ca !== undefined) {
    try {
      tls.createSecureContext({ ca })
    } catch (err) {
      throw new ConfigError(file, '[redis] tls_ca', `${r.tls_ca}: ${(err as Error).message}`)
    }
  }
  const name = r.tls_servername || r.host
  const cas = ca ?? defaultCAs()
  return {
    ...(cas !== undefined ? { ca: cas } : {}),
    ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
    // SNI carries names only; an IP address is checked against the certificate's IP entries
    ...(net.isIP(name) ? {} : { servername: name }),
    checkServerIdentity: (_host: string, peer: tls.PeerCertificate) => tls.checkServerIdentity(name, peer),
    rejectUnauthorized: true,
  }
}
