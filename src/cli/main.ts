/**
 * `shop-notice scan [options] FILE...`: scans .eml files exactly as the plugin
 * would (the same scan()), one line per file. Exit 0 when every file was scanned,
 * 1 when a file could not be read or scanned, 2 for a usage error.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { type Io, UsageError, stdio } from './io.js'
import { adminFolder, authservIdFor, configFor, harakaMe, resolverFor } from '../config/sources.js'
import { type Settings, harakaSource, isServerSpec, loadSettings } from '../config/settings.js'
import { QUARANTINE_USAGE, quarantineCommand } from './quarantine.js'
import { INCIDENTS_USAGE, incidentsCommand } from './incidents.js'
import { FORGET_USAGE, forgetCommand } from './forget.js'
import { PACKAGE_ROOT } from '../config/sources.js'
import { policyForRecipients } from '../config/policy.js'
import type { ScanResult } from '../scan.js'


const USAGE = `Usage: shop-notice scan [options] FILE...

Scans .eml files exactly as the Haraka plugin would and prints one line per file:
FILE<TAB>verdict<TAB>score<TAB>brand<TAB>signals

Options:
  --json              one JSON object per line instead
  --ip IP             the SMTP client's address (for SPF)
  --helo NAME         the SMTP client's HELO/EHLO name
  --mail-from ADDR    the envelope sender (MAIL FROM)
  --rcpt ADDR         an envelope recipient (repeatable): its domain's [policy.<domain>]
                      thresholds apply, the weakest across the recipients' domains, as in the plugin;
                      the recipients' domains are compared with the display name (else To and Cc)
  --dns IP[:PORT]     the DNS resolver to ask (repeatable); default: [dns] servers, else the system's
  --offline           make no DNS query: authentication is unavailable, except results in
                      Authentication-Results headers whose authserv-id [auth] trusted_authserv_ids trusts
  --config DIR        a Haraka folder whose config/ overrides the package defaults
                      (default: $HARAKA, else the current folder); its config/me is the
                      default authserv-id, as for Haraka
  -h, --help          this text
`

const MAIN_USAGE = `Usage: shop-notice COMMAND [options]

Commands:
  scan FILE...        scan .eml files exactly as the Haraka plugin would
  quarantine COMMAND  list, show, release, delete or purge held messages
  incidents           the registry's incidents (announced leaks) in force
  forget ADDRESS...   remove everything the state store remembers about recipients

  shop-notice COMMAND --help    the options of one command
  shop-notice --version         the package version
  shop-notice --help            this text, and every command's usage
`

export { guardStdout } from './io.js'

/** The version of the installed package (its package.json). */
export function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: unknown }
  return typeof pkg.version === 'string' ? pkg.version : 'unknown'
}

function formatLine(file: string, r: ScanResult): string {
  const signals = [...new Set(r.hits.map((h) => h.symbol))].join(',') || '-'
  return [file, r.verdict, String(r.score), r.brand ?? '-', signals].join('\t')
}

function formatJson(file: string, r: ScanResult, settings: Settings): string {
  return JSON.stringify({
    file,
    verdict: r.verdict,
    score: r.score,
    brand: r.brand ?? null,
    kind: r.kind ?? null,
    signals: r.hits.map((h) => ({ symbol: h.symbol, score: settings.scores[h.symbol], options: h.options })),
    auth: {
      source: r.auth.source,
      ...(r.auth.via ? { via: r.auth.via } : {}),
      spf: r.auth.spf,
      dkim: r.auth.dkim,
      dmarc: r.auth.dmarc,
      arc: r.auth.arc,
    },
    ...(r.error ? { error: r.error } : {}),
  })
}

