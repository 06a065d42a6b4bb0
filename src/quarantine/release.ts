/**
 * Releasing a held message: sent on through SMTP, at most once.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'

import { CLAIM_EXT, RELEASE_HEADER } from './names.js'
import { type ReleaseRecord, formatReleaseHeader, isReleaser, rfc5322Date } from './release-record.js'
import type { Entry, QuarantineStore } from './store.js'
import { type SmtpEnvelope, SmtpError, type SmtpTarget, sendMessage } from './smtp-client.js'

export class ReleaseError extends Error {}

export interface ReleaseOptions {
  /** who releases (the by= of the header) */
  readonly by: string
  readonly now: Date
  readonly target: SmtpTarget
  /** instead of the sidecar's envelope */
  readonly envelope?: SmtpEnvelope
  /** the SMTP client (tests may pass another) */
  readonly send?: typeof sendMessage
}

export interface Released {
  readonly record: ReleaseRecord
  /** the header line added on top */
  readonly header: string
}

/**
 * Sends a held message on, unchanged but for one header on top recording who released it
 * and when; at most once. The claim is made before anything is sent; a delivery that
 * certainly failed gives it back, one whose outcome is unknown keeps it (and says so).
 */
export async function releaseEntry(store: QuarantineStore, e: Entry, opts: ReleaseOptions): Promise<Released> {
  if (!isReleaser(opts.by)) throw new ReleaseError(`releaser ${JSON.stringify(opts.by)}: letters, digits and . _ @ + - only (at most 64)`)
  const envelope = opts.envelope ?? (e.source === 'sidecar' ? e.info.envelope : undefined)
  if (!envelope?.to.length) {
    throw new ReleaseError(`${e.id}: the envelope is unknown (${e.source === 'sidecar' ? 'no recipient recorded' : 'no sidecar'}); give it with --from and --to`)
  }
  const to = `${opts.target.host}:${opts.target.port}`
  const at = opts.now.toISOString()
  const token = crypto.randomBytes(16).toString('hex')
  const envelopeRec = { from: envelope.from, to: [...envelope.to] }
  await store.claim(e, { state: 'sending', by: opts.by, at, to, envelope: envelopeRec, token, pid: process.pid })

  let message: Buffer
  const header = `${RELEASE_HEADER}: ${formatReleaseHeader({ by: opts.by, at: rfc5322Date(opts.now), id: e.id, token })}`
  try {
    message = Buffer.concat([Buffer.from(`${header}\n`, 'latin1'), await fs.promises.readFile(e.file)])
  } catch (err) {
    await store.unclaim(e)
    throw new ReleaseError(`${e.id}: cannot read ${e.file}: ${(err as Error).message}`)
  }

  let reply: string
  try {
    reply = (await (opts.send ?? sendMessage)(opts.target, envelope, message)).reply
  } catch (err) {
    if (err instanceof SmtpError && err.delivered === 'no') {
      await store.unclaim(e)
      throw new ReleaseError(`${e.id} not released, still held: ${err.message}`)
    }
    const reason = (err as Error).message
    await store.settle(e, { state: 'unknown', by: opts.by, at, to, envelope: envelopeRec, error: reason })
    throw new ReleaseError(
      `${e.id}: the message was sent to ${to} but no answer came (${reason}); it may have been delivered. Check there; to try again, remove ${e.file}${CLAIM_EXT}`,
    )
  }
  const record: ReleaseRecord = { state: 'released', by: opts.by, at, to, envelope: envelopeRec, reply }
  try {
    await store.settle(e, record)
  } catch (err) {
    // delivered: the claim stays as it is (a release in progress), so it is never sent again
    throw new ReleaseError(`${e.id} was released to ${to} (${reply}), but the record could not be written: ${(err as Error).message}`)
  }
  return { record, header }
}

