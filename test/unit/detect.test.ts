/**
 * The detection engine, table-driven: each case is a message made here (never from
 * the corpus), the authentication facts, and the symbols that must and must not fire.
 * Hard negatives (a genuine breach notice, a personal mail mentioning a brand, a
 * newsletter, a forwarded notice) sit beside the lures.
 */
import t from 'tap'

import { type AuthFacts, UNAVAILABLE } from '../../dist/src/auth/authenticate.js'
import { readMessage } from '../../dist/src/message/parse.js'
import { decide } from '../../dist/src/scan.js'
import { type Charset, makeMessage, mailbox } from '../helpers/messages'
import { testSettings } from '../helpers/settings'

const settings = testSettings()

const dmarcPass = (from: string): AuthFacts => ({
  source: 'mailauth',
  spf: { result: 'pass', domain: from },
  dkim: [{ result: 'pass', domain: from, aligned: true }],
  dmarc: { result: 'pass', fromDomain: from, policy: 'reject' },
  arc: { result: 'none' },
  fragments: [],
})

interface Case {
  name: string
  from?: string
  subject: string
  body?: string
  html?: string
  charset?: Charset
  headers?: string[]
  attach?: { name: string; type: string; inline?: boolean }[]
  auth?: AuthFacts
  envelope?: string
  verdict?: string | string[]
  brand?: string | null
  kind?: string | null
  must?: string[]
  mustNot?: string[]
}

const AMAZON_ORDER = 'ご注文ありがとうございます。\n注文番号: 250-1234567-1234567\nご請求額: ￥3,980\n'

