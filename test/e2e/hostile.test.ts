/**
 * The attacks through a real Haraka over SMTP (test/helpers/haraka.ts), with the loopback
 * DNS server of test/helpers/dns-server.ts:
 * - every hostile message (test/helpers/hostile.ts) and a fixed sample of generated ones
 *   (test/helpers/arbitrary.ts) is answered, and stored once, delivered or quarantined,
 *   exactly as a reference Haraka without the plugin stores it, but for our two fields on
 *   top and the forged ones gone;
 * - every spelling of a forged verdict is gone from what is stored, as a client reads it;
 * - DNS that fails in every way still ends the SMTP transaction within the configured
 *   time, with 451 for a brand's notice, never a spoof verdict, and nothing kept that
 *   would make the next attempt fail.
 */
import crypto from 'node:crypto'
import fc from 'fast-check'
import { dkimSign } from 'mailauth'
import PostalMime from 'postal-mime'
import t, { type Test } from 'tap'

import { isOurAuthResults } from '../../dist/src/auth/results.js'
import { hostileMessage } from '../helpers/arbitrary'
import { FORGED_SPELLINGS } from '../helpers/forged'
import { type DnsServer, type Zone, startDnsServer } from '../helpers/dns-server'
import { type Haraka, startHaraka } from '../helpers/haraka'
import { hostileMessages } from '../helpers/hostile'
import { makeMessage, mailbox } from '../helpers/messages'
import { FC_SEED } from '../helpers/property'
import { type SendResult, sendMail, toCrlf } from '../helpers/smtp'

const AUTHSERV = 'mx.test.example'
const SHOP = 'shop.example'
const SELECTOR = 'sel'
const TIMEOUT_MS = 400
const BUDGET_MS = 1500

const key = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
const privateKey = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const keyTxt = `v=DKIM1; k=rsa; p=${key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`.match(/.{1,250}/g)!

/** Brand domains, each with its own DNS trouble (the first one has none). */
const FAULTY: Readonly<Record<string, Zone>> = {
  'drop-shop.example': { fault: 'drop' },
  'slow-shop.example': { txt: ['v=spf1 ip4:127.0.0.1 -all'], delayMs: BUDGET_MS * 3 },
  'servfail-shop.example': { rcode: 'SERVFAIL' },
  'tc-shop.example': { truncate: 'hang', txt: ['v=spf1 ip4:127.0.0.1 -all'] },
  'junk-shop.example': { fault: 'random-bytes' },
}

const zonesFor = (domain: string, trouble?: Zone): Record<string, Zone> => ({
  [domain]: trouble ?? { txt: [`v=spf1 ip4:127.0.0.1 -all`], a: ['127.0.0.1'] },
  [`${SELECTOR}._domainkey.${domain}`]: trouble ?? { txt: [keyTxt] },
  [`_dmarc.${domain}`]: trouble ?? { txt: ['v=DMARC1; p=reject'] },
})

const REGISTRY = `retailers:
  testshop:
    names: [TestShop, テストショップ]
    sending_domains: [${[SHOP, ...Object.keys(FAULTY)].join(', ')}]
`

const pluginIni = (dnsPort: number): string => `[main]
authserv_id=${AUTHSERV}
[dns]
servers=127.0.0.1:${dnsPort}
timeout_ms=${TIMEOUT_MS}
message_timeout_ms=${BUDGET_MS}
[actions]
mode=quarantine
`

let dns: DnsServer
let withPlugin: Haraka
let reference: Haraka

t.before(async () => {
  dns = await startDnsServer({ ...zonesFor(SHOP), ...Object.fromEntries(Object.entries(FAULTY).flatMap(([d, z]) => Object.entries(zonesFor(d, z)))) })
  ;[withPlugin, reference] = await Promise.all([
    startHaraka({ layout: 'installed', dnsPort: dns.port, config: { 'shop-notice.ini': pluginIni(dns.port), 'shop-notice.retailers.yaml': REGISTRY } }),
    // the same Haraka without shop-notice: what Haraka itself makes of each message
    startHaraka({ layout: 'installed', dnsPort: dns.port, config: { plugins: 'queue/quarantine\nmaildir\n' } }),
  ])
})
t.teardown(async () => {
  await Promise.all([withPlugin?.stop(), reference?.stop()])
  await dns?.close()
})

