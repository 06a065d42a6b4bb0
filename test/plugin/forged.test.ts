/**
 * A sender can never write its own verdict, nor break ours:
 * - inbound X-Shop-Notice and Authentication-Results under our authserv-id are removed in
 *   every spelling a mail client reads (case, folding, white space before the colon,
 *   duplicates, encoded-words, comments, quotes, a trailing dot), and only ours survive,
 *   judged by postal-mime as a mail client's parser, not by Haraka's;
 * - nothing from the message reaches our headers raw: what mailauth quotes from the
 *   message (HELO, envelope sender, DKIM tags) cannot add a result, hide one, or pass
 *   RFC 5322's line limit, and our own reader of recorded results is not fooled either.
 * The real-Haraka side of this is in test/e2e/hostile.test.ts.
 */
import fc from 'fast-check'
import PostalMime from 'postal-mime'
import t from 'tap'

import { authenticateMessage } from '../../dist/src/auth/authenticate.js'
import { factsFromAuthResults } from '../../dist/src/auth/results.js'
import { formatVerdict, isForgedLine, prefixSubject } from '../../dist/src/verdict/headers.js'
import { formatAuthResults, isOurAuthResults, resinfoSafe } from '../../dist/src/auth/results.js'
import { splitStructured } from '../../dist/src/message/find.js'
import { SYMBOLS, type SymbolName } from '../../dist/src/verdict/symbols.js'
import { FORGED_SPELLINGS } from '../helpers/forged'
import { AUTHSERV, connection, deliver, fixtures, makePlugin, splitMessage, written } from '../helpers/plugin'
import { makeMessage, mailbox } from '../helpers/messages'
import { fcParams } from '../helpers/property'

/** Another server's results: kept. */
const FOREIGN = ['Authentication-Results: mx.other.example; spf=pass smtp.mailfrom=testshop.jp', `Authentication-Results: ${AUTHSERV}.evil.example; dmarc=pass`]

const REGISTRY = 'retailers:\n  testshop:\n    names: [TestShop, テストショップ]\n    sending_domains: [testshop.jp]\n'

let dnsPort = 0
t.before(async () => {
  const dns = await fixtures.dns.start({
    'testshop.jp': { txt: ['v=spf1 ip4:192.0.2.10 -all'] },
    '_dmarc.testshop.jp': { txt: ['v=DMARC1; p=reject'] },
  })
  dnsPort = dns.port
  t.teardown(() => dns.close())
})

const VERDICT_SYNTAX = /^(none|notice|verified|suspicious|spoofed|error); brand=([a-z0-9_-]{1,64}|-); kind=([a-z0-9_-]{1,64}|-); score=-?\d+(\.\d+)?; signals=([A-Z0-9_]+(,[A-Z0-9_]+)*|-)$/

/** What a mail client's parser (postal-mime) reads in the header block: name -> values. */
async function clientView(raw: Buffer): Promise<Map<string, string[]>> {
  const email = await PostalMime.parse(raw)
  const view = new Map<string, string[]>()
  for (const h of email.headers) view.set(h.key, [...(view.get(h.key) ?? []), h.value])
  return view
}

const ourIdIn = (values: readonly string[]): string[] => values.filter((v) => isOurAuthResults(v, AUTHSERV))

t.test('every spelling of a forged verdict is removed; ours alone survive, as a client reads them', async (t) => {
  for (const mode of ['monitor', 'quarantine']) {
    const { plugin } = makePlugin(t, { dnsPort, ini: `[actions]\nmode=${mode}\n`, registry: REGISTRY })
    for (const forged of FORGED_SPELLINGS) {
      const conn = connection()
      const msg = makeMessage({
        extraHeaders: [...FOREIGN, forged, forged],
        from: mailbox('テストショップ', 'notice@testshop.jp'),
        subject: '【テストショップ】ご入金確認',
        body: 'ご入金を確認しました。\nご注文番号: 1234\n',
      })
      await deliver(plugin, conn, msg)
      const out = await written(conn)
      const view = await clientView(out)
      const verdicts = view.get('x-shop-notice') ?? []
      t.equal(verdicts.length, 1, `${mode}: ${JSON.stringify(forged)}: one X-Shop-Notice`)
      t.match(verdicts[0], /^spoofed; brand=testshop; kind=payment;/, 'and it is ours')
      const ars = [...(view.get('authentication-results') ?? []), ...(view.get('original-authentication-results') ?? [])]
      t.equal(ourIdIn(ars).length, 1, 'one Authentication-Results under our id')
      t.notMatch(ourIdIn(ars)[0], /dmarc=pass|dkim=pass/, 'ours says what we found')
      t.equal(ars.filter((v) => /mx\.other\.example|evil\.example/.test(v)).length, 2, "other servers' results stay")
    }
  }
})

