import t from 'tap'

import { type AuthFacts, UNAVAILABLE } from '../../dist/src/auth/authenticate.js'
import { factsFromAuthResults } from '../../dist/src/auth/results.js'
import { detectKind } from '../../dist/src/detect/kind.js'
import { readMessage } from '../../dist/src/message/parse.js'
import { decide, scan } from '../../dist/src/scan.js'
import { type Charset, makeMessage, mailbox } from '../helpers/messages'
import { testSettings } from '../helpers/settings'

const settings = testSettings()
const book = settings.phrases

const auth = (over: Partial<AuthFacts>): AuthFacts => ({
  source: 'mailauth',
  spf: { result: 'pass', domain: 'example.org' },
  dkim: [],
  dmarc: { result: 'none' },
  arc: { result: 'none' },
  fragments: [],
  ...over,
})
const dmarcPass = (from: string): AuthFacts =>
  auth({ spf: { result: 'pass', domain: from }, dkim: [{ result: 'pass', domain: from, aligned: true }], dmarc: { result: 'pass', fromDomain: from, policy: 'reject' } })
const dmarcFail = (from: string, policy: string): AuthFacts =>
  auth({ spf: { result: 'fail', domain: from }, dmarc: { result: 'fail', fromDomain: from, policy } })
const dnsDown = (from: string): AuthFacts =>
  auth({ spf: { result: 'temperror', domain: from }, dmarc: { result: 'temperror', fromDomain: from } })

const order = (from: string, charset: Charset = 'UTF-8') =>
  makeMessage({
    from,
    charset,
    subject: '【Amazon.co.jp】ご注文の確認',
    body: 'ご注文ありがとうございます。\n注文番号: 250-1234567-1234567\nご請求額: ￥3,980\n',
  })

interface Case {
  name: string
  msg: Buffer
  auth: AuthFacts
  verdict: string
  brand?: string
  kind?: string
  must: string[]
  mustNot: string[]
}