interface Outcome {
  readonly reply: SendResult
  /** the files this message added: where, and the bytes */
  readonly stored: readonly { readonly where: 'delivered' | 'quarantined'; readonly raw: Buffer }[]
  readonly ms: number
}

/** Sends one message on its own connection and collects what it added to the store. */
async function send(h: Haraka, data: Buffer, from = `bounce@${SHOP}`): Promise<Outcome> {
  const before = new Set([...h.delivered(), ...h.quarantined()].map((m) => m.file))
  const started = performance.now()
  const [reply] = await sendMail(h.port, [{ from, to: ['customer@recipient.example'], data }], { timeoutMs: BUDGET_MS + 20_000, localAddress: '127.0.0.1' })
  const ms = performance.now() - started
  const stored = [
    ...h.delivered().map((m) => ({ where: 'delivered' as const, m })),
    ...h.quarantined().map((m) => ({ where: 'quarantined' as const, m })),
  ]
    .filter(({ m }) => !before.has(m.file))
    .map(({ where, m }) => ({ where, raw: m.raw }))
  return { reply: reply!, stored, ms }
}

/** A stored file cut into units: a line and the lines continuing it (folds), LF endings as stored. */
const units = (raw: Buffer): string[] => {
  const out: string[] = []
  for (const line of raw.toString('latin1').split(/(?<=\n)/)) {
    if (/^[ \t]/.test(line) && out.length) out[out.length - 1] += line
    else out.push(line)
  }
  return out
}

const nameOf = (unit: string): string => (unit.includes(':') ? unit.slice(0, unit.indexOf(':')).trim().toLowerCase() : '')

/** Sent fields a sender may not bring: any X-Shop-Notice, Authentication-Results under our id. */
const forged = (unit: string): boolean => {
  const name = nameOf(unit)
  if (name === 'x-shop-notice') return true
  return (name === 'authentication-results' || name === 'original-authentication-results') && isOurAuthResults(unit.slice(unit.indexOf(':') + 1), AUTHSERV)
}

/**
 * What the plugin's Haraka stored, against what the reference stored: our two fields on
 * top; then, past each one's own Received line, the same bytes but for forged fields in
 * the header block. Returns a description of the difference, or ''.
 */
function compareStored(mine: Buffer, ref: Buffer): string {
  const m = units(mine)
  const r = units(ref)
  if (!/^X-Shop-Notice: /.test(m[0] ?? '') || !/^Authentication-Results: /.test(m[1] ?? '')) return `not ours on top: ${(m[0] ?? '').slice(0, 60)}`
  if (!isOurAuthResults((m[1] ?? '').replace(/^Authentication-Results: /, ''), AUTHSERV)) return 'the second field is not our Authentication-Results'
  for (const unit of m.slice(0, 2)) for (const line of unit.split('\n')) if (line.length > 998 || /[^\x20-\x7e\t]/.test(line)) return `our field: ${line.slice(0, 60)}`
  const rest = m.slice(2)
  if (!/^Received: /.test(rest[0] ?? '') || !/^Received: /.test(r[0] ?? '')) return 'no Received line of Haraka'
  const headerEnd = r.indexOf('\n')
  const expected = r.slice(1).filter((u, i) => !(i + 1 < (headerEnd < 0 ? r.length : headerEnd) && forged(u)))
  const got = rest.slice(1)
  if (got.join('') === expected.join('')) return ''
  const at = got.findIndex((u, i) => u !== expected[i])
  return `differs at unit ${at}: ${JSON.stringify(got[at]?.slice(0, 80))} / ${JSON.stringify(expected[at]?.slice(0, 80))}`
}

