/**
 * DNS faults, with a real DNS server on loopback (test/helpers/dns-server.ts) that answers
 * slowly, not at all, SERVFAIL/REFUSED/NOTIMP/FORMERR, with the TC bit (then over TCP: the
 * answer, a closed connection, silence), with packets that are not DNS, with garbage TXT
 * and with records too large for UDP:
 * - the resolver: which error each fault is, what is cached (answers; NXDOMAIN/NODATA for
 *   the negative TTL) and what never is (every failure);
 * - authentication: each fault on the SPF, DKIM key and DMARC records of a registered
 *   brand gives the result the RFCs give it (a DNS failure is temperror: RFC 7208 2.6.6 and
 *   5, RFC 6376 6.1.2, RFC 7489 6.6.3 / RFC 8601 2.7.1; bad records are permerror, none or
 *   neutral), and the verdict never becomes spoofed (nor suspicious) on a DNS failure alone;
 * - every scan ends within the message's DNS budget, whatever the server does.
 * Through a real Haraka: test/e2e/hostile.test.ts.
 */
import crypto from 'node:crypto'
import { Clock } from 'clock-mock'
import { dkimSign } from 'mailauth'
import t from 'tap'

import { CachedResolver, NO_RECORD_CODES } from '../../dist/src/auth/resolver.js'
import { scan } from '../../dist/src/scan.js'
import { type DnsServer, type Zone, startDnsServer } from '../helpers/dns-server'
import { makeMessage, mailbox } from '../helpers/messages'
import { testSettings } from '../helpers/settings'

const SHOP = 'shop.example'
const SELECTOR = 'sel'
const GOOD_IP = '192.0.2.10'
/** a forwarder: SPF fails for it, only DKIM can pass */
const FORWARDER_IP = '198.51.100.1'
const TIMEOUT_MS = 200
const BUDGET_MS = 1200

const settings = testSettings({ testshop: { names: ['TestShop', 'テストショップ'], sending_domains: [SHOP] } })

const key = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
const privateKey = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const keyRecord = (notes = ''): string[] =>
  `v=DKIM1; k=rsa; ${notes ? `n=${notes}; ` : ''}p=${key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`.match(/.{1,250}/g)!

const GOOD: Readonly<Record<string, Zone>> = {
  [SHOP]: { txt: [`v=spf1 ip4:${GOOD_IP} -all`], a: [GOOD_IP] },
  [`${SELECTOR}._domainkey.${SHOP}`]: { txt: [keyRecord()] },
  [`_dmarc.${SHOP}`]: { txt: ['v=DMARC1; p=reject'] },
}

/** What a broken or hostile DNS does: each one a failure of DNS, not an answer. */
const FAILURES: Readonly<Record<string, Zone>> = {
  'no answer': { fault: 'drop' },
  'answer after the timeout': { txt: ['v=spf1 -all'], delayMs: TIMEOUT_MS * 4 },
  SERVFAIL: { rcode: 'SERVFAIL' },
  REFUSED: { rcode: 'REFUSED' },
  NOTIMP: { rcode: 'NOTIMP' },
  FORMERR: { rcode: 'FORMERR' },
  'random bytes': { fault: 'random-bytes' },
  'a reply to another query': { fault: 'wrong-id', txt: ['v=spf1 +all'] },
  'RDLENGTH past the end': { fault: 'bad-rdlength', txt: ['v=spf1 +all'] },
  'a cut-off reply': { fault: 'short' },
  'TC bit, then TCP closed': { truncate: 'close', txt: ['v=spf1 +all'] },
  'TC bit, then TCP silent': { truncate: 'hang', txt: ['v=spf1 +all'] },
}

/** The codes node:dns gives those failures (none of them means "no such record"). */
const FAILURE_CODES: Readonly<Record<string, string>> = {
  'no answer': 'ETIMEOUT',
  'answer after the timeout': 'ETIMEOUT',
  SERVFAIL: 'ESERVFAIL',
  REFUSED: 'EREFUSED',
  NOTIMP: 'ENOTIMP',
  FORMERR: 'EFORMERR',
  'random bytes': 'EBADRESP',
  'a reply to another query': 'ETIMEOUT',
  'RDLENGTH past the end': 'EBADRESP',
  'a cut-off reply': 'EBADRESP',
  'TC bit, then TCP closed': 'ECONNREFUSED',
  'TC bit, then TCP silent': 'ETIMEOUT',
}

async function errCode(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'no error'
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'no code'
  }
}

let dns: DnsServer
t.before(async () => {
  dns = await startDnsServer(GOOD)
})
t.teardown(() => dns.close())

