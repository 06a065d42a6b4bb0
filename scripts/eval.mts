/**
 * `npm run eval`: scores the real mail of ../shared/corpus and ../shared/realmail (read, never copied
 * into the project) in two modes, and prints per set, mode, group and language how many messages got
 * each verdict, the targets of issue 12 with yes/NO, then every miss (phishing not flagged) and every
 * false flag (genuine mail flagged, or ham_dkim not `none`) with its signals.
 *
 *   npm run eval -- [--mode offline|relay|both] [--set corpus|realmail|both] [--print-only] [--quiet]
 *                   [--corpus DIR] [--realmail DIR]
 *
 * Modes:
 * - offline: exactly `shop-notice scan --offline`: no DNS, no trusted Authentication-Results, no
 *   SMTP context; only what the message itself shows counts.
 * - relay: the message as a relay would see it.
 *   - Genuine mail (`ham*` groups) is scanned offline with `[auth] trusted_authserv_ids` set to the
 *     authserv-ids of the recipients' own servers, so their recorded Authentication-Results count
 *     (TRUSTED below: realmail's README lists them; the corpus README lists none, and the only
 *     recipient-side id its genuine notices carry is mx.google.com).
 *   - Phishing is authenticated by mailauth against a real DNS server on 127.0.0.1 (port 0,
 *     bench/lib/dns-server.ts), asked through the project's CachedResolver with the per-message
 *     budget, exactly as the plugin does. The world it serves (bench/lib/relay-world.ts):
 *     - the From domain of each message, by its organisational domain: a registered brand's domain
 *       (sending or link domain of config/shop-notice.retailers.yaml) or a public-sector domain
 *       (go.jp, gov, gov.uk …) is the real brand or institution: SPF `ip4:198.51.100.0/24 -all`
 *       (its own hosts only), `_dmarc` `v=DMARC1; p=none`; a free-mail domain (free_mail_domains)
 *       is a provider where the attacker holds a mailbox: SPF for its own outbound hosts
 *       (192.0.2.0/24), DMARC p=none; any other From domain (a lookalike, a throwaway, a
 *       compromised site, a mailing list) is the attacker's: SPF `ip4:203.0.113.0/24 -all`, no DMARC;
 *     - the envelope sender is the message's Return-Path (else, and for the null sender, an
 *       attacker domain `<hash of the file name>.example`); its domain gets a role by the same rule;
 *     - the SMTP client is an attacker host 203.0.113.x, or the provider's host 192.0.2.x when the
 *       envelope is at a free-mail provider (the attacker sent through his own mailbox); HELO is
 *       the envelope domain. So the attacker's envelope domain passes SPF, a brand's fails;
 *     - no DKIM key anywhere (archived signatures fail); every other name is NXDOMAIN.
 *     The addresses are RFC 5737 documentation ranges, data in the SMTP context: nothing is sent.
 *
 * Targets (issue 12, relay view; offline they are printed too): genuine transactional mail never
 * `spoofed` and at most 2% `suspicious`; Japanese phishing at least 97% flagged; English
 * notice-type phishing at least 90% flagged; ham_dkim never flagged. Exit status 1 when a target
 * is missed in a gated view (every relay view, and the corpus offline, the regression guard that
 * `npm run eval` has always been), unless --print-only; 2 on a usage or setup error.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'

import resolverModule from '../dist/src/auth/resolver.js'
import scanModule from '../dist/src/scan.js'
import dnsServerModule from '../dist/bench/lib/dns-server.js'
import relayWorldModule from '../dist/bench/lib/relay-world.js'
import worldModule from '../dist/bench/lib/world.js'

const { CachedResolver } = resolverModule
const { scan } = scanModule
const { startDnsServer } = dnsServerModule
const { relayWorld, orgDomain, isPublicSector } = relayWorldModule
const { benchSettings, toCrlf } = worldModule

type Settings = ReturnType<typeof benchSettings>
type ScanResult = Awaited<ReturnType<typeof scan>>
type Role = 'brand' | 'free-mail' | 'attacker'

const SHARED = path.join(import.meta.dirname, '..', '..', 'shared')
/** The recipients' own servers whose Authentication-Results a relay view trusts, per set (see the header). */
const TRUSTED: Readonly<Record<SetName, readonly string[]>> = {
  corpus: ['mx.google.com'],
  realmail: [
    'juliett.baddomain.com',
    'hotel.baddomain.com',
    'juliett.example.com',
    'hotel.example.com',
    'mx.google.com',
    'mx.provider.ne.jp',
    'mgw666.provider.ne.jp',
  ],
}
const AUTHSERV_ID = 'eval.invalid'

