/**
 * The load and soak run (`npm run soak`, test/e2e/soak.test.ts): many messages, a mix of
 * genuine, spoofed and malformed ones, at C concurrent connections through a real
 * Haraka with the plugin, chained as the repository's own config/plugins chains it
 * (shop-notice, which holds what it quarantines itself, then the Maildir delivery), and every message
 * accounted for afterwards from the files Haraka wrote.
 *
 * Every message carries a header `X-Soak-Seq: <run token>.<n>` on top, its number in
 * the run. After the run Haraka is stopped and var/maildir/new and var/quarantine/* are
 * read: each number must be stored exactly once (delivered or quarantined) when the
 * client heard 250, and nowhere when it heard 5xx or 4xx. So a lost message (250 and no
 * file), a duplicate (two files of one number) and a message kept against a refusal are
 * each seen, by number.
 *
 * Loopback only: Haraka, its DNS server and the client are on 127.0.0.1, ports the
 * kernel picks. Bounded in count (the messages asked for) and in time (runLoad's
 * timeout); Haraka and the DNS server are stopped by the run itself.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'

import { hostileMessage } from '../../test/helpers/arbitrary.js'
import { hostileMessages } from '../../test/helpers/hostile.js'
import { FC_SEED } from '../../test/helpers/property.js'
import { type DnsServer, type ZoneFn, startDnsServer } from './dns-server.js'
import { PKG_ROOT, startBenchHaraka } from './haraka.js'
import { makeKey, notice, sign } from './mail.js'
import { type MessageOutcome, runLoad } from './smtp-load.js'
import { rng } from './stats.js'
import { AUTHSERV_ID, CLIENT_IP, benchSettings, senders, signedNotice, toCrlf } from './world.js'
import { benchWorld } from './zone.js'

export type Kind = 'genuine' | 'spoof' | 'malformed'
export const KINDS: readonly Kind[] = ['genuine', 'spoof', 'malformed']
export type SoakMode = 'quarantine' | 'reject'

export interface Template {
  readonly kind: Kind
  /** genuine: `dkim-signed`; spoof: `bad-signature`, `wrong-ip`, `lookalike`; malformed: the hostile message's name or `generated` */
  readonly variant: string
  /** one template among its variant (a domain, a hostile message's name, a generated message's number) */
  readonly name: string
  /** the envelope sender */
  readonly from: string
  /** the message, CRLF line endings, without the sequence header */
  readonly data: Buffer
}

export interface SoakWorld {
  readonly dns: DnsServer
  readonly templates: readonly Template[]
  /**
   * DNS faults from now on: this share (0..1) of the queries, drawn with a fixed seed, is
   * answered SERVFAIL (half of them) or not at all (the other half: the resolver times out),
   * and every answer carries TTL 1 s so that the resolver keeps asking under load. 0: none.
   */
  setDnsFaults(share: number): void
  /** the queries answered with a fault so far */
  readonly dnsFaults: { servfail: number; dropped: number }
  close(): Promise<void>
}

/** How many templates of each kind the world makes (the soak test makes fewer). */
export interface WorldSize {
  /** brand sending domains with genuine notices (two each, English and Japanese) */
  readonly genuineDomains: number
  /** brand sending domains spoofed (each in the three ways) */
  readonly spoofDomains: number
  /** generated hostile messages (test/helpers/arbitrary.ts), besides every named one */
  readonly generated: number
}

/** The reverse of an envelope domain made to fail SPF: `spf-fail.<brand domain>` publishes `v=spf1 -all`. */
const SPF_FAIL = 'spf-fail.'
const ATTACKER = 'bounce@soak-attacker.example'
const MALFORMED_SENDER = 'bounce@soak-malformed.example'

/** A domain that carries the brand's name inside another registrable domain (DOMAIN_LOOKALIKE_FROM, "embedded"). */
export const lookalikeOf = (domain: string): string => `${domain.split('.')[0]}-account-verify.example`

/**
 * The messages of the soak and their DNS: the benchmark's world (every domain publishes
 * SPF for 127.0.0.1, DMARC p=reject and the benchmark's DKIM key), and `spf-fail.*`
 * envelope domains whose SPF allows no address at all.
 *
 * - genuine: order notices of registered brands, DKIM-signed by the brand's own domain,
 *   from the brand's envelope domain (SPF, DKIM and DMARC pass: `verified`);
 * - spoof `bad-signature`: the brand's From, signed for the brand's domain with another key,
 *   from an unaligned envelope domain (DKIM fail, DMARC fail);
 * - spoof `wrong-ip`: the brand's From, unsigned, from `spf-fail.<brand domain>`: the client's
 *   address is not one the envelope domain's SPF allows (SPF fail, DMARC fail);
 * - spoof `lookalike`: the brand's name and wording from `<brand>-account-verify.example`,
 *   which authenticates itself perfectly (SPF, DKIM, DMARC pass for the lookalike);
 * - malformed: every named hostile message of test/helpers/hostile.ts and a fixed sample
 *   (FC_SEED) of generated, mutated ones, with CRLF line endings as an SMTP client sends them.
 */