const resolver = (opts: { negativeTtlMs?: number } = {}) => new CachedResolver({ servers: [dns.address], timeoutMs: TIMEOUT_MS, ...opts })

// ----------------------------------------------------------------------------- the resolver

t.test('the resolver: each failure is an error that is never cached', async (t) => {
  for (const [what, zone] of Object.entries(FAILURES)) {
    const name = `f-${Object.keys(FAILURES).indexOf(what)}.faults.example`
    dns.setZone(name, zone)
    const r = resolver()
    const code = await errCode(r.resolve(name, 'TXT'))
    t.equal(code, FAILURE_CODES[what], `${what}: ${code}`)
    t.notOk(NO_RECORD_CODES.has(code), `${what}: not "no such record"`)
    t.equal(r.size, 0, `${what}: nothing cached`)
    dns.setZone(name, { txt: ['v=spf1 -all'] })
    const before = dns.count('TXT', name)
    t.same(await r.resolve(name, 'TXT'), [['v=spf1 -all']], `${what}: once DNS answers, the answer`)
    t.ok(dns.count('TXT', name) >= before + 1, `${what}: asked again, not served a failure from the cache`)
  }
})

t.test('the resolver: truncated and oversized answers come over TCP, and are cached', async (t) => {
  const big = Array.from({ length: 16 }, (_, i) => `v=spf1 ip4:192.0.2.${i} `.padEnd(250, 'x'))
  dns.setZone('tc.faults.example', { txt: ['v=spf1 -all'], truncate: 'answer' })
  dns.setZone('big.faults.example', { txt: [big] })
  const r = resolver()
  t.same(await r.resolve('tc.faults.example', 'TXT'), [['v=spf1 -all']], 'TC bit: the answer over TCP')
  t.ok(dns.tcpCount('TXT', 'tc.faults.example') >= 1, 'asked over TCP')
  const answer = (await r.resolve('big.faults.example', 'TXT')) as string[][]
  t.equal(answer[0]?.join('').length, 16 * 250, 'a 4 KB TXT record, whole')
  t.ok(dns.tcpCount('TXT', 'big.faults.example') >= 1, 'too large for UDP: over TCP')
  const asked = dns.count('TXT', 'big.faults.example')
  await r.resolve('big.faults.example', 'TXT')
  t.equal(dns.count('TXT', 'big.faults.example'), asked, 'cached like any answer')
})

t.test('the resolver: garbage TXT is an answer like any other, as the server sent it', async (t) => {
  dns.setZone('garbage.faults.example', { txt: [Buffer.from([0x00, 0x01, 0x0a, 0x7f]), ['v=spf1', ' -all'], Buffer.alloc(255, 0x41)] })
  const r = resolver()
  const answer = (await r.resolve('garbage.faults.example', 'TXT')) as string[][]
  t.equal(answer.length, 3)
  t.same(answer[1], ['v=spf1', ' -all'], 'character-strings kept apart, for mailauth to join')
})

t.test('the resolver: NXDOMAIN and NODATA are cached for the negative TTL only', async (t) => {
  dns.setZone('nodata.faults.example', { a: ['192.0.2.1'] })
  const r = resolver({ negativeTtlMs: 60_000 })
  t.equal(await errCode(r.resolve('nothing.faults.example', 'TXT')), 'ENOTFOUND')
  t.equal(await errCode(r.resolve('nodata.faults.example', 'TXT')), 'ENODATA')
  const asked = dns.count()
  t.equal(await errCode(r.resolve('nothing.faults.example', 'TXT')), 'ENOTFOUND')
  t.equal(await errCode(r.resolve('nodata.faults.example', 'TXT')), 'ENODATA')
  t.equal(dns.count(), asked, 'both from the cache')
  t.equal(r.stats.negativeHits, 2)
})