/** One message through both: answered, stored once, and stored alike. */
async function throughBoth(t: Test, name: string, raw: Buffer): Promise<void> {
  const ref = await send(reference, raw)
  const mine = await send(withPlugin, raw)
  const code = mine.reply.final?.code ?? mine.reply.data?.code ?? 0
  const refCode = ref.reply.final?.code ?? ref.reply.data?.code ?? 0
  if (refCode !== 250) {
    // Haraka itself refused it (a mail loop of Received lines): so it does with the plugin
    t.equal(code, refCode, `${name}: refused by Haraka itself (${refCode} ${ref.reply.final?.text ?? ''}), as without the plugin`)
    t.equal(mine.stored.length, 0, `${name}: nothing stored`)
    return
  }
  if (code === 552) {
    // a header longer than Haraka keeps: core alone stores it cut (and says 250), the plugin refuses it
    t.match(mine.reply.final?.text, /5\.3\.4 Message header too long/, `${name}: 552, its header longer than core keeps`)
    t.ok(raw.toString('latin1').split(/\r?\n\r?\n/)[0]!.split(/\r?\n/).length >= 990, `${name}: refused only with ~1,000 header lines or more`)
    t.equal(mine.stored.length, 0, `${name}: nothing stored cut`)
    return
  }
  t.ok([250, 451, 550].includes(code), `${name}: answered ${code} ${mine.reply.final?.text ?? ''}`)
  if (code !== 250) {
    t.equal(mine.stored.length, 0, `${name}: ${code}, nothing stored: the sender keeps it`)
    return
  }
  t.equal(mine.stored.length, 1, `${name}: stored once (${mine.stored.map((s) => s.where).join(', ')})`)
  t.equal(ref.stored.length, 1)
  if (mine.stored.length === 1 && ref.stored.length === 1) {
    t.equal(compareStored(mine.stored[0]!.raw, ref.stored[0]!.raw), '', `${name}: stored as Haraka stores it, our fields on top, forged ones out`)
  }
}

t.test('the comparison of stored copies sees one changed byte, a moved field, a forged field left', async (t) => {
  const ref = Buffer.from('Received: from a\n\tby b; date\nSubject: x\nX-Shop-Notice: forged\n\nbody\n')
  const ours = 'X-Shop-Notice: none; brand=-; kind=-; score=0; signals=-\nAuthentication-Results: mx.test.example; spf=none\nReceived: from c\n\tby d; other date\n'
  t.equal(compareStored(Buffer.from(`${ours}Subject: x\n\nbody\n`), ref), '', 'the same, forged field out')
  t.not(compareStored(Buffer.from(`${ours}Subject: x\n\nbodY\n`), ref), '', 'a changed byte of the body')
  t.not(compareStored(Buffer.from(`${ours}Subject: x\nX-Shop-Notice: forged\n\nbody\n`), ref), '', 'a forged field left')
  t.not(compareStored(Buffer.from(`${ours}\nSubject: x\nbody\n`), ref), '', 'a field moved')
})

t.test('every hostile message, through a real Haraka: answered, stored once, as Haraka alone stores it', async (t) => {
  for (const h of hostileMessages()) await throughBoth(t, h.name, h.raw)
  t.notMatch(withPlugin.output(), /internal error|verdict=error/, 'the plugin had no internal failure')
})

t.test('generated and mutated messages, through a real Haraka (a fixed sample)', async (t) => {
  const sample = fc.sample(hostileMessage, { seed: FC_SEED, numRuns: 40 })
  for (const [i, raw] of sample.entries()) await throughBoth(t, `generated #${i} (FC_SEED=${FC_SEED})`, raw)
  t.notMatch(withPlugin.output(), /internal error|verdict=error/, 'the plugin had no internal failure')
})

