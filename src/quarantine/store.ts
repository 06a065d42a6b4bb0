/**
 * The quarantine store: the folder Haraka's core queue/quarantine writes
 * (`<quarantine_path>/[<sub>/]YYYYMMDD/<transaction uuid>`, one file per held
 * message, LF line endings), and what shop-notice keeps next to each message:
 *
 *   <uuid>.json          the sidecar: verdict, signals, envelope, subject, client… written
 *                        by the plugin (queue_ok hook) when the message is held, so that
 *                        `list` reads no message and rescans nothing
 *   <uuid>.release       the release claim, created exclusively by `release` before it
 *                        sends anything, then the record of the release (who, when, where)
 *   <uuid>.release-used  made by the plugin when a released copy came back through it
 *                        carrying the claim's one-time token (docs/operations.md)
 *
 * No Haraka here; the clock and the SMTP client are parameters.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import libmime from 'libmime'

import { type SmtpEnvelope, SmtpError, type SmtpTarget, sendMessage } from './smtp-client.js'

/** core queue/quarantine's folder when quarantine.ini names none */
export const CORE_DEFAULT_QUARANTINE_PATH = '/var/spool/haraka/quarantine'
export const RELEASE_HEADER = 'X-Shop-Notice-Released'
export const SIDECAR_VERSION = 1

const SIDECAR_EXT = '.json'
const CLAIM_EXT = '.release'
const USED_EXT = '.release-used'
/** names that are ours (or temporary), never messages */
const OURS = /(\.json|\.release|\.release-used|\.tmp)$/

/** A message id as core names the file (Haraka's transaction uuid); nothing that could leave the folder. */
export const isMessageId = (id: string): boolean => /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(id) && !OURS.test(id)

/** The quarantine folder core uses for a parsed quarantine.ini; a relative path is taken from `base`. */
export function quarantineDirOf(ini: unknown, base: string): string {
  const main = (ini as { main?: { quarantine_path?: unknown } } | undefined)?.main
  const p = typeof main?.quarantine_path === 'string' && main.quarantine_path.trim() ? main.quarantine_path.trim() : CORE_DEFAULT_QUARANTINE_PATH
  return path.resolve(base, p)
}

// ---------------------------------------------------------------- text from messages

/**
 * One line of text from a message, safe to print on a terminal and in a TAB-separated
 * line: folding undone, control and invisible formatting characters (which an attacker
 * can use to hide or reorder text) shown as U+FFFD, spaces collapsed, at most `max`
 * characters.
 */
export function sanitizeText(s: string, max = 300): string {
  const out = s
    .replace(/\r?\n[ \t]+/g, ' ')
    .replace(/[\t\r\n\u2028\u2029]/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '\uFFFD')
    .replace(/\p{Cf}/gu, '\uFFFD')
    .replace(/ {2,}/g, ' ')
    .trim()
  const chars = [...out]
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : out
}

/** A header value decoded (RFC 2047 encoded-words, any charset libmime knows) and sanitized. */
export function decodeHeaderText(raw: string, max = 300): string {
  const unfolded = raw.replace(/\r?\n[ \t]+/g, ' ')
  let decoded = unfolded
  try {
    decoded = libmime.decodeWords(unfolded)
  } catch {
    // an undecodable encoded-word is shown as written
  }
  return sanitizeText(decoded, max)
}

export interface HeaderField {
  readonly name: string
  /** the value as stored, folding kept (lines joined with \n) */
  readonly raw: string
}

/** The header fields of a stored message, in order. */
export function parseHeaderBlock(head: string): HeaderField[] {
  const fields: { name: string; raw: string }[] = []
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length) {
      fields[fields.length - 1]!.raw += `\n${line}`
      continue
    }
    const i = line.indexOf(':')
    if (i <= 0) continue
    fields.push({ name: line.slice(0, i), raw: line.slice(i + 1).replace(/^[ \t]/, '') })
  }
  return fields
}

/** Where the header block ends (the first empty line), or -1. */
function headEnd(b: Buffer): number {
  const lf = b.indexOf('\n\n')
  const crlf = b.indexOf('\r\n\r\n')
  if (lf < 0) return crlf
  if (crlf < 0) return lf
  return Math.min(lf, crlf)
}