t.test('the resolver: TXT answers are kept for their own TTL, under [cache] max_ttl_s', async (t) => {
  // clock-mock, entered: lru-cache reads this clock (and its 1 ms time cache runs on its timers)
  const clock = new Clock()
  t.teardown(clock.enter())
  const start = clock.now()
  const at = (ms: number): void => void clock.advance(start + ms - clock.now())
  dns.setZone('ttl1.faults.example', { txt: ['v=spf1 ip4:192.0.2.1 -all'], ttl: 1 })
  dns.setZone('ttl3600.faults.example', { txt: ['v=spf1 ip4:192.0.2.1 -all'], ttl: 3600 })
  dns.setZone('ttl0.faults.example', { txt: ['v=spf1 ip4:192.0.2.1 -all'], ttl: 0 })
  const r = new CachedResolver({ servers: [dns.address], timeoutMs: TIMEOUT_MS, maxTtlMs: 600_000, clock })
  for (const name of ['ttl1', 'ttl3600', 'ttl0']) await r.resolve(`${name}.faults.example`, 'TXT')
  const asked = (name: string): number => dns.count('TXT', `${name}.faults.example`)
  const before = { ttl1: asked('ttl1'), ttl3600: asked('ttl3600'), ttl0: asked('ttl0') }

  at(500)
  for (const name of ['ttl1', 'ttl3600', 'ttl0']) await r.resolve(`${name}.faults.example`, 'TXT')
  t.same([asked('ttl1'), asked('ttl3600'), asked('ttl0')], [before.ttl1, before.ttl3600, before.ttl0], 'within a second: all three from the cache (TTL 0 is kept 1 s)')

  at(1_001)
  await r.resolve('ttl1.faults.example', 'TXT')
  await r.resolve('ttl3600.faults.example', 'TXT')
  t.equal(asked('ttl1'), before.ttl1 + 1, 'TTL 1: asked again after 1 s')
  t.equal(asked('ttl3600'), before.ttl3600, 'TTL 3600: still cached')

  at(600_001)
  await r.resolve('ttl3600.faults.example', 'TXT')
  t.equal(asked('ttl3600'), before.ttl3600 + 1, 'TTL 3600 over a max TTL of 600 s: asked again after 600 s')
})

t.test('the resolver: a TXT answer over a CNAME, and server errors fall through to the next server', async (t) => {
  const { DnsClient, parseServer } = await import('../../dist/src/auth/dns-client.js')
  t.same(parseServer('192.0.2.1'), { host: '192.0.2.1', port: 53 })
  t.same(parseServer('127.0.0.1:5300'), { host: '127.0.0.1', port: 5300 })
  t.same(parseServer('[::1]:5300'), { host: '::1', port: 5300 })
  t.same(parseServer('2001:db8::1'), { host: '2001:db8::1', port: 53 })
  dns.setZone('servfail-first.faults.example', { rcode: 'SERVFAIL' })
  const failing = await startDnsServer({ 'either.faults.example': { rcode: 'SERVFAIL' } })
  t.teardown(() => failing.close())
  dns.setZone('either.faults.example', { txt: ['from the second server'], ttl: 42 })
  const client = new DnsClient({ servers: [parseServer(failing.address), parseServer(dns.address)], tryTimeoutMs: TIMEOUT_MS })
  t.same(await client.resolveTxt('either.faults.example'), { answer: [['from the second server']], ttl: 42 }, 'SERVFAIL from the first, the answer from the second')
  const nx = await startDnsServer({ 'nx.faults.example': { rcode: 'NXDOMAIN' } })
  t.teardown(() => nx.close())
  const before = dns.count('TXT', 'nx.faults.example')
  const both = new DnsClient({ servers: [parseServer(nx.address), parseServer(dns.address)], tryTimeoutMs: TIMEOUT_MS })
  t.equal(await errCode(both.resolveTxt('nx.faults.example')), 'ENOTFOUND')
  t.equal(dns.count('TXT', 'nx.faults.example'), before, 'NXDOMAIN is an answer: the next server is not asked')
})

// ----------------------------------------------------------------------------- authentication

let message: Buffer

t.before(async () => {
  const base = makeMessage({
    from: mailbox('TestShop', `order@${SHOP}`),
    subject: 'ご注文確認',
    body: 'ご注文ありがとうございます。\nご注文番号: TS-2026-0001234\nご請求金額: 3,980円\n',
  })
  const data = { signingDomain: SHOP, selector: SELECTOR, privateKey }
  const signed = await dkimSign(base, { ...data, signatureData: [data] })
  message = Buffer.concat([Buffer.from(signed.signatures!), base])
})

const authenticate = (ip: string, r = resolver()) =>
  scan(message, { ip, helo: `mx.${SHOP}`, sender: `bounce@${SHOP}` }, { settings, authservId: 'mx.test.example', resolve: r.forMessage(BUDGET_MS) })

/** Runs `f` with `zone` in place of the record at `name`, then puts the good one back. */
async function withZone<T>(name: string, zone: Zone, f: () => Promise<T>): Promise<T> {
  dns.setZone(name, zone)
  try {
    return await f()
  } finally {
    dns.setZone(name, GOOD[name]!)
  }
}

