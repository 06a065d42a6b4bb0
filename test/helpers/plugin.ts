/**
 * The plugin through haraka-test-fixtures, for tests that feed it many messages: a
 * plugin whose configuration is the package's overridden by a temporary folder, a
 * connection as Haraka makes it, and what the transaction would write out.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'

import { PACKAGE_ROOT } from '../../dist/src/config/sources.js'
import { loadMessage } from './haraka-txn'

// haraka-test-fixtures is untyped CommonJS
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const fixtures = require('haraka-test-fixtures')

export const AUTHSERV = 'mx.test.example'

export interface FixturePlugin {
  shopNotice: { settings: { actions: { mode: string } } }
  load_shop_notice_config(fromWatcher?: boolean): void
  logerror: (msg: string) => void
  loginfo: (msg: string) => void
  logwarn: (msg: string) => void
  [key: string]: unknown
}

export interface PluginOptions {
  /** the loopback DNS server the plugin asks */
  dnsPort: number
  /** appended to a shop-notice.ini that names AUTHSERV and points DNS at `dnsPort` */
  ini?: string
  /** shop-notice.retailers.yaml of the folder (else the package's) */
  registry?: string
  /** more files of the folder's config/, by name (quarantine.ini…) */
  files?: Readonly<Record<string, string>>
}

/**
 * A registered plugin whose configuration is the package's, overridden by a temporary
 * folder's config/ (removed when the test ends). `rewrite(ini)` writes shop-notice.ini
 * again, for reload tests. The one helper every plugin test uses.
 */
export function makePlugin<P = FixturePlugin>(t: Test, opts: PluginOptions): { plugin: P; dir: string; rewrite(ini: string): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-plugin-'))
  let plugin: { shopNoticeStore?: { store: { close(): Promise<void> } } } | undefined
  t.teardown(async () => {
    // the state store (var/shop-notice.sqlite in this folder) is closed before its folder goes
    await plugin?.shopNoticeStore?.store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  fs.mkdirSync(path.join(dir, 'config'))
  const rewrite = (ini: string): void =>
    fs.writeFileSync(
      path.join(dir, 'config', 'shop-notice.ini'),
      `[main]\nauthserv_id=${AUTHSERV}\n[dns]\nservers=127.0.0.1:${opts.dnsPort}\ntimeout_ms=300\nmessage_timeout_ms=1500\n${ini}`,
    )
  rewrite(opts.ini ?? '')
  if (opts.registry) fs.writeFileSync(path.join(dir, 'config', 'shop-notice.retailers.yaml'), opts.registry)
  for (const [name, text] of Object.entries(opts.files ?? {})) fs.writeFileSync(path.join(dir, 'config', name), text)
  plugin = fixtures.makePlugin('shop-notice', { register: false })
  const made = plugin as unknown as { config: { module_config(a: string, b: string): unknown }; register(): void }
  made.config = made.config.module_config(PACKAGE_ROOT, dir) as typeof made.config
  made.register()
  return { plugin: plugin as unknown as P, dir, rewrite }
}

export interface FixtureConnection {
  transaction: {
    header: { get_all(n: string): string[]; lines(): string[] }
    notes: Record<string, unknown>
    results: { get(plugin: string): Record<string, unknown> }
    message_stream: { get_data(cb: (b: Buffer) => void): void }
  }
  notes: Record<string, unknown>
  local: { host?: string }
}

/** A connection from a public address with one transaction, as Haraka has it at DATA. */
export function connection(opts: { ip?: string; mailFrom?: string; helo?: string } = {}): FixtureConnection {
  const conn = fixtures.makeConnection({
    ip: opts.ip ?? '203.0.113.5',
    helo: opts.helo ?? 'client.example',
    mailFrom: opts.mailFrom ?? 'notice@testshop.jp',
    rcptTo: ['user@example.net'],
  })
  // the fixture reads Haraka 3.2's smtp.ini [headers], without max_lines: without it every header line is dropped
  conn.transaction.cfg = { ...conn.transaction.cfg, headers: { ...conn.transaction.cfg.headers, max_lines: 1000 } }
  return conn
}

/** The message as the transaction would hand it to the queue: Haraka's header list, then the body. */
export const written = (conn: FixtureConnection): Promise<Buffer> =>
  new Promise((resolve) => conn.transaction.message_stream.get_data((b) => resolve(b)))

/** Feeds `raw` into the transaction as SMTP DATA and runs the data_post hook. */
export async function deliver(plugin: FixturePlugin, conn: FixtureConnection, raw: Buffer): Promise<{ rc?: number; msg?: unknown }> {
  await loadMessage(conn.transaction as never, raw)
  return fixtures.callDataPost(plugin, conn)
}

/** The same message through a transaction with no plugin at all: what Haraka itself makes of it. */
export async function reference(raw: Buffer): Promise<Buffer> {
  const conn = connection()
  await loadMessage(conn.transaction as never, raw)
  return written(conn)
}

/**
 * What the transaction writes out, cut where Haraka cuts it: its header fields (Haraka's
 * header list, one string per field, folds as CRLF, no final CRLF) and everything after
 * them. Haraka's fields are not always what a reader finds before the first empty line:
 * a bare CR at the start of a header line becomes one (haraka-email-message turns a bare
 * CR into CRLF SP).
 */
export async function writtenParts(conn: FixtureConnection): Promise<{ fields: string[]; rest: Buffer }> {
  const out = await written(conn)
  const lines = conn.transaction.header.lines()
  const fields = lines.map((l) => l.replace(/\r?\n/g, '\r\n'))
  const headLength = fields.reduce((n, f) => n + Buffer.byteLength(f), 0)
  return { fields: fields.map((f) => f.replace(/\r\n$/, '')), rest: out.subarray(headLength) }
}

/** writtenParts() of the message through a transaction with no plugin at all. */
export async function referenceParts(raw: Buffer): Promise<{ fields: string[]; rest: Buffer }> {
  const conn = connection()
  await loadMessage(conn.transaction as never, raw)
  return writtenParts(conn)
}

/** Splits a message at its first empty line: header fields (folds kept, CRLF off the end) and body bytes. */
export function splitMessage(raw: Buffer): { fields: string[]; body: Buffer; hasBody: boolean } {
  if (raw.subarray(0, 2).toString('latin1') === '\r\n') return { fields: [], body: raw.subarray(2), hasBody: true }
  const end = raw.indexOf('\r\n\r\n')
  const head = (end < 0 ? raw : raw.subarray(0, end + 2)).toString('latin1')
  const fields: string[] = []
  for (const line of head.split(/(?<=\r\n)/)) {
    if (!line) continue
    if (/^[ \t]/.test(line) && fields.length) fields[fields.length - 1] += line
    else fields.push(line)
  }
  return { fields: fields.map((f) => f.replace(/\r\n$/, '')), body: end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4), hasBody: end >= 0 }
}
