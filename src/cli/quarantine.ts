/**
 * `shop-notice quarantine list|show|release|delete|purge`: the admin's view of the
 * folder core queue/quarantine writes (src/quarantine/store.ts does the work). Exit 0 when
 * done, 1 for a runtime failure (not found, already released, the next hop refused…),
 * 2 for a usage error or an invalid configuration.
 */
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { localTime, parseDate, parseDuration } from './args.js'
import { type Io, UsageError } from './io.js'
import { adminFolder, configFor, harakaFolderConfig } from '../config/sources.js'
import { type Settings, harakaSource, loadSettings } from '../config/settings.js'
import { AlreadyReleasedError, type Entry, type ListFilter, NotFoundError, QuarantineStore, type Status } from '../quarantine/store.js'
import { ReleaseError, releaseEntry } from '../quarantine/release.js'
import { isReleaser } from '../quarantine/release-record.js'
import { printable, printableJson, sanitizeText } from '../quarantine/text.js'
import { quarantineDirOf } from '../quarantine/names.js'
import { STATUSES, listLine, listJson, show } from './quarantine-view.js'

export const QUARANTINE_USAGE = `Usage: shop-notice quarantine COMMAND [options]

Commands:
  list [filters] [--json]   held messages, newest first, one per line:
                            ID<TAB>received<TAB>status<TAB>verdict<TAB>score<TAB>brand<TAB>sender<TAB>recipients<TAB>subject
      --since DATE          held at or after DATE (YYYY-MM-DD local day, or an ISO 8601 time)
      --until DATE          held before the end of DATE
      --date DAY            held on DAY (YYYY-MM-DD)
      --brand ID            claimed brand (- for none)
      --verdict V           spoofed, suspicious, … (- for unknown)
      --recipient TEXT      an envelope recipient contains TEXT (case-insensitive)
      --status S            held, releasing, released or unknown
      --limit N             at most N lines
  show ID [--json|--raw]    headers, verdict, signals with their explanations, authentication
  release ID                send it on, unchanged but for an ${'X-Shop-Notice-Released'} header; at most once
      --host HOST           next hop (default: [quarantine] release_host, 127.0.0.1)
      --port PORT           its port (default: [quarantine] release_port, 2525)
      --by NAME             who releases (default: $SUDO_USER, else the login name)
      --from ADDR           envelope sender instead of the recorded one (use "" for <>)
      --to ADDR             envelope recipient instead of the recorded ones (repeatable)
  delete ID                 remove a held message and what is kept with it
  purge --older-than AGE    remove messages held longer than AGE (30d, 12h, 2w, 90m)
      --dry-run             only list what would be removed

Options for every command:
  --dir DIR                 the quarantine folder (default: quarantine_path of the Haraka
                            folder's config/quarantine.ini, as core queue/quarantine reads it)
  --config DIR              the Haraka folder (default: $HARAKA, else the current folder)
  -h, --help                this text

ID is a message's id (its file name, Haraka's transaction uuid) or a unique prefix of it.
`


