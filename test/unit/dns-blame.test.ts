/**
 * A sender cannot fake a DNS failure (issue 14, item 4), with a real DNS server on loopback:
 * - a name that cannot exist in the DNS (a DKIM selector of a 70-octet label, with a space,
 *   `..`, a backslash…) is never asked and is ENOTFOUND, a permanent answer: the signature
 *   is permerror, never temperror;
 * - only a temporary failure that could change this message's verdict (the DMARC record of
 *   the From domain, a DKIM signature aligned with it, SPF of an aligned MAIL FROM) may
 *   defer or soften a brand notice; an extra unaligned signature whose key cannot be had,
 *   or an unaligned MAIL FROM domain whose DNS stalls, changes nothing.
 */
import crypto from 'node:crypto'
import { dkimSign } from 'mailauth'
import t from 'tap'

import { CachedResolver, dnsNameProblem } from '../../dist/src/auth/resolver.js'
import { scan } from '../../dist/src/scan.js'
import { type DnsServer, startDnsServer } from '../helpers/dns-server'
import { makeMessage, mailbox } from '../helpers/messages'
import { testSettings } from '../helpers/settings'

const SHOP = 'shop.example'
const OTHER = 'mailer.example'
const GOOD_IP = '192.0.2.10'
const ATTACKER_IP = '203.0.113.9'
const TIMEOUT_MS = 200
const BUDGET_MS = 1200

const settings = testSettings({ testshop: { names: ['TestShop'], sending_domains: [SHOP] } })
const key = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
const privateKey = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const keyRecord = `v=DKIM1; k=rsa; p=${key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`.match(/.{1,250}/g)!

let dns: DnsServer
t.before(async () => {
  dns = await startDnsServer({
    [SHOP]: { txt: [`v=spf1 ip4:${GOOD_IP} -all`], a: [GOOD_IP] },
    [`sel._domainkey.${SHOP}`]: { txt: [keyRecord] },
    [`_dmarc.${SHOP}`]: { txt: ['v=DMARC1; p=reject'] },
    [OTHER]: { txt: [`v=spf1 ip4:${GOOD_IP} -all`] },
    [`sel._domainkey.${OTHER}`]: { txt: [keyRecord] },
    // DNS that fails for now
    [`servfail._domainkey.${OTHER}`]: { rcode: 'SERVFAIL' },
    [`servfail._domainkey.${SHOP}`]: { rcode: 'SERVFAIL' },
    'stall.example': { fault: 'drop' },
    'bounce.stall.example': { fault: 'drop' },
    [`bounce.${SHOP}`]: { fault: 'drop' },
  })
})
t.teardown(() => dns.close())

const notice = makeMessage({
  from: mailbox('TestShop', `order@${SHOP}`),
  subject: 'Your TestShop order confirmation',
  body: 'Thank you for your order at TestShop.\nOrder number: TS-2026-0001234\nTotal: 39.80 EUR\n',
})

/** A DKIM-Signature of `domain` over the notice, with its s= then rewritten to `selector` (the key lookup is what counts). */
async function signature(domain: string, selector: string): Promise<string> {
  const data = { signingDomain: domain, selector: 'sel', privateKey }
  const sig = (await dkimSign(notice, { ...data, signatureData: [data] })).signatures!
  return selector === 'sel' ? sig : sig.replace(/\bs=sel;/, `s=${selector};`)
}

const scanWith = async (signatures: string[], ip: string, sender: string) => {
  const r = new CachedResolver({ servers: [dns.address], timeoutMs: TIMEOUT_MS })
  return scan(Buffer.concat([Buffer.from(signatures.join('')), notice]), { ip, helo: 'client.test', sender }, { settings, authservId: 'mx.test.example', resolve: r.forMessage(BUDGET_MS) })
}

const BAD_SELECTORS: readonly [string, string][] = [
  ['a 70-octet label', 'x'.repeat(70)],
  ['a space', 'a b'],
  ['an empty label (..)', 'a..b'],
  ['a backslash', 'a\\b'],
  ['a name over 253 octets', Array.from({ length: 5 }, () => 'y'.repeat(60)).join('.')],
]