export async function makeWorld(size: WorldSize): Promise<SoakWorld> {
  const key = makeKey()
  const attackerKey = makeKey()
  const base = benchWorld({ dkimTxt: key.dkimTxt, clientIp: CLIENT_IP })
  const world: ZoneFn = (name) => (name.startsWith(SPF_FAIL) ? { txt: [['v=spf1 -all']], a: [CLIENT_IP] } : base(name))
  let faultShare = 0
  const faultRandom = rng(14)
  const dnsFaults = { servfail: 0, dropped: 0 }
  const zone: ZoneFn = (name) => {
    if (!faultShare) return world(name)
    if (faultRandom() < faultShare) {
      if (faultRandom() < 0.5) {
        dnsFaults.servfail++
        return { rcode: 'SERVFAIL' }
      }
      dnsFaults.dropped++
      return { fault: 'drop' }
    }
    const z = world(name)
    return z && { ...z, ttl: 1 }
  }
  const dns = await startDnsServer({ zone })
  try {
    const settings = benchSettings()
    const brands = senders(settings, 5000).filter((s) => s.brand)
    if (brands.length < Math.max(size.genuineDomains, size.spoofDomains)) throw new Error(`only ${brands.length} brand sending domains in the registry`)
    const templates: Template[] = []
    const sizes = [3000, 6 * 1024, 12 * 1024]
    let seq = 0
    for (const s of brands.slice(0, size.genuineDomains)) {
      for (let k = 0; k < 2; k++) {
        const n = seq++
        const sample = await signedNotice(s, sizes[n % sizes.length]!, n, key.privateKey)
        templates.push({ kind: 'genuine', variant: 'dkim-signed', name: s.domain, from: sample.ctx.sender ?? '', data: sample.raw })
      }
    }
    for (const s of brands.slice(0, size.spoofDomains)) {
      const lang = seq % 2 ? 'en' : 'ja'
      const forged = notice({ domain: s.domain, shop: s.shop, lang, bytes: 5000, seq: seq++ })
      templates.push({ kind: 'spoof', variant: 'bad-signature', name: s.domain, from: ATTACKER, data: await sign(forged, s.domain, attackerKey.privateKey) })
      const unsigned = notice({ domain: s.domain, shop: s.shop, lang, bytes: 5000, seq: seq++ })
      templates.push({ kind: 'spoof', variant: 'wrong-ip', name: s.domain, from: `bounce@${SPF_FAIL}${s.domain}`, data: unsigned })
      const look = lookalikeOf(s.domain)
      const lure = notice({ domain: look, shop: s.shop, linkDomain: look, lang, bytes: 5000, seq: seq++ })
      templates.push({ kind: 'spoof', variant: 'lookalike', name: look, from: `bounce@${look}`, data: await sign(lure, look, key.privateKey) })
    }
    for (const h of hostileMessages()) templates.push({ kind: 'malformed', variant: h.name, name: h.name, from: MALFORMED_SENDER, data: toCrlf(h.raw) })
    const generated = size.generated ? fc.sample(hostileMessage, { seed: FC_SEED, numRuns: size.generated }) : []
    generated.forEach((raw, i) => templates.push({ kind: 'malformed', variant: 'generated', name: `generated #${i} (FC_SEED=${FC_SEED})`, from: MALFORMED_SENDER, data: toCrlf(raw) }))
    return {
      dns,
      templates,
      setDnsFaults: (share) => {
        faultShare = share
      },
      dnsFaults,
      close: () => dns.close(),
    }
  } catch (err) {
    await dns.close()
    throw err
  }
}

export interface Mix {
  readonly genuine: number
  readonly spoof: number
  readonly malformed: number
}
export const DEFAULT_MIX: Mix = { genuine: 0.6, spoof: 0.25, malformed: 0.15 }

/** The template of each message: its kind drawn by the weights (fixed seed), the templates of a kind taken in turn. */
export function plan(templates: readonly Template[], messages: number, mix: Mix = DEFAULT_MIX, seed = 4): Uint32Array {
  const of = new Map<Kind, number[]>(KINDS.map((k) => [k, []]))
  templates.forEach((t, i) => of.get(t.kind)!.push(i))
  const turn = new Map<Kind, number>(KINDS.map((k) => [k, 0]))
  const total = mix.genuine + mix.spoof + mix.malformed
  const random = rng(seed)
  const out = new Uint32Array(messages)
  for (let i = 0; i < messages; i++) {
    const r = random() * total
    let kind: Kind = r < mix.genuine ? 'genuine' : r < mix.genuine + mix.spoof ? 'spoof' : 'malformed'
    if (!of.get(kind)!.length) kind = KINDS.find((k) => of.get(k)!.length)!
    const list = of.get(kind)!
    const n = turn.get(kind)!
    turn.set(kind, n + 1)
    out[i] = list[n % list.length]!
  }
  return out
}

/** The header that numbers a message, on top of it. */
export const seqHeader = (token: string, i: number): string => `X-Soak-Seq: ${token}.${i}\r\n`

/** Message number i as sent (before dot-stuffing). */
export const messageData = (t: Template, token: string, i: number): Buffer => Buffer.concat([Buffer.from(seqHeader(token, i), 'latin1'), t.data])

/** Haraka's connection.ini [max] data_line_length (the repository's, Haraka's default). */
const DATA_LINE_LENGTH = 992

