/**
 * The quarantine store: the folder Haraka's core queue/quarantine writes
 * (`<quarantine_path>/[<sub>/]YYYYMMDD/<transaction uuid>`, one file per held
 * message, LF line endings), and what shop-notice keeps next to each message:
 *
 *   <uuid>.json          the sidecar: verdict, signals, envelope, subject, client… written
 *                        by the plugin (queue_ok hook) when the message is held, so that
 *                        `list` reads no message and rescans nothing
 *   <uuid>.release       the release claim, created exclusively by `release` before it
 *                        sends anything, then the record of the release (who, when, where);
 *                        0600: while sending it holds the one-time token
 *   <uuid>.release-used  made by the plugin when a released copy came back through it
 *                        carrying the claim's one-time token (docs/operations.md)
 *
 * and at the top, `.releasing/<uuid>`: the message's path (relative) while its release is
 * being sent, so that the plugin finds a released copy's claim by its id in O(1) file
 * operations, never by listing the quarantine (100,000 held messages: a listing is 0.2-0.5 s).
 *
 * No Haraka here; the clock and the SMTP client are parameters.
 */
import fs from 'node:fs'
import crypto from 'node:crypto'
import path from 'node:path'

import { CLAIM_EXT, RELEASING_DIR, SIDECAR_EXT, USED_EXT, isMessageId } from './names.js'
import { type ReleaseHeader, type ReleaseRecord, parseRelease, parseReleaseHeader } from './release-record.js'
import { type Sidecar, infoFromHeaders, parseSidecar } from './sidecar.js'
import { isEnoent, readHead, writeFileAtomic } from './text.js'


export type Status = 'held' | 'releasing' | 'released' | 'unknown'

export interface Entry {
  readonly id: string
  /** the message file, absolute */
  readonly file: string
  /** when it was held: the sidecar's time, else the file's modification time */
  readonly received: Date
  /** the stored size in bytes */
  readonly size: number
  /** the sidecar, or what the stored headers tell when there is none */
  readonly info: Sidecar
  readonly source: 'sidecar' | 'headers'
  /** why the sidecar could not be used, when it exists but is damaged */
  readonly sidecarProblem?: string
  readonly status: Status
  readonly release?: ReleaseRecord
}

export interface ListFilter {
  readonly since?: Date
  /** exclusive */
  readonly until?: Date
  readonly brand?: string
  readonly verdict?: string
  /** a part of a recipient address, case-insensitive */
  readonly recipient?: string
  readonly status?: Status
}

export class NotFoundError extends Error {}

const statusOf = (r: ReleaseRecord | undefined): Status => (!r ? 'held' : r.state === 'sending' ? 'releasing' : r.state)

export interface PurgeResult {
  readonly removed: readonly Entry[]
  readonly bytes: number
}

/** The quarantine folder: every held message, what is known about it, and what may be done with it. */
export class QuarantineStore {
  constructor(readonly dir: string) {}

  /** Every message file: `<dir>/YYYYMMDD/<id>`, also below sub-folders (core's `notes.quarantine = 'sub'`). */
  async files(): Promise<{ id: string; file: string }[]> {
    const out: { id: string; file: string }[] = []
    const walk = async (dir: string, depth: number): Promise<void> => {
      const entries = await fs.promises.readdir(dir, { withFileTypes: true })
      for (const e of entries) {
        const p = path.join(dir, e.name)
        if (e.isDirectory()) {
          if (/^\d{8}$/.test(e.name)) {
            for (const f of await fs.promises.readdir(p, { withFileTypes: true })) {
              if (f.isFile() && !f.name.startsWith('.') && isMessageId(f.name)) out.push({ id: f.name, file: path.join(p, f.name) })
            }
          } else if (depth < 3 && !e.name.startsWith('.') && !(depth === 0 && e.name === 'tmp')) await walk(p, depth + 1)
        }
      }
    }
    try {
      await walk(this.dir, 0)
    } catch (err) {
      if (isEnoent(err)) throw new NotFoundError(`${this.dir}: no such quarantine folder (quarantine_path in config/quarantine.ini, or --dir)`)
      throw err
    }
    return out
  }

