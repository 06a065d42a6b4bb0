/**
 * shop-notice.ini, shop-notice.scores.yaml, shop-notice.retailers.yaml and shop-notice.phrases.yaml:
 * read through haraka-config, validated here with the shared checks of validate.ts. Every
 * error names the file, the key and what is wrong; unknown keys are warnings. Nothing here
 * touches Haraka, DNS or the clock.
 */
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import YAML from 'yaml'

import { ConfigError } from '../shared/errors.js'
import { parseCidr } from '../auth/trust.js'
import { type DomainPolicy, POLICY_PREFIX, parsePolicies } from './policy.js'
import { parseStoreConfig, redisTlsOptions } from '../store/config.js'
import type { StoreConfig } from '../store/types.js'
import { DomainIndex } from '../knowledge/domains.js'
import { type PhraseBook, parsePhrases } from '../knowledge/phrases.js'
import { type Registry, parseRegistry } from '../knowledge/registry.js'
import { type Composite, type DmarcSettings, MODES, type Mode, type Thresholds } from '../verdict/score.js'
import { type SymbolName, isSymbolName } from '../verdict/symbols.js'
import { isLoopbackHost, isServerSpec, parseListen } from './endpoints.js'
import { SCORES_FILE, type ScoreBook, parseScores, shippedScoreBook } from './scores.js'
import { emptiedIniWarnings, lintIni, lintIniFiles, readConfigFile } from './ini-lines.js'
import { Checker, isRecord, splitList } from '../shared/validate.js'

export { ConfigError, SCORES_FILE, emptiedIniWarnings, lintIni, lintIniFiles }
export { isLoopbackHost, isServerSpec, parseListen }

export const INI_FILE = 'shop-notice.ini'
export const REGISTRY_FILE = 'shop-notice.retailers.yaml'
export const PHRASES_FILE = 'shop-notice.phrases.yaml'


export interface Settings {
  readonly main: { readonly authserv_id: string }
  readonly skip: { readonly relaying: boolean; readonly private_ip: boolean }
  readonly dns: {
    readonly servers: readonly string[]
    readonly timeout_ms: number
    readonly message_timeout_ms: number
  }
  readonly cache: { readonly size: number; readonly max_ttl_s: number; readonly negative_ttl_s: number }
  readonly actions: {
    readonly mode: Mode
    readonly subject_prefix: string
    readonly reject_message: string
    readonly defer_on_dns_error: boolean
  }
  readonly thresholds: Thresholds
  /** `[policy.<domain>]`: mode and thresholds by recipient domain (lower case), each complete (config/policy.ts) */
  readonly policies: ReadonlyMap<string, DomainPolicy>
  /** shop-notice.scores.yaml, then `[scores]` of the ini */
  readonly scores: Readonly<Record<SymbolName, number>>
  /** shop-notice.scores.yaml `composites`, in the file's order */
  readonly composites: readonly Composite[]
  readonly auth: {
    readonly trusted_authserv_ids: readonly string[]
    /** IPs and CIDRs of upstream gateways whose Authentication-Results (by a trusted authserv-id) count */
    readonly trusted_relays: readonly string[]
    /** ARC-Seal signing domains whose recorded ARC-Authentication-Results count */
    readonly trusted_arc_sealers: readonly string[]
  }
  readonly limits: {
    readonly max_scan_bytes: number
    readonly max_links: number
    readonly max_mime_parts: number
    readonly max_dkim_signatures: number
    readonly max_auth_bytes: number
  }
  /** where `shop-notice quarantine release` sends a released message */
  readonly quarantine: { readonly release_host: string; readonly release_port: number; readonly release_timeout_ms: number }
  readonly metrics: { readonly enabled: boolean; readonly listen: string; readonly allow_remote: boolean }
  /** `[store]` and `[redis]`: the state store (docs/store.md), validated by store/config.ts */
  readonly store: StoreConfig
  /** `[dmarc] enforce`: honour the From domain's published DMARC policy for all mail (verdict/score.ts dmarcAction) */
  readonly dmarc: DmarcSettings
  readonly registry: Registry
  readonly phrases: PhraseBook
  /** the registry's domains, compiled for lookalike and list checks */
  readonly domains: DomainIndex
}