/** A release header no release wrote: its token is no claim's. */
const FAKE_RELEASE = 'by=mallory; at=Thu, 21 May 2026 10:00:00 +0000; id=AAAA0001-0000-0000-0000-000000000001.1; token=0123456789abcdef0123456789abcdef'
const FORGED_RELEASE_SPELLINGS: readonly string[] = [
  `X-Shop-Notice-Released: ${FAKE_RELEASE}`,
  `x-shop-notice-released: ${FAKE_RELEASE}`,
  `X-Shop-Notice-Released : ${FAKE_RELEASE}`,
  `X-Shop-Notice-Released\t:${FAKE_RELEASE}`,
  `X-SHOP-NOTICE-RELEASED  :  ${FAKE_RELEASE}`,
  // folded between the name and the colon, and folded in the value
  `X-Shop-Notice-Released\r\n : ${FAKE_RELEASE}`,
  `X-Shop-Notice-Released:\r\n ${FAKE_RELEASE.replace(/; /g, ';\r\n\t')}`,
]

t.test('every spelling of a forged release header is removed, as a client reads them', async (t) => {
  const { plugin } = makePlugin(t, { dnsPort, ini: '[actions]\nmode=quarantine\n', registry: REGISTRY })
  for (const forged of FORGED_RELEASE_SPELLINGS) {
    const conn = connection()
    const msg = makeMessage({
      extraHeaders: [forged],
      from: mailbox('テストショップ', 'notice@testshop.jp'),
      subject: '【テストショップ】ご入金確認',
      body: 'ご入金を確認しました。\nご注文番号: 1234\n',
    })
    t.ok((await clientView(msg)).has('x-shop-notice-released'), `${JSON.stringify(forged)}: a client reads it as the release header`)
    await deliver(plugin, conn, msg)
    const view = await clientView(await written(conn))
    t.notOk(view.has('x-shop-notice-released'), `${JSON.stringify(forged)}: removed`)
    t.match(view.get('x-shop-notice')?.[0], /^spoofed; brand=testshop;/, '... and the message scanned: spoofed')
  }
})

t.test('isForgedLine: only the spellings Haraka does not parse, and only ours', async (t) => {
  t.ok(isForgedLine(`X-Shop-Notice-Released : ${FAKE_RELEASE}\n`, AUTHSERV))
  t.ok(isForgedLine(`X-Shop-Notice-Released\r\n : ${FAKE_RELEASE}\n`, AUTHSERV))
  t.notOk(isForgedLine(`X-Shop-Notice-Released: ${FAKE_RELEASE}\n`, AUTHSERV), 'a proper field: the release check takes it')
  t.notOk(isForgedLine('X-Shop-Notice-Releasedx : y\n', AUTHSERV))
  t.ok(isForgedLine('X-Shop-Notice : verified\n', AUTHSERV))
  t.ok(isForgedLine('x-shop-notice\t:verified\n', AUTHSERV))
  t.ok(isForgedLine(`Authentication-Results : ${AUTHSERV}; dmarc=pass\n`, AUTHSERV))
  t.ok(isForgedLine(`Original-Authentication-Results  : (c) "${AUTHSERV}."; dmarc=pass\n`, AUTHSERV))
  t.notOk(isForgedLine('X-Shop-Notice: verified\n', AUTHSERV), 'a proper field is left to remove_header')
  t.notOk(isForgedLine('Authentication-Results : mx.other.example; spf=pass\n', AUTHSERV))
  t.notOk(isForgedLine('X-Shop-Noticed : x\n', AUTHSERV))
  t.notOk(isForgedLine('no colon here\n', AUTHSERV))
})