t.test('names that cannot exist are ENOTFOUND, never asked, even with the budget spent', async (t) => {
  for (const [what, sel] of BAD_SELECTORS) {
    const name = `${sel}._domainkey.${SHOP}`
    t.ok(dnsNameProblem(name), `${what}: not a DNS name`)
    const before = dns.count()
    const r = new CachedResolver({ servers: [dns.address], timeoutMs: TIMEOUT_MS })
    await t.rejects(r.resolve(name, 'TXT'), { code: 'ENOTFOUND' }, `${what}: ENOTFOUND`)
    await t.rejects(r.forMessage(0)(name, 'TXT'), { code: 'ENOTFOUND' }, `${what}: ENOTFOUND, not the budget's ETIMEOUT`)
    t.equal(dns.count(), before, `${what}: nothing sent`)
  }
  for (const ok of ['sel._domainkey.shop.example', 'shop.example.', '_dmarc.xn--bcher-kva.example', `${'a'.repeat(63)}.example`]) t.equal(dnsNameProblem(ok), undefined, `${ok}: a DNS name`)
})

interface Case {
  readonly name: string
  readonly signatures: () => Promise<string[]>
  readonly ip: string
  readonly sender: string
  /** may a DNS retry change the verdict? (451 in quarantine/reject modes) */
  readonly defer: boolean
  readonly verdict: string
  readonly dkim?: readonly string[]
  readonly spf?: string
}

const CASES: readonly Case[] = [
  // a spoof signed for the brand's domain with a selector that cannot exist: permerror, spoofed, not deferred
  ...BAD_SELECTORS.map(([what, sel]): Case => ({
    name: `an aligned signature whose selector has ${what}`,
    signatures: async () => [await signature(SHOP, sel)],
    ip: ATTACKER_IP,
    sender: `bounce@${SHOP}`,
    defer: false,
    verdict: 'spoofed',
    dkim: ['permerror'],
    spf: 'fail',
  })),
  ...BAD_SELECTORS.map(([what, sel]): Case => ({
    name: `the brand's own mail with an extra signature whose selector has ${what}`,
    signatures: async () => [await signature(SHOP, 'sel'), await signature(OTHER, sel)],
    ip: GOOD_IP,
    sender: `bounce@${SHOP}`,
    defer: false,
    verdict: 'verified',
    dkim: ['pass', 'permerror'],
  })),
  {
    name: 'a spoof with an extra UNALIGNED signature whose key DNS fails (SERVFAIL)',
    signatures: async () => [await signature(OTHER, 'servfail')],
    ip: ATTACKER_IP,
    sender: `bounce@${SHOP}`,
    defer: false,
    verdict: 'spoofed',
    dkim: ['temperror'],
    spf: 'fail',
  },
  {
    name: 'a spoof whose UNALIGNED MAIL FROM domain stalls',
    signatures: async () => [],
    ip: ATTACKER_IP,
    sender: 'bounce@bounce.stall.example',
    defer: false,
    verdict: 'spoofed',
    spf: 'temperror',
  },
  {
    name: 'a spoof whose unaligned MAIL FROM cannot be a DNS name',
    signatures: async () => [],
    ip: ATTACKER_IP,
    sender: 'bounce@a..stall.example',
    defer: false,
    verdict: 'spoofed',
  },
  // what may defer: a check that could make DMARC pass for the brand's From domain
  {
    name: 'an ALIGNED signature whose key DNS fails (SERVFAIL): may defer',
    signatures: async () => [await signature(SHOP, 'servfail')],
    ip: ATTACKER_IP,
    sender: 'bounce@bounce.stall.example',
    defer: true,
    verdict: 'notice',
    dkim: ['temperror'],
  },
  {
    name: 'an ALIGNED MAIL FROM whose SPF DNS stalls, unsigned: may defer',
    signatures: async () => [],
    ip: ATTACKER_IP,
    sender: `bounce@bounce.${SHOP}`,
    defer: true,
    verdict: 'notice',
    spf: 'temperror',
  },
]

t.test('only a temporary failure that could change the verdict defers or softens it', async (t) => {
  for (const c of CASES) {
    const r = await scanWith(await c.signatures(), c.ip, c.sender)
    t.equal(r.dnsTempfail, c.defer, `${c.name}: ${c.defer ? 'may defer' : 'never defers'}`)
    t.equal(r.verdict, c.verdict, `${c.name}: ${c.verdict} (score ${r.score}, ${r.hits.map((h) => h.symbol).join(',')})`)
    if (c.dkim) t.same(r.auth.dkim.map((d) => d.result), c.dkim, `${c.name}: dkim ${c.dkim.join(',')}`)
    if (c.spf) t.equal(r.auth.spf.result, c.spf, `${c.name}: spf=${c.spf}`)
    t.equal(r.hits.some((h) => h.symbol === 'AUTH_DNS_TEMPFAIL'), c.defer, `${c.name}: AUTH_DNS_TEMPFAIL only when it could matter`)
    if (c.dkim?.includes('permerror')) t.match(r.auth.fragments.join('\n'), /dkim=permerror \(the key name cannot exist in the DNS\)/, `${c.name}: said so in Authentication-Results`)
  }
})