const SET_NAMES = ['corpus', 'realmail'] as const
const MODE_NAMES = ['offline', 'relay'] as const
type SetName = (typeof SET_NAMES)[number]
type Mode = (typeof MODE_NAMES)[number]

function usage(message: string): never {
  console.error(`eval: ${message}`)
  console.error('usage: npm run eval -- [--mode offline|relay|both] [--set corpus|realmail|both] [--print-only] [--quiet] [--corpus DIR] [--realmail DIR]')
  process.exit(2)
}

let args: ReturnType<typeof parseOptions>
function parseOptions() {
  return parseArgs({
    options: {
      mode: { type: 'string', default: 'both' },
      set: { type: 'string', default: 'both' },
      'print-only': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      corpus: { type: 'string', default: path.join(SHARED, 'corpus') },
      realmail: { type: 'string', default: path.join(SHARED, 'realmail') },
    },
    strict: true,
  }).values
}
try {
  args = parseOptions()
} catch (err) {
  usage((err as Error).message)
}
const pick = <T extends string>(value: string, all: readonly T[], what: string): readonly T[] =>
  value === 'both' ? all : all.includes(value as T) ? [value as T] : usage(`--${what} must be ${all.join(', ')} or both, not ${JSON.stringify(value)}`)
const modes = pick(args.mode, MODE_NAMES, 'mode')
const setNames = pick(args.set, SET_NAMES, 'set')

// ---- the sets ----------------------------------------------------------------------------------

type Kind = 'phish' | 'genuine' | 'dkim'

interface Row {
  readonly file: string
  readonly group: string
  readonly language: string
  /** English phishing that claims an order, payment, shipping, card or account notice */
  readonly noticeType: boolean
  readonly kind: Kind
}

interface EvalSet {
  readonly name: SetName
  readonly dir: string
  readonly rows: readonly Row[]
}

/** The role of a group: `phish`; `ham_dkim` (genuine signed mail, never a notice); any other `ham*` is genuine notices. */
function kindOf(group: string): Kind | undefined {
  if (group === 'phish') return 'phish'
  if (group === 'ham_dkim') return 'dkim'
  return group.startsWith('ham') ? 'genuine' : undefined
}

/**
 * index.tsv of a set. The corpus says notice-type in `claims_payment_or_order_notice`; realmail in
 * `kind` (order, payment, shipping, card-usage, account, gift-card; `other` is not a notice).
 */
function readSet(name: SetName, dir: string): EvalSet {
  const index = path.join(dir, 'index.tsv')
  if (!fs.existsSync(index)) usage(`no ${name} at ${dir} (expected index.tsv and the group folders)`)
  const [header, ...lines] = fs.readFileSync(index, 'utf8').trim().split('\n')
  const cols = header!.split('\t')
  const col = (c: string): number => cols.indexOf(c)
  if (col('file') < 0 || col('group') < 0 || col('language') < 0) usage(`${index}: no file, group or language column`)
  const rows = lines.map((l): Row => {
    const f = l.split('\t')
    const group = f[col('group')]!
    const kind = kindOf(group)
    if (!kind) usage(`${index}: unknown group ${JSON.stringify(group)}`)
    const noticeType =
      col('claims_payment_or_order_notice') >= 0
        ? f[col('claims_payment_or_order_notice')] === 'yes'
        : col('kind') >= 0 && f[col('kind')] !== 'other' && f[col('kind')] !== ''
    return { file: f[col('file')]!, group, language: f[col('language')]!, noticeType, kind }
  })
  return { name, dir, rows }
}

const sets = setNames.map((name) => readSet(name, path.resolve(args[name])))
const settings = benchSettings()
const withTrusted = (ids: readonly string[]): Settings => ({ ...settings, auth: { ...settings.auth, trusted_authserv_ids: ids } })

// ---- the relay's DNS world ---------------------------------------------------------------------

