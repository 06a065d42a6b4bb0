/**
 * `shop-notice forget ADDRESS...`: removes everything the state store remembers about each
 * recipient address (docs/store.md, "Forgetting a recipient"), in the store shop-notice.ini
 * selects, with the secret the plugin hashes with. Exit 0 when every address was dealt with
 * (forgotten, or never remembered), 1 when the store could not be opened or failed, 2 for a
 * usage error or an invalid configuration.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { type Io, UsageError } from './io.js'
import { adminFolder, configFor } from '../config/sources.js'
import { harakaSource, loadSettings } from '../config/settings.js'
import { printable, printableJson } from '../quarantine/text.js'
import { type Forgotten, type Store, type StoreConfig, normaliseAddress, openStore, secretFileOf } from '../store/index.js'

export const FORGET_USAGE = `Usage: shop-notice forget [options] ADDRESS...

Removes everything the state store remembers about each recipient ADDRESS: the shops that
sent it authenticated notices and the names those notices addressed (an erasure request, a
mailbox that changed hands). The store and its secret are those of [store] and [redis] in
shop-notice.ini. An address is matched as the plugin matches it: case, <> and an IDN's
spelling do not matter; a sub-address (taro+shop@) is a mailbox of its own. One line per
address: ADDRESS<TAB>records removed<TAB>what

Options:
  --json              one JSON object per line instead
  --config DIR        the Haraka folder (default: $HARAKA, else the current folder)
  -h, --help          this text
`

/** How long the command waits for Redis, or for SQLite's write lock held by a relay. */
export const FORGET_WAIT_MS = 5000
/** The longest one address may take (Redis: every SCAN page and the delete); a hung server ends the command. */
export const FORGET_TIMEOUT_MS = 60_000

/** `work`, or an error after `ms` (the work itself may still complete) */
function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s (it may still complete: run the command again to see)`)), ms)
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

function line(given: string, f: Forgotten, json: boolean): string {
  const records = f.contacts + f.names
  if (json) return printableJson({ address: given, normalised: f.recipient, records, contacts: f.contacts, names: f.names })
  const what =
    records === 0
      ? 'not remembered: nothing to forget'
      : `forgotten: ${plural(f.contacts, "shop's contact", "shops' contacts")}, ${plural(f.names, 'name', 'names')}`
  return [given, String(records), what].join('\t')
}

/** The addresses, each mailbox once (first spelling), in the order given; a UsageError for one that is not an address. */
function addressesOf(positionals: readonly string[]): { given: string; normalised: string }[] {
  if (!positionals.length) throw new UsageError('no ADDRESS given')
  const seen = new Set<string>()
  const out: { given: string; normalised: string }[] = []
  for (const given of positionals) {
    const normalised = normaliseAddress(given)
    if (!normalised) throw new UsageError(`${given}: not an address`)
    if (seen.has(normalised)) continue
    seen.add(normalised)
    out.push({ given, normalised })
  }
  return out
}

export async function forgetCommand(argv: readonly string[], rawIo: Io, { timeoutMs = FORGET_TIMEOUT_MS }: { timeoutMs?: number } = {}): Promise<number> {
  // addresses are the admin's, but one pasted from a message may carry control characters:
  // every line with one passes `printable` (the usage text, with its line breaks, does not)
  const io: Io = { out: (l) => rawIo.out(printable(l)), err: (l) => rawIo.err(printable(l)) }
  let values: { json?: boolean; config?: string; help?: boolean }
  let addresses: { given: string; normalised: string }[]
  try {
    const parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
    values = parsed.values
    if (values.help) {
      rawIo.out(FORGET_USAGE)
      return 0
    }
    addresses = addressesOf(parsed.positionals)
  } catch (err) {
    io.err(`shop-notice: ${(err as Error).message}`)
    rawIo.err(FORGET_USAGE)
    return 2
  }

  const folder = adminFolder(values.config)
  let config: StoreConfig
  try {
    const loaded = loadSettings(harakaSource(configFor(folder)))
    for (const w of loaded.warnings) io.err(`shop-notice: warning: ${w}`)
    config = loaded.value.store
  } catch (err) {
    io.err(`shop-notice: invalid configuration: ${(err as Error).message}`)
    return 2
  }

  const json = values.json === true
  const nothing = (why: string): number => {
    io.err(`shop-notice: ${why}`)
    for (const a of addresses) io.out(line(a.given, { recipient: a.normalised, contacts: 0, names: 0 }, json))
    return 0
  }
  if (config.backend === 'none') return nothing('[store] backend is none: nothing is remembered, so there is nothing to forget')
  if (config.backend === 'sqlite') {
    // opening would make the file, its folder and a new secret: never for a command that removes
    const file = path.resolve(folder, config.path)
    if (!fs.existsSync(file)) return nothing(`${file}: no store here yet ([store] path): nothing is remembered`)
    if (!fs.existsSync(secretFileOf(file))) {
      io.err(
        `shop-notice: ${secretFileOf(file)}: missing: the rows of ${file} cannot be matched to an address without the secret they were hashed with; restore it and run again`,
      )
      return 1
    }
  }

  let openError = ''
  // the command may wait for a relay's write lock (sqlite) or a connection (redis) longer than mail does
  const store: Store = openStore(
    { ...config, timeout_ms: Math.max(config.timeout_ms, FORGET_WAIT_MS) },
    {
      baseDir: folder,
      pruneIntervalMs: 0,
      onFailure: (f) => {
        if (f.op === 'open') openError = f.error?.message ?? f.reason
      },
    },
  )
  const where = config.backend === 'redis' ? `redis ${config.redis.host}:${config.redis.port} db ${config.redis.db}` : path.resolve(folder, config.path)
  try {
    // not ready within the wait: the first forget says why (redis: the connection's error)
    const ready = await store.ready(FORGET_WAIT_MS)
    for (const [i, a] of addresses.entries()) {
      let forgotten: Forgotten
      try {
        forgotten = await within(store.forget(a.normalised), timeoutMs)
      } catch (err) {
        const message = (err as Error).message
        const why = ready ? `${a.given}: ${message}` : `the store could not be opened: ${openError || message}`
        // what was forgotten so far stays forgotten; the rest is not attempted
        const left = addresses.slice(i).map((x) => x.given).join(' ')
        io.err(`shop-notice: ${where}: ${why}; not forgotten: ${left}`)
        return 1
      }
      io.out(line(a.given, forgotten, json))
    }
    return 0
  } finally {
    await store.close()
  }
}
