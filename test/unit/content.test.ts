/**
 * Content rules of issue 12 (classes 5 and 6), table-driven: card-use lures and the notice kinds
 * genuine card and bank mail belongs to; requests for card data in the ways lures phrase them,
 * beside the warnings, negations and conditions of genuine bank notices (hard negatives, each in
 * an authenticated card-use alert with an amount); order numbers as written; link text without a
 * scheme or in full width; risky attachment names; and an authenticated sender asking for card
 * data on another domain. Every message is made here.
 */
import t from 'tap'

import { type AuthFacts, UNAVAILABLE } from '../../dist/src/auth/authenticate.js'
import { readMessage } from '../../dist/src/message/parse.js'
import { decide } from '../../dist/src/scan.js'
import { mailbox, makeMessage } from '../helpers/messages'
import { TEST_RETAILERS, testSettings } from '../helpers/settings'

const settings = testSettings({
  ...TEST_RETAILERS,
  amazon: { ...TEST_RETAILERS.amazon, promises: { links: 'https-only', order_number: '(?:\\d{3}|D\\d{2})-\\d{7}-\\d{7}' } },
})

/** What a gateway records for mail its From domain authenticated. */
const dmarcPass = (from: string): AuthFacts => ({
  source: 'trusted-header',
  spf: { result: 'pass', domain: from },
  dkim: [{ result: 'pass', domain: from, aligned: true }],
  dmarc: { result: 'pass', fromDomain: from, policy: 'reject' },
  arc: { result: 'none' },
  fragments: [],
})
/** An aligned DKIM pass for a domain without a DMARC record. */
const dkimOnly = (from: string): AuthFacts => ({
  source: 'trusted-header',
  spf: { result: 'none' },
  dkim: [{ result: 'pass', domain: from, aligned: true }],
  dmarc: { result: 'none', fromDomain: from },
  arc: { result: 'none' },
  fragments: [],
})

interface Case {
  name: string
  from: string
  subject: string
  body?: string
  html?: string
  attach?: string[]
  auth?: AuthFacts
  verdict?: string[]
  kind?: string | null
  must?: string[]
  mustNot?: string[]
}

const TESTSHOP = mailbox('TestShop', 'info@testshop.jp')
/** A genuine card-use alert of a registered brand, with an amount: what a warning is added to. */
const ALERT = 'テストショップカードのご利用がありました。\nご利用日：2026年11月10日\nご利用金額：12,800円\nWe saw a purchase of $45.10 on your card.\n'

/** A genuine alert with one warning sentence: verified, and no request for card data. */
const warning = (sentence: string): Case => ({
  name: `hard negative, a warning in a genuine alert: ${sentence}`,
  from: TESTSHOP,
  subject: '【テストショップ】カードご利用のお知らせ',
  body: `${ALERT}\n${sentence}\n`,
  auth: dmarcPass('testshop.jp'),
  verdict: ['verified'],
  mustNot: ['CONTENT_CARD_DATA_REQUEST', 'CONTENT_CREDENTIAL_REQUEST', 'CONTENT_CARD_DATA_ELSEWHERE'],
})

/** A lure from an unknown domain asking in one sentence (kind from its subject). */
const lure = (sentence: string, subject = 'カードご利用確認のお願い'): Case => ({
  name: `a request: ${sentence}`,
  from: mailbox('Card Center', 'info@card-center.example'),
  subject,
  body: `お客様のカードに不審なご利用がありました。\n${sentence}\n`,
  must: ['CONTENT_CARD_DATA_REQUEST'],
})