/**
 * Haraka's cut of a long DATA line (connection.js): a line whose LF is not within the first
 * `data_line_length` bytes on the wire (dot-stuffed) gets CRLF SP after `data_line_length - 2`
 * bytes, until the rest fits. `line` ends with CRLF; the result is un-stuffed again.
 */
function cutAsHaraka(line: Buffer): Buffer[] {
  let wire = line[0] === 0x2e ? Buffer.concat([Buffer.from('.'), line]) : line
  const pieces: Buffer[] = []
  while (wire.indexOf(0x0a) >= DATA_LINE_LENGTH) {
    pieces.push(wire.subarray(0, DATA_LINE_LENGTH - 2), Buffer.from('\r\n'))
    wire = Buffer.concat([Buffer.from(' '), wire.subarray(DATA_LINE_LENGTH - 2)])
  }
  pieces.push(wire)
  if (pieces[0]![0] === 0x2e) pieces[0] = pieces[0]!.subarray(1)
  return pieces
}

/**
 * What a stored copy's body should be: the part after the first empty line of what was sent,
 * with the final CRLF the client adds when there is none, lines longer than Haraka's
 * data_line_length cut as Haraka cuts them (as it does without the plugin), in LF line
 * endings (Haraka stores LF). Undefined when the message has no empty line.
 */
export function expectedBody(sent: Buffer): Buffer | undefined {
  const end = sent.indexOf('\r\n\r\n')
  if (end < 0) return undefined
  let body = sent.subarray(end + 4)
  if (body.length && !body.subarray(-2).equals(Buffer.from('\r\n'))) body = Buffer.concat([body, Buffer.from('\r\n')])
  const pieces: Buffer[] = []
  for (let at = 0; at < body.length; ) {
    const lf = body.indexOf(0x0a, at)
    const line = body.subarray(at, lf + 1)
    at = lf + 1
    if (line.length > DATA_LINE_LENGTH - 1) pieces.push(...cutAsHaraka(line))
    else pieces.push(line)
  }
  return Buffer.from(Buffer.concat(pieces).toString('latin1').replace(/\r\n/g, '\n'), 'latin1')
}

/** The body of a stored copy (LF line endings): after its first empty line. */
export function storedBody(raw: Buffer): Buffer | undefined {
  const end = raw.indexOf('\n\n')
  return end < 0 ? undefined : raw.subarray(end + 2)
}

export interface StoredCopy {
  readonly where: 'delivered' | 'quarantined'
  readonly file: string
  /** the sequence numbers of this run found in the file (one, when all is well) */
  readonly seqs: readonly number[]
  /** the verdict of the X-Shop-Notice field on top, '' when there is none */
  readonly verdict: string
  readonly body: Buffer | undefined
}

/** shop-notice's own files next to a quarantined message (src/quarantine/store.ts) and temporary files, as test/helpers/haraka.ts skips them */
const NOT_A_MESSAGE = /^\.|\.(json|release|release-used|tmp)$/

const filesIn = (dir: string): string[] =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => !NOT_A_MESSAGE.test(f))
        .map((f) => path.join(dir, f))
        .filter((f) => fs.statSync(f).isFile())
    : []

export interface Store {
  readonly copies: readonly StoredCopy[]
  /** files left in var/maildir/tmp, var/quarantine/tmp and as `.<id>.*.tmp` in a day folder (writes that never finished) */
  readonly leftovers: readonly string[]
}

/** Every message Haraka wrote into the Haraka folder `dir`: var/maildir/new and var/quarantine/<YYYYMMDD>. */
export function readStore(dir: string, token: string): Store {
  const seqRe = new RegExp(`X-Soak-Seq: ${token.replace(/[^\w]/g, '\\$&')}\\.(\\d+)`, 'g')
  const read = (where: StoredCopy['where'], file: string): StoredCopy => {
    const raw = fs.readFileSync(file)
    const text = raw.toString('latin1')
    const verdict = /^X-Shop-Notice: ([a-z]+);/.exec(text)?.[1] ?? ''
    return { where, file, seqs: [...text.matchAll(seqRe)].map((m) => Number(m[1])), verdict, body: storedBody(raw) }
  }
  const maildir = path.join(dir, 'var', 'maildir')
  const quarantine = path.join(dir, 'var', 'quarantine')
  const days = fs.existsSync(quarantine) ? fs.readdirSync(quarantine).filter((d) => /^\d{8}$/.test(d)) : []
  return {
    copies: [
      ...filesIn(path.join(maildir, 'new')).map((f) => read('delivered', f)),
      ...days.flatMap((d) => filesIn(path.join(quarantine, d)).map((f) => read('quarantined', f))),
    ],
    leftovers: [
      ...filesIn(path.join(maildir, 'tmp')),
      ...filesIn(path.join(quarantine, 'tmp')),
      // the plugin's quarantine writer's temporary names (src/quarantine/writer.ts)
      ...days.flatMap((d) => (fs.readdirSync(path.join(quarantine, d)).filter((f) => /^\..*\.tmp$/.test(f)).map((f) => path.join(quarantine, d, f)))),
    ],
  }
}

export type Fate = 'delivered' | 'quarantined' | 'rejected' | 'deferred' | 'unknown'