const cases: Case[] = [
  // --- brand claims and authentication ---
  {
    name: 'display name of a brand, From a foreign domain: not authenticated even offline',
    from: mailbox('三井住友カード', 'no-reply@fg614.example'),
    subject: 'ご利用内容のお知らせ',
    body: 'カードのご利用がありました。詳しくは https://smbc-card.example.top/login をご確認ください。',
    verdict: ['suspicious', 'spoofed'],
    brand: 'smbc-card',
    must: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH', 'LINK_OFF_BRAND', 'LINK_NO_BRAND_LINK'],
    mustNot: ['BRAND_AUTHENTICATED', 'LINK_ALL_ON_BRAND'],
  },
  {
    name: 'subject names the brand, generic display name, foreign domain: a weaker claim',
    from: mailbox('自動メール通知', 'no-reply@mf219.example'),
    subject: '【 三井住友カード 】決済完了のお知らせ',
    body: '決済が完了しました。\nhttps://louzibo.example/\n',
    verdict: ['suspicious', 'spoofed'],
    brand: 'smbc-card',
    kind: 'payment',
    must: ['BRAND_CLAIM_FOREIGN_SENDER', 'LINK_OFF_BRAND', 'CONTENT_DETAILS_MISSING'],
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH'],
  },
  {
    name: 'spaced-out brand names are still names (三 井 住 友 カ ー ド, E T C)',
    from: mailbox('三 井 住 友 カ ー ド', 'info@random.example'),
    subject: 'お支払い予定金額のご案内',
    verdict: ['suspicious', 'spoofed'],
    brand: 'smbc-card',
    must: ['BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'genuine authenticated notice linking to its own domains: verified, links on brand',
    from: mailbox('Amazon.co.jp', 'auto-confirm@amazon.co.jp'),
    subject: 'Amazon.co.jp ご注文の確認',
    body: `${AMAZON_ORDER}https://www.amazon.co.jp/gp/css/order-history\nhttps://m.media-amazon.com/images/logo.png\n`,
    auth: dmarcPass('amazon.co.jp'),
    verdict: 'verified',
    brand: 'amazon',
    kind: 'order',
    must: ['BRAND_AUTHENTICATED', 'LINK_ALL_ON_BRAND'],
    mustNot: ['LINK_OFF_BRAND', 'CONTENT_DETAILS_MISSING', 'BRAND_PROMISE_ORDER_NUMBER', 'BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'verified brand using a click tracker and http: the composite takes those off',
    from: mailbox('TestShop', 'orders@testshop.jp'),
    subject: 'ご注文確認',
    html: '<p>ご注文ありがとうございます。注文番号: TS-000123</p><a href="http://u123.ct.sendgrid.net/ls/click?x=1">注文を見る</a><a href="https://tracker.example/c?1">配送状況</a>',
    auth: dmarcPass('testshop.jp'),
    verdict: 'verified',
    brand: 'testshop',
    must: ['BRAND_AUTHENTICATED'],
    mustNot: ['LINK_OFF_BRAND', 'LINK_HTTP'],
  },
  {
    name: 'forwarded notice from a person: the quoted brand is no claim',
    from: mailbox('Taro', 'taro@example.org'),
    subject: 'Fwd: Your Amazon.com order #123-1234567-1234567',
    body: 'FYI\n---------- Forwarded message ---------\nYour order has shipped.\nhttps://www.amazon.com/gp/r.html\n',
    auth: dmarcPass('example.org'),
    verdict: 'notice',
    brand: null,
    mustNot: ['BRAND_CLAIM_FOREIGN_SENDER', 'BRAND_NOT_AUTHENTICATED', 'LINK_OFF_BRAND'],
  },
  {
    name: 'hard negative: a newsletter offering a gift card from its own site is not flagged',
    from: mailbox('Garden News', 'news@garden.example'),
    subject: 'Amazonギフト券が当たるキャンペーン',
    body: 'アンケートに答えてAmazonギフト券1,000円分を当てよう。\nhttps://www.garden.example/campaign\n',
    auth: dmarcPass('garden.example'),
    verdict: 'notice',
    brand: 'amazon',
    must: ['BRAND_CLAIM_FOREIGN_SENDER'],
    mustNot: ['LINK_OFF_BRAND', 'BRAND_NOT_AUTHENTICATED', 'CONTENT_CARD_DATA_REQUEST'],
  },
  {
    name: 'hard negative: personal mail mentioning Amazon',
    from: mailbox('Hanako', 'hanako@example.net'),
    subject: 'Re: 週末の予定',
    body: 'Amazonで買った本、貸そうか？\n',
    auth: dmarcPass('example.net'),
    verdict: 'none',
    brand: null,
    mustNot: ['BRAND_CLAIM_FOREIGN_SENDER', 'BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'a person called by a short brand name in lower case is not JCB',
    from: mailbox('jcb fan club', 'club@example.net'),
    subject: 'Your order',
    body: 'Order number: AB12345\nTotal: $3\n',
    auth: dmarcPass('example.net'),
    brand: null,
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH'],
  },
  // --- lookalike domains ---
  {
    name: 'the brand inside another registrable domain (From)',
    from: mailbox('Support', 'info@amazon-co-jp.account-check.example'),
    subject: 'アカウント一時停止のお知らせ',
    verdict: ['suspicious', 'spoofed'],
    must: ['DOMAIN_LOOKALIKE_FROM'],
  },
  {
    name: 'a confusable From domain (amaz0n, Cyrillic а)',
    from: mailbox('Service', 'service@amaz0n.example'),
    subject: 'Your order confirmation',
    body: 'Order #123-1234567-1234567\n',
    must: ['DOMAIN_LOOKALIKE_FROM'],
  },
  {
    name: 'an edit-distance lookalike link (paypl) and a mixed-script IDN link',
    from: mailbox('Billing', 'billing@shop.example'),
    subject: 'Payment failed',
    html: '<a href="https://www.paypl.com/signin">Sign in</a> <a href="https://xn--pypal-4ve.com/">PayPal</a>',
    must: ['DOMAIN_LOOKALIKE_LINK', 'DOMAIN_IDN_MIXED_SCRIPT'],
  },
  {
    name: 'a brand domain itself is never a lookalike',
    from: mailbox('楽天市場', 'order@rakuten.co.jp'),
    subject: '【楽天市場】注文内容ご確認',
    body: '注文番号: 123456-20250101-0000000001\n合計 1,980円\nhttps://order.my.rakuten.co.jp/\n',
    auth: dmarcPass('rakuten.co.jp'),
    verdict: 'verified',
    mustNot: ['DOMAIN_LOOKALIKE_FROM', 'DOMAIN_LOOKALIKE_LINK'],
  },
  // --- links ---
  {
    name: 'link text shows the brand, href goes elsewhere; http and a bare IP',
    from: mailbox('Amazon.co.jp', 'account@amazon.co.jp'),
    subject: 'お支払い方法の更新',
    html: '<p>お支払い方法を更新してください。</p><a href="http://203.0.113.7/amazon/">https://www.amazon.co.jp/account</a>',
    verdict: ['suspicious', 'spoofed'],
    must: ['LINK_TEXT_MISMATCH', 'LINK_IP', 'LINK_HTTP', 'BRAND_PROMISE_HTTPS', 'LINK_OFF_BRAND'],
  },
  {
    name: 'link text behind a > in a quoted attribute and named references (amazon&period;co&period;jp) is read',
    from: mailbox('Amazon.co.jp', 'account@amazon.co.jp'),
    subject: 'お支払い方法の更新',
    html: '<p>お支払い方法を更新してください。</p><a title="x>y" href="https://evil.example/x">amazon&period;co&period;jp</a>',
    must: ['LINK_TEXT_MISMATCH', 'LINK_OFF_BRAND', 'LINK_NO_BRAND_LINK'],
  },
  {
    name: 'a brand link inside a comment is not there; a form action and an area href are links',
    from: mailbox('Amazon.co.jp', 'account@amazon.co.jp'),
    subject: 'お支払い方法の更新',
    html:
      '<p>お支払い方法を更新してください。</p><!-- <a href="https://www.amazon.co.jp/">Amazon</a> -->' +
      '<form action="https://evil.example/login"><input name="card"></form>' +
      '<map name="m"><area href="https://other.example/" alt="www.amazon.co.jp"></map>',
    must: ['LINK_OFF_BRAND', 'LINK_NO_BRAND_LINK', 'LINK_TEXT_MISMATCH'],
    mustNot: ['LINK_ALL_ON_BRAND'],
  },
  {
    name: 'an off-brand link beside the brand\'s own: off brand, but the brand is linked once',
    from: mailbox('三井住友カード', 'info@smbc-card.com'),
    subject: '【三井住友カード】ご利用確認のお願い',
    body: 'カードのご利用を確認してください。\nhttps://www.smbc-card.com/mem/index.jsp\nhttps://card-check.example/verify\n',
    must: ['LINK_OFF_BRAND'],
    mustNot: ['LINK_NO_BRAND_LINK', 'LINK_ALL_ON_BRAND'],
  },
  {
    name: 'a URL shortener on a notice',
    from: mailbox('Delivery', 'info@parcel.example'),
    subject: 'Your package delivery attempt failed',
    body: 'Reschedule here: https://bit.ly/3abcDEF\n',
    must: ['LINK_SHORTENER'],
    mustNot: ['LINK_OFF_BRAND'],
  },
  {
    name: 'mailing-list footer links are the list\'s own',
    from: mailbox('Amazon via Dev', 'dev@lists.example.org'),
    headers: ['List-Id: Dev talk <dev.lists.example.org>'],
    subject: '[Dev] Amazonアカウント確認',
    body: 'https://www.amazon.co.jp/\n_______________\nDev mailing list\nhttps://lists.example.org/listinfo/dev\n',
    mustNot: ['LINK_OFF_BRAND'],
    must: ['BRAND_NOT_AUTHENTICATED'],
  },
  // --- sender ---
  {
    name: 'free-mail Reply-To on a brand notice, and an address in the display name',
    from: mailbox('service@paypal.com', 'notice@mailer.example'),
    headers: ['Reply-To: secure.help.desk@gmail.com'],
    subject: 'Your account has been limited',
    body: 'Please confirm your account.\n',
    must: ['SENDER_REPLY_TO_OFF_BRAND', 'SENDER_REPLY_TO_FREEMAIL', 'SENDER_DISPLAY_NAME_ADDRESS'],
  },
  {
    name: 'a notice from free mail, and an envelope sender off the brand',
    from: mailbox('TestShop', 'testshop.orders@gmail.com'),
    subject: '【テストショップ】入金確認のお知らせ',
    envelope: 'bounce@bulk.example',
    must: ['SENDER_FREEMAIL', 'SENDER_ENVELOPE_OFF_BRAND', 'BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'a notice naming a brand, sent from free mail: suspicious without any link',
    from: mailbox('Support Team', 'paypal.help.center@gmail.com'),
    subject: 'PayPal: your payment is on hold',
    body: 'Reply to this mail to release the payment of $420.00.\n',
    verdict: 'suspicious',
    brand: 'paypal',
    must: ['BRAND_CLAIM_FOREIGN_SENDER', 'SENDER_FREEMAIL'],
    mustNot: ['BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'a reply to the brand\'s own domain is fine',
    from: mailbox('TestShop', 'orders@testshop.jp'),
    headers: ['Reply-To: support@testshop.jp'],
    subject: 'ご注文確認',
    body: '注文番号: TS-1234567\n',
    auth: dmarcPass('testshop.jp'),
    verdict: 'verified',
    mustNot: ['SENDER_REPLY_TO_OFF_BRAND', 'SENDER_REPLY_TO_FREEMAIL', 'SENDER_FREEMAIL'],
  },
  // --- sender names that imitate a brand ---
  {
    name: 'a display name one letter off the brand (Amazom) imitates it',
    from: mailbox('Amazom Support', 'support@help-desk.example'),
    subject: 'Your account has been locked',
    must: ['SENDER_LOOKALIKE_NAME'],
  },
  {
    name: 'a display name with a Cyrillic а (Аmazon ID) imitates the brand',
    from: mailbox('\u0410mazon ID via Dev-list', 'dev-list@lists.example'),
    subject: 'Amazon.co.jp アカウントの確認',
    verdict: ['suspicious', 'spoofed'],
    must: ['SENDER_LOOKALIKE_NAME'],
  },
  {
    name: 'hard negative: the brand\'s own name and a Japanese display name imitate nothing',
    from: mailbox('Amazon.co.jp アマゾン', 'auto-confirm@amazon.co.jp'),
    subject: 'ご注文の確認',
    body: AMAZON_ORDER,
    mustNot: ['SENDER_LOOKALIKE_NAME'],
  },
  // --- ambiguous names (Norton is also a surname) ---
  {
    name: 'an ambiguous brand name in the display name of a renewal notice claims the brand',
    from: mailbox('Norton Billing', 'alerts@renewals.example'),
    subject: 'Your subscription has been renewed',
    body: 'Your membership was renewed. Amount: $299.99\n',
    verdict: ['suspicious', 'spoofed'],
    brand: 'norton',
    must: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH'],
  },
  {
    name: 'hard negative: a person with a brand\'s ambiguous name, writing no notice',
    from: mailbox('Chris Norton', 'chris@family.example'),
    subject: 'Dinner on Saturday?',
    body: 'Hi, are you free on Saturday? Norton family dinner at 7.\n',
    verdict: 'none',
    brand: null,
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH', 'BRAND_CLAIM_FOREIGN_SENDER'],
  },
  {
    name: 'hard negative: an ambiguous name in lower case is a word, not the brand, even in a notice',
    from: mailbox('Garden Shop', 'orders@garden.example'),
    subject: 'Your order confirmation',
    body: 'Thank you for your order. Order number: GS-12345. Our norton hedge trimmer ships tomorrow.\n',
    brand: null,
    mustNot: ['BRAND_CLAIM_FOREIGN_SENDER', 'BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'small capitals (ɴᴏʀᴛᴏɴ) are read as the capitals they show',
    from: mailbox('ɴᴏʀᴛᴏɴ ᴀʟᴇʀᴛ', 'news@caterers.example'),
    subject: 'Last notice: your subscription has expired',
    verdict: ['suspicious', 'spoofed'],
    brand: 'norton',
    must: ['BRAND_NOT_AUTHENTICATED'],
  },
  // --- callback lures ---
  {
    name: 'a renewal charge with a number to call: a callback lure',
    from: mailbox('Billing Desk', 'billing.desk@gmail.com'),
    subject: 'Order confirmation: your membership has been renewed',
    body: 'Your NortonLifeLock membership was renewed and you were charged $349.99.\nIf you did not authorize this charge, call our billing department at +1 (808) 555-0143 within 24 hours.\n',
    verdict: ['suspicious', 'spoofed'],
    brand: 'norton',
    must: ['CONTENT_CALLBACK_NUMBER', 'BRAND_CLAIM_FOREIGN_SENDER', 'SENDER_FREEMAIL'],
  },
  {
    name: 'a Japanese notice telling the reader to ring a support centre',
    from: mailbox('サポート', 'info@support-desk.example'),
    subject: 'アカウント一時停止のお知らせ',
    body: 'お客様のアカウントは一時停止されました。\nサポートセンター 0120-123-456 までお電話ください。\n',
    must: ['CONTENT_CALLBACK_NUMBER'],
  },
  {
    name: 'hard negative: order, invoice and tracking numbers are not telephone numbers',
    from: mailbox('TestShop', 'orders@testshop.jp'),
    subject: 'Your order confirmation',
    body: 'Order number: 1820953715\nInvoice 2025-04-15-0001\nQuestions? Contact us at https://testshop.jp/help\n',
    mustNot: ['CONTENT_CALLBACK_NUMBER'],
  },
  {
    name: 'a brand\'s own authenticated notice may give its call centre number',
    from: mailbox('TestShop', 'orders@testshop.jp'),
    subject: 'Your order confirmation',
    body: 'Order number: TS-1234567\nQuestions? Call us at 03-1234-5678.\n',
    auth: dmarcPass('testshop.jp'),
    verdict: 'verified',
    mustNot: ['CONTENT_CALLBACK_NUMBER'],
  },
  // --- issue 12, recall on unseen mail: callback wording, attached documents, brands named by display name ---
  {
    name: 'hard negative: a small business invoice with its PDF and "contact our billing department at" its number',
    from: mailbox('', 'ar@pest-control.example'),
    subject: 'Your invoice from Hillside Pest Control',
    body: 'Thank you for choosing Hillside Pest Control. A copy of your invoice is attached to this email.\nIf you have any questions, please contact our Billing Department at 555-201-4477 option 3.\nClick this link to pay your invoice online: https://pay.pest-control.example/start\n',
    attach: [{ name: 'Invoice_20931.pdf', type: 'application/pdf' }],
    verdict: ['none', 'notice'],
    mustNot: ['CONTENT_CALLBACK_NUMBER', 'CONTENT_DETAILS_MISSING'],
    must: ['ATTACHMENT_ON_NOTICE'],
  },
  {
    name: 'a renewal notice asking to contact "our billing department" to cancel: a callback lure',
    from: mailbox('Billing', 'billing@renewals.example'),
    subject: 'Your subscription has been renewed',
    body: 'Your annual plan was renewed and $399.99 was charged to your card.\nTo cancel and get a refund, contact our billing department at 808-555-0143.\n',
    must: ['CONTENT_CALLBACK_NUMBER'],
  },
  {
    name: 'a card suspended "for now" (一時的に停止) is an account notice',
    from: mailbox('カードセンター', 'info@card-center.example'),
    subject: '重要',
    body: 'カードのご利用を一時的に停止させていただいております。\n下記よりログインのうえ、ご確認ください。\n',
    kind: 'account',
  },
  // --- attachments ---
  {
    name: 'an archive and an HTML file on a notice; the brand promised no attachments',
    from: mailbox('三井住友カード', 'info@smbc-card.com'),
    subject: 'ご利用明細のお知らせ',
    body: 'ご利用金額: 12,000円\n',
    attach: [
      { name: '明細.zip', type: 'application/zip' },
      { name: 'login.html', type: 'text/html' },
    ],
    auth: dmarcPass('smbc-card.com'),
    must: ['ATTACHMENT_RISKY', 'BRAND_PROMISE_ATTACHMENTS', 'BRAND_AUTHENTICATED'],
  },
  {
    name: 'a PDF invoice on a notice weighs less; an inline logo nothing',
    from: mailbox('Billing', 'billing@shop.example'),
    subject: 'Invoice for your order',
    body: 'Order number: A-99881\nTotal: $42.00\n',
    attach: [
      { name: 'invoice.pdf', type: 'application/pdf' },
      { name: 'logo.png', type: 'image/png', inline: true },
    ],
    must: ['ATTACHMENT_ON_NOTICE'],
    mustNot: ['ATTACHMENT_RISKY', 'CONTENT_DETAILS_MISSING'],
  },
  {
    name: 'a double extension is risky',
    from: mailbox('Billing', 'billing@shop.example'),
    subject: 'Invoice',
    attach: [{ name: 'invoice.pdf.exe', type: 'application/octet-stream' }],
    must: ['ATTACHMENT_RISKY'],
  },
  // --- content ---
  {
    name: 'a request for the card number and security code',
    from: mailbox('Card Center', 'info@cards.example'),
    subject: 'カード利用制限のお知らせ',
    body: 'ご本人様確認のため、以下のリンクよりカード番号とセキュリティコードを入力してください。\n',
    must: ['CONTENT_CARD_DATA_REQUEST'],
  },
  {
    name: 'hard negative: a genuine breach notice promising never to ask for card numbers',
    from: mailbox('TestShop', 'info@testshop.jp'),
    subject: '【テストショップ】不正アクセスに関するお詫びとお知らせ',
    body:
      'このたび、当社サイトへの不正アクセスが判明しました。\n' +
      '当社からお客様にカード番号やセキュリティコードの入力をお願いすることは決してありません。\n' +
      'We will never ask you to enter your card number by e-mail.\n',
    auth: dmarcPass('testshop.jp'),
    mustNot: ['CONTENT_CARD_DATA_REQUEST', 'CONTENT_CREDENTIAL_REQUEST'],
  },
  {
    name: 'a request for a password weighs less than card data',
    from: mailbox('Account', 'info@login.example'),
    subject: 'Account suspended',
    body: 'Please enter your password at the link below to restore access.\n',
    must: ['CONTENT_CREDENTIAL_REQUEST'],
    mustNot: ['CONTENT_CARD_DATA_REQUEST'],
  },
  {
    name: 'a payment notice with no order number, amount or item; Chinese glyphs in Japanese',
    from: mailbox('お知らせ', 'info@notice.example'),
    subject: '入金のお知らせ',
    body: 'お客様の账户にて入金を确认しました。详细は下記より。\n',
    must: ['CONTENT_DETAILS_MISSING', 'CONTENT_SIMPLIFIED_CHINESE'],
  },
  {
    name: 'hard negative: Chinese mail is not "Chinese glyphs in Japanese"',
    from: mailbox('客服', 'service@shop.example'),
    subject: '订单确认',
    body: '您的订单已确认。订单号 123456，金额 ¥100。\n',
    mustNot: ['CONTENT_SIMPLIFIED_CHINESE'],
  },
  {
    name: 'an order number in the wrong shape for the brand',
    from: mailbox('Amazon', 'order@amazon.com'),
    subject: 'Your amazon prime membership renewal was failed #930-0956203-865',
    body: 'Update your payment method.\n',
    must: ['BRAND_PROMISE_ORDER_NUMBER'],
  },
  {
    name: 'hidden characters in the subject and display name',
    from: mailbox('P\u200dr\u200di\u200dm\u200de', 'x@promo.example'),
    subject: 'Coinchec\ufe09k アカ\u2061ウン\ufe09トの利\u2064用制限',
    must: ['CONTENT_OBFUSCATED'],
  },
  {
    name: 'hard negative: emoji sequences are not hidden characters',
    from: mailbox('Shop 👩‍👩‍👧', 'shop@shop.example'),
    subject: 'Your order has shipped 📦❤️',
    body: 'Order number: A-12345\n',
    mustNot: ['CONTENT_OBFUSCATED'],
  },
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    const parts = c.attach?.map((a) => ({ filename: a.name, contentType: a.type, inline: a.inline === true, content: Buffer.from('x') }))
    const raw = makeMessage({
      from: c.from,
      subject: c.subject,
      body: c.body ?? '',
      html: c.html,
      charset: c.charset,
      extraHeaders: c.headers,
      attachments: parts,
    })
    const facts = await readMessage(raw, settings.limits.max_scan_bytes)
    const r = decide(facts, c.auth ?? UNAVAILABLE, settings, c.envelope)
    const symbols = r.hits.map((h) => h.symbol)
    const why = `signals ${r.hits.map((h) => `${h.symbol}(${h.options.join(',')})`).join(' ')}, score ${r.score}`
    if (c.verdict !== undefined) {
      const allowed = Array.isArray(c.verdict) ? c.verdict : [c.verdict]
      t.ok(allowed.includes(r.verdict), `verdict ${r.verdict} in ${allowed.join('|')} (${why})`)
    }
    if (c.brand !== undefined) t.equal(r.brand ?? null, c.brand, `brand (${why})`)
    if (c.kind !== undefined) t.equal(r.kind ?? null, c.kind, 'kind')
    for (const s of c.must ?? []) t.ok(symbols.includes(s as never), `${s} fires (${why})`)
    for (const s of c.mustNot ?? []) t.notOk(symbols.includes(s as never), `${s} does not fire (${why})`)
  })
}