/** The unfolded header section of a message (up to the first empty line). */
function headerOf(raw: Buffer): string {
  const text = raw.subarray(0, 64 * 1024).toString('latin1')
  const end = text.search(/\r?\n\r?\n/)
  return (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ')
}

const HOST = /^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/
const domainOfAddress = (address: string): string | undefined => {
  const d = address.slice(address.lastIndexOf('@') + 1).toLowerCase().replace(/\.$/, '')
  return address.includes('@') && HOST.test(d) ? d : undefined
}

/** The domain of the first From address, if the header has a readable one. */
function fromDomain(head: string): string | undefined {
  const value = /^From:[ \t]*(.*)$/im.exec(head)?.[1] ?? ''
  const angle = [...value.matchAll(/<([^<>\s]+@[^<>\s]+)>/g)].at(-1)?.[1]
  const bare = /([^\s<>"(),;:]+@[^\s<>"(),;:]+)/.exec(value)?.[1]
  return domainOfAddress(angle ?? bare ?? '')
}

/** MAIL FROM: the Return-Path, else (none, null sender, no domain) an address at an attacker domain made from the file name. */
function envelopeOf(head: string, file: string): { address: string; domain: string; derived: boolean } {
  const rp = /^Return-Path:[ \t]*<?([^\s<>]*)>?/im.exec(head)?.[1] ?? ''
  const domain = domainOfAddress(rp)
  if (domain) return { address: rp, domain, derived: false }
  const made = `${createHash('sha256').update(file).digest('hex').slice(0, 12)}.example`
  return { address: `bounce@${made}`, domain: made, derived: true }
}

const registry = settings.registry
function roleOf(org: string): Role {
  if (registry.lists.free_mail_domains.has(org)) return 'free-mail'
  if (registry.bySendingDomain.has(org) || registry.byLinkDomain.has(org) || isPublicSector(org)) return 'brand'
  return 'attacker'
}

interface Envelope {
  readonly ip: string
  readonly helo: string
  readonly sender: string
}

/** Every phishing message's SMTP context, and the roles of the world's domains, from all sets at once. */
function buildWorld(all: readonly EvalSet[]): { roles: Map<string, Role>; envelopes: Map<string, Envelope>; derived: number } {
  const roles = new Map<string, Role>()
  const envelopes = new Map<string, Envelope>()
  let derived = 0
  let n = 0
  const place = (domain: string | undefined): Role | undefined => {
    const org = domain && orgDomain(domain)
    if (!org) return undefined
    const role = roleOf(org)
    roles.set(org, role)
    return role
  }
  for (const set of all) {
    for (const row of set.rows) {
      if (row.kind !== 'phish') continue
      const head = headerOf(fs.readFileSync(path.join(set.dir, row.group, row.file)))
      place(fromDomain(head))
      const env = envelopeOf(head, `${set.name}/${row.group}/${row.file}`)
      if (env.derived) derived++
      const host = 1 + (n++ % 254)
      const ip = place(env.domain) === 'free-mail' ? `192.0.2.${host}` : `203.0.113.${host}`
      envelopes.set(`${set.name}/${row.group}/${row.file}`, { ip, helo: env.domain, sender: env.address })
    }
  }
  return { roles, envelopes, derived }
}

// ---- scanning ----------------------------------------------------------------------------------

const VERDICTS = ['none', 'notice', 'verified', 'suspicious', 'spoofed', 'error'] as const
type Verdict = (typeof VERDICTS)[number]
type Tally = Record<Verdict, number>
const flagged = (v: Verdict): boolean => v === 'suspicious' || v === 'spoofed'
const pct = (n: number, d: number): string => (d ? `${((100 * n) / d).toFixed(1)}%` : '-')
const totalOf = (t: Tally): number => VERDICTS.reduce((s, v) => s + t[v], 0)
const emptyTally = (): Tally => Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Tally
const signalsOf = (r: ScanResult): string => r.hits.map((h) => (h.options.length ? `${h.symbol}(${h.options.join(',')})` : h.symbol)).join(' ') || '-'

interface Relay {
  readonly resolver: InstanceType<typeof CachedResolver>
  readonly envelopes: ReadonlyMap<string, Envelope>
}

interface ViewResult {
  readonly tally: Map<string, Tally>
  readonly misses: string[]
  readonly falseFlags: string[]
  /** phishing whose authentication hit a DNS failure: the world is broken if this is not 0 */
  readonly dnsFailures: number
  readonly seconds: number
}

async function scanView(set: EvalSet, mode: Mode, relay: Relay | undefined): Promise<ViewResult> {
  const tally = new Map<string, Tally>()
  const count = (key: string, v: Verdict): void => {
    const t = tally.get(key) ?? emptyTally()
    t[v]++
    tally.set(key, t)
  }
  const misses: string[] = []
  const falseFlags: string[] = []
  let dnsFailures = 0
  const trusted = withTrusted(TRUSTED[set.name])
  const t0 = performance.now()
  for (const row of set.rows) {
    const name = `${row.group}/${row.file}`
    const raw = fs.readFileSync(path.join(set.dir, row.group, row.file))
    let r: ScanResult
    if (mode === 'offline') r = await scan(raw, {}, { settings, authservId: AUTHSERV_ID })
    else if (row.kind !== 'phish') r = await scan(raw, {}, { settings: trusted, authservId: AUTHSERV_ID })
    else {
      const ctx = relay!.envelopes.get(`${set.name}/${name}`)!
      r = await scan(toCrlf(raw), ctx, { settings, authservId: AUTHSERV_ID, resolve: relay!.resolver.forMessage(settings.dns.message_timeout_ms) })
      if (r.dnsTempfail || /temperror/.test(r.auth.fragments.join(' '))) dnsFailures++
    }
    const v = r.verdict as Verdict
    count(`${row.group}\t${row.language}`, v)
    if (row.kind === 'phish' && row.language === 'en' && row.noticeType) count(`${row.group}\ten notice-type`, v)
    const line = `${name}\t${v}\t${r.score}\t${r.brand ?? '-'}\t${r.kind ?? '-'}\t${signalsOf(r)}`
    if (row.kind === 'phish' && !flagged(v) && (row.language === 'ja' || (row.language === 'en' && row.noticeType))) misses.push(line)
    if (row.kind === 'genuine' && flagged(v)) falseFlags.push(line)
    if (row.kind === 'dkim' && v !== 'none') falseFlags.push(line)
  }
  return { tally, misses, falseFlags, dnsFailures, seconds: (performance.now() - t0) / 1000 }
}

type Target = readonly [name: string, met: boolean, measured: string]

function targetsOf(set: EvalSet, tally: ReadonlyMap<string, Tally>): Target[] {
  const sum = (pred: (key: string) => boolean): Tally => {
    const out = emptyTally()
    for (const [key, t] of tally) if (pred(key)) for (const v of VERDICTS) out[v] += t[v]
    return out
  }
  const groupsOf = (kind: Kind): string[] => [...new Set(set.rows.filter((r) => r.kind === kind).map((r) => r.group))]
  const inGroups = (groups: readonly string[]) => (key: string): boolean => groups.includes(key.split('\t')[0]!) && !key.endsWith('notice-type')
  const out: Target[] = []
  const genuineGroups = groupsOf('genuine')
  if (genuineGroups.length) {
    const g = sum(inGroups(genuineGroups))
    const total = totalOf(g)
    out.push([`genuine transactional mail (${genuineGroups.join(', ')}): 0 spoofed`, g.spoofed === 0, `${g.spoofed}/${total}`])
    out.push([`genuine transactional mail (${genuineGroups.join(', ')}): suspicious <= 2%`, g.suspicious <= 0.02 * total, `${g.suspicious}/${total} ${pct(g.suspicious, total)}`])
  }
  const rate = (label: string, key: string, min: number): void => {
    const t = tally.get(key)
    if (!t) return
    const n = t.suspicious + t.spoofed
    const d = totalOf(t)
    out.push([label, n >= min * d, `${n}/${d} ${pct(n, d)}`])
  }
  for (const group of groupsOf('phish')) {
    rate(`Japanese phishing (${group}) flagged >= 97%`, `${group}\tja`, 0.97)
    rate(`English notice-type phishing (${group}) flagged >= 90%`, `${group}\ten notice-type`, 0.9)
  }
  for (const group of groupsOf('dkim')) {
    const t = sum(inGroups([group]))
    const n = t.suspicious + t.spoofed
    out.push([`${group}: 0 flagged`, n === 0, `${n} flagged, ${totalOf(t) - t.none} not none, of ${totalOf(t)}`])
  }
  return out
}

/** The views whose targets decide the exit status: every relay view, and the corpus offline (see the header). */
const gated = (set: EvalSet, mode: Mode): boolean => mode === 'relay' || set.name === 'corpus'

function print(set: EvalSet, mode: Mode, view: ViewResult, targets: readonly Target[]): void {
  const title = mode === 'relay' ? 'relay view' : 'offline'
  console.log(`\n== ${set.name} · ${title}: ${set.dir} (${set.rows.length} messages, ${view.seconds.toFixed(1)} s)\n`)
  console.log(['group', 'language', ...VERDICTS, 'total', 'flagged'].join('\t'))
  for (const [key, t] of [...view.tally].sort(([a], [b]) => a.localeCompare(b))) {
    console.log([key, ...VERDICTS.map((v) => t[v]), totalOf(t), pct(t.suspicious + t.spoofed, totalOf(t))].join('\t'))
  }
  console.log(`\ntarget (${set.name}, ${title}${gated(set, mode) ? '' : ', printed only'})\tmet\tmeasured`)
  for (const [name, ok, measured] of targets) console.log(`${name}\t${ok ? 'yes' : 'NO'}\t${measured}`)
  if (view.dnsFailures) console.log(`WARNING: ${view.dnsFailures} phishing scans met a DNS failure: the DNS world is broken`)
  if (args.quiet) return
  console.log(`\nmisses (${set.name}, ${title}: Japanese or English notice-type phishing not flagged): ${view.misses.length}`)
  for (const l of view.misses) console.log(l)
  console.log(`\nfalse flags (${set.name}, ${title}: genuine mail flagged, or ham_dkim not none): ${view.falseFlags.length}`)
  for (const l of view.falseFlags) console.log(l)
}

// ---- run ---------------------------------------------------------------------------------------

let relay: Relay | undefined
let closeDns: (() => Promise<void>) | undefined
if (modes.includes('relay')) {
  const { roles, envelopes, derived } = buildWorld(sets)
  const server = await startDnsServer({ zone: relayWorld(roles) })
  closeDns = () => server.close()
  const resolver = new CachedResolver({
    servers: [`127.0.0.1:${server.port}`],
    timeoutMs: settings.dns.timeout_ms,
    cacheSize: settings.cache.size,
    maxTtlMs: settings.cache.max_ttl_s * 1000,
    negativeTtlMs: settings.cache.negative_ttl_s * 1000,
  })
  // the world answers as designed, or nothing measured in it means anything
  const brand = [...roles].find(([, role]) => role === 'brand')?.[0]
  const check = async (name: string, type: string): Promise<string> =>
    resolver.resolve(name, type).then(
      (a) => JSON.stringify(a),
      (e: NodeJS.ErrnoException) => e.code ?? 'error',
    )
  const checks: [string, string, string][] = [['no-such-name.invalid', 'TXT', 'ENOTFOUND']]
  if (brand) checks.push([`_dmarc.${brand}`, 'TXT', '[["v=DMARC1; p=none"]]'], [brand, 'TXT', '[["v=spf1 ip4:198.51.100.0/24 -all"]]'])
  for (const [name, type, want] of checks) {
    const got = await check(name, type)
    if (got !== want) {
      console.error(`eval: the DNS world answers ${type} ${name} with ${got}, not ${want}`)
      await server.close()
      process.exit(2)
    }
  }
  relay = { resolver, envelopes }
  const byRole = (role: Role): number => [...roles.values()].filter((r) => r === role).length
  const worldLine =
    `relay DNS world on 127.0.0.1:${server.port}: ${byRole('brand')} brand or institution domains, ${byRole('free-mail')} free-mail, ` +
    `${byRole('attacker')} attacker domains; ${envelopes.size} phishing envelopes (${derived} made up: no usable Return-Path)`
  console.log(worldLine)
  if (!args.quiet) {
    for (const role of ['brand', 'free-mail'] as const) {
      console.log(`  ${role}: ${[...roles].filter(([, r]) => r === role).map(([d]) => d).sort().join(' ')}`)
    }
  }
}

let missed = false
const summary: string[] = []
const t0 = performance.now()
try {
  for (const set of sets) {
    for (const mode of modes) {
      const view = await scanView(set, mode, relay)
      const targets = targetsOf(set, view.tally)
      print(set, mode, view, targets)
      if (gated(set, mode) && (targets.some(([, ok]) => !ok) || view.dnsFailures)) missed = true
      summary.push(`${set.name}\t${mode}\t${targets.map(([, ok]) => (ok ? 'yes' : 'NO')).join(' ')}\tmisses ${view.misses.length}\tfalse flags ${view.falseFlags.length}`)
    }
  }
} finally {
  await closeDns?.()
}

console.log(`\nsummary (targets in the order printed above)\n${summary.join('\n')}`)
if (relay) {
  const s = relay.resolver.stats
  console.log(`resolver: ${s.queries} queries, ${s.hits} cache hits, ${s.negativeHits} negative hits, ${s.errors} errors, ${s.timeouts} timeouts`)
}
console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`)
process.exitCode = missed && !args['print-only'] ? 1 : 0