t.test('with every record answered, the notice is verified (the baseline)', async (t) => {
  const r = await authenticate(GOOD_IP)
  t.match(r, { verdict: 'verified', brand: 'testshop', auth: { spf: { result: 'pass' }, dmarc: { result: 'pass' } } })
  t.same(r.auth.dkim.map((d) => d.result), ['pass'])
  const fwd = await authenticate(FORWARDER_IP)
  t.match(fwd, { verdict: 'verified', auth: { spf: { result: 'fail' }, dmarc: { result: 'pass' } } }, 'forwarded: DKIM alone carries DMARC')
})

const RECORDS = [
  { record: 'SPF', name: SHOP, method: 'spf' },
  { record: 'DKIM key', name: `${SELECTOR}._domainkey.${SHOP}`, method: 'dkim' },
  { record: 'DMARC', name: `_dmarc.${SHOP}`, method: 'dmarc' },
] as const

const resultOf = (r: Awaited<ReturnType<typeof authenticate>>, method: 'spf' | 'dkim' | 'dmarc'): string =>
  method === 'dkim' ? (r.auth.dkim[0]?.result ?? 'none') : r.auth[method].result

t.test('a DNS failure on any record is temperror, and never makes the notice spoofed or suspicious', async (t) => {
  for (const { record, name, method } of RECORDS) {
    for (const [what, fault] of Object.entries(FAILURES)) {
      // the SPF record's name also answers A queries: keep them failing the same way
      const zone = fault
      for (const ip of [GOOD_IP, FORWARDER_IP]) {
        const started = performance.now()
        const r = await withZone(name, zone, () => authenticate(ip))
        const took = performance.now() - started
        const label = `${record}, ${what}, from ${ip === GOOD_IP ? 'the shop' : 'a forwarder'}`
        t.equal(resultOf(r, method), 'temperror', `${label}: ${method}=temperror`)
        t.not(r.verdict, 'spoofed', `${label}: not spoofed (${r.verdict}, ${r.score})`)
        t.not(r.verdict, 'suspicious', `${label}: not suspicious`)
        t.not(r.verdict, 'error', `${label}: no internal failure`)
        // a bound, not a benchmark: the budget plus generous room for a loaded machine
        t.ok(took < BUDGET_MS + 3000, `${label}: done within the DNS budget (${Math.round(took)} ms)`)
        if (r.auth.dmarc.result !== 'pass') {
          t.ok(r.hits.some((h) => h.symbol === 'AUTH_DNS_TEMPFAIL'), `${label}: AUTH_DNS_TEMPFAIL`)
          t.equal(r.dnsTempfail, true, `${label}: a retry may tell (451 in quarantine and reject modes)`)
        }
      }
    }
  }
})

t.test('a DKIM key lost to DNS cannot make DMARC fail when SPF fails too (regression)', async (t) => {
  // forwarded mail: SPF fails at the forwarder, and the aligned signature could not be checked
  const r = await withZone(`${SELECTOR}._domainkey.${SHOP}`, { rcode: 'SERVFAIL' }, () => authenticate(FORWARDER_IP))
  t.equal(r.auth.spf.result, 'fail')
  t.equal(r.auth.dkim[0]?.result, 'temperror')
  t.equal(r.auth.dmarc.result, 'temperror', 'DMARC could not be finished, it did not fail')
  t.match(r.auth.fragments.join('\n'), /dmarc=temperror \(an aligned SPF or DKIM check failed for DNS, p=reject\) header\.from=shop\.example/)
  t.notOk(r.hits.some((h) => /^AUTH_DMARC_FAIL/.test(h.symbol)), 'no DMARC failure is scored')
  t.equal(r.verdict, 'notice')
  // the same message signed with a key that is not published is a real failure
  const forged = await withZone(`${SELECTOR}._domainkey.${SHOP}`, { rcode: 'NXDOMAIN' }, () => authenticate(FORWARDER_IP))
  t.equal(forged.auth.dmarc.result, 'fail', 'no key at all: DMARC fails')
  t.equal(forged.verdict, 'spoofed')
})