const cases: Case[] = [
  {
    name: 'genuine Amazon order notice, aligned DMARC pass: verified',
    msg: order(mailbox('Amazon.co.jp', 'auto-confirm@amazon.co.jp')),
    auth: dmarcPass('amazon.co.jp'),
    verdict: 'verified',
    brand: 'amazon',
    kind: 'order',
    must: ['BRAND_AUTHENTICATED', 'AUTH_DMARC_PASS'],
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH', 'AUTH_NONE'],
  },
  {
    name: 'brand domain spoofed, DMARC fail with p=reject: spoofed',
    msg: order(mailbox('Amazon.co.jp', 'account-update@amazon.co.jp')),
    auth: dmarcFail('amazon.co.jp', 'reject'),
    verdict: 'spoofed',
    brand: 'amazon',
    must: ['AUTH_DMARC_FAIL_ENFORCED', 'BRAND_NOT_AUTHENTICATED', 'AUTH_SPF_FAIL', 'AUTH_NONE'],
    mustNot: ['BRAND_AUTHENTICATED', 'AUTH_DMARC_FAIL'],
  },
  {
    name: 'brand at p=none still must authenticate: DMARC fail is suspicious at least',
    msg: order(mailbox('楽天市場', 'info@rakuten.co.jp')),
    auth: auth({ spf: { result: 'softfail', domain: 'rakuten.co.jp' }, dmarc: { result: 'fail', fromDomain: 'rakuten.co.jp', policy: 'none' } }),
    verdict: 'spoofed',
    brand: 'rakuten',
    must: ['AUTH_DMARC_FAIL', 'BRAND_NOT_AUTHENTICATED', 'AUTH_SPF_SOFTFAIL'],
    mustNot: ['AUTH_DMARC_FAIL_ENFORCED', 'BRAND_AUTHENTICATED'],
  },
  {
    name: 'display name spoof from an authenticated unrelated domain',
    msg: order(mailbox('Amazon.co.jp', 'support@amaz0n-secure.example')),
    auth: dmarcPass('amaz0n-secure.example'),
    verdict: 'spoofed',
    brand: 'amazon',
    must: ['BRAND_DISPLAY_NAME_MISMATCH', 'BRAND_NOT_AUTHENTICATED', 'AUTH_DMARC_PASS', 'DOMAIN_LOOKALIKE_FROM'],
    mustNot: ['BRAND_AUTHENTICATED'],
  },
  {
    name: 'a DNS failure cannot align a foreign From domain: the display-name claim still fails, no deferral',
    msg: order(mailbox('Amazon.co.jp', 'notice@shop-mailer.example')),
    auth: dnsDown('shop-mailer.example'),
    verdict: 'suspicious',
    brand: 'amazon',
    must: ['AUTH_DNS_TEMPFAIL', 'BRAND_NOT_AUTHENTICATED'],
    mustNot: ['AUTH_NONE'],
  },
  {
    name: 'a DNS failure is never a spoof verdict',
    msg: order(mailbox('Amazon.co.jp', 'auto-confirm@amazon.co.jp')),
    auth: dnsDown('amazon.co.jp'),
    verdict: 'notice',
    brand: 'amazon',
    must: ['AUTH_DNS_TEMPFAIL'],
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'AUTH_NONE', 'BRAND_AUTHENTICATED'],
  },
  {
    name: 'authentication unavailable (offline): no claim against the brand',
    msg: order(mailbox('Amazon.co.jp', 'auto-confirm@amazon.co.jp')),
    auth: UNAVAILABLE,
    verdict: 'notice',
    brand: 'amazon',
    must: ['AUTH_UNAVAILABLE'],
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'BRAND_AUTHENTICATED', 'AUTH_NONE'],
  },
  {
    name: 'hard negative: a personal mail mentioning Amazon is no notice',
    msg: makeMessage({ from: mailbox('Taro', 'taro@example.org'), subject: 'Lunch on Friday?', body: 'I bought the book on Amazon, want to borrow it?\n' }),
    auth: dmarcPass('example.org'),
    verdict: 'none',
    must: [],
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH'],
  },
  {
    name: 'hard negative: a newsletter without notice phrases is none even when unauthenticated',
    msg: makeMessage({ from: mailbox('Weekly News', 'news@example.org'), subject: 'This week in gardening', body: 'Tomatoes, roses and more.\n' }),
    auth: auth({ spf: { result: 'none' }, dmarc: { result: 'none', fromDomain: 'example.org' } }),
    verdict: 'none',
    must: ['AUTH_NONE', 'AUTH_DMARC_MISSING'],
    mustNot: ['BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'notice of an unregistered shop, authenticated: notice',
    msg: makeMessage({ from: mailbox('Small Shop', 'orders@smallshop.example'), subject: 'Your order confirmation #1234', body: 'Thanks for your order.\nTotal: $12.00\n' }),
    auth: dmarcPass('smallshop.example'),
    verdict: 'notice',
    kind: 'order',
    must: ['AUTH_DMARC_PASS'],
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'BRAND_AUTHENTICATED'],
  },
  {
    name: 'the brand named only in the subject of a notice is a (weaker) claim',
    msg: makeMessage({ from: mailbox('Support', 'support@secure-login.example'), subject: 'Amazon: payment declined', body: 'Your payment method was declined.\n' }),
    auth: auth({ spf: { result: 'none' }, dmarc: { result: 'none', fromDomain: 'secure-login.example' } }),
    verdict: 'suspicious',
    brand: 'amazon',
    kind: 'payment',
    must: ['BRAND_CLAIM_FOREIGN_SENDER', 'AUTH_NONE', 'CONTENT_DETAILS_MISSING'],
    mustNot: ['BRAND_DISPLAY_NAME_MISMATCH', 'BRAND_NOT_AUTHENTICATED'],
  },
]

t.test('decide: what must and must not fire', async (t) => {
  for (const c of cases) {
    const facts = await readMessage(c.msg, settings.limits.max_scan_bytes)
    const r = decide(facts, c.auth, settings)
    const symbols = r.hits.map((h) => h.symbol)
    if (c.name.startsWith('a DNS failure cannot align')) t.equal(r.dnsTempfail, false, `${c.name}: nothing to wait for`)
    if (c.name === 'a DNS failure is never a spoof verdict') t.equal(r.dnsTempfail, true, `${c.name}: the brand's own domain awaits DNS`)
    t.equal(r.verdict, c.verdict, `${c.name}: verdict (signals ${symbols.join(',')}, score ${r.score})`)
    if (c.brand !== undefined) t.equal(r.brand, c.brand, `${c.name}: brand`)
    if (c.kind !== undefined) t.equal(r.kind, c.kind, `${c.name}: kind`)
    for (const s of c.must) t.ok(symbols.includes(s as never), `${c.name}: ${s} fires`)
    for (const s of c.mustNot) t.notOk(symbols.includes(s as never), `${c.name}: ${s} does not fire`)
  }
})