type Kind = 'bool' | 'count' | 'number' | 'string' | 'list' | 'servers' | 'mode' | 'host' | 'port' | 'listen' | 'cidrs' | 'domains'
interface KeySpec {
  readonly kind: Kind
  readonly default: boolean | number | string
}

/** Every key of shop-notice.ini, its type and its default (docs/configuration.md lists the same). */
export const INI_SCHEMA: Readonly<Record<string, Readonly<Record<string, KeySpec>>>> = {
  main: { authserv_id: { kind: 'string', default: '' } },
  skip: { relaying: { kind: 'bool', default: true }, private_ip: { kind: 'bool', default: false } },
  dns: {
    servers: { kind: 'servers', default: '' },
    timeout_ms: { kind: 'count', default: 2000 },
    message_timeout_ms: { kind: 'count', default: 10000 },
  },
  cache: {
    size: { kind: 'count', default: 20000 },
    max_ttl_s: { kind: 'count', default: 3600 },
    negative_ttl_s: { kind: 'count', default: 300 },
  },
  actions: {
    mode: { kind: 'mode', default: 'quarantine' },
    subject_prefix: { kind: 'string', default: '' },
    reject_message: { kind: 'string', default: 'Message looks like a forged shop notice' },
    defer_on_dns_error: { kind: 'bool', default: true },
  },
  thresholds: {
    suspicious: { kind: 'number', default: 5 },
    spoofed: { kind: 'number', default: 10 },
    reject: { kind: 'number', default: 15 },
  },
  auth: {
    trusted_authserv_ids: { kind: 'list', default: '' },
    trusted_relays: { kind: 'cidrs', default: '' },
    trusted_arc_sealers: { kind: 'domains', default: '' },
  },
  limits: {
    max_scan_bytes: { kind: 'count', default: 5 * 1024 * 1024 },
    max_links: { kind: 'count', default: 200 },
    max_mime_parts: { kind: 'count', default: 1000 },
    max_dkim_signatures: { kind: 'count', default: 5 },
    max_auth_bytes: { kind: 'count', default: 64 * 1024 * 1024 },
  },
  quarantine: {
    release_host: { kind: 'host', default: '127.0.0.1' },
    release_port: { kind: 'port', default: 2525 },
    release_timeout_ms: { kind: 'count', default: 30000 },
  },
  metrics: {
    enabled: { kind: 'bool', default: false },
    listen: { kind: 'listen', default: '127.0.0.1:9464' },
    allow_remote: { kind: 'bool', default: false },
  },
  // the state store (docs/store.md); store/config.ts parseStoreConfig validates these further
  store: {
    backend: { kind: 'string', default: 'sqlite' },
    path: { kind: 'string', default: 'var/shop-notice.sqlite' },
    retention_days: { kind: 'count', default: 400 },
    max_entries: { kind: 'count', default: 1_000_000 },
    timeout_ms: { kind: 'count', default: 200 },
  },
  redis: {
    host: { kind: 'host', default: '127.0.0.1' },
    port: { kind: 'port', default: 6379 },
    db: { kind: 'string', default: '0' },
    username: { kind: 'string', default: '' },
    password: { kind: 'string', default: '' },
    tls: { kind: 'bool', default: false },
    tls_ca: { kind: 'string', default: '' },
    tls_cert: { kind: 'string', default: '' },
    tls_key: { kind: 'string', default: '' },
    tls_servername: { kind: 'string', default: '' },
  },
  dmarc: { enforce: { kind: 'bool', default: false } },
}