/** Bad records: answers, not failures. What the RFCs make of each. */
const BAD_RECORDS: readonly { name: string; zone: Zone; method: 'spf' | 'dkim' | 'dmarc'; want: string; why: string }[] = [
  { name: SHOP, zone: { txt: ['v=spf1 -all', 'v=spf1 +all'], a: [GOOD_IP] }, method: 'spf', want: 'permerror', why: 'two SPF records (RFC 7208 4.5)' },
  { name: SHOP, zone: { txt: ['v=spf1 ip4:192.0.2.10 foo:bar -all'] }, method: 'spf', want: 'permerror', why: 'an unknown mechanism (RFC 7208 4.6)' },
  { name: SHOP, zone: { txt: [Buffer.from([0x00, 0xff, 0xfe, 0x0a]), 'hello'] }, method: 'spf', want: 'none', why: 'garbage, no v=spf1 record (RFC 7208 4.5)' },
  { name: SHOP, zone: { rcode: 'NXDOMAIN' }, method: 'spf', want: 'none', why: 'no such domain (RFC 7208 4.3)' },
  { name: `${SELECTOR}._domainkey.${SHOP}`, zone: { txt: ['v=DKIM1; k=rsa; p=AAAA!!!'] }, method: 'dkim', want: 'neutral', why: 'an invalid key (RFC 6376 6.1.2 PERMFAIL, mailauth: neutral)' },
  { name: `${SELECTOR}._domainkey.${SHOP}`, zone: { rcode: 'NXDOMAIN' }, method: 'dkim', want: 'neutral', why: 'no key (RFC 6376 6.1.2 PERMFAIL, mailauth: neutral)' },
  { name: `_dmarc.${SHOP}`, zone: { txt: ['v=DMARC1; p=none', 'v=DMARC1; p=reject'] }, method: 'dmarc', want: 'none', why: 'two DMARC records (RFC 7489 6.6.3)' },
  { name: `_dmarc.${SHOP}`, zone: { txt: [Buffer.from([0x00, 0xff, 0x0a]), 'v=spf1 -all'] }, method: 'dmarc', want: 'none', why: 'garbage, no v=DMARC1 record' },
]

t.test('bad records are permanent results, as the RFCs say: not temperror', async (t) => {
  for (const bad of BAD_RECORDS) {
    const r = await withZone(bad.name, bad.zone, () => authenticate(GOOD_IP))
    t.equal(resultOf(r, bad.method), bad.want, `${bad.why}: ${bad.method}=${bad.want}`)
    t.equal(r.dnsTempfail, false, `${bad.why}: nothing to wait for`)
  }
})

t.test('records too large for UDP are fetched over TCP and authenticate', async (t) => {
  const spf = Array.from({ length: 12 }, (_, i) => (i === 11 ? ` ip4:${GOOD_IP} -all` : ` ip4:203.0.113.${i}`).padStart(250, ' ')).join('')
  dns.resetCounts()
  const r = await withZone(SHOP, { txt: [`v=spf1${spf}`.match(/.{1,250}/g)!], a: [GOOD_IP] }, () =>
    withZone(`${SELECTOR}._domainkey.${SHOP}`, { txt: [keyRecord('x'.repeat(1500))] }, () => authenticate(GOOD_IP)),
  )
  t.equal(r.auth.spf.result, 'pass', 'a 3 KB SPF record')
  t.same(r.auth.dkim.map((d) => d.result), ['pass'], 'a DKIM key record of 2 KB')
  t.ok(dns.tcpCount('TXT', SHOP) >= 1 && dns.tcpCount('TXT', `${SELECTOR}._domainkey.${SHOP}`) >= 1, 'both over TCP')
  t.equal(r.verdict, 'verified')
})

t.test('what a scan hits on DNS is not kept: the next message is authenticated afresh', async (t) => {
  const r = resolver()
  const failed = await withZone(`_dmarc.${SHOP}`, { rcode: 'SERVFAIL' }, () => authenticate(GOOD_IP, r))
  t.equal(failed.auth.dmarc.result, 'temperror')
  const asked = dns.count('TXT', `_dmarc.${SHOP}`)
  const next = await authenticate(GOOD_IP, r)
  t.equal(next.auth.dmarc.result, 'pass', 'the next message: DMARC pass')
  t.equal(next.verdict, 'verified')
  t.ok(dns.count('TXT', `_dmarc.${SHOP}`) > asked, 'the DMARC record was asked for again')
})

t.test('a server that never answers cannot hold a scan past its budget', async (t) => {
  for (const name of Object.keys(GOOD)) dns.setZone(name, { fault: 'drop' })
  t.teardown(() => {
    for (const [name, zone] of Object.entries(GOOD)) dns.setZone(name, zone)
  })
  const started = performance.now()
  const r = await authenticate(FORWARDER_IP, new CachedResolver({ servers: [dns.address], timeoutMs: 60_000 }))
  const took = performance.now() - started
  t.ok(took < BUDGET_MS + 3000, `a 60 s query timeout, and still done within the ${BUDGET_MS} ms budget (${Math.round(took)} ms)`)
  t.match(r, { verdict: 'notice', dnsTempfail: true, auth: { spf: { result: 'temperror' }, dmarc: { result: 'temperror' } } })
})