export interface Tally {
  sent: number
  delivered: number
  quarantined: number
  rejected: number
  deferred: number
  /** the connection failed with the message in flight, or it was never sent (the run timed out) */
  unknown: number
  /** 250, and no stored copy */
  lost: number
  /** numbers stored more than once */
  duplicated: number
  /** stored although the client heard 4xx or 5xx */
  keptAfterRefusal: number
}

const emptyTally = (): Tally => ({ sent: 0, delivered: 0, quarantined: 0, rejected: 0, deferred: 0, unknown: 0, lost: 0, duplicated: 0, keptAfterRefusal: 0 })

export interface AccountInput {
  readonly mode: SoakMode
  readonly templates: readonly Template[]
  readonly plan: Uint32Array
  readonly token: string
  /** what the client heard for each message, by number (undefined: never sent) */
  readonly outcomes: readonly (MessageOutcome | undefined)[]
  readonly store: Store
  /** the text of the plugin's 550 ([actions] reject_message) */
  readonly rejectMessage: string
  /**
   * DNS faults were injected: a 4xx with the plugin's DNS text (DNS_DEFER_TEXT) is then a fate,
   * for a message whose From is a brand's own domain (not the lookalike spoofs); any other 4xx
   * stays a failure
   */
  readonly dnsFaults?: boolean
}

/** The text of the plugin's 451 for a brand notice whose aligned check hit a DNS failure (src/plugin/index.ts). */
export const DNS_DEFER_TEXT = 'Temporary DNS failure while authenticating the sender'

export interface Accounting {
  readonly total: Tally
  /** by kind, and by `kind/variant` for the spoofs (the malformed ones are too many to list) */
  readonly byKind: Readonly<Record<string, Tally>>
  /** verdicts on top of the stored copies, by kind */
  readonly verdicts: Readonly<Record<Kind, Readonly<Record<string, number>>>>
  /** refusals by who refused (plugin: its reject_message; haraka: anything else) and reply */
  readonly refusals: Readonly<Record<string, number>>
  /** stored bodies compared with what was sent below the headers */
  readonly bodies: { readonly compared: number; readonly identical: number; readonly differing: readonly string[] }
  /** every check that failed, with the messages concerned */
  readonly failures: readonly string[]
}

const some = (xs: readonly (string | number)[], n = 8): string => `${xs.slice(0, n).join(', ')}${xs.length > n ? `, … (${xs.length})` : ''}`

/**
 * Accounts for every message of a run: what the client heard against what Haraka stored.
 * Pure: the soak test feeds it a store with one copy taken away and one doubled.
 */