const COMMON = {
  dir: { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const


/** --dir, else quarantine_path of <haraka>/config/quarantine.ini (relative to the Haraka folder), else core's default. */
function storeFor(values: { dir?: string | undefined; config?: string | undefined }): QuarantineStore {
  if (values.dir) return new QuarantineStore(path.resolve(values.dir))
  const haraka = adminFolder(values.config)
  return new QuarantineStore(quarantineDirOf(harakaFolderConfig(haraka).get('quarantine.ini'), haraka))
}

/** shop-notice.ini as the plugin reads it in the Haraka folder (package defaults, then the folder's). */
function settingsFor(values: { config?: string | undefined }): { settings: Settings; warnings: readonly string[] } {
  const { value, warnings } = loadSettings(harakaSource(configFor(adminFolder(values.config))))
  return { settings: value, warnings }
}


function releaser(given: string | undefined): string {
  if (given !== undefined) return given
  const sudo = process.env.SUDO_USER
  if (sudo && isReleaser(sudo)) return sudo
  try {
    return os.userInfo().username
  } catch {
    return 'unknown'
  }
}

const PORT_RE = /^\d{1,5}$/

/**
 * The print boundary: every line `list`, `show` and the other commands print (errors too)
 * passes `printable`, whatever field it holds: sidecars, release records and stored headers
 * are written by the plugin from what senders wrote, and a file in the folder may be damaged
 * or forged; an escape sequence in a DKIM d= must not redraw the admin's screen. JSON lines
 * are written with printableJson, whose escapes pass unchanged. Multi-line text is printed
 * line by line, so a field can never begin a line of its own.
 */
function terminalIo(io: Io): Io {
  return { out: (line) => io.out(printable(line)), err: (line) => io.err(printable(line)) }
}

const lines = (text: string): string[] => text.replace(/\n$/, '').split('\n')

export async function quarantineCommand(argv: readonly string[], rawIo: Io, now: () => Date = () => new Date()): Promise<number> {
  const io = terminalIo(rawIo)
  const [sub, ...rest] = argv
  const usage = (msg: string): number => {
    io.err(`shop-notice: ${msg}`)
    for (const l of lines(QUARANTINE_USAGE)) io.err(l)
    return 2
  }
  if (!sub) return usage('quarantine: no command given')
  if (sub === '-h' || sub === '--help' || sub === 'help') {
    for (const l of lines(QUARANTINE_USAGE)) io.out(l)
    return 0
  }
  try {
    switch (sub) {
      case 'list':
        return await listCommand(rest, io)
      case 'show':
        return await showCommand(rest, io)
      case 'release':
        return await releaseCommand(rest, io, now)
      case 'delete':
        return await deleteCommand(rest, io)
      case 'purge':
        return await purgeCommand(rest, io, now)
      default:
        return usage(`quarantine: unknown command: ${sub}`)
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) return usage(`quarantine ${sub}: ${(err as Error).message}`)
    if (err instanceof NotFoundError || err instanceof ReleaseError || err instanceof AlreadyReleasedError) {
      io.err(`shop-notice: ${err.message}`)
      return 1
    }
    io.err(`shop-notice: quarantine ${sub}: ${(err as Error).message}`)
    return 1
  }
}

function oneId(positionals: readonly string[]): string {
  if (positionals.length !== 1) throw new UsageError(positionals.length ? 'give one ID' : 'no ID given')
  const id = positionals[0]!
  if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new UsageError(`${JSON.stringify(id)} is not a message id`)
  return id
}

async function listCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...COMMON,
      json: { type: 'boolean' },
      since: { type: 'string' },
      until: { type: 'string' },
      date: { type: 'string' },
      brand: { type: 'string' },
      verdict: { type: 'string' },
      recipient: { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string' },
    },
  })
  if (values.help) return help(io)
  if (positionals.length) throw new UsageError(`unexpected ${JSON.stringify(positionals[0])}`)
  if (values.date && (values.since || values.until)) throw new UsageError('--date excludes --since and --until')
  if (values.status !== undefined && !(STATUSES as readonly string[]).includes(values.status)) {
    throw new UsageError(`--status ${values.status}: expected one of ${STATUSES.join(', ')}`)
  }
  let limit: number | undefined
  if (values.limit !== undefined) {
    if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1) throw new UsageError(`--limit ${values.limit}: expected a positive integer`)
    limit = Number(values.limit)
  }
  const since = values.date ?? values.since
  const until = values.date ?? values.until
  const filter: ListFilter = {
    ...(since ? { since: parseDate(since, values.date ? '--date' : '--since') } : {}),
    ...(until ? { until: parseDate(until, values.date ? '--date' : '--until', true) } : {}),
    ...(values.brand !== undefined ? { brand: values.brand } : {}),
    ...(values.verdict !== undefined ? { verdict: values.verdict } : {}),
    ...(values.recipient !== undefined ? { recipient: values.recipient } : {}),
    ...(values.status !== undefined ? { status: values.status as Status } : {}),
  }
  const entries = (await storeFor(values).list(filter)).slice(0, limit)
  for (const e of entries) io.out(values.json ? printableJson(listJson(e)) : listLine(e))
  return 0
}