t.test('our authserv-id in every spelling, and nobody else\'s', async (t) => {
  for (const v of [`${AUTHSERV}.; dmarc=pass`, `"${AUTHSERV}.";`, `(x; y) ${AUTHSERV}; spf=pass`, `"${AUTHSERV.replace(/\./g, '\\.')}"; dmarc=pass`, `"${AUTHSERV.replace(/^./, (c) => `\\${c}`)}" ; dkim=pass`]) {
    t.ok(isOurAuthResults(v, AUTHSERV), v)
  }
  for (const v of [`"${AUTHSERV};x"; dmarc=pass`, `x${AUTHSERV}; spf=pass`, `(${AUTHSERV}) other.example; spf=pass`]) t.notOk(isOurAuthResults(v, AUTHSERV), v)
})

// ----------------------------------------------------------------------------- injection

/** Fragments a hostile sender shapes: quotes, comments, backslashes, semicolons, control bytes, length. */
const fragment = fc.string({ unit: fc.constantFrom('a', '=', ' ', '(', ')', '"', '\\', ';', '@', '.', '\r\n', '\u0000', 'é', 'dkim=pass', 'x'.repeat(300)), maxLength: 12 })

t.test('formatAuthResults: each fragment stays one result, printable ASCII, lines within 998 octets', async (t) => {
  fc.assert(
    fc.property(fc.array(fragment, { minLength: 1, maxLength: 5 }), (frags) => {
      const value = formatAuthResults(AUTHSERV, frags)
      const lines = `Authentication-Results: ${value}`.split('\r\n')
      const unfolded = value.replace(/\r\n[ \t]/g, ' ')
      return (
        lines.every((l) => l.length <= 998 && /^[\x20-\x7e\t]*$/.test(l)) &&
        lines.slice(1).every((l) => l.startsWith('\t')) &&
        splitStructured(unfolded).length === frags.length + 1
      )
    }),
    fcParams(2000),
  )
})