/** Reads the header block of a stored message (up to the first empty line, at most `limit` bytes). */
export async function readHead(file: string, limit = 1024 * 1024): Promise<string> {
  const fh = await fs.promises.open(file, 'r')
  try {
    let all = Buffer.alloc(0)
    const buf = Buffer.alloc(64 * 1024)
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, all.length)
      all = Buffer.concat([all, buf.subarray(0, bytesRead)])
      const end = headEnd(all)
      if (end >= 0) return all.subarray(0, end).toString('utf8')
      if (!bytesRead || all.length >= limit) return all.subarray(0, limit).toString('utf8')
    }
  } finally {
    await fh.close()
  }
}

// ---------------------------------------------------------------- files

/**
 * Writes `file` whole or not at all: a temporary file in the same folder, flushed to
 * disk, then renamed over `file` (atomic on one filesystem). A reader sees the old
 * content or the new one, never half of it.
 */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`)
  const fh = await fs.promises.open(tmp, 'wx', 0o644)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } catch (err) {
    await fh.close().catch(() => undefined)
    await fs.promises.unlink(tmp).catch(() => undefined)
    throw err
  }
  await fh.close()
  try {
    await fs.promises.rename(tmp, file)
  } catch (err) {
    await fs.promises.unlink(tmp).catch(() => undefined)
    throw err
  }
}

const isEnoent = (err: unknown): boolean => (err as NodeJS.ErrnoException)?.code === 'ENOENT'

// ---------------------------------------------------------------- the sidecar

export interface SidecarSignal {
  readonly symbol: string
  /** the score it had when the message was held (configuration may change later) */
  readonly score: number | null
  readonly options: readonly string[]
}

/** What the plugin knew when it held the message. Fields it could not know are null. */
export interface Sidecar {
  readonly version: number
  /** Haraka's transaction uuid: the message's file name */
  readonly id: string
  /** ISO 8601, when the message was held */
  readonly received: string
  readonly remote: { readonly ip: string | null; readonly host: string | null; readonly helo: string | null }
  /** '' is the null sender */
  readonly envelope: { readonly from: string; readonly to: readonly string[] }
  /** decoded and sanitized */
  readonly from: string | null
  readonly subject: string | null
  readonly message_id: string | null
  readonly size: number | null
  readonly verdict: string | null
  readonly brand: string | null
  readonly kind: string | null
  readonly score: number | null
  /** what shop-notice did: quarantine, … (null: another plugin asked for the quarantine) */
  readonly action: string | null
  readonly signals: readonly SidecarSignal[]
  readonly auth: { readonly spf: string; readonly dkim: readonly string[]; readonly dmarc: string; readonly arc: string } | null
  /** our Authentication-Results header values, as written into the message */
  readonly authentication_results: readonly string[]
}

export interface SidecarInput {
  readonly id: string
  readonly received: Date
  readonly remote: { readonly ip?: string | null; readonly host?: string | null; readonly helo?: string | null }
  readonly envelope: { readonly from: string; readonly to: readonly string[] }
  /** raw header values, undecoded */
  readonly headers: { readonly from?: string; readonly subject?: string; readonly messageId?: string }
  readonly size: number | null
  /** txn.notes.shop_notice as the plugin wrote it (anything else is ignored) */
  readonly summary: unknown
  /** the score of each symbol in force */
  readonly scores: Readonly<Record<string, number>>
  readonly authenticationResults: readonly string[]
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
const record = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {})
const nullableText = (v: string | undefined, max?: number): string | null => (v === undefined ? null : decodeHeaderText(v, max))

/** The sidecar for a held message, from what the plugin has at hand. */
export function buildSidecar(input: SidecarInput): Sidecar {
  const s = record(input.summary)
  const auth = record(s.auth)
  return {
    version: SIDECAR_VERSION,
    id: input.id,
    received: input.received.toISOString(),
    remote: { ip: input.remote.ip ?? null, host: input.remote.host ?? null, helo: input.remote.helo ?? null },
    envelope: { from: input.envelope.from, to: [...input.envelope.to] },
    from: nullableText(input.headers.from),
    subject: nullableText(input.headers.subject),
    message_id: input.headers.messageId === undefined ? null : sanitizeText(input.headers.messageId, 998),
    size: input.size,
    verdict: str(s.verdict),
    brand: str(s.brand),
    kind: str(s.kind),
    score: num(s.score),
    action: str(s.action),
    signals: (Array.isArray(s.signals) ? s.signals : []).map(record).flatMap((h) => {
      const symbol = str(h.symbol)
      return symbol ? [{ symbol, score: num(input.scores[symbol]), options: strings(h.options) }] : []
    }),
    auth: Object.keys(auth).length
      ? { spf: str(auth.spf) ?? 'none', dkim: strings(auth.dkim), dmarc: str(auth.dmarc) ?? 'none', arc: str(auth.arc) ?? 'none' }
      : null,
    authentication_results: [...input.authenticationResults],
  }
}

/** A sidecar read back: checked field by field, so a damaged file cannot break a listing. */
export function parseSidecar(text: string): Sidecar {
  const v = record(JSON.parse(text))
  if (v.version !== SIDECAR_VERSION) throw new Error(`unknown sidecar version ${JSON.stringify(v.version)}`)
  const id = str(v.id)
  const received = str(v.received)
  if (!id || !received || Number.isNaN(Date.parse(received))) throw new Error('sidecar without id or received time')
  const remote = record(v.remote)
  const envelope = record(v.envelope)
  const auth = v.auth === null ? null : record(v.auth)
  return {
    version: SIDECAR_VERSION,
    id,
    received,
    remote: { ip: str(remote.ip), host: str(remote.host), helo: str(remote.helo) },
    envelope: { from: str(envelope.from) ?? '', to: strings(envelope.to) },
    from: str(v.from),
    subject: str(v.subject),
    message_id: str(v.message_id),
    size: num(v.size),
    verdict: str(v.verdict),
    brand: str(v.brand),
    kind: str(v.kind),
    score: num(v.score),
    action: str(v.action),
    signals: (Array.isArray(v.signals) ? v.signals : []).map(record).flatMap((h) => {
      const symbol = str(h.symbol)
      return symbol ? [{ symbol, score: num(h.score), options: strings(h.options) }] : []
    }),
    auth: auth && Object.keys(auth).length ? { spf: str(auth.spf) ?? 'none', dkim: strings(auth.dkim), dmarc: str(auth.dmarc) ?? 'none', arc: str(auth.arc) ?? 'none' } : null,
    authentication_results: strings(v.authentication_results),
  }
}

/** Writes `<message>.json` atomically. */
export async function writeSidecar(messageFile: string, sidecar: Sidecar): Promise<string> {
  const file = `${messageFile}${SIDECAR_EXT}`
  await writeFileAtomic(file, `${JSON.stringify(sidecar, null, 2)}\n`)
  return file
}

// ---------------------------------------------------------------- releases

export type ReleaseState = 'sending' | 'released' | 'unknown'

/** `<message>.release`: the claim while sending, then the record. */
export interface ReleaseRecord {
  readonly state: ReleaseState
  readonly by: string
  /** ISO 8601 */
  readonly at: string
  /** host:port it went to */
  readonly to: string
  /** the envelope it was sent with */
  readonly envelope?: { readonly from: string; readonly to: readonly string[] }
  /** the next hop's answer */
  readonly reply?: string
  readonly error?: string
  /** the one-time token of a claim being sent; dropped once it is settled */
  readonly token?: string
  readonly pid?: number
}

function parseRelease(text: string): ReleaseRecord {
  try {
    const v = record(JSON.parse(text))
    const state = v.state === 'sending' || v.state === 'released' || v.state === 'unknown' ? v.state : 'unknown'
    const envelope = record(v.envelope)
    return {
      state,
      by: str(v.by) ?? '?',
      at: str(v.at) ?? '?',
      to: str(v.to) ?? '?',
      ...(Object.keys(envelope).length ? { envelope: { from: str(envelope.from) ?? '', to: strings(envelope.to) } } : {}),
      ...(str(v.reply) ? { reply: str(v.reply)! } : {}),
      ...(str(v.error) ? { error: str(v.error)! } : {}),
      ...(str(v.token) ? { token: str(v.token)! } : {}),
      ...(num(v.pid) ? { pid: num(v.pid)! } : {}),
    }
  } catch {
    // a claim whose process died before it wrote anything: claimed, outcome unknown
    return { state: 'unknown', by: '?', at: '?', to: '?', error: 'the release record is empty or damaged' }
  }
}

/** The by= value: a login name or similar, nothing that could break the header. */
export const isReleaser = (by: string): boolean => /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/.test(by)

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const pad = (n: number): string => String(n).padStart(2, '0')

/** An RFC 5322 date-time in UTC: `Thu, 21 May 2026 10:00:00 +0000`. */
export const rfc5322Date = (d: Date): string =>
  `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`

export interface ReleaseHeader {
  readonly by: string
  readonly at: string
  readonly id: string
  readonly token: string
}

/** `by=<user>; at=<RFC 5322 date>; id=<id>; token=<hex>` */
export const formatReleaseHeader = (h: ReleaseHeader): string => `by=${h.by}; at=${h.at}; id=${h.id}; token=${h.token}`

export function parseReleaseHeader(value: string): ReleaseHeader | undefined {
  const fields: Record<string, string> = {}
  for (const part of value.replace(/\r?\n[ \t]+/g, ' ').split(';')) {
    const m = /^\s*([a-z]+)=([^]*)$/i.exec(part)
    if (m) fields[m[1]!.toLowerCase()] = m[2]!.trim()
  }
  const { by, at, id, token } = fields
  if (!by || !at || !id || !token || !isMessageId(id) || !/^[0-9a-f]{32}$/.test(token)) return undefined
  return { by, at, id, token }
}

// ---------------------------------------------------------------- the store

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

const VERDICT_RE = /^\s*([a-z]+)\s*;\s*brand=([^;\s]+)\s*;\s*kind=([^;\s]+)\s*;\s*score=(-?[\d.]+)\s*;\s*signals=([A-Z0-9_,]+|-)/

/** The facts of a held message without a sidecar, from its own headers (X-Shop-Notice, Subject, …). */
function infoFromHeaders(id: string, head: string, received: Date, size: number): Sidecar {
  const fields = parseHeaderBlock(head)
  const first = (name: string): string | undefined => fields.find((f) => f.name.toLowerCase() === name.toLowerCase())?.raw
  const v = VERDICT_RE.exec((first('X-Shop-Notice') ?? '').replace(/\r?\n[ \t]+/g, ' '))
  const dash = (s: string | undefined): string | null => (!s || s === '-' ? null : sanitizeText(s, 64))
  return {
    version: SIDECAR_VERSION,
    id,
    received: received.toISOString(),
    remote: { ip: null, host: null, helo: null },
    envelope: { from: '', to: [] },
    from: nullableText(first('From')),
    subject: nullableText(first('Subject')),
    message_id: first('Message-ID') === undefined ? null : sanitizeText(first('Message-ID')!, 998),
    size,
    verdict: v ? v[1]! : null,
    brand: dash(v?.[2]),
    kind: dash(v?.[3]),
    score: v ? Number(v[4]) : null,
    action: null,
    signals: v && v[5] !== '-' ? v[5]!.split(',').map((symbol) => ({ symbol, score: null, options: [] })) : [],
    auth: null,
    authentication_results: [],
  }
}

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
          } else if (depth < 3 && !(depth === 0 && e.name === 'tmp')) await walk(p, depth + 1)
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
      fh = await fs.promises.open(`${e.file}${CLAIM_EXT}`, 'wx', 0o644)
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
  }

  /** Replaces the claim with its outcome (atomically). */
  async settle(e: Entry, rec: ReleaseRecord): Promise<void> {
    await writeFileAtomic(`${e.file}${CLAIM_EXT}`, `${JSON.stringify(rec, null, 2)}\n`)
  }

  /** Gives a claim back: nothing was delivered, the message is held again. */
  async unclaim(e: Entry): Promise<void> {
    for (const ext of [USED_EXT, CLAIM_EXT]) await fs.promises.unlink(`${e.file}${ext}`).catch((err: unknown) => (isEnoent(err) ? undefined : Promise.reject(err)))
  }

  /**
   * For the plugin: is `value` (an X-Shop-Notice-Released header) the token of a
   * release being sent right now? Uses the token up: a second copy is refused.
   */
  async useToken(value: string): Promise<ReleaseHeader | undefined> {
    const h = parseReleaseHeader(value)
    if (!h) return undefined
    let e: Entry
    try {
      e = await this.find(h.id, { exact: true })
    } catch {
      return undefined
    }
    const rec = e.release
    if (rec?.state !== 'sending' || !rec.token || rec.token.length !== h.token.length) return undefined
    if (!crypto.timingSafeEqual(Buffer.from(rec.token), Buffer.from(h.token))) return undefined
    try {
      await fs.promises.writeFile(`${e.file}${USED_EXT}`, `${new Date().toISOString()}\n`, { flag: 'wx' })
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

// ---------------------------------------------------------------- release

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

// ---------------------------------------------------------------- durations

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 }

/** `30d`, `12h`, `90m`, `2w` in milliseconds; undefined when it is not one. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d{1,6})([mhdw])$/.exec(s.trim())
  if (!m) return undefined
  return Number(m[1]) * UNIT_MS[m[2]!]!
}
