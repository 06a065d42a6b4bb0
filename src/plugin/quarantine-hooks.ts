/**
 * The quarantine's hooks: a released copy passes as it was held (its one-time token),
 * and after core queue/quarantine stored a message, its sidecar is written.
 */
import fs from 'node:fs'
import path from 'node:path'

import { AR_HEADER, isOurAuthResults } from '../auth/results.js'
import { authservIdFor } from '../config/sources.js'
import { QuarantineStore } from '../quarantine/store.js'
import { RELEASE_HEADER, quarantineDirOf } from '../quarantine/names.js'
import { buildSidecar, writeSidecar } from '../quarantine/sidecar.js'
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

/**
 * queue_ok: when core queue/quarantine has stored the message (txn.notes.quarantined is
 * its file), writes the sidecar next to it (atomically), so that `shop-notice quarantine
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