/** A notice of the brand from `domain`, DKIM-signed with the published key. */
async function notice(domain: string, extraHeaders: string[] = []): Promise<Buffer> {
  const base = makeMessage({
    extraHeaders,
    from: mailbox('TestShop', `order@${domain}`),
    subject: 'ご注文確認',
    body: 'ご注文ありがとうございます。\nご注文番号: TS-2026-0001234\nご請求金額: 3,980円\n',
    messageId: `<${crypto.randomUUID()}@${domain}>`,
  })
  const data = { signingDomain: domain, selector: SELECTOR, privateKey }
  const signed = await dkimSign(toCrlf(base), { ...data, signatureData: [data] })
  return Buffer.concat([Buffer.from(signed.signatures!), base])
}

t.test('forged verdicts in every spelling are gone from what Haraka stores, as a client reads it', async (t) => {
  const msg = await notice(SHOP, [...FORGED_SPELLINGS])
  const out = await send(withPlugin, msg)
  t.equal(out.reply.final?.code, 250)
  t.equal(out.stored.length, 1)
  const email = await PostalMime.parse(out.stored[0]!.raw)
  const verdicts = email.headers.filter((h) => h.key === 'x-shop-notice')
  t.equal(verdicts.length, 1, 'one X-Shop-Notice')
  t.match(verdicts[0]?.value, /^verified; brand=testshop; kind=order;/, 'ours: the notice is genuine and says so')
  const ours = email.headers.filter((h) => /^(original-)?authentication-results$/.test(h.key) && isOurAuthResults(h.value, AUTHSERV))
  t.equal(ours.length, 1, 'one Authentication-Results under our id')
  t.match(ours[0]?.value, /spf=pass[\s\S]*dkim=pass[\s\S]*dmarc=pass/)
})

t.test('DNS failing in every way: the transaction ends within the configured time, 451, never a spoof verdict', async (t) => {
  for (const domain of Object.keys(FAULTY)) {
    const out = await send(withPlugin, await notice(domain), `bounce@${domain}`)
    t.equal(out.reply.final?.code, 451, `${domain}: 451 ${out.reply.final?.text ?? ''}`)
    t.match(out.reply.final?.text, /^4\.4\.3 Temporary DNS failure/, `${domain}: 4.4.3, saying why`)
    t.equal(out.stored.length, 0, `${domain}: nothing stored, the sender tries again`)
    const logged = new RegExp(`verdict=(\\S+) brand=testshop kind=order score=\\S+ signals=\\S+ action=defer ms=(\\d+)`, 'g')
    const last = [...withPlugin.output().matchAll(logged)].at(-1)
    t.ok(last, `${domain}: logged as deferred`)
    t.not(last?.[1], 'spoofed', `${domain}: not spoofed`)
    t.not(last?.[1], 'suspicious', `${domain}: not suspicious`)
    // bounds, not benchmarks: the configured budget, plus room for a loaded machine
    t.ok(Number(last?.[2]) < BUDGET_MS + 1500, `${domain}: the scan gave up within the ${BUDGET_MS} ms budget (${last?.[2]} ms)`)
    t.ok(out.ms < BUDGET_MS + 5000, `${domain}: the SMTP transaction ended in ${Math.round(out.ms)} ms`)
  }
})

t.test('a failure is not kept: once DNS answers, the same notice is verified and delivered', async (t) => {
  const domain = 'servfail-shop.example'
  const first = await send(withPlugin, await notice(domain), `bounce@${domain}`)
  t.equal(first.reply.final?.code, 451)
  for (const [name, zone] of Object.entries(zonesFor(domain))) dns.setZone(name, zone)
  const retry = await send(withPlugin, await notice(domain), `bounce@${domain}`)
  t.equal(retry.reply.final?.code, 250, 'the retry is accepted')
  t.equal(retry.stored[0]?.where, 'delivered')
  t.match(units(retry.stored[0]?.raw ?? Buffer.alloc(0))[0], /^X-Shop-Notice: verified; brand=testshop;/)
})

t.test('DNS stayed on loopback', async (t) => {
  t.notMatch(withPlugin.output(), /DNS-GUARD/)
  t.notMatch(reference.output(), /DNS-GUARD/)
})