t.test('resinfoSafe closes what a cut or a sender leaves open', async (t) => {
  t.equal(resinfoSafe('spf=fail smtp.helo="x.example;dmarc=pass"'), 'spf=fail smtp.helo="x.example?dmarc=pass"')
  t.equal(resinfoSafe('dkim=fail (unclosed'), 'dkim=fail (unclosed)')
  t.equal(resinfoSafe('x=y) stray'), 'x=y? stray')
  t.equal(resinfoSafe('a="b\\'), 'a="b"', 'a lone backslash cannot escape the closing quote')
  const long = resinfoSafe(`spf=fail smtp.mailfrom="${'a'.repeat(2000)}"`)
  t.equal(long.length, 901)
  t.match(long, /\.\.\."$/, 'cut, marked, and the quoted-string closed')
  const deep = resinfoSafe(`x=y ${'('.repeat(500)}`)
  t.notMatch(deep, /[()]/, 'nesting no genuine fragment has is written flat')
})

/** A resolver that knows only testshop.jp: SPF -all, DMARC p=reject. */
const zone = async (name: string, type: string): Promise<unknown[]> => {
  if (type === 'TXT' && name === 'testshop.jp') return [['v=spf1 ip4:192.0.2.10 -all']]
  if (type === 'TXT' && name === '_dmarc.testshop.jp') return [['v=DMARC1; p=reject']]
  throw Object.assign(new Error(`${name}: NXDOMAIN`), { code: 'ENOTFOUND' })
}

t.test('what mailauth quotes from the message cannot add, hide or change a result in our header', async (t) => {
  const longLocal = 'a'.repeat(440)
  const senders = [
    '"x;dkim=pass header.d=amazon.co.jp y"@attacker.example',
    `"${longLocal};dmarc=pass (x"@attacker.example`,
    `"${longLocal}\\";dkim=pass\\"(((("@testshop.jp`,
  ]
  const msg = Buffer.concat([
    Buffer.from('DKIM-Signature: v=1; a=rsa-sha256; d=testshop.jp; s=sel"x(; i=@testshop.jp(y; h=from; bh=AAAA; b=AAAA\r\n'),
    makeMessage({ from: mailbox('TestShop', 'order@testshop.jp'), subject: 'ご注文確認', body: 'ご注文ありがとうございます。\n' }),
  ])
  for (const sender of senders) {
    for (const helo of ['x.example;dmarc=pass', 'y(z"', `${'h'.repeat(500)}"`]) {
      const auth = await authenticateMessage(msg, { ip: '192.0.2.99', helo, sender }, zone, AUTHSERV)
      const value = formatAuthResults(AUTHSERV, auth.fragments)
      const parts = splitStructured(value.replace(/\r\n[ \t]/g, ' '))
      t.equal(parts.length, auth.fragments.length + 1, `${sender.slice(0, 30)} / ${helo.slice(0, 20)}: one result per fragment`)
      t.same(
        parts.slice(1).map((p) => /^\s*([a-z]+)=/.exec(p)?.[1]),
        ['spf', 'dkim', 'dmarc', 'arc'],
        'spf, dkim, dmarc, arc: nothing added, nothing hidden',
      )
      for (const line of `Authentication-Results: ${value}`.split('\r\n')) t.ok(line.length <= 998, 'line within 998 octets')
      const read = factsFromAuthResults(value)
      t.equal(read.dmarc.result, 'fail', 'read back: dmarc=fail')
      t.notOk(read.dkim.some((d) => d.result === 'pass'), 'read back: no DKIM pass was added')
      t.equal(read.spf.result, auth.spf.result, 'read back: the SPF result we found')
    }
  }
})

t.test('factsFromAuthResults does not split inside quoted-strings (regression)', async (t) => {
  const v = `${AUTHSERV}; spf=fail smtp.mailfrom="\\"x;dkim=pass header.d=amazon.co.jp y\\"@attacker.example"; dmarc=fail header.from=amazon.co.jp`
  const read = factsFromAuthResults(v)
  t.same(read.dkim, [], 'no DKIM result appeared out of the envelope sender')
  t.equal(read.spf.domain, 'attacker.example')
  t.equal(read.dmarc.result, 'fail')
})

t.test('X-Shop-Notice stays within 998 octets with every signal and the longest brand', async (t) => {
  const all = (Object.keys(SYMBOLS) as SymbolName[]).map((symbol) => ({ symbol, options: [] }))
  const v = formatVerdict({ verdict: 'suspicious', brand: 'b'.repeat(64), kind: 'k'.repeat(64), score: -99_999.99, hits: all })
  for (const line of `X-Shop-Notice: ${v}`.split('\r\n')) t.ok(line.length <= 998, `a line of ${line.length} octets`)
  t.match(v.replace(/\r\n/g, ''), VERDICT_SYNTAX, 'unfolded, the documented syntax')
  const short = formatVerdict({ verdict: 'spoofed', brand: 'testshop', kind: 'order', score: 16, hits: all.slice(0, 4) })
  t.notMatch(short, /\r\n/, 'a usual verdict is one line')
})

t.test('prefixSubject: the prefix, one space, the value as it was; folded only past 998 octets', async (t) => {
  t.equal(prefixSubject('[SPOOF?]', 'Hello\n'), '[SPOOF?] Hello\n')
  const long = 'x'.repeat(985)
  const v = prefixSubject('[SPOOF?]', `${long}\n`)
  t.equal(v, `[SPOOF?]\n ${long}\n`)
  t.equal(v.replace(/\n(?=.)/g, ''), `[SPOOF?] ${long}\n`, 'unfolded: the prefix, one space, the subject')
  t.equal(prefixSubject('[SPOOF?]', `a\n ${long}\n`), `[SPOOF?] a\n ${long}\n`, 'a folded subject keeps its folds')
  t.equal(prefixSubject('【なりすまし?】', 'Hello\n'), `=?UTF-8?B?${Buffer.from('【なりすまし?】').toString('base64')}?= Hello\n`, 'a non-ASCII prefix as an encoded-word')
  t.equal(
    prefixSubject('【なりすまし?】', '=?UTF-8?B?44GU5rOo5paH?=\n'),
    `=?UTF-8?B?${Buffer.from('【なりすまし?】 ').toString('base64')}?= =?UTF-8?B?44GU5rOo5paH?=\n`,
    'before an encoded-word the space goes inside ours (RFC 2047 drops white space between encoded-words)',
  )
})

t.test('tag mode: the first Subject prefixed in its place, nothing else changed (regression)', async (t) => {
  const { plugin } = makePlugin(t, { dnsPort, ini: '[actions]\nmode=tag\nsubject_prefix=[SPOOF?]\n', registry: REGISTRY })
  const conn = connection()
  // a second Subject field after the first
  const msg = Buffer.from(
    makeMessage({ from: mailbox('テストショップ', 'notice@testshop.jp'), subject: '【テストショップ】ご入金確認', body: 'ご入金を確認しました。\nご注文番号: 1234\n' })
      .toString('latin1')
      .replace('\r\nDate: ', '\r\nSubject: second subject\r\n folded\r\nDate: '),
    'latin1',
  )
  await deliver(plugin, conn, msg)
  const out = splitMessage(await written(conn))
  const sent = splitMessage(msg)
  t.same(out.fields.slice(0, 2).map((f) => f.split(':')[0]), ['X-Shop-Notice', 'Authentication-Results'], 'ours on top')
  const subjectAt = sent.fields.findIndex((f) => f.startsWith('Subject:'))
  t.equal(out.fields[subjectAt + 2], sent.fields[subjectAt]!.replace('Subject: ', 'Subject: [SPOOF?] '), 'the first Subject, prefixed, in its place')
  t.same(out.fields.slice(2).filter((_, i) => i !== subjectAt), sent.fields.filter((_, i) => i !== subjectAt), 'every other field as sent, in order, the second Subject too')
  t.ok(out.body.equals(sent.body), 'the body byte for byte')
  t.equal((await PostalMime.parse(await written(conn))).subject, '[SPOOF?] 【テストショップ】ご入金確認', 'a client reads the prefix and the subject')
})

t.test('tag mode: an empty Subject, or one that starts on the next line, keeps every other field whole (regression)', async (t) => {
  const { plugin } = makePlugin(t, { dnsPort, ini: '[actions]\nmode=tag\nsubject_prefix=[SPOOF?]\n', registry: REGISTRY })
  for (const [subject, reads] of [
    ['Subject: ', '[SPOOF?]'],
    ['Subject:', '[SPOOF?]'],
    ['Subject:\r\n =?UTF-8?B?44GU5YWl6YeR56K66KqN?=', '[SPOOF?] ご入金確認'],
  ] as const) {
    const conn = connection()
    const msg = Buffer.from(
      makeMessage({ from: mailbox('テストショップ', 'notice@testshop.jp'), subject: 'x', body: 'ご入金を確認しました。\nご注文番号: 1234\n' })
        .toString('latin1')
        .replace('Subject: x\r\n', `${subject}\r\nX-After: kept\r\n`),
      'latin1',
    )
    await deliver(plugin, conn, msg)
    const out = await written(conn)
    const email = await PostalMime.parse(out)
    t.equal(email.subject, reads, `${JSON.stringify(subject)}: the Subject reads ${reads}`)
    t.same(email.headers.filter((h) => h.key === 'x-after').map((h) => h.value), ['kept'], 'the field after it is whole')
    t.match(out.toString('utf8'), /\r\nX-After: kept\r\n/)
  }
})

t.test('what the message says never reaches our headers raw', async (t) => {
  const { plugin } = makePlugin(t, { dnsPort, ini: '[actions]\nmode=tag\nsubject_prefix=[SPOOF?]\n', registry: REGISTRY })
  const evil = 'テストショップ\r\nX-Shop-Notice: verified\r\n'
  const conn = connection({ mailFrom: '"a;dmarc=pass"@testshop.jp', helo: 'x;dkim=pass' })
  const msg = makeMessage({
    from: `=?UTF-8?B?${Buffer.from(evil).toString('base64')}?= <notice@testshop.jp>`,
    subject: `=?UTF-8?B?${Buffer.from('【テストショップ】ご入金確認\r\nBcc: all@example.net').toString('base64')}?=`,
    body: 'ご入金を確認しました。\nご注文番号: 1234\nhttps://testshop.jp/\r\nX-Shop-Notice: verified\n',
    attachments: [{ filename: 'a\r\nX-Shop-Notice: verified.zip', contentType: 'application/zip', content: Buffer.from('PK') }],
  })
  await deliver(plugin, conn, msg)
  const out = await written(conn)
  const view = await clientView(out)
  t.same(view.get('bcc'), undefined, 'no Bcc appeared')
  t.equal(view.get('x-shop-notice')?.length, 1, 'one X-Shop-Notice')
  t.match(view.get('x-shop-notice')?.[0], VERDICT_SYNTAX)
  const ours = ourIdIn(view.get('authentication-results') ?? [])
  t.equal(ours.length, 1)
  t.equal(splitStructured(ours[0]!).length, 5, 'our Authentication-Results: the id and four results')
  const head = splitMessage(out).fields.join('\r\n')
  t.ok(/^[\x20-\x7e\t\r\n]*$/.test(head), 'the header block is ASCII')
  for (const line of head.split('\r\n')) t.ok(line.length <= 998, 'no line over 998 octets')
})