const cases: Case[] = [
  // --- kinds: English card-use lures and the notices genuine card and bank mail is ---
  ...(
    [
      ['New charge on your Visa card', 'card-usage'],
      ['Purchase alert', 'card-usage'],
      ['Did you make this purchase?', 'card-usage'],
      ['Was this you?', 'card-usage'],
      ['Your credit card statement is ready', 'card-usage'],
      ['Your Apple Card statement is available', 'card-usage'],
      ['Your new card has been activated', 'card-usage'],
      ['Your payment is scheduled', 'payment'],
      ['Your AutoPay is set', 'payment'],
      ['Wire transfer confirmation', 'payment'],
      ['Your bill payment was received', 'payment'],
      ['Microsoft account security info was added', 'account'],
      ['【えきねっと】お申込内容のお知らせ', 'order'],
      ['Weekly newsletter: ten recipes for autumn', null],
    ] as const
  ).map(([subject, kind]): Case => ({ name: `kind of "${subject}": ${kind}`, from: mailbox('Sender', 'news@sender.example'), subject, kind })),
  {
    name: 'card-use lure from free mail asking for the card number by reply',
    from: mailbox('Card Services', 'cardservices.alerts@gmail.com'),
    subject: 'New charge on your Visa card',
    body: 'A new charge of $389.00 was made on your Visa card ending in 1180.\nDid you make this purchase? Reply with your full card number and expiration date so we can stop the charge.\n',
    auth: dmarcPass('gmail.com'),
    verdict: ['suspicious', 'spoofed'],
    kind: 'card-usage',
    must: ['SENDER_FREEMAIL', 'CONTENT_CARD_DATA_REQUEST'],
  },

  // --- requests for card data, phrased as lures phrase them ---
  lure('ご本人様確認のため、カード番号、有効期限、セキュリティコードをこのメールにご返信ください。'),
  lure('利用再開のため、カード番号と暗証番号を教えてください。'),
  lure('本メールへの返信で暗証番号をお送りください。'),
  lure('ご本人確認のため、カード番号をご連絡ください。'),
  lure('ご利用を継続される場合は、カード番号を入力してください。'),
  lure('If you did not make this purchase, confirm your card details at the link below.', 'Purchase alert'),
  lure('Please share your card number with our team to unlock the card.', 'Purchase alert'),
  {
    name: 'a warning and a request in separate sentences: the request still counts',
    from: mailbox('Card Center', 'info@card-center.example'),
    subject: 'Purchase alert',
    body: 'A purchase of $742.19 was made.\nPlease never share your password with anyone. Enter your card number and security code here to block the charge.\n',
    must: ['CONTENT_CARD_DATA_REQUEST'],
  },

  // --- hard negatives: the warnings of genuine bank notices ---
  warning("Don't reply to emails that ask for your card details."),
  warning('Don’t reply to emails that ask for your card details.'),
  warning('Never enter your PIN number on a website.'),
  warning('Scammers may ask you to update your billing information or verify your card number.'),
  warning('Phishing emails may ask you to provide your card number.'),
  warning('You should not enter your card number on any site other than ours.'),
  warning('カード番号の入力を求めるメールを受け取った場合は、リンクを開かずに削除してください。'),
  warning('暗証番号をお忘れの場合はご連絡ください。'),
  warning('キャッシュカードを紛失された際は、至急ご連絡ください。'),
  warning('カード番号をメールで入力しないでください。'),
  warning('当社がメールでカード番号をお尋ねすることはございません。'),
  warning('カード番号をご入力いただく必要はございません。'),

  // --- order numbers as written ---
  {
    name: 'an Amazon digital order (D01-…) has the brand\'s shape',
    from: mailbox('Amazon.co.jp', 'auto-confirm@amazon.co.jp'),
    subject: 'Amazon.co.jpでのご注文',
    body: 'ご注文ありがとうございます。\n注文番号: D01-1234567-1234567\nご請求額: ￥550\n',
    auth: dmarcPass('amazon.co.jp'),
    verdict: ['verified'],
    mustNot: ['BRAND_PROMISE_ORDER_NUMBER'],
  },
  {
    name: 'hard negative: a lower-case d01-… is not how Amazon writes it',
    from: mailbox('Amazon.co.jp', 'auto-confirm@amazon.co.jp'),
    subject: 'Amazon.co.jpでのご注文',
    body: 'ご注文ありがとうございます。\nORDER # d01-1234567-1234567\nご請求額: ￥550\n',
    must: ['BRAND_PROMISE_ORDER_NUMBER'],
  },

  // --- link text ---
  {
    name: 'an address written without a scheme is no http link',
    from: mailbox('Amazon.co.jp', 'ship-confirm@amazon.co.jp'),
    subject: '発送のお知らせ',
    body: 'ご注文の商品を発送しました。注文番号: 250-1234567-1234567\n注文履歴: www.amazon.co.jp/your-orders\n',
    auth: dmarcPass('amazon.co.jp'),
    mustNot: ['LINK_HTTP', 'BRAND_PROMISE_HTTPS'],
  },
  {
    name: 'hard negative: an address written with http:// is an http link',
    from: mailbox('Amazon.co.jp', 'ship-confirm@amazon.co.jp'),
    subject: '発送のお知らせ',
    body: 'ご注文の商品を発送しました。注文番号: 250-1234567-1234567\n注文履歴: http://www.amazon.co.jp/your-orders\n',
    must: ['LINK_HTTP', 'BRAND_PROMISE_HTTPS'],
  },
  {
    name: 'full-width link text is compared with its href',
    from: mailbox('Amazon', 'info@notice.example'),
    subject: 'ご注文の確認',
    html: '<p>注文番号: 250-1234567-1234567</p><a href="https://amazon-orders.example/x">ｗｗｗ．ａｍａｚｏｎ．ｃｏ．ｊｐ</a>',
    must: ['LINK_TEXT_MISMATCH'],
  },
  {
    name: 'hard negative: full-width link text that names its own href',
    from: mailbox('Amazon.co.jp', 'auto-confirm@amazon.co.jp'),
    subject: 'ご注文の確認',
    html: '<p>注文番号: 250-1234567-1234567</p><a href="https://www.amazon.co.jp/gp/css">ｗｗｗ．ａｍａｚｏｎ．ｃｏ．ｊｐ</a>',
    auth: dmarcPass('amazon.co.jp'),
    mustNot: ['LINK_TEXT_MISMATCH'],
  },
  // the https promise is the brand's: a claim made only in the text does not bind the sender's own site
  {
    name: 'a claim in the text only: an http link to the sender\'s own site breaks no promise of the brand',
    from: mailbox('花屋ショップ', 'info@hanaya-shop.jp'),
    subject: '当選のお知らせ',
    body: '抽選の結果、賞品のAmazonギフト券1,000円分をお送りします。\n確認はこちら: http://www.hanaya-shop.jp/campaign/result\n',
    must: ['BRAND_CLAIM_FOREIGN_SENDER', 'LINK_HTTP'],
    mustNot: ['BRAND_PROMISE_HTTPS'],
  },
  {
    name: 'hard negative: a claim in the text only, an http link to a third site breaks the promise',
    from: mailbox('花屋ショップ', 'info@hanaya-shop.jp'),
    subject: '当選のお知らせ',
    body: '抽選の結果、賞品のAmazonギフト券1,000円分をお送りします。\n確認はこちら: http://gift-check.example.net/result\n',
    must: ['BRAND_CLAIM_FOREIGN_SENDER', 'BRAND_PROMISE_HTTPS'],
  },
  // an invoice showing the sender's own site through its mail service's click tracker
  ...([
    ['authenticated, its own site over a click tracker: no lie', dkimOnly('example.com'), 'cloud.example.com', 'u123.ct.sendgrid.net', false],
    ['DMARC pass, a subdomain of its own site over a click tracker: no lie', dmarcPass('example.com'), 'https://billing.example.com/x', 'ct.sendgrid.net', false],
    ['hard negative: not authenticated, its own site over a click tracker', undefined, 'cloud.example.com', 'u123.ct.sendgrid.net', true],
    ['hard negative: authenticated, a brand\'s site over a click tracker', dkimOnly('example.com'), 'www.amazon.co.jp', 'u123.ct.sendgrid.net', true],
    ['hard negative: authenticated, its own site over a link elsewhere', dkimOnly('example.com'), 'cloud.example.com', 'pay.example.net', true],
  ] as const).map(
    ([name, auth, shown, host, lies]): Case => ({
      name: `link text over a redirect: ${name}`,
      from: mailbox('Hosting Billing', 'billing@example.com'),
      subject: 'Invoice #55006 is due',
      html: `<p>Invoice #55006, amount due $45.00.</p><a href="https://${host}/ls/click?upn=abc">${shown}</a>`,
      ...(auth ? { auth } : {}),
      ...(lies ? { must: ['LINK_TEXT_MISMATCH'] } : { mustNot: ['LINK_TEXT_MISMATCH'] }),
    }),
  ),

  // --- attachments ---
  ...['invoice.url', 'report.xll', 'notice.eml', 'mail.msg', 'invoice.pdf.exe', 'invoice.exe.', 'statement.pdf..'].map(
    (name): Case => ({
      name: `a risky attachment: ${name}`,
      from: mailbox('Billing', 'billing@invoices.example'),
      subject: 'Invoice #4471 for your payment',
      body: 'Amount due: $120.00\n',
      attach: [name],
      must: ['ATTACHMENT_RISKY'],
    }),
  ),
  {
    name: 'hard negative: a PDF invoice is a document, not a risky file',
    from: mailbox('Billing', 'billing@invoices.example'),
    subject: 'Invoice #4471 for your payment',
    body: 'Amount due: $120.00\n',
    attach: ['invoice.pdf'],
    must: ['ATTACHMENT_ON_NOTICE'],
    mustNot: ['ATTACHMENT_RISKY'],
  },

  // --- an authenticated sender asking for card data on another domain (class 6) ---
  {
    name: 'an authenticated shop outside the registry asks to re-enter the card on another domain',
    from: mailbox('工房さくら', 'info@kobo-sakura.example'),
    subject: '【工房さくら】お支払い情報の再登録のお願い',
    body:
      '決済システム更新のため、ご注文（受注番号：PA01234567）のお支払いが完了しておりません。\n' +
      '下記の決済ページでクレジットカード番号・有効期限・セキュリティコードを再入力してください。\n' +
      'https://secure-payment-update.example-pay.top/kobo-sakura/PA01234567\n',
    auth: dkimOnly('kobo-sakura.example'),
    verdict: ['suspicious', 'spoofed'],
    must: ['CONTENT_CARD_DATA_REQUEST', 'CONTENT_CARD_DATA_ELSEWHERE'],
  },
  {
    name: 'a registered brand, authenticated, asking for card data on another domain: at least suspicious',
    from: TESTSHOP,
    subject: '【テストショップ】お支払い方法の更新のお願い',
    body: 'ご注文番号: TS-1234567 のお支払いが確認できませんでした。\n以下のページでカード番号を入力してください。\nhttps://testshop-billing.example/update\n',
    auth: dmarcPass('testshop.jp'),
    verdict: ['suspicious', 'spoofed'],
    must: ['BRAND_AUTHENTICATED', 'CONTENT_CARD_DATA_ELSEWHERE'],
  },
  {
    name: 'hard negative: the shop asks for card data on its own site',
    from: mailbox('工房さくら', 'info@kobo-sakura.example'),
    subject: '【工房さくら】お支払い情報の再登録のお願い',
    body: 'ご注文（受注番号：PA01234567）のお支払いが確認できませんでした。\nマイページでクレジットカード番号を再入力してください。\nhttps://www.kobo-sakura.example/mypage\n',
    auth: dmarcPass('kobo-sakura.example'),
    mustNot: ['CONTENT_CARD_DATA_ELSEWHERE'],
  },
  {
    name: 'hard negative: the shop asks for card data at a registered payment brand, through its mailer\'s click tracker',
    from: mailbox('工房さくら', 'info@kobo-sakura.example'),
    subject: '【工房さくら】お支払い情報の再登録のお願い',
    body:
      'ご注文（受注番号：PA01234567）のお支払いが確認できませんでした。\nPayPalでカード番号を再入力してください。\n' +
      'https://www.paypal.com/checkout\nhttps://u123.ct.sendgrid.net/ls/click?x=1\n',
    auth: dmarcPass('kobo-sakura.example'),
    mustNot: ['CONTENT_CARD_DATA_ELSEWHERE'],
  },
  {
    name: 'hard negative: the mailer that signed it is the sender\'s own',
    from: mailbox('工房さくら', 'info@kobo-sakura.example'),
    subject: '【工房さくら】お支払い情報の再登録のお願い',
    body: 'ご注文（受注番号：PA01234567）のお支払いが確認できませんでした。\nカード番号を再入力してください。\nhttps://links.shopmailer.example/c/abc\n',
    auth: { ...dmarcPass('kobo-sakura.example'), dkim: [{ result: 'pass', domain: 'kobo-sakura.example', aligned: true }, { result: 'pass', domain: 'shopmailer.example', aligned: false }] },
    mustNot: ['CONTENT_CARD_DATA_ELSEWHERE'],
  },
  {
    name: 'hard negative: an unauthenticated sender is not what this signal is about',
    from: mailbox('工房さくら', 'info@kobo-sakura.example'),
    subject: '【工房さくら】お支払い情報の再登録のお願い',
    body: 'ご注文（受注番号：PA01234567）のお支払いが確認できませんでした。\nカード番号を再入力してください。\nhttps://secure-payment-update.example-pay.top/\n',
    auth: UNAVAILABLE,
    must: ['CONTENT_CARD_DATA_REQUEST'],
    mustNot: ['CONTENT_CARD_DATA_ELSEWHERE'],
  },
  {
    name: 'hard negative: a genuine card-use alert with an amount and a link to the issuer',
    from: TESTSHOP,
    subject: '【テストショップ】カードご利用のお知らせ',
    body: `${ALERT}ご利用明細: https://www.testshop.jp/meisai\n`,
    auth: dmarcPass('testshop.jp'),
    verdict: ['verified'],
    kind: 'card-usage',
    mustNot: ['CONTENT_CARD_DATA_REQUEST', 'CONTENT_CARD_DATA_ELSEWHERE', 'CONTENT_DETAILS_MISSING'],
  },
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    const raw = makeMessage({
      from: c.from,
      subject: c.subject,
      body: c.body ?? '',
      html: c.html,
      attachments: c.attach?.map((filename) => ({ filename, contentType: 'application/octet-stream', inline: false, content: Buffer.from('x') })),
    })
    const facts = await readMessage(raw, settings.limits.max_scan_bytes)
    const r = decide(facts, c.auth ?? UNAVAILABLE, settings)
    const symbols: string[] = r.hits.map((h) => h.symbol)
    const why = `signals ${r.hits.map((h) => `${h.symbol}(${h.options.join(',')})`).join(' ')}, score ${r.score}`
    if (c.verdict) t.ok(c.verdict.includes(r.verdict), `verdict ${r.verdict} in ${c.verdict.join('|')} (${why})`)
    if (c.kind !== undefined) t.equal(r.kind ?? null, c.kind, `kind (${why})`)
    for (const s of c.must ?? []) t.ok(symbols.includes(s), `${s} fires (${why})`)
    for (const s of c.mustNot ?? []) t.notOk(symbols.includes(s), `${s} does not fire (${why})`)
  })
}