export function account(input: AccountInput): Accounting {
  const n = input.plan.length
  const copiesOf = new Map<number, StoredCopy[]>()
  const failures: string[] = []
  const foreign: string[] = []
  const several: string[] = []
  for (const c of input.store.copies) {
    if (!c.seqs.length) foreign.push(path.basename(c.file))
    const distinct = [...new Set(c.seqs)]
    if (distinct.length > 1 || c.seqs.length > 1) several.push(`${path.basename(c.file)}: ${c.seqs.join(',')}`)
    for (const s of distinct) {
      if (s >= n) {
        foreign.push(`${path.basename(c.file)} (number ${s})`)
        continue
      }
      const list = copiesOf.get(s) ?? []
      list.push(c)
      copiesOf.set(s, list)
    }
  }
  if (foreign.length) failures.push(`stored files without a number of this run: ${some(foreign)}`)
  if (several.length) failures.push(`stored files with more than one sequence header: ${some(several)}`)
  if (input.store.leftovers.length) failures.push(`unfinished files left in tmp/: ${some(input.store.leftovers.map((f) => path.basename(f)))}`)

  const total = emptyTally()
  const byKind: Record<string, Tally> = {}
  const verdicts: Record<Kind, Record<string, number>> = { genuine: {}, spoof: {}, malformed: {} }
  const refusals: Record<string, number> = {}
  const problems = new Map<string, number[]>()
  const problem = (what: string, i: number): void => {
    const list = problems.get(what) ?? []
    list.push(i)
    problems.set(what, list)
  }
  const bodies = { compared: 0, identical: 0, differing: new Set<string>() }

  for (let i = 0; i < n; i++) {
    const t = input.templates[input.plan[i]!]!
    const tallies = [total, (byKind[t.kind] ??= emptyTally())]
    if (t.kind === 'spoof') tallies.push((byKind[`spoof/${t.variant}`] ??= emptyTally()))
    const add = (k: keyof Tally): void => {
      for (const x of tallies) x[k]++
    }
    add('sent')
    const o = input.outcomes[i]
    const copies = copiesOf.get(i) ?? []
    let fate: Fate | 'lost'
    if (!o || o.stage === 'connection') {
      fate = 'unknown'
      problem(o ? `connection failed in flight (${o.error})` : 'never sent', i)
    } else if (o.code >= 200 && o.code < 300) {
      if (copies.length === 0) {
        problem('answered 250 and stored nowhere (lost)', i)
        fate = 'lost'
      } else {
        fate = copies[0]!.where
        if (copies.length > 1) {
          add('duplicated')
          problem(`stored ${copies.length} times (${copies.map((c) => c.where).join('+')})`, i)
        }
      }
    } else {
      fate = o.code >= 500 ? 'rejected' : 'deferred'
      const who = (o.code >= 500 && o.text.includes(input.rejectMessage)) || (o.code < 500 && o.text.includes(DNS_DEFER_TEXT)) ? 'plugin' : 'haraka'
      const key = `${o.stage} ${o.code} by ${who}: ${o.text.slice(0, 80)}`
      refusals[key] = (refusals[key] ?? 0) + 1
      if (copies.length) {
        add('keptAfterRefusal')
        problem(`stored although refused with ${o.code}`, i)
      }
      // deferred is a fate only under DNS faults, by the plugin, for a notice whose From is a brand's own domain
      const dnsDefer = fate === 'deferred' && !!input.dnsFaults && o.stage === 'end of DATA' && o.text.includes(DNS_DEFER_TEXT) && t.variant !== 'lookalike'
      if (fate === 'deferred' && !dnsDefer) problem(`deferred: ${o.stage} ${o.code} ${o.text}`, i)
      if (t.kind === 'genuine' && !dnsDefer) problem(`genuine notice refused: ${o.code} ${o.text}`, i)
      if (who === 'plugin' && o.code >= 500 && input.mode !== 'reject') problem('rejected by the plugin outside mode=reject', i)
    }
    add(fate)

    for (const c of copies.slice(0, 1)) {
      const v = c.verdict || '(no X-Shop-Notice)'
      verdicts[t.kind][v] = (verdicts[t.kind][v] ?? 0) + 1
      if (t.kind === 'genuine' && (c.where !== 'delivered' || c.verdict !== 'verified')) problem(`genuine notice ${c.where} as ${v}`, i)
      if (t.kind === 'spoof' && c.where === 'delivered') problem(`spoof (${t.variant}) delivered as ${v}`, i)
      if (!c.verdict) problem('stored without the X-Shop-Notice field on top', i)
      const sent = messageData(t, input.token, i)
      const want = expectedBody(sent)
      if (want !== undefined) {
        bodies.compared++
        if (c.body?.equals(want)) bodies.identical++
        else {
          bodies.differing.add(`${t.kind}/${t.variant}`)
          problem('body below the headers not stored as sent (Haraka\'s own cut of long lines allowed for)', i)
        }
      }
    }
  }
  for (const [what, list] of problems) failures.push(`${what}: ${list.length} message(s), numbers ${some(list)}`)
  if (total.delivered + total.quarantined + total.rejected + total.deferred !== total.sent) {
    failures.push(`delivered ${total.delivered} + quarantined ${total.quarantined} + rejected ${total.rejected} + deferred ${total.deferred} != sent ${total.sent}`)
  }
  return { total, byKind, verdicts, refusals, bodies: { ...bodies, differing: [...bodies.differing].sort() }, failures }
}

export interface PassOptions {
  readonly mode: SoakMode
  readonly messages: number
  readonly connections: number
  /** RSS is taken after this many messages (warm-up) and at the end */
  readonly warmup: number
  /** the growth of RSS from warm-up to the end allowed; undefined: reported, not checked */
  readonly rssGrowthBoundBytes?: number
  /** smtp.ini nodes (0: one process) */
  readonly nodes?: number
  readonly timeoutMs: number
  readonly mix?: Mix
  /** Haraka runs with node's --trace-gc: the live heap after each full GC is read from its log */
  readonly traceGc?: boolean
  /** with traceGc: the growth of the live heap (after full GCs) from warm-up to the end allowed, in MB; undefined: not checked */
  readonly heapGrowthBoundMb?: number
  /** a line now and then */
  readonly progress?: (line: string) => void
  /** the share (0..1) of DNS queries answered SERVFAIL or not at all (SoakWorld.setDnsFaults); 0: none */
  readonly dnsFaults?: number
}

export interface PassReport {
  readonly mode: SoakMode
  readonly messages: number
  readonly connections: number
  readonly nodes: number
  readonly token: string
  readonly wallMs: number
  readonly rate: number
  readonly timedOut: boolean
  readonly loadErrors: readonly string[]
  readonly rss: { readonly warmup?: number; readonly half?: number; readonly end?: number; readonly peak?: number; readonly warmupAt: number; readonly boundBytes?: number }
  /** with workers: each process's RSS after warm-up and at the end (master first), reported, not checked */
  readonly rssByProcess?: readonly { readonly pid: number; readonly warmup?: number; readonly end?: number }[]
  readonly dnsQueries: number
  /** the share of DNS queries faulted, and how many were answered SERVFAIL / not at all */
  readonly dnsFaults: { readonly share: number; readonly servfail: number; readonly dropped: number }
  /** with traceGc: V8's heap after the last full GC (Mark-Compact) before warm-up and before the end, in MB, and how many there were */
  readonly heap?: { readonly warmupMb?: number; readonly endMb?: number; readonly fullGcs: number; readonly maxCommittedMb?: number; readonly boundMb?: number }
  /** what the plugin logged: verdict lines by action, internal errors, DNS-GUARD lines */
  readonly log: { readonly verdictLines: number; readonly byAction: Readonly<Record<string, number>>; readonly internalErrors: number; readonly dnsGuard: number }
  readonly accounting: Accounting
  /** everything that failed: the accounting's checks, the log's, the memory bound */
  readonly failures: readonly string[]
  /** the raw material, for a test that tampers with it */
  readonly raw: { readonly plan: Uint32Array; readonly outcomes: readonly (MessageOutcome | undefined)[]; readonly store: Store }
}