t.test('every charset Japanese mail uses is read', async (t) => {
  for (const charset of ['UTF-8', 'ISO-2022-JP', 'Shift_JIS', 'EUC-JP'] as Charset[]) {
    const msg = makeMessage({
      charset,
      from: mailbox('テストショップ', 'shop@testshop.jp', charset),
      subject: '【テストショップ】ご入金確認のお知らせ',
      body: 'ご入金を確認いたしました。\nご注文番号: 12345\n',
    })
    const facts = await readMessage(msg, 1 << 20)
    t.equal(facts.subject, '【テストショップ】ご入金確認のお知らせ', `${charset}: subject decoded`)
    t.equal(facts.from?.name, 'テストショップ', `${charset}: display name decoded`)
    t.match(facts.text, /ご入金を確認いたしました/, `${charset}: body decoded`)
    t.equal(detectKind(facts, book)?.kind, 'payment', `${charset}: a payment notice`)
  }
})

t.test('detectKind: Japanese and English, full-width and decorations', async (t) => {
  const k = (subject: string, text = '') => detectKind({ subject, text }, book)?.kind
  t.equal(k('【重要】ご注文内容の確認'), 'order')
  t.equal(k('Your order has shipped'), 'shipping', 'two shipping phrases outweigh one order phrase')
  t.equal(k('ＡｍａｚｏｎギフトＣａｒｄ'), undefined, 'half a phrase is nothing')
  t.equal(k('Amazonギフト券のご案内'), 'gift-card')
  t.equal(k('カードご利用のお知らせ'), 'card-usage')
  t.equal(k('お荷物お届けのお知らせ'), 'shipping')
  t.equal(k('★アカウント一時停止★'), 'account')
  t.equal(k('Payment received - thank you'), 'payment')
  t.equal(k('Hello', 'Your payment method was declined. Please update your billing information.'), 'payment', 'two body phrases')
  t.equal(k('Hello', 'We received your payment.'), undefined, 'one weak body phrase is not enough')
  t.equal(k('Meeting notes', 'agenda'), undefined)
})

t.test('detectKind: rewards, prizes and presents are gift-card notices; promotions and statements are not', async (t) => {
  const k = (subject: string, text = '') => detectKind({ subject, text }, book)?.kind
  const cases: [subject: string, text: string, want: string | undefined, why: string][] = [
    ['Tractor-Supply,Co. is allocating you a complimentary 3500 Watt Generator', '', 'gift-card', 'complimentary, in the subject'],
    ['You have been selected to receive a reward from Costco', '', 'gift-card', 'selected to receive'],
    ['Congrats! You’ve won a 170 piece tool set', '', 'gift-card', 'a typographic apostrophe is the apostrophe'],
    ["Congrats! You've won a 170 piece tool set", '', 'gift-card', 'the plain one'],
    ['Hello neighbor', 'The first 5,000 participants receive a reward package.\nClaim your reward before Friday.', 'gift-card', 'two phrases of the lead'],
    ['Final notice', 'Your $100 store credit expires tonight. Claim your prize now.', 'gift-card', 'store credit and a prize'],
    ['【楽天市場】抽選で当選されました', '', 'gift-card', '当選'],
    ['ヨドバシカメラ ご愛顧感謝 豪華賞品のご案内', '', 'gift-card', '賞品'],
    ['日頃の感謝を込めて5,000ポイントを贈呈', '', 'gift-card', '贈呈 and ポイント (payment) weigh the same: gift-card, listed first, wins'],
    // hard negatives: every shop's own marketing and statements name no reward lure
    ['Black Friday deals start now: up to 40% off', 'Shop our weekly ad. Free shipping on orders over $35.', undefined, 'a sale'],
    ['Your weekly ad is here', 'Save on grills and patio furniture this week.', undefined, 'a weekly ad'],
    ['Your Rewards balance', 'You have 1,240 points. Keep shopping to earn more rewards.', undefined, 'a points balance: rewards alone is no phrase'],
    ['Tell us about your visit', 'Take our short survey about your recent store visit.', undefined, 'a survey invitation'],
    ['週末限定セールのお知らせ', '人気商品が最大50%オフ。この機会をお見逃しなく。', undefined, 'a Japanese sale'],
    ['新商品入荷のお知らせ', '特典付きキャンペーンを実施中です。', undefined, '特典 and キャンペーン are no phrases'],
  ]
  for (const [subject, text, want, why] of cases) t.equal(k(subject, text), want, `${subject}: ${why}`)
})

