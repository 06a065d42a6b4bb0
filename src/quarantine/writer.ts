/**
 * Holding a message: the plugin's own quarantine writer, in the folder layout of Haraka's
 * core queue/quarantine (`<quarantine_path>/[<sub>/]YYYYMMDD/<id>`, LF line endings), so that
 * `shop-notice quarantine list/show/release` read it as they read core's files.
 *
 * Written whole or not at all: the bytes go to a temporary name in the day folder
 * (`.<id>.<random>.tmp`, a dot name that `list` never reads), are flushed to the disk
 * (fsync), and only then linked to `<id>`; a failure at any step (the day folder cannot be
 * made, the disk is full, the source breaks off) removes the temporary file and rejects,
 * and the caller defers the message (451). A message is therefore either listed complete
 * or not stored at all; it is never both held and delivered (docs/reliability.md).
 *
 * No Haraka here: the bytes come from `pipeTo`, which pipes them into the stream it gets.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

import { isMessageId } from './names.js'

/** Core's day folder name: the local date, YYYYMMDD. */
export const dayFolderOf = (d: Date): string => `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`

/** Held messages are mail: readable by the owner and its group only. */
const FILE_MODE = 0o640

export interface HoldOptions {
  /** the quarantine folder (quarantine.ini's quarantine_path, absolute) */
  readonly dir: string
  /** the message id (Haraka's transaction uuid): the file's name */
  readonly id: string
  /** writes the message into `out` (and ends it); may throw or make `out` fail */
  readonly pipeTo: (out: NodeJS.WritableStream) => void
  /** the day folder's date (default: now) */
  readonly now?: Date
  /** a sub-folder below the quarantine folder, as core's `notes.quarantine = 'sub'` */
  readonly sub?: string
}

/** Stores one message whole; resolves to its file, or rejects with nothing left behind. */
export async function holdMessage(opts: HoldOptions): Promise<string> {
  if (!isMessageId(opts.id)) throw new Error(`${JSON.stringify(opts.id)} is not a message id`)
  if (opts.sub !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(opts.sub)) throw new Error(`${JSON.stringify(opts.sub)} is not a quarantine sub-folder`)
  const dayDir = path.join(opts.dir, ...(opts.sub ? [opts.sub] : []), dayFolderOf(opts.now ?? new Date()))
  await fs.promises.mkdir(dayDir, { recursive: true })
  const file = path.join(dayDir, opts.id)
  const tmp = path.join(dayDir, `.${opts.id}.${crypto.randomBytes(6).toString('hex')}.tmp`)
  try {
    await writeWhole(tmp, opts.pipeTo)
    await fs.promises.link(tmp, file) // never replaces a held message of the same id
  } finally {
    await fs.promises.unlink(tmp).catch(() => undefined)
  }
  await syncDir(dayDir)
  return file
}

/** Writes the source into `file` (created exclusively), flushed to the disk; rejects on any error of either side. */
function writeWhole(file: string, pipeTo: (out: NodeJS.WritableStream) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: Error | undefined
    const out = fs.createWriteStream(file, { flags: 'wx', mode: FILE_MODE, flush: true })
    // stays attached: a source still writing after a failure must not raise an uncaught error
    out.on('error', (err: Error) => {
      failed ??= err
    })
    out.once('close', () => (failed ? reject(failed) : out.writableFinished ? resolve() : reject(new Error('the message was not written whole'))))
    try {
      pipeTo(out)
    } catch (err) {
      failed ??= err as Error
      out.destroy()
    }
  })
}

/** fsync of the folder, so that the new name survives a crash; best effort (not every file system allows it). */
async function syncDir(dir: string): Promise<void> {
  let fh: fs.promises.FileHandle | undefined
  try {
    fh = await fs.promises.open(dir, 'r')
    await fh.sync()
  } catch {
    // a folder that cannot be opened or synced: the file is still complete under its name
  } finally {
    await fh?.close().catch(() => undefined)
  }
}