/** The booleans haraka-config must know about to parse `true`/`false`. */
export const INI_BOOLEANS: readonly string[] = Object.entries(INI_SCHEMA).flatMap(([section, keys]) =>
  Object.entries(keys)
    .filter(([, spec]) => spec.kind === 'bool')
    .map(([key, spec]) => `${spec.default ? '+' : '-'}${section}.${key}`),
)

function coerce(c: Checker, key: string, spec: KeySpec, raw: unknown): boolean | number | string | string[] {
  switch (spec.kind) {
    case 'bool':
      return c.bool(raw, key)
    case 'count':
      return c.number(raw, key, { positive: true, integer: true })
    case 'number':
      return c.number(raw, key)
    case 'string':
      return c.string(raw, key).trim()
    case 'list':
      return typeof raw === 'string' ? splitList(raw) : c.bad(key, 'expected a comma-separated list', raw)
    case 'servers': {
      if (typeof raw !== 'string') return c.bad(key, 'expected comma-separated ip or ip:port resolvers', raw)
      const servers = splitList(raw)
      for (const [i, s] of servers.entries()) {
        if (!isServerSpec(s)) c.fail(`${key}[${i}]`, `not an ip or ip:port: ${JSON.stringify(s)}`)
      }
      return servers
    }
    case 'host':
      return c.host(raw, key)
    case 'port':
      return typeof raw === 'number' ? c.port(raw, key) : c.bad(key, 'expected a port number (1-65535)', raw)
    case 'mode':
      return c.oneOf(raw, key, MODES)
    case 'listen':
      if (typeof raw === 'string' && parseListen(raw.trim())) return raw.trim()
      return c.bad(key, 'expected host:port with an IP address or localhost ([ipv6]:port), port 0-65535', raw)
    case 'cidrs': {
      if (typeof raw !== 'string') return c.bad(key, 'expected comma-separated IPs or CIDRs', raw)
      const cidrs = splitList(raw)
      for (const [i, cidr] of cidrs.entries()) {
        if (!parseCidr(cidr)) c.fail(`${key}[${i}]`, `not an IP address or CIDR (192.0.2.0/24, 2001:db8::/32): ${JSON.stringify(cidr)}`)
      }
      return cidrs
    }
    case 'domains': {
      if (typeof raw !== 'string') return c.bad(key, 'expected comma-separated domain names', raw)
      const domains = splitList(raw).map((d) => d.toLowerCase().replace(/\.$/, ''))
      for (const [i, d] of domains.entries()) {
        if (!/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/.test(d)) {
          c.fail(`${key}[${i}]`, `not a domain name (write IDNs as xn--): ${JSON.stringify(d)}`)
        }
      }
      return domains
    }
  }
}

export interface Validated<T> {
  readonly value: T
  readonly warnings: readonly string[]
}

/** Settings from the ini and the scores file: all but the registry, the phrase book and what is compiled from them. */
export type IniSettings = Omit<Settings, 'registry' | 'phrases' | 'domains'>

/**
 * Validates the object haraka-config made of shop-notice.ini. Keys with no value
 * in the file take the schema default, so a partial override file is enough. `[scores]`
 * overrides the scores of `book` (shop-notice.scores.yaml; the package's when not given).
 */