function pluginsOfRepository(): string[] {
  return fs
    .readFileSync(path.join(PKG_ROOT, 'config', 'plugins'), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
}

/** The repository's config/shop-notice.ini with the soak's authserv-id, DNS server and mode. */
function soakIni(dnsPort: number, mode: SoakMode): { ini: string; rejectMessage: string } {
  let ini = fs.readFileSync(path.join(PKG_ROOT, 'config', 'shop-notice.ini'), 'utf8')
  const set = (key: string, value: string): void => {
    const re = new RegExp(`^${key}=.*$`, 'm')
    if (!re.test(ini)) throw new Error(`config/shop-notice.ini: no ${key}= line to set for the soak`)
    ini = ini.replace(re, `${key}=${value}`)
  }
  set('authserv_id', AUTHSERV_ID)
  set('servers', `127.0.0.1:${dnsPort}`)
  set('mode', mode)
  const rejectMessage = /^reject_message=(.*)$/m.exec(ini)?.[1]?.trim() ?? ''
  return { ini, rejectMessage }
}

/** One pass: a fresh Haraka in `mode`, the messages sent, Haraka stopped, its files read and accounted for. */
export async function runPass(world: SoakWorld, opts: PassOptions): Promise<PassReport> {
  const token = crypto.randomBytes(6).toString('hex')
  const order = plan(world.templates, opts.messages, opts.mix)
  const { ini, rejectMessage } = soakIni(world.dns.port, opts.mode)
  const plugins = pluginsOfRepository()
  const h = await startBenchHaraka({
    plugins,
    dnsPort: world.dns.port,
    nodes: opts.nodes ?? 0,
    config: { 'shop-notice.ini': ini },
    execArgv: opts.traceGc ? ['--trace-gc'] : [],
    keepDir: true,
  })
  const logFile = path.join(h.dir, 'haraka.log')
  const logSize = (): number => (fs.existsSync(logFile) ? fs.statSync(logFile).size : 0)
  const progress = opts.progress ?? ((): void => undefined)
  const faults0 = { ...world.dnsFaults }
  world.setDnsFaults(opts.dnsFaults ?? 0)
  try {
    const q0 = world.dns.stats.queries
    const outcomes: (MessageOutcome | undefined)[] = new Array(opts.messages).fill(undefined)
    const rss: { warmup?: number; half?: number; end?: number; peak?: number } = {}
    const sample = (): number | undefined => {
      const r = h.rssBytes()
      if (r !== undefined && (rss.peak === undefined || r > rss.peak)) rss.peak = r
      return r
    }
    const warmupAt = Math.min(opts.warmup, opts.messages)
    const half = Math.floor((warmupAt + opts.messages) / 2)
    let logAtWarmup = 0
    let byProcessAtWarmup = new Map<number, number | undefined>()
    let done = 0
    const every = Math.max(1, Math.round(opts.messages / 10))
    const started = performance.now()
    const sampler = setInterval(sample, 500)
    let result
    try {
      result = await runLoad({
        port: h.port,
        count: opts.messages,
        connections: opts.connections,
        timeoutMs: opts.timeoutMs,
        helo: 'client.bench.example',
        messageAt: (i) => {
          const t = world.templates[order[i]!]!
          return { from: t.from, data: messageData(t, token, i) }
        },
        onMessage: (i, o) => {
          outcomes[i] = o
          done++
          if (done === warmupAt) {
            rss.warmup = sample()
            byProcessAtWarmup = h.rssByProcess()
            logAtWarmup = logSize()
          }
          if (done === half) rss.half = sample()
          if (done % every === 0) progress(`  ${opts.mode}: ${done}/${opts.messages} answered, ${((done * 1000) / (performance.now() - started)).toFixed(0)} msg/s, RSS ${mb(sample())}`)
        },
      })
    } finally {
      clearInterval(sampler)
    }
    rss.end = sample()
    const byProcessAtEnd = h.rssByProcess()
    await h.stop()
    // latin1: one character a byte, so that positions are offsets in the file
    const logText = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'latin1') : ''
    const store = readStore(h.dir, token)
    const accounting = account({ mode: opts.mode, templates: world.templates, plan: order, token, outcomes, store, rejectMessage, dnsFaults: !!opts.dnsFaults })

    const byAction: Record<string, number> = {}
    let verdictLines = 0
    const badDefers: string[] = []
    for (const m of logText.matchAll(/\[shop-notice\] verdict=\S+ brand=(\S+) .*? signals=(\S+) action=(\w+)/g)) {
      verdictLines++
      byAction[m[3]!] = (byAction[m[3]!] ?? 0) + 1
      // a deferral is for a brand notice whose aligned check hit DNS: AUTH_DNS_TEMPFAIL is set only then
      if (m[3] === 'defer' && (m[1] === '-' || !m[2]!.split(',').includes('AUTH_DNS_TEMPFAIL'))) badDefers.push(`brand=${m[1]} signals=${m[2]}`)
    }
    let heap: PassReport['heap']
    if (opts.traceGc) {
      // "Mark-Compact 61.2 (88.0) -> 40.3 (90.1) MB": used (committed) before -> after
      const gcs = [...logText.matchAll(/Mark-Compact(?: \(reduce\))? [\d.]+ \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/g)].map((m) => ({
        at: m.index,
        after: Number(m[2]),
        committed: Math.max(Number(m[1]), Number(m[3])),
      }))
      const before = gcs.filter((g) => g.at <= logAtWarmup)
      heap = {
        warmupMb: before.at(-1)?.after,
        endMb: gcs.at(-1)?.after,
        fullGcs: gcs.length,
        maxCommittedMb: gcs.length ? Math.max(...gcs.map((g) => g.committed)) : undefined,
        boundMb: opts.heapGrowthBoundMb,
      }
    }
    const internalErrors = [...logText.matchAll(/internal error|verdict=error/g)].length
    const dnsGuard = [...logText.matchAll(/DNS-GUARD:/g)].length
    const failures = [...accounting.failures]
    if (result.timedOut) failures.push(`the run hit its time limit of ${opts.timeoutMs} ms`)
    if (result.errors.length) failures.push(`connections failed: ${some(result.errors)}`)
    if (internalErrors) failures.push(`the plugin logged ${internalErrors} internal error(s) or verdict=error`)
    if (dnsGuard) failures.push(`DNS left loopback (${dnsGuard} DNS-GUARD lines)`)
    if (badDefers.length) failures.push(`the plugin deferred ${badDefers.length} message(s) without a brand or an aligned DNS failure: ${some(badDefers)}`)
    const pluginDefers = Object.entries(accounting.refusals)
      .filter(([k]) => k.includes(DNS_DEFER_TEXT))
      .reduce((s, [, v]) => s + v, 0)
    if ((byAction.defer ?? 0) !== pluginDefers) failures.push(`the plugin logged action=defer ${byAction.defer ?? 0} times, clients heard its 451 ${pluginDefers} times`)
    // one verdict for every message that reached data_post: all but those Haraka itself refused at the end of DATA
    const coreRefused = Object.entries(accounting.refusals)
      .filter(([k]) => k.includes(' by haraka'))
      .reduce((s, [, v]) => s + v, 0)
    if (verdictLines !== accounting.total.sent - coreRefused) failures.push(`the plugin logged ${verdictLines} verdicts for ${accounting.total.sent - coreRefused} messages that reached it`)
    if ((byAction.quarantine ?? 0) !== accounting.total.quarantined) failures.push(`the plugin logged action=quarantine ${byAction.quarantine ?? 0} times, ${accounting.total.quarantined} messages are in the quarantine`)
    const coreRejected = Object.entries(accounting.refusals)
      .filter(([k]) => / 5\d\d by haraka/.test(k))
      .reduce((s, [, v]) => s + v, 0)
    if ((byAction.reject ?? 0) !== accounting.total.rejected - coreRejected) failures.push(`the plugin logged action=reject ${byAction.reject ?? 0} times, it refused ${accounting.total.rejected - coreRejected}`)
    if (heap && opts.heapGrowthBoundMb !== undefined) {
      if (heap.warmupMb === undefined || heap.endMb === undefined) failures.push('no full GC in the log before warm-up or before the end: the live heap could not be compared')
      else if (heap.endMb - heap.warmupMb > opts.heapGrowthBoundMb) {
        failures.push(`the live heap grew ${(heap.endMb - heap.warmupMb).toFixed(1)} MB from warm-up to the end, more than the bound of ${opts.heapGrowthBoundMb} MB`)
      }
    }
    const growth = rss.end !== undefined && rss.warmup !== undefined ? rss.end - rss.warmup : undefined
    if (opts.rssGrowthBoundBytes !== undefined) {
      if (growth === undefined) failures.push('RSS could not be read (/proc)')
      else if (growth > opts.rssGrowthBoundBytes) failures.push(`RSS grew ${mb(growth)} from warm-up to the end, more than the bound of ${mb(opts.rssGrowthBoundBytes)}`)
    }
    return {
      mode: opts.mode,
      messages: opts.messages,
      connections: opts.connections,
      nodes: opts.nodes ?? 0,
      token,
      wallMs: result.wallMs,
      rate: (accounting.total.sent * 1000) / result.wallMs,
      timedOut: result.timedOut,
      loadErrors: result.errors,
      rss: { ...rss, warmupAt, boundBytes: opts.rssGrowthBoundBytes },
      ...(opts.nodes ? { rssByProcess: [...byProcessAtEnd].map(([pid, end]) => ({ pid, warmup: byProcessAtWarmup.get(pid), end })) } : {}),
      dnsQueries: world.dns.stats.queries - q0,
      dnsFaults: { share: opts.dnsFaults ?? 0, servfail: world.dnsFaults.servfail - faults0.servfail, dropped: world.dnsFaults.dropped - faults0.dropped },
      heap,
      log: { verdictLines, byAction, internalErrors, dnsGuard },
      accounting,
      failures,
      raw: { plan: order, outcomes, store },
    }
  } finally {
    world.setDnsFaults(0)
    await h.stop()
    fs.rmSync(h.dir, { recursive: true, force: true })
  }
}

