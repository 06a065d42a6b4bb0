/**
 * The parts of Haraka's objects (plugin, connection, transaction, header) that the
 * hooks use, typed here once; Haraka itself ships no types.
 */
import type { HarakaConfig, Settings } from '../config/settings.js'
import type { ShopNoticeMetrics } from '../metrics/metrics.js'
import type { ClusterCollector } from '../metrics/cluster.js'
import type { MetricsServer } from '../metrics/server.js'
import type { CachedResolver } from '../auth/resolver.js'
import type { HarakaHeader } from './transaction.js'
import type { StoreState } from './store-hooks.js'

/** Haraka's hook callback; a DSN object as msg brings its own reply code and enhanced status */
export type Next = (code?: number, msg?: string | object) => void

export interface Header extends HarakaHeader {
  get_all(name: string): string[]
  remove(name: string): void
}

/** @haraka/email-address: `address` is a string in Haraka 3.3, a method in older releases */
export type Address = { address: string | (() => string) }

export interface Transaction {
  uuid: string
  header: Header
  mail_from?: Address | null
  rcpt_to?: Address[]
  notes: Record<string, unknown> & { set?(path: string, value: unknown): void }
  results: { add(plugin: unknown, obj: Record<string, unknown>): void }
  message_stream: {
    /** the header lines written out instead of the received ones (haraka-message-stream: the Header's header_list) */
    headers?: unknown
    get_data(cb: (buf: Buffer) => void): void
    once(ev: 'error', cb: (err: Error) => void): void
    removeListener(ev: 'error', cb: (err: Error) => void): void
    /** the message as stored, its headers as edited; `line_endings: '\n'` as core queue/quarantine writes it */
    pipe(dest: NodeJS.WritableStream, opts?: { line_endings?: string }): void
  }
  add_leading_header(name: string, value: string): void
  remove_header(name: string): void
}

export interface Connection {
  uuid: string
  transaction?: Transaction | null
  relaying: boolean
  remote: { ip: string | null; host?: string | null; is_private?: boolean }
  local: { host?: string }
  hello: { host: string | null }
  notes: Record<string, unknown>
  loginfo(plugin: unknown, msg: string): void
  logwarn(plugin: unknown, msg: string): void
  logerror(plugin: unknown, msg: string): void
}

export interface ShopNoticeState {
  settings: Settings
  resolver: CachedResolver
  /** the resolver's settings, to know whether a reload needs a new one */
  resolverKey: string
  /** `key=value` lines of each shop-notice.ini at the last good load, to tell one emptied on a reload */
  iniLines: Readonly<Record<string, number>>
}

/** Metrics, when `[metrics] enabled` at start-up (docs/metrics.md). */
export interface MetricsState {
  readonly metrics: ShopNoticeMetrics
  /** the [metrics] settings the listener was started with: a reload cannot change them */
  readonly started: string
  server?: MetricsServer
  collector?: ClusterCollector
  stopAnswering?: () => void
}

export interface ShopNoticePlugin {
  name: string
  config: HarakaConfig
  register_hook(hook: string, method: string, priority?: number): void
  loginfo(msg: string): void
  logwarn(msg: string): void
  logerror(msg: string): void
  shopNotice?: ShopNoticeState
  shopNoticeMetrics?: MetricsState
  /** the state store of this process (docs/store.md) */
  shopNoticeStore?: StoreState
  load_shop_notice_config(fromWatcher?: boolean): void
  scan_message(next: Next, connection: Connection): void
  record_quarantine(next: Next, connection: Connection): void
}


/** A mailbox's address as text, whichever way Haraka's release gives it. */
export const addressOf = (a: Address | null | undefined): string => {
  const v = a?.address
  return (typeof v === 'function' ? v.call(a) : v) ?? ''
}
export const envelopeSender = (txn: Transaction): string => addressOf(txn.mail_from)

/** The envelope recipients (RCPT TO) that have an address, lower case, each once. */
export const envelopeRecipients = (txn: Transaction): string[] => [
  ...new Set((txn.rcpt_to ?? []).map((a) => addressOf(a).toLowerCase()).filter((a) => a.includes('@'))),
]

/** The domains of the envelope recipients (RCPT TO), lower case, each once. */
export const recipientDomains = (txn: Transaction): string[] => [
  ...new Set(
    (txn.rcpt_to ?? [])
      .map((a) => addressOf(a))
      .filter((a) => a.includes('@'))
      .map((a) => a.slice(a.lastIndexOf('@') + 1).toLowerCase()),
  ),
]


/** Haraka's `me` as the connection knows it: the default authserv-id. */
export const harakaMeOf = (connection: Connection): string => connection.local.host || 'localhost'