  /** Everything known about one message file. */
  async load(id: string, file: string): Promise<Entry> {
    const stat = await fs.promises.stat(file)
    let info: Sidecar | undefined
    let sidecarProblem: string | undefined
    try {
      info = parseSidecar(await fs.promises.readFile(`${file}${SIDECAR_EXT}`, 'utf8'))
      if (info.id !== id) throw new Error(`sidecar names another message (${info.id})`)
    } catch (err) {
      info = undefined
      if (!isEnoent(err)) sidecarProblem = (err as Error).message
    }
    let release: ReleaseRecord | undefined
    try {
      release = parseRelease(await fs.promises.readFile(`${file}${CLAIM_EXT}`, 'utf8'))
    } catch (err) {
      if (!isEnoent(err)) throw err
    }
    const received = info ? new Date(info.received) : stat.mtime
    return {
      id,
      file,
      received,
      size: stat.size,
      info: info ?? infoFromHeaders(id, await readHead(file), received, stat.size),
      source: info ? 'sidecar' : 'headers',
      ...(sidecarProblem ? { sidecarProblem } : {}),
      status: statusOf(release),
      ...(release ? { release } : {}),
    }
  }

  /** The held messages that pass `filter`, newest first. */
  async list(filter: ListFilter = {}): Promise<Entry[]> {
    const entries: Entry[] = []
    for (const { id, file } of await this.files()) {
      let e: Entry
      try {
        e = await this.load(id, file)
      } catch (err) {
        if (isEnoent(err)) continue // removed meanwhile
        throw err
      }
      if (matches(e, filter)) entries.push(e)
    }
    return entries.sort((a, b) => b.received.getTime() - a.received.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /** One message by its id, or by a prefix of it that names one message only. */
  async find(idOrPrefix: string, opts: { exact?: boolean } = {}): Promise<Entry> {
    if (!/^[A-Za-z0-9._-]+$/.test(idOrPrefix)) throw new NotFoundError(`${JSON.stringify(idOrPrefix)} is not a message id`)
    const files = await this.files()
    const exact = files.filter((f) => f.id === idOrPrefix)
    const hits = exact.length || opts.exact ? exact : files.filter((f) => f.id.toLowerCase().startsWith(idOrPrefix.toLowerCase()))
    if (!hits.length) throw new NotFoundError(`no held message ${idOrPrefix} in ${this.dir}`)
    if (hits.length > 1) {
      throw new NotFoundError(`${idOrPrefix} names ${hits.length} messages (${hits.slice(0, 5).map((h) => h.id).join(', ')}${hits.length > 5 ? ', …' : ''}): give more of the id`)
    }
    return this.load(hits[0]!.id, hits[0]!.file)
  }

  /** Removes a message and everything kept next to it; then its day folder when it is empty. */
  async remove(e: Entry): Promise<void> {
    await fs.promises.unlink(e.file)
    for (const ext of [SIDECAR_EXT, CLAIM_EXT, USED_EXT]) await fs.promises.unlink(`${e.file}${ext}`).catch((err: unknown) => (isEnoent(err) ? undefined : Promise.reject(err)))
    await this.unlinkReleasing(e.id)
    await fs.promises.rmdir(path.dirname(e.file)).catch(() => undefined) // only when empty
  }

  /** Removes every message held before `cutoff` (by its received time). `dryRun` only tells. */
  async purge(cutoff: Date, dryRun = false): Promise<PurgeResult> {
    const old = (await this.list({ until: cutoff })).reverse()
    let bytes = 0
    for (const e of old) {
      if (!dryRun) await this.remove(e)
      bytes += e.size
    }
    return { removed: old, bytes }
  }

  // ------------------------------------------------------------ release claims

  /**
   * Claims the release of `e`: creates `<message>.release` exclusively, so that of two
   * releases only one can ever send. Throws AlreadyReleasedError when it exists.
   */
  async claim(e: Entry, rec: ReleaseRecord): Promise<void> {
    let fh: fs.promises.FileHandle
    try {
      fh = await fs.promises.open(`${e.file}${CLAIM_EXT}`, 'wx', 0o600)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const existing = parseRelease(await fs.promises.readFile(`${e.file}${CLAIM_EXT}`, 'utf8').catch(() => ''))
      throw new AlreadyReleasedError(e, existing, `${e.file}${CLAIM_EXT}`)
    }
    try {
      await fh.writeFile(`${JSON.stringify(rec, null, 2)}\n`)
      await fh.sync()
    } finally {
      await fh.close()
    }
    if (rec.state === 'sending') {
      try {
        await fs.promises.mkdir(path.join(this.dir, RELEASING_DIR), { recursive: true, mode: 0o700 })
        await writeFileAtomic(this.releasingFile(e.id), `${path.relative(this.dir, e.file)}\n`, 0o600)
      } catch (err) {
        await fs.promises.unlink(`${e.file}${CLAIM_EXT}`).catch(() => undefined)
        throw err
      }
    }
  }

  /** Replaces the claim with its outcome (atomically); a release no longer being sent leaves `.releasing/`. */
  async settle(e: Entry, rec: ReleaseRecord): Promise<void> {
    await writeFileAtomic(`${e.file}${CLAIM_EXT}`, `${JSON.stringify(rec, null, 2)}\n`, 0o600)
    if (rec.state !== 'sending') await this.unlinkReleasing(e.id)
  }

  /** Gives a claim back: nothing was delivered, the message is held again. */
  async unclaim(e: Entry): Promise<void> {
    for (const ext of [USED_EXT, CLAIM_EXT]) await fs.promises.unlink(`${e.file}${ext}`).catch((err: unknown) => (isEnoent(err) ? undefined : Promise.reject(err)))
    await this.unlinkReleasing(e.id)
  }

  private releasingFile(id: string): string {
    return path.join(this.dir, RELEASING_DIR, id)
  }

  private async unlinkReleasing(id: string): Promise<void> {
    await fs.promises.unlink(this.releasingFile(id)).catch((err: unknown) => (isEnoent(err) ? undefined : Promise.reject(err)))
  }

  /**
   * The message whose release is being sent, by its id: `.releasing/<id>` names its file.
   * A few file operations, whatever the size of the quarantine; never a listing.
   */
  async releasing(id: string): Promise<Entry | undefined> {
    if (!isMessageId(id)) return undefined
    let rel: string
    try {
      rel = (await fs.promises.readFile(this.releasingFile(id), 'utf8')).trim()
    } catch {
      return undefined
    }
    const file = path.resolve(this.dir, rel)
    // only a message of this quarantine, of this id
    if (path.basename(file) !== id || path.relative(this.dir, file).startsWith('..') || path.isAbsolute(path.relative(this.dir, file))) return undefined
    try {
      return await this.load(id, file)
    } catch {
      return undefined
    }
  }

  /**
   * For the plugin: is `value` (an X-Shop-Notice-Released header) the token of a
   * release being sent right now? Uses the token up: a second copy is refused.
   */
  async useToken(value: string): Promise<ReleaseHeader | undefined> {
    const h = parseReleaseHeader(value)
    if (!h) return undefined
    const e = await this.releasing(h.id)
    if (!e) return undefined
    const rec = e.release
    if (rec?.state !== 'sending' || !rec.token || rec.token.length !== h.token.length) return undefined
    if (!crypto.timingSafeEqual(Buffer.from(rec.token), Buffer.from(h.token))) return undefined
    try {
      await fs.promises.writeFile(`${e.file}${USED_EXT}`, `${new Date().toISOString()}\n`, { flag: 'wx', mode: 0o600 })
    } catch {
      return undefined // used already (or the folder is not writable): not a valid release
    }
    return h
  }
}

export class AlreadyReleasedError extends Error {
  constructor(
    readonly entry: Entry,
    readonly record: ReleaseRecord,
    readonly claimFile: string,
  ) {
    const who = `by ${record.by} at ${record.at} to ${record.to}`
    super(
      record.state === 'released'
        ? `${entry.id} was already released ${who}: not sent again`
        : record.state === 'sending'
          ? `${entry.id} is being released ${who} (process ${record.pid ?? '?'}); if that process is gone, check whether ${record.to} received it, then remove ${claimFile} to allow another release`
          : `${entry.id}: a release ${who} did not finish (${record.error ?? 'outcome unknown'}); check whether ${record.to} received it, then remove ${claimFile} to allow another release`,
    )
    this.name = 'AlreadyReleasedError'
  }
}

function matches(e: Entry, f: ListFilter): boolean {
  if (f.since && e.received < f.since) return false
  if (f.until && e.received >= f.until) return false
  if (f.brand !== undefined && (e.info.brand ?? '-').toLowerCase() !== f.brand.toLowerCase()) return false
  if (f.verdict !== undefined && (e.info.verdict ?? '-').toLowerCase() !== f.verdict.toLowerCase()) return false
  if (f.recipient !== undefined) {
    const want = f.recipient.toLowerCase()
    if (!e.info.envelope.to.some((to) => to.toLowerCase().includes(want))) return false
  }
  if (f.status !== undefined && e.status !== f.status) return false
  return true
}