async function scanCommand(argv: readonly string[], io: Io = stdio): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>
  let files: string[]
  try {
    const parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        ip: { type: 'string' },
        helo: { type: 'string' },
        'mail-from': { type: 'string' },
        rcpt: { type: 'string', multiple: true },
        dns: { type: 'string', multiple: true },
        offline: { type: 'boolean' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
    values = parsed.values
    files = parsed.positionals
    if (values.help) {
      io.out(USAGE)
      return 0
    }
    if (!files.length) throw new UsageError('no FILE given')
    const dns = (values.dns as string[] | undefined) ?? []
    for (const d of dns) if (!isServerSpec(d)) throw new UsageError(`--dns ${d}: not an ip or ip:port`)
    if (values.offline && dns.length) throw new UsageError('--offline and --dns exclude each other')
    for (const r of (values.rcpt as string[] | undefined) ?? []) if (!/^[^@\s]+@[^@\s]+$/.test(r)) throw new UsageError(`--rcpt ${r}: not an address`)
  } catch (err) {
    io.err(`shop-notice: ${(err as Error).message}`)
    io.err(USAGE)
    return 2
  }

  let settings: Settings
  try {
    const loaded = loadSettings(harakaSource(configFor(adminFolder(values.config as string | undefined))))
    for (const w of loaded.warnings) io.err(`shop-notice: warning: ${w}`)
    settings = loaded.value
  } catch (err) {
    io.err(`shop-notice: invalid configuration: ${(err as Error).message}`)
    return 2
  }

  const rcpts = (values.rcpt as string[] | undefined) ?? []
  const domains = [...new Set(rcpts.filter((a) => a.includes('@')).map((a) => a.slice(a.lastIndexOf('@') + 1).toLowerCase()))]
  const global = { mode: settings.actions.mode, thresholds: settings.thresholds }
  const policy = policyForRecipients(settings.policies, domains, global)
  if (policy !== global) settings = { ...settings, actions: { ...settings.actions, mode: policy.mode }, thresholds: policy.thresholds }

  const servers = (values.dns as string[] | undefined) ?? settings.dns.servers
  const resolver = values.offline
    ? undefined
    : resolverFor(settings, servers)
  const authservId = authservIdFor(settings, harakaMe(adminFolder(values.config as string | undefined)))
  const ctx = {
    ip: values.ip as string | undefined,
    helo: values.helo as string | undefined,
    sender: (values['mail-from'] as string | undefined) ?? '',
    // the envelope's recipients, as the plugin has them; without --rcpt the detectors read To and Cc
    ...(rcpts.length ? { recipients: rcpts } : {}),
  }

  // loaded here, not on top: mailauth alone takes a fifth of a second to load, and
  // `shop-notice quarantine` never needs it
  const { scan } = await import('../scan.js')
  let failed = 0
  for (const file of files) {
    let raw: Buffer
    try {
      raw = fs.readFileSync(file)
    } catch (err) {
      failed++
      io.err(`shop-notice: ${file}: ${(err as Error).message}`)
      io.out(values.json ? JSON.stringify({ file, verdict: 'error', error: (err as Error).message }) : [file, 'error', '0', '-', '-'].join('\t'))
      continue
    }
    const result = await scan(raw, ctx, {
      settings,
      authservId,
      resolve: resolver?.forMessage(settings.dns.message_timeout_ms),
    })
    if (result.verdict === 'error') {
      failed++
      io.err(`shop-notice: ${file}: ${result.error ?? 'scan failed'}`)
    }
    io.out(values.json ? formatJson(file, result, settings) : formatLine(file, result))
  }
  return failed ? 1 : 0
}

export async function main(argv: readonly string[], io: Io = stdio): Promise<number> {
  const [command, ...rest] = argv
  if (command === 'scan') return scanCommand(rest, io)
  if (command === 'quarantine') return quarantineCommand(rest, io)
  if (command === 'incidents') return incidentsCommand(rest, io)
  if (command === 'forget') return forgetCommand(rest, io)
  if (command === '-h' || command === '--help' || command === 'help') {
    io.out(`${MAIN_USAGE}\n${USAGE}\n${QUARANTINE_USAGE}\n${INCIDENTS_USAGE}\n${FORGET_USAGE}`)
    return 0
  }
  if (command === '-V' || command === '--version' || command === 'version') {
    io.out(`shop-notice ${packageVersion()}`)
    return 0
  }
  io.err(command ? `shop-notice: unknown command: ${command}` : 'shop-notice: no command given')
  io.err(MAIN_USAGE)
  return 2
}