async function showCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { ...COMMON, json: { type: 'boolean' }, raw: { type: 'boolean' } },
  })
  if (values.help) return help(io)
  if (values.json && values.raw) throw new UsageError('--json and --raw exclude each other')
  const id = oneId(positionals)
  const e = await storeFor(values).find(id)
  await show(io, e, values.raw ? 'raw' : values.json ? 'json' : 'text')
  return 0
}

async function releaseCommand(argv: readonly string[], io: Io, now: () => Date): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...COMMON,
      host: { type: 'string' },
      port: { type: 'string' },
      by: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string', multiple: true },
    },
  })
  if (values.help) return help(io)
  const id = oneId(positionals)
  if (values.port !== undefined && !(PORT_RE.test(values.port) && Number(values.port) > 0 && Number(values.port) < 65536)) {
    throw new UsageError(`--port ${values.port}: expected 1-65535`)
  }
  if (values.host !== undefined && !/^[A-Za-z0-9.:[\]-]+$/.test(values.host)) throw new UsageError(`--host ${values.host}: not a host name or address`)
  const by = releaser(values.by)
  if (!isReleaser(by)) {
    throw new UsageError(`releaser ${JSON.stringify(by)} (${values.by !== undefined ? '--by' : 'the login name'}): letters, digits and . _ @ + - only (at most 64); give --by NAME`)
  }
  if ((values.from !== undefined) !== (values.to !== undefined)) throw new UsageError('--from and --to go together')

  let settings: Settings
  try {
    const loaded = settingsFor(values)
    for (const w of loaded.warnings) io.err(`shop-notice: warning: ${w}`)
    settings = loaded.settings
  } catch (err) {
    io.err(`shop-notice: invalid configuration: ${(err as Error).message}`)
    return 2
  }
  const store = storeFor(values)
  const e = await store.find(id)
  const target = {
    host: (values.host ?? settings.quarantine.release_host).replace(/^\[(.*)\]$/, '$1'),
    port: values.port !== undefined ? Number(values.port) : settings.quarantine.release_port,
    timeoutMs: settings.quarantine.release_timeout_ms,
  }
  const released = await releaseEntry(store, e, {
    by,
    now: now(),
    target,
    ...(values.to ? { envelope: { from: values.from ?? '', to: values.to } } : {}),
  })
  io.out(`released ${e.id} to ${released.record.to}: ${sanitizeText(released.record.reply ?? '')}`)
  io.out(`  ${released.header.replace(/; token=[0-9a-f]+$/, '')}`)
  return 0
}

async function deleteCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { ...COMMON } })
  if (values.help) return help(io)
  const id = oneId(positionals)
  const store = storeFor(values)
  const e = await store.find(id)
  await store.remove(e)
  io.out(`deleted ${e.id} (${e.file})`)
  return 0
}

async function purgeCommand(argv: readonly string[], io: Io, now: () => Date): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { ...COMMON, 'older-than': { type: 'string' }, 'dry-run': { type: 'boolean' } },
  })
  if (values.help) return help(io)
  if (positionals.length) throw new UsageError(`unexpected ${JSON.stringify(positionals[0])}`)
  const age = values['older-than']
  if (age === undefined) throw new UsageError('--older-than AGE is required (e.g. 30d)')
  const ms = parseDuration(age)
  if (ms === undefined) throw new UsageError(`--older-than ${age}: expected a number and m, h, d or w (e.g. 30d)`)
  const cutoff = new Date(now().getTime() - ms)
  const dry = Boolean(values['dry-run'])
  const { removed, bytes } = await storeFor(values).purge(cutoff, dry)
  for (const e of removed) io.out(`${dry ? 'would delete' : 'deleted'}\t${e.id}\t${localTime(e.received)}\t${e.status}`)
  io.out(`${dry ? 'would purge' : 'purged'} ${removed.length} message(s), ${bytes} bytes, held before ${localTime(cutoff)}`)
  return 0
}

function help(io: Io): number {
  for (const l of lines(QUARANTINE_USAGE)) io.out(l)
  return 0
}