export const mb = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(1)} MB`)

const TALLY_COLUMNS: readonly (keyof Tally)[] = ['sent', 'delivered', 'quarantined', 'rejected', 'deferred', 'unknown', 'lost', 'duplicated', 'keptAfterRefusal']

/** The tally table of some rows, Markdown. */
export function tallyTable(rows: readonly (readonly [string, Tally])[]): string[] {
  const head = ['', ...TALLY_COLUMNS.map((c) => (c === 'keptAfterRefusal' ? 'kept after 4xx/5xx' : c))]
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map(([name, t]) => `| ${name} | ${TALLY_COLUMNS.map((c) => t[c].toLocaleString('en-US')).join(' | ')} |`)]
}

/** A pass as lines of Markdown: the tallies, verdicts, refusals, bodies, memory, log, failures. */
export function formatPass(r: PassReport): string[] {
  const a = r.accounting
  const out: string[] = []
  out.push(`### mode=${r.mode}: ${r.messages.toLocaleString('en-US')} messages, ${r.connections} connections, nodes=${r.nodes}`)
  out.push('')
  out.push(
    ...tallyTable([
      ['all', a.total],
      ...KINDS.filter((k) => a.byKind[k]).map((k) => [k, a.byKind[k]!] as const),
      ...Object.keys(a.byKind)
        .filter((k) => k.startsWith('spoof/'))
        .sort()
        .map((k) => [`  ${k}`, a.byKind[k]!] as const),
    ]),
  )
  out.push('')
  out.push(`- time: ${(r.wallMs / 1000).toFixed(1)} s, ${r.rate.toFixed(0)} msg/s; DNS queries that reached the server: ${r.dnsQueries}`)
  if (r.dnsFaults.share) {
    out.push(`- DNS faults: ${(r.dnsFaults.share * 100).toFixed(0)}% of the queries, TTL 1 s: ${r.dnsFaults.servfail} answered SERVFAIL, ${r.dnsFaults.dropped} not answered; ${r.accounting.total.deferred} messages deferred (451, a DNS failure of an aligned check of a brand notice)`)
  }
  for (const k of KINDS) {
    const v = Object.entries(a.verdicts[k])
      .sort()
      .map(([x, c]) => `${x} ${c}`)
      .join(', ')
    out.push(`- verdicts stored, ${k}: ${v || '-'}`)
  }
  const refusals = Object.entries(a.refusals).sort((x, y) => y[1] - x[1])
  out.push(`- refusals: ${refusals.length ? refusals.map(([k, v]) => `${v} × ${k}`).join('; ') : 'none'}`)
  out.push(`- bodies below the headers: ${a.bodies.identical}/${a.bodies.compared} stored byte for byte as sent${a.bodies.differing.length ? `; differing: ${a.bodies.differing.join(', ')}` : ''}`)
  const growth = r.rss.end !== undefined && r.rss.warmup !== undefined ? r.rss.end - r.rss.warmup : undefined
  out.push(
    `- Haraka RSS: after warm-up (${r.rss.warmupAt} messages) ${mb(r.rss.warmup)}, half-way ${mb(r.rss.half)}, end ${mb(r.rss.end)}, peak ${mb(r.rss.peak)}; ` +
      `growth after warm-up ${growth === undefined ? 'n/a' : `${growth >= 0 ? '+' : ''}${mb(growth)}`}` +
      (r.rss.boundBytes !== undefined ? `, bound +${mb(r.rss.boundBytes)}: ${growth !== undefined && growth <= r.rss.boundBytes ? 'within' : 'EXCEEDED'}` : ''),
  )
  if (r.rssByProcess) {
    out.push(
      `- RSS by process (master first), after warm-up -> end: ${r.rssByProcess
        .map((p) => `${p.pid} ${mb(p.warmup)} -> ${mb(p.end)}${p.warmup !== undefined && p.end !== undefined ? ` (${p.end >= p.warmup ? '+' : ''}${mb(p.end - p.warmup)})` : ''}`)
        .join('; ')}`,
    )
  }
  if (r.heap) {
    out.push(
      `- V8 heap of Haraka (--trace-gc): live after the last full GC before warm-up ${r.heap.warmupMb ?? 'n/a'} MB, before the end ${r.heap.endMb ?? 'n/a'} MB` +
        (r.heap.warmupMb !== undefined && r.heap.endMb !== undefined ? ` (${r.heap.endMb >= r.heap.warmupMb ? '+' : ''}${(r.heap.endMb - r.heap.warmupMb).toFixed(1)} MB)` : '') +
        (r.heap.boundMb !== undefined ? `, bound +${r.heap.boundMb} MB` : '') +
        `; ${r.heap.fullGcs} full GCs; the most committed ${r.heap.maxCommittedMb ?? 'n/a'} MB`,
    )
  }
  const actions = Object.entries(r.log.byAction)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
  out.push(`- plugin log: ${r.log.verdictLines} verdict lines (${actions}), ${r.log.internalErrors} internal errors, ${r.log.dnsGuard} DNS-GUARD lines`)
  out.push(`- result: ${r.failures.length ? `FAILED\n${r.failures.map((f) => `  - ${f}`).join('\n')}` : 'every message accounted for'}`)
  return out
}
