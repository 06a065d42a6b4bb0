/**
 * The quarantine's hooks: a released copy passes as it was held (its one-time token); a
 * message to hold is stored by the plugin's own writer (quarantine/writer.ts) in core
 * queue/quarantine's folder and layout, or deferred (451) when it cannot be stored whole;
 * a held message is accepted and never delivered; then its sidecar is written.
 */
import fs from 'node:fs'
import path from 'node:path'
import constants from 'haraka-constants'
import DSN from 'haraka-dsn'

import { AR_HEADER, isOurAuthResults } from '../auth/results.js'
import { authservIdFor } from '../config/sources.js'
import { QuarantineStore } from '../quarantine/store.js'
import { RELEASE_HEADER, quarantineDirOf } from '../quarantine/names.js'
import { buildSidecar, writeSidecar } from '../quarantine/sidecar.js'
import { holdMessage } from '../quarantine/writer.js'
import { type Connection, type Next, type ShopNoticePlugin, type Transaction, addressOf, envelopeSender, harakaMeOf } from './haraka.js'

/** The quarantine folder core queue/quarantine writes (its quarantine.ini; relative to Haraka's folder). */
const quarantineDir = (plugin: ShopNoticePlugin): string => quarantineDirOf(plugin.config.get('quarantine.ini'), process.cwd())

/**
 * A copy an admin released from the quarantine (`shop-notice quarantine release`) carries the
 * one-time token of its release claim: it passes as it was held, and `next()` is called here.
 * Any other such header is forged: it is removed and `scan` goes on. Returns false when the
 * message carries no release header (the caller scans it).
 */
export function passReleased(this: ShopNoticePlugin, next: Next, connection: Connection, txn: Transaction, scan: () => void): boolean {
  const released = txn.header.get_all(RELEASE_HEADER)
  if (!released.length) return false
  const value = released.length === 1 ? (released[0] ?? '') : ''
  new QuarantineStore(quarantineDir(this))
    .useToken(value)
    .catch(() => undefined)
    .then((release) => {
      if (connection.transaction !== txn) return next()
      if (release) {
        txn.results.add(this, { skip: 'released', emit: true })
        connection.loginfo(this, `released from quarantine id=${release.id} by=${release.by}: passed as held, not scanned again`)
        return next()
      }
      txn.remove_header(RELEASE_HEADER)
      connection.logwarn(this, `removed ${released.length} ${RELEASE_HEADER} header(s) without a valid release token`)
      scan()
    })
    .catch((err: unknown) => {
      connection.logerror(this, `internal error, message passed unscanned: ${(err as Error)?.stack ?? String(err)}`)
      next()
    })
  return true
}

const HOLD_FAILED = 'The message could not be stored, try again later'

/** Stores the transaction's message (as it will be queued: every header edit made) in the quarantine folder. */
function store(plugin: ShopNoticePlugin, txn: Transaction): Promise<string> {
  return holdMessage({
    dir: quarantineDir(plugin),
    id: txn.uuid,
    pipeTo: (out) => {
      txn.message_stream.once('error', (err) => (out as NodeJS.WritableStream & { destroy(e?: Error): void }).destroy(err))
      txn.message_stream.pipe(out, { line_endings: '\n' })
    },
  })
}

/**
 * data_post, after every other data_post hook (priority 100): a message the scan decided to
 * hold (`txn.notes.shop_notice_hold`) is stored whole now, its headers as every plugin left
 * them. When it cannot be (the day folder cannot be made, the disk is full, a write fails)
 * nothing is left behind and the sender is asked to try again (451): the message is
 * never delivered instead, and never half stored. This replaces core queue/quarantine for
 * the plugin's messages: core calls next() twice when its folder or write fails, delivering
 * the message and then crashing Haraka ("Cannot pipe while currently piping").
 */
export function hold_message(this: ShopNoticePlugin, next: Next, connection: Connection): void {
  const txn = connection.transaction
  if (!txn || txn.notes.shop_notice_hold !== true || typeof txn.notes.quarantined === 'string') return next()
  store(this, txn).then(
    (file) => {
      if (connection.transaction !== txn) return next()
      txn.notes.quarantined = file
      txn.results.add(this, { pass: 'held', emit: true })
      next()
    },
    (err: unknown) => {
      connection.logerror(this, `id=${txn.uuid} could not be held (${(err as Error)?.message ?? String(err)}): deferred, not delivered`)
      if (connection.transaction !== txn) return next()
      next(constants.DENYSOFT, DSN.sys_disk_full(HOLD_FAILED, 451))
    },
  )
}

/**
 * queue and queue_outbound, before every other queue hook (priority -100): a held message
 * is accepted (250) and goes to no queue plugin after this one. Should data_post have ended
 * before hold_message ran (another plugin's OK), the message is stored here, or deferred.
 */
export function queue_held(this: ShopNoticePlugin, next: Next, connection: Connection): void {
  const txn = connection.transaction
  if (!txn || txn.notes.shop_notice_hold !== true) return next()
  if (typeof txn.notes.quarantined === 'string') return next(constants.OK, 'Message accepted')
  store(this, txn).then(
    (file) => {
      txn.notes.quarantined = file
      txn.results.add(this, { pass: 'held', emit: true })
      next(constants.OK, 'Message accepted')
    },
    (err: unknown) => {
      connection.logerror(this, `id=${txn.uuid} could not be held (${(err as Error)?.message ?? String(err)}): deferred, not delivered`)
      next(constants.DENYSOFT, HOLD_FAILED)
    },
  )
}

/**
 * queue_ok: when the message was held (txn.notes.quarantined is its file; the plugin's
 * writer's, or core queue/quarantine's for another plugin), writes the sidecar next to it (atomically), so that `shop-notice quarantine
 * list` needs no rescan. Runs before the client hears 250. A failure is logged: the
 * message itself is held either way, and `list` then reads its headers instead.
 */
export function record_quarantine(this: ShopNoticePlugin, next: Next, connection: Connection): void {
  const txn = connection.transaction
  const stored = txn?.notes.quarantined
  if (!txn || typeof stored !== 'string') return next()
  const settings = this.shopNotice?.settings
  const file = path.resolve(stored)
  const authservId = authservIdFor(settings ?? { main: { authserv_id: '' } }, harakaMeOf(connection))
  const header = (name: string): string | undefined => txn.header.get_all(name)[0]?.replace(/\r?\n$/, '')
  fs.promises
    .stat(file)
    .then((st) =>
      writeSidecar(
        file,
        buildSidecar({
          id: txn.uuid,
          received: new Date(),
          remote: { ip: connection.remote.ip, host: connection.remote.host ?? null, helo: connection.hello.host },
          envelope: { from: envelopeSender(txn), to: (txn.rcpt_to ?? []).map(addressOf) },
          headers: { from: header('From'), subject: header('Subject'), messageId: header('Message-ID') },
          size: st.size,
          summary: txn.notes.shop_notice,
          scores: settings?.scores ?? {},
          authenticationResults: txn.header
            .get_all(AR_HEADER)
            .filter((v) => isOurAuthResults(v, authservId))
            .map((v) => v.replace(/\r?\n$/, '')),
        }),
      ),
    )
    .then(
      (sidecar) => connection.loginfo(this, `quarantined id=${txn.uuid} file=${file} sidecar=${sidecar}`),
      (err: unknown) => connection.logerror(this, `quarantined id=${txn.uuid} file=${file}, but its sidecar could not be written: ${(err as Error).message}`),
    )
    .finally(() => next())
}