export function parseIni(raw: unknown, file = INI_FILE, book: ScoreBook = shippedScoreBook()): Validated<IniSettings> {
  const c: Checker = new Checker(file)
  const warnings = c.warnings
  const src = isRecord(raw) ? raw : {}
  const out: Record<string, Record<string, unknown>> = {}

  for (const [section, keys] of Object.entries(INI_SCHEMA)) {
    const given = src[section]
    if (given !== undefined && !isRecord(given)) c.fail(`[${section}]`, 'expected a section')
    const values: Record<string, unknown> = {}
    for (const [key, spec] of Object.entries(keys)) {
      const v = given?.[key]
      const useDefault =
        v === undefined || (v === '' && spec.kind !== 'string' && spec.kind !== 'list' && spec.kind !== 'servers' && spec.kind !== 'cidrs' && spec.kind !== 'domains')
      values[key] = coerce(c, `[${section}] ${key}`, spec, useDefault ? spec.default : v)
    }
    c.unknownKeys(given ?? {}, keys, (key) => `[${section}] ${key}`)
    out[section] = values
  }

  const scores: Record<SymbolName, number> = { ...book.scores }
  const givenScores = src.scores
  if (givenScores !== undefined && !isRecord(givenScores)) c.fail('[scores]', 'expected a section')
  for (const [name, v] of Object.entries(givenScores ?? {})) {
    // a warning, as ever: an ini written for an older version still starts (the scores file refuses unknown names)
    if (!isSymbolName(name)) c.warn(`[scores] ${name}`, 'unknown symbol, ignored (see docs/signals.md)')
    else scores[name] = c.number(v, `[scores] ${name}`)
  }

  for (const section of Object.keys(src)) {
    if (section !== 'scores' && !Object.hasOwn(INI_SCHEMA, section) && !section.toLowerCase().startsWith(POLICY_PREFIX)) {
      // haraka-config always yields an empty [main]; anything else unknown is worth a word
      if (!(isRecord(src[section]) && Object.keys(src[section]).length === 0)) {
        c.warn(`[${section}]`, 'unknown section, ignored')
      }
    }
  }

  // our authserv-id is written into every Authentication-Results: a token (RFC 8601, RFC 2045), a host name in practice
  const authservId = (out.main as { authserv_id: string }).authserv_id
  if (authservId && !/^[^\x00-\x20\x7f-\uffff()<>@,;:\\"/[\]?=]+$/.test(authservId)) {
    c.fail('[main] authserv_id', `not a valid authserv-id (a host name such as mx.example.net), got ${JSON.stringify(authservId)}`)
  }

  const t = out.thresholds as unknown as Thresholds
  if (!(t.suspicious < t.spoofed)) {
    c.fail('[thresholds] spoofed', `must be greater than suspicious (${t.suspicious}), got ${t.spoofed}`)
  }
  if (!(t.spoofed <= t.reject)) {
    c.fail('[thresholds] reject', `must be at least spoofed (${t.spoofed}), got ${t.reject}`)
  }

  const actions = out.actions as unknown as Settings['actions']
  const policies = parsePolicies(src, file, { mode: actions.mode, thresholds: t }, warnings)

  const a = out.auth as unknown as Settings['auth']
  if (a.trusted_relays.length && !a.trusted_authserv_ids.length) {
    warnings.push(`${file}: [auth] trusted_relays: set, but [auth] trusted_authserv_ids is empty, so no gateway's results are trusted`)
  }

  const m = out.metrics as Settings['metrics']
  const listen = parseListen(m.listen)
  if (listen && !isLoopbackHost(listen.host) && !m.allow_remote) {
    c.fail(
      '[metrics] listen',
      `${m.listen} is not a loopback address, so the metrics would be served beyond this host; set [metrics] allow_remote=true to allow it`,
    )
  }

  // unknown keys of [store] and [redis] were reported above
  const store = parseStoreConfig({ store: out.store, redis: out.redis }, file).value
  // the tls_* files are read now, so that one that cannot be is a load error naming its key
  if (store.backend === 'redis') redisTlsOptions(store.redis, file)
  delete out.redis

  return { value: { ...(out as unknown as Omit<IniSettings, 'scores' | 'composites' | 'policies' | 'store'>), policies, store, scores, composites: book.composites }, warnings }
}

/**
 * Checks the YAML syntax of every copy of a file haraka-config would read, so that
 * a broken file is reported with its path and line (haraka-config itself only logs it
 * and falls back to its cache).
 */
export function checkYamlFiles(paths: readonly string[]): void {
  for (const file of paths) {
    const text = readConfigFile(file)
    if (text === undefined) continue
    const doc = YAML.parseDocument(text)
    const first = doc.errors[0]
    if (first) {
      const where = first.linePos?.[0] ? `line ${first.linePos[0].line}` : '(syntax)'
      throw new ConfigError(file, where, first.message.split('\n')[0] ?? 'invalid YAML')
    }
  }
}

/** Where haraka-config looks for one file: the defaults folder, then the overrides folder. */
export interface ConfigSource {
  /** shop-notice.ini as haraka-config parsed it (booleans declared). */
  readIni(): unknown
  /** shop-notice.retailers.yaml as haraka-config parsed and merged it. */
  readRegistry(): unknown
  /** shop-notice.phrases.yaml as haraka-config parsed and merged it. */
  readPhrases(): unknown
  /** shop-notice.scores.yaml as haraka-config parsed and merged it. */
  readScores(): unknown
  /** The files behind a name, defaults first, for syntax checks and messages. */
  pathsOf(name: string): string[]
}

/** What loadSettings read: the settings, the warnings, and the `key=value` lines of each ini file. */
export interface Loaded extends Validated<Settings> {
  readonly iniLines: Readonly<Record<string, number>>
}

/**
 * Loads and validates everything. Throws ConfigError on the first invalid key or ini
 * line; the caller keeps its last good Settings when that happens.
 */
export function loadSettings(source: ConfigSource): Loaded {
  // errors name the admin's file when there is one (it overrides the defaults), else the defaults
  const nameOf = (name: string): string => {
    const paths = source.pathsOf(name)
    return paths.filter((p) => fs.existsSync(p)).at(-1) ?? paths.at(-1) ?? name
  }
  // haraka-config's ini reader skips a line it cannot read: refuse it here instead
  const iniLines = lintIniFiles(source.pathsOf(INI_FILE))
  checkYamlFiles(source.pathsOf(SCORES_FILE))
  const book = parseScores(source.readScores(), nameOf(SCORES_FILE))
  const ini = parseIni(source.readIni(), nameOf(INI_FILE), book.value)
  checkYamlFiles(source.pathsOf(REGISTRY_FILE))
  const registry = parseRegistry(source.readRegistry(), nameOf(REGISTRY_FILE))
  checkYamlFiles(source.pathsOf(PHRASES_FILE))
  const phrases = parsePhrases(source.readPhrases(), nameOf(PHRASES_FILE))
  return {
    value: compileSettings(ini.value, registry.value, phrases.value),
    warnings: [...book.warnings, ...ini.warnings, ...registry.warnings, ...phrases.warnings],
    iniLines,
  }
}

/** Settings from validated parts: the matchers are compiled here, once per configuration load. */
export function compileSettings(ini: Omit<Settings, 'registry' | 'phrases' | 'domains'>, registry: Registry, phrases: PhraseBook): Settings {
  return { ...ini, registry, phrases, domains: new DomainIndex(registry, phrases.generic_words) }
}

/** The subset of haraka-config's Config object that this plugin uses. */
export interface HarakaConfig {
  get(name: string, ...args: unknown[]): unknown
  root_path?: string
  overrides_path?: string
}

/** A ConfigSource over a haraka-config Config; `onChange` runs when a file changes. */
export function harakaSource(config: HarakaConfig, onChange?: () => void): ConfigSource {
  const cb = onChange ? () => onChange() : undefined
  return {
    readIni: () => config.get(INI_FILE, 'ini', { booleans: [...INI_BOOLEANS] }, cb),
    readRegistry: () => config.get(REGISTRY_FILE, 'yaml', cb),
    readPhrases: () => config.get(PHRASES_FILE, 'yaml', cb),
    readScores: () => config.get(SCORES_FILE, 'yaml', cb),
    pathsOf: (name) =>
      [config.root_path, config.overrides_path]
        .filter((p): p is string => typeof p === 'string' && p.length > 0)
        .map((dir) => path.join(dir, name))
        .filter((p, i, all) => all.indexOf(p) === i),
  }
}