t.test('the size limit: only the beginning is read, and the verdict says so', async (t) => {
  const big = makeMessage({ subject: 'ご注文確認', body: `ご注文ありがとうございます。\n${'x'.repeat(200_000)}\n` })
  const facts = await readMessage(big, 10_000)
  t.equal(facts.truncated, true)
  t.equal(facts.subject, 'ご注文確認')
  const r = decide(facts, UNAVAILABLE, { ...settings, limits: { ...settings.limits, max_scan_bytes: 10_000 } })
  t.ok(r.hits.some((h) => h.symbol === 'SCAN_TRUNCATED'))
})

t.test('scan offline uses a trusted Authentication-Results header, and only a trusted one', async (t) => {
  const msg = (ar: string) =>
    makeMessage({
      extraHeaders: [`Authentication-Results: ${ar}`],
      from: mailbox('Amazon.co.jp', 'auto-confirm@amazon.co.jp'),
      subject: 'ご注文の確認',
      body: 'ご注文ありがとうございます。\n',
    })
  const trusted = { ...settings, auth: { ...settings.auth, trusted_authserv_ids: ['mx.upstream.example'] } }
  const pass = msg('mx.upstream.example; spf=pass smtp.mailfrom=amazon.co.jp; dkim=pass header.d=amazon.co.jp; dmarc=pass (p=quarantine) header.from=amazon.co.jp')
  const r1 = await scan(pass, {}, { settings: trusted, authservId: 'mx.test' })
  t.equal(r1.auth.source, 'trusted-header')
  t.equal(r1.verdict, 'verified')
  const r2 = await scan(pass, {}, { settings, authservId: 'mx.test' })
  t.equal(r2.auth.source, 'unavailable', 'an untrusted authserv-id is ignored')
  t.equal(r2.verdict, 'notice')
  const forged = msg('mx.evil.example; dmarc=pass header.from=amazon.co.jp')
  t.equal((await scan(forged, {}, { settings: trusted, authservId: 'mx.test' })).auth.source, 'unavailable')
})

t.test('factsFromAuthResults reads RFC 8601 results', async (t) => {
  const f = factsFromAuthResults(
    'mx.example.net (comment);\r\n\tspf=fail (sender not permitted) smtp.mailfrom=a@shop.example;\r\n\tdkim=pass header.d=esp.example header.s=s1;\r\n\tdkim=fail header.i=@shop.example;\r\n\tdmarc=fail (p=REJECT) policy.dmarc=reject header.from=shop.example;\r\n\tarc=none',
  )
  t.equal(f.spf.result, 'fail')
  t.equal(f.spf.domain, 'shop.example')
  t.same(f.dkim, [
    { result: 'pass', domain: 'esp.example', aligned: false },
    { result: 'fail', domain: 'shop.example', aligned: true },
  ])
  t.same(f.dmarc, { result: 'fail', fromDomain: 'shop.example', policy: 'reject' })
  t.equal(f.arc.result, 'none')
  t.equal(f.fragments.length, 5)
})

t.test('scan never throws: garbage in, a verdict out', async (t) => {
  for (const raw of [Buffer.alloc(0), Buffer.from('\r\n\r\n'), Buffer.from('no headers at all'), Buffer.from([0, 1, 2, 255, 254, 0x0d, 0x0a])]) {
    const r = await scan(raw, {}, { settings, authservId: 'mx.test' })
    t.ok(['none', 'error'].includes(r.verdict), `verdict ${r.verdict}`)
  }
})
