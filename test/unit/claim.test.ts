/**
 * Claims and mentions (issue 12, classes 1 to 4 and the display-name homoglyphs of class 5),
 * table-driven: authentication as DMARC aligns it, brands named in passing by authenticated
 * senders, a brand's own top-level domain, spoofs of a brand's own domain whatever their
 * words, and `[dmarc] enforce`. Every case is a message made here; hard negatives sit
 * beside each rule.
 */
import t from 'tap'

import { fromAuthentication } from '../../dist/src/auth/alignment.js'
import { type AuthFacts, UNAVAILABLE } from '../../dist/src/auth/authenticate.js'
import { readMessage } from '../../dist/src/message/parse.js'
import { decide } from '../../dist/src/scan.js'
import { actionFor, dmarcAction } from '../../dist/src/verdict/score.js'
import { type Charset, makeMessage, mailbox } from '../helpers/messages'
import { testSettings } from '../helpers/settings'

const RETAILERS = {
  amazon: {
    roles: ['marketplace', 'shop', 'payment'],
    names: ['Amazon', 'アマゾン', 'Amazon.co.jp', 'Amazon Pay'],
    sending_domains: ['amazon.co.jp', 'amazon.com'],
    promises: { order_number: '\\d{3}-\\d{7}-\\d{7}' },
  },
  rakuten: { roles: ['marketplace', 'shop', 'payment'], names: ['楽天', '楽天市場', 'Rakuten', '楽天ペイ'], sending_domains: ['rakuten.co.jp'] },
  'yahoo-japan': { roles: ['marketplace', 'service'], names: ['Yahoo!ショッピング', 'Yahoo! JAPAN'], sending_domains: ['yahoo.co.jp'] },
  paypal: { roles: ['payment', 'platform'], names: ['PayPal'], sending_domains: ['paypal.com'] },
  yamato: { roles: ['carrier'], names: ['ヤマト運輸', 'クロネコヤマト'], sending_domains: ['kuronekoyamato.co.jp'] },
  norton: { roles: ['service'], names: ['NortonLifeLock'], ambiguous_names: ['Norton'], sending_domains: ['norton.com'] },
  apple: { roles: ['service', 'shop', 'payment'], names: ['Apple', 'Apple Pay'], sending_domains: ['apple.com', 'icloud.com'] },
  visa: { roles: ['card'], names: ['Visa', 'VISA'], sending_domains: ['visa.com'] },
  mastercard: { roles: ['card'], names: ['Mastercard'], sending_domains: ['mastercard.com'] },
  jcb: { roles: ['card'], names: ['JCB'], sending_domains: ['jcb.co.jp'] },
  synchrony: { roles: ['bank', 'card'], names: ['Synchrony'], sending_domains: ['syf.com'] },
  'paypal-mastercard': {
    roles: ['card'],
    names: ['PayPal Extras Mastercard'],
    issued_by: ['synchrony'],
    co_brands: ['paypal', 'mastercard'],
  },
  intuit: { roles: ['platform', 'service'], names: ['Intuit', 'QuickBooks'], sending_domains: ['intuit.com'] },
  testshop: { roles: ['shop'], names: ['TestShop', 'テストショップ'], sending_domains: ['testshop.jp'] },
  aaa: { roles: ['service'], names: ['American Automobile Association'], sender_names: ['AAA'], sending_domains: ['aaa.com'] },
  chase: { roles: ['bank', 'card'], names: ['Chase Bank'], ambiguous_names: ['Chase'], sender_names: ['Chase'], sending_domains: ['chase.com'] },
}
const LISTS = {
  free_mail_domains: ['gmail.com', 'yahoo.co.jp'],
  url_shorteners: ['bit.ly'],
  neutral_link_domains: ['w3.org'],
  redirectors: ['sendgrid.net'],
}
const settings = testSettings(RETAILERS, LISTS)

/** What a trusted upstream or mailauth recorded. */
const auth = (a: Partial<AuthFacts>): AuthFacts => ({
  source: 'trusted-header',
  spf: { result: 'none' },
  dkim: [],
  dmarc: { result: 'none' },
  arc: { result: 'none' },
  fragments: [],
  ...a,
})
const dmarcPass = (from: string): AuthFacts =>
  auth({ spf: { result: 'pass', domain: from }, dkim: [{ result: 'pass', domain: from, aligned: true }], dmarc: { result: 'pass', fromDomain: from, policy: 'none' } })
const dmarcFail = (from: string, policy = 'none', envelope = 'attacker.example'): AuthFacts =>
  auth({ spf: { result: 'pass', domain: envelope }, dmarc: { result: 'fail', fromDomain: from, policy } })
/** No DMARC record: only what DKIM and SPF said. */
const noDmarc = (from: string, dkim?: string, spf?: string): AuthFacts =>
  auth({
    spf: spf ? { result: 'pass', domain: spf } : { result: 'none' },
    dkim: dkim ? [{ result: 'pass', domain: dkim, aligned: false }] : [],
    dmarc: { result: 'none', fromDomain: from },
  })

t.test('fromAuthentication: alignment as DMARC computes it', async (t) => {
  const cases: [string, AuthFacts, string | undefined, string, string?][] = [
    ['DMARC pass', dmarcPass('shop.example'), 'shop.example', 'pass', 'dmarc'],
    ['DMARC fail stays a fail, whatever passed', auth({ dkim: [{ result: 'pass', domain: 'mail.shop.example', aligned: false }], dmarc: { result: 'fail', fromDomain: 'shop.example' } }), 'shop.example', 'fail'],
    ['no record, DKIM d= a subdomain of the From organisation', noDmarc('shop.example', 'mail.shop.example'), 'shop.example', 'pass', 'dkim'],
    ['no record, From a subdomain, SPF for the organisation', noDmarc('news.shop.example', undefined, 'shop.example'), 'news.shop.example', 'pass', 'spf'],
    ['trusted upstream recorded only dkim=pass (no dmarc=)', auth({ dkim: [{ result: 'pass', domain: 'usps.com', aligned: false }] }), 'email.usps.com', 'pass', 'dkim'],
    ['hard negative: DKIM of the ESP, SPF of the ESP', noDmarc('shop.example', 'esp.example', 'bounce.esp.example'), 'shop.example', 'none'],
    ['hard negative: a DKIM fail aligned', auth({ dkim: [{ result: 'fail', domain: 'shop.example', aligned: true }], dmarc: { result: 'none', fromDomain: 'shop.example' } }), 'shop.example', 'none'],
    ['hard negative: same label, other suffix (shop.example.com)', noDmarc('shop.example', 'shop.example.com'), 'shop.example', 'none'],
    ['a temperror of an identity that could align', auth({ dkim: [{ result: 'temperror', domain: 'shop.example', aligned: false }] }), 'shop.example', 'temperror'],
    ['a temperror of an identity that cannot align changes nothing', auth({ dkim: [{ result: 'temperror', domain: 'esp.example', aligned: false }] }), 'shop.example', 'none'],
    ['DMARC temperror', auth({ dmarc: { result: 'temperror', fromDomain: 'shop.example' } }), 'shop.example', 'temperror'],
    ['offline: unavailable', UNAVAILABLE, 'shop.example', 'unavailable'],
  ]
  for (const [name, facts, from, result, method] of cases) {
    const got = fromAuthentication(facts, from)
    t.equal(got.result, result, `${name}: ${result}`)
    if (method) t.equal(got.method, method, `${name}: by ${method}`)
  }
})

interface Case {
  name: string
  from: string
  subject: string
  body?: string
  html?: string
  charset?: Charset
  headers?: string[]
  auth?: AuthFacts
  envelope?: string
  verdict?: string | string[]
  brand?: string | null
  must?: string[]
  mustNot?: string[]
  /** options a hit must carry: [symbol, option] */
  options?: [string, string][]
}

const ORDER_JA = 'ご注文ありがとうございます。\n注文番号: A-20261201-0042\nご請求額: ￥3,980\n'
const ORDER_EN = 'Thank you for your order.\nOrder number: A-20261201-0042\nTotal: $39.80\n'

const cases: Case[] = [
  // --- class 1: authentication as DMARC aligns it ---
  {
    name: 'class 1: a brand without DMARC, aligned DKIM (subdomain d=) pass: verified',
    from: mailbox('テストショップ', 'order@testshop.jp'),
    subject: 'ご注文の確認',
    body: ORDER_JA,
    auth: noDmarc('testshop.jp', 'mail.testshop.jp', 'bounce.esp.example'),
    verdict: 'verified',
    brand: 'testshop',
    must: ['BRAND_AUTHENTICATED', 'AUTH_ALIGNED_PASS', 'AUTH_DMARC_MISSING'],
    mustNot: ['BRAND_NOT_AUTHENTICATED'],
    options: [['BRAND_AUTHENTICATED', 'by=dkim']],
  },
  {
    name: 'class 1: a brand without DMARC, aligned SPF pass alone: verified',
    from: mailbox('テストショップ', 'order@testshop.jp'),
    subject: 'ご注文の確認',
    body: ORDER_JA,
    auth: noDmarc('testshop.jp', undefined, 'testshop.jp'),
    verdict: 'verified',
    must: ['BRAND_AUTHENTICATED', 'AUTH_ALIGNED_PASS'],
    options: [['BRAND_AUTHENTICATED', 'by=spf']],
  },
  {
    name: 'class 1: a trusted upstream recorded dkim=pass and no dmarc=: verified',
    from: mailbox('TestShop', 'ship@testshop.jp'),
    subject: 'Your order has shipped',
    body: ORDER_EN,
    auth: auth({ dkim: [{ result: 'pass', domain: 'testshop.jp', aligned: false }] }),
    verdict: 'verified',
    must: ['BRAND_AUTHENTICATED'],
  },
  {
    name: 'class 1 hard negative: only the ESP authenticated (unaligned DKIM and SPF): not verified',
    from: mailbox('テストショップ', 'order@testshop.jp'),
    subject: 'ご注文の確認',
    body: ORDER_JA,
    auth: noDmarc('testshop.jp', 'esp.example', 'bounce.esp.example'),
    verdict: ['suspicious', 'spoofed'],
    must: ['BRAND_NOT_AUTHENTICATED'],
    mustNot: ['BRAND_AUTHENTICATED', 'AUTH_ALIGNED_PASS'],
  },
  {
    name: 'class 1 hard negative: DMARC fail stays a fail even with a relaxed-aligned DKIM pass',
    from: mailbox('テストショップ', 'order@testshop.jp'),
    subject: 'ご注文の確認',
    body: ORDER_JA,
    auth: auth({ dkim: [{ result: 'pass', domain: 'mail.testshop.jp', aligned: false }], dmarc: { result: 'fail', fromDomain: 'testshop.jp', policy: 'reject' } }),
    verdict: ['suspicious', 'spoofed'],
    must: ['BRAND_NOT_AUTHENTICATED', 'AUTH_DMARC_FAIL_ENFORCED'],
    mustNot: ['BRAND_AUTHENTICATED', 'AUTH_ALIGNED_PASS'],
  },
  {
    name: 'class 1 hard negative: a DMARC pass at a free-mail mailbox never verifies the brand',
    from: mailbox('Amazon', 'amazon.support@gmail.com'),
    subject: 'Your order confirmation',
    body: ORDER_EN,
    auth: dmarcPass('gmail.com'),
    verdict: ['suspicious', 'spoofed'],
    must: ['BRAND_NOT_AUTHENTICATED', 'SENDER_FREEMAIL'],
    mustNot: ['BRAND_AUTHENTICATED'],
  },
  {
    name: 'class 1: a temperror of the aligned DKIM is no evidence against the brand',
    from: mailbox('テストショップ', 'order@testshop.jp'),
    subject: 'ご注文の確認',
    body: ORDER_JA,
    auth: auth({ dkim: [{ result: 'temperror', domain: 'testshop.jp', aligned: false }], dmarc: { result: 'none', fromDomain: 'testshop.jp' } }),
    verdict: 'notice',
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'BRAND_AUTHENTICATED'],
  },

  // --- class 2: mentions are not claims ---
  {
    name: 'class 2 hard negative: a mailing list writing its own address into From authenticates the list, not the author',
    from: mailbox('Someone via dev-list', 'dev-list@lists.project.example'),
    subject: 'ご請求のお知らせ',
    body: 'PayPal: お支払いが確認できませんでした。ご請求額の確認をお願いします。\n',
    auth: dmarcPass('lists.project.example'),
    headers: ['List-Id: <dev-list.lists.project.example>'],
    brand: 'paypal',
    must: ['BRAND_CLAIM_FOREIGN_SENDER'],
    mustNot: ['BRAND_MENTIONED'],
  },
  {
    name: 'class 2: an authenticated shop naming PayPal as its payment method mentions it',
    from: mailbox('Kobo Sakura', 'order@kobo-sakura.example'),
    subject: 'ご注文の確認',
    body: `${ORDER_JA}お支払い方法: PayPal\nhttps://kobo-sakura.example/orders/42\n`,
    auth: dmarcPass('kobo-sakura.example'),
    envelope: 'bounce@kobo-sakura.example',
    verdict: 'notice',
    brand: null,
    must: ['BRAND_MENTIONED'],
    mustNot: ['BRAND_CLAIM_FOREIGN_SENDER', 'SENDER_ENVELOPE_OFF_BRAND', 'LINK_OFF_BRAND'],
    options: [['BRAND_MENTIONED', 'paypal:body']],
  },
  {
    name: 'class 2: the carrier named by a shop without DMARC (aligned DKIM) is mentioned',
    from: mailbox('北の大地ファーム', 'info@kitanodaichi.example'),
    subject: '発送のお知らせ',
    body: '商品を発送しました。\n配送業者: ヤマト運輸\nお問い合わせ番号: 1234-5678-9012\n',
    auth: noDmarc('kitanodaichi.example', 'kitanodaichi.example'),
    verdict: ['notice', 'none'],
    brand: null,
    must: ['BRAND_MENTIONED'],
    mustNot: ['BRAND_CLAIM_FOREIGN_SENDER'],
  },
  {
    name: 'class 2: card networks listed as ways to pay are mentioned',
    from: mailbox('Minato Gas', 'billing@minato-gas.example'),
    subject: 'ご請求金額のお知らせ',
    body: '今月のご請求額: ￥4,210\nお支払いには Visa、Mastercard、JCB がご利用いただけます。\n',
    auth: dmarcPass('minato-gas.example'),
    brand: null,
    mustNot: ['BRAND_CLAIM_FOREIGN_SENDER'],
  },
  {
    name: 'class 2 hard negative: offline, the same mention stays a claim (nothing tells the sender is genuine)',
    from: mailbox('Kobo Sakura', 'order@kobo-sakura.example'),
    subject: 'ご注文の確認',
    body: `${ORDER_JA}お支払い方法: PayPal\n`,
    brand: 'paypal',
    must: ['BRAND_CLAIM_FOREIGN_SENDER'],
    mustNot: ['BRAND_MENTIONED'],
  },
  {
    name: 'class 2 hard negative: a free-mail sender naming PayPal claims it',
    from: mailbox('Billing', 'billing.team@gmail.com'),
    subject: 'Payment received',
    body: 'Your PayPal payment of $499.00 was received.\n',
    auth: dmarcPass('gmail.com'),
    brand: 'paypal',
    must: ['BRAND_CLAIM_FOREIGN_SENDER'],
  },
  {
    name: 'class 2 hard negative: a hijacked, authenticated domain speaking of Norton renewals still claims Norton',
    from: mailbox('Billing Dept', 'billing@hijacked-club.example'),
    subject: 'Your Norton subscription payment was processed',
    body: 'Your Norton subscription was renewed for $399.99. To cancel, call our helpline.\n',
    auth: noDmarc('hijacked-club.example', undefined, 'hijacked-club.example'),
    brand: 'norton',
    must: ['BRAND_CLAIM_FOREIGN_SENDER'],
    mustNot: ['BRAND_MENTIONED'],
  },
  {
    name: 'class 2 hard negative: a link dressed as the brand\'s (amazon.co.jp shown, elsewhere behind) is a claim',
    from: mailbox('配送センター', 'noreply@delivery-news.example'),
    subject: 'お荷物のお届けについて',
    html: '<p>お荷物のお届け予定です。配送業者: アマゾン</p><p><a href="https://track.delivery-news.example/x">www.amazon.co.jp</a></p>',
    auth: dmarcPass('delivery-news.example'),
    brand: 'amazon',
    must: ['BRAND_CLAIM_FOREIGN_SENDER', 'LINK_TEXT_MISMATCH'],
    mustNot: ['BRAND_MENTIONED'],
  },
  {
    name: 'class 2: "〇〇 楽天市場店" from the shop\'s own authenticated domain is its shop on the marketplace',
    from: mailbox('ひなた珈琲 楽天市場店', 'shop@hinata-coffee.example'),
    subject: '【ひなた珈琲 楽天市場店】発送のお知らせ',
    body: 'ご注文の商品を発送しました。\n注文番号: 123456-20261201-0001\n',
    charset: 'ISO-2022-JP',
    auth: dmarcPass('hinata-coffee.example'),
    verdict: ['notice', 'none'],
    brand: null,
    must: ['BRAND_MENTIONED'],
    mustNot: ['BRAND_DISPLAY_NAME_MISMATCH', 'BRAND_NOT_AUTHENTICATED', 'BRAND_CLAIM_FOREIGN_SENDER'],
  },
  {
    name: 'class 2 hard negative: "楽天市場" alone as display name from another authenticated domain is a claim',
    from: mailbox('楽天市場', 'info@ichiba-info.example'),
    subject: 'ご注文内容の確認',
    body: ORDER_JA,
    auth: dmarcPass('ichiba-info.example'),
    verdict: ['suspicious', 'spoofed'],
    brand: 'rakuten',
    must: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH'],
  },
  {
    name: 'class 2 hard negative: "〇〇 楽天市場店" unauthenticated is a claim',
    from: mailbox('ひなた珈琲 楽天市場店', 'shop@hinata-coffee.example'),
    subject: '発送のお知らせ',
    body: 'ご注文の商品を発送しました。\n',
    auth: noDmarc('hinata-coffee.example', undefined, 'elsewhere.example'),
    brand: 'rakuten',
    must: ['BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'class 2: a store on Yahoo!ショッピング names it in its subject words: a mention',
    from: mailbox('うみべキャンドル', 'store@umibe-candle.example'),
    subject: 'Yahoo!ショッピング店 ご注文ありがとうございます',
    body: ORDER_JA,
    auth: dmarcPass('umibe-candle.example'),
    brand: null,
    mustNot: ['BRAND_CLAIM_FOREIGN_SENDER'],
  },
  {
    name: 'class 2: a co-branded card in the display name, from its issuer\'s domain: verified as the product',
    from: mailbox('PayPal Extras Mastercard', 'alerts@info.syf.com'),
    subject: 'Your statement is ready',
    body: 'Your PayPal Extras Mastercard statement is ready.\nStatement balance: $212.40\nPayment due: Dec 28\n',
    auth: dmarcPass('info.syf.com'),
    verdict: ['verified', 'notice'],
    brand: 'paypal-mastercard',
    must: ['BRAND_AUTHENTICATED'],
    mustNot: ['BRAND_DISPLAY_NAME_MISMATCH', 'BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'class 2 hard negative: the co-branded card\'s name from any other domain is not authenticated',
    from: mailbox('PayPal Extras Mastercard', 'alerts@card-services.example'),
    subject: 'Your statement is ready',
    body: 'Your statement is ready.\nStatement balance: $212.40\n',
    auth: dmarcPass('card-services.example'),
    verdict: ['suspicious', 'spoofed'],
    brand: 'paypal-mastercard',
    must: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH'],
  },
  {
    name: 'class 2: a platform sending under a merchant\'s name speaks for the merchant, not itself',
    from: mailbox('Acme Landscaping', 'quickbooks@notification.intuit.com'),
    subject: 'Invoice 1042 from Acme Landscaping',
    body: 'Invoice 1042\nAmount due: $180.00\nPay with card or Apple Pay.\n',
    auth: dmarcPass('notification.intuit.com'),
    verdict: ['notice', 'none'],
    brand: null,
    must: ['BRAND_MENTIONED'],
    mustNot: ['BRAND_AUTHENTICATED', 'BRAND_CLAIM_FOREIGN_SENDER'],
  },
  {
    name: 'class 2 hard negative: a merchant named as a registered brand on a platform is that brand\'s claim',
    from: mailbox('Amazon', 'quickbooks@notification.intuit.com'),
    subject: 'Invoice 1042',
    body: 'Invoice 1042\nAmount due: $180.00\n',
    auth: dmarcPass('notification.intuit.com'),
    verdict: ['suspicious', 'spoofed'],
    brand: 'amazon',
    must: ['BRAND_NOT_AUTHENTICATED'],
    mustNot: ['BRAND_AUTHENTICATED'],
  },
  {
    name: 'class 2 hard negative: the platform\'s own notice, under its own name, is its claim',
    from: mailbox('QuickBooks', 'billing@notification.intuit.com'),
    subject: 'Your QuickBooks payment receipt',
    body: 'Payment received: $30.00\nInvoice INV-2026-12\n',
    auth: dmarcPass('notification.intuit.com'),
    verdict: 'verified',
    brand: 'intuit',
  },

  // --- class 3: a brand's own top-level domain ---
  {
    name: 'class 3: Apple on its own TLD (email.apple) is Apple, not its lookalike',
    from: mailbox('Apple', 'no_reply@email.apple'),
    subject: 'Your receipt from Apple',
    body: 'Receipt\nOrder ID: MT2K4L9PQ\nTotal: $2.99\n',
    auth: dmarcPass('email.apple'),
    envelope: 'bounce@email.apple',
    verdict: 'verified',
    brand: 'apple',
    must: ['BRAND_AUTHENTICATED'],
    mustNot: ['DOMAIN_LOOKALIKE_FROM', 'BRAND_DISPLAY_NAME_MISMATCH', 'SENDER_ENVELOPE_OFF_BRAND'],
  },
  {
    name: 'class 3: a forged From at Apple\'s own TLD is a spoof of Apple\'s own domain',
    from: mailbox('Apple', 'no_reply@email.apple'),
    subject: 'Your receipt from Apple',
    body: 'Receipt\nTotal: $2.99\n',
    auth: dmarcFail('email.apple', 'reject'),
    verdict: ['suspicious', 'spoofed'],
    brand: 'apple',
    must: ['BRAND_NOT_AUTHENTICATED'],
    mustNot: ['DOMAIN_LOOKALIKE_FROM'],
  },
  {
    name: 'class 3 hard negative: the brand\'s name inside another domain stays a lookalike',
    from: mailbox('Apple', 'no_reply@apple-receipts.example'),
    subject: 'Your receipt from Apple',
    body: 'Receipt\nTotal: $2.99\n',
    auth: dmarcPass('apple-receipts.example'),
    verdict: 'spoofed',
    must: ['DOMAIN_LOOKALIKE_FROM', 'BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'class 3: a host under a free-mail provider\'s domain is the provider\'s own, not a mailbox',
    from: mailbox('Yahoo!ショッピング', 'order@mail.shopping.yahoo.co.jp'),
    subject: 'ご注文の確認',
    body: ORDER_JA,
    auth: dmarcPass('mail.shopping.yahoo.co.jp'),
    verdict: 'verified',
    brand: 'yahoo-japan',
    mustNot: ['BRAND_DISPLAY_NAME_MISMATCH', 'BRAND_NOT_AUTHENTICATED'],
  },

  // --- class 4: spoofs of a brand's own domain, whatever their words ---
  {
    name: 'class 4: an account lure from the brand\'s own domain failing DMARC (p=none), no notice words: suspicious at least',
    from: mailbox('', 'account-update@amazon.co.jp'),
    subject: 'Action required on your account',
    body: 'We noticed unusual activity. Sign in within 24 hours to keep using your account.\nhttps://amazon-verify.example/signin\n',
    auth: dmarcFail('amazon.co.jp', 'none'),
    verdict: ['suspicious', 'spoofed'],
    brand: 'amazon',
    must: ['BRAND_NOT_AUTHENTICATED', 'AUTH_DMARC_FAIL'],
  },
  {
    name: 'class 4: the brand\'s own domain without DMARC, nothing aligned: suspicious at least',
    from: mailbox('', 'info@testshop.jp'),
    subject: 'Please confirm',
    body: 'Please confirm your details at the link.\n',
    auth: noDmarc('testshop.jp', undefined, 'attacker.example'),
    verdict: ['suspicious', 'spoofed'],
    must: ['BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'class 4: the brand\'s own authenticated mail is its notice even without notice words: verified',
    from: mailbox('Amazon', 'account-update@amazon.co.jp'),
    subject: 'Your statement is ready',
    body: 'Hello, your monthly summary is ready to view.\n',
    auth: dmarcPass('amazon.co.jp'),
    verdict: 'verified',
    brand: 'amazon',
  },
  {
    name: 'class 4 hard negative: offline, the brand\'s own domain cannot be judged',
    from: mailbox('', 'account-update@amazon.co.jp'),
    subject: 'Action required on your account',
    body: 'Sign in within 24 hours.\n',
    verdict: ['none', 'notice'],
    mustNot: ['BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'class 4 hard negative: a DNS failure is no evidence of forgery',
    from: mailbox('', 'account-update@amazon.co.jp'),
    subject: 'Action required on your account',
    body: 'Sign in within 24 hours.\n',
    auth: auth({ dmarc: { result: 'temperror', fromDomain: 'amazon.co.jp' } }),
    verdict: ['none', 'notice'],
    mustNot: ['BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'class 4 hard negative: personal mail failing DMARC at a domain of no brand stays none',
    from: mailbox('Hanako', 'hanako@home.example'),
    subject: 'Lunch on Friday?',
    body: 'Shall we meet at noon?\n',
    auth: dmarcFail('home.example', 'reject'),
    verdict: 'none',
  },

  // --- class 5: display names with homoglyphs or digit swaps claim the brand ---
  {
    name: 'class 5: a Cyrillic А in "Аmazon" is a display-name claim of Amazon',
    from: mailbox('\u0410mazon', 'service@notice-center.example'),
    subject: 'Your account is on hold',
    body: 'Confirm your payment information.\n',
    auth: dmarcPass('notice-center.example'),
    verdict: ['suspicious', 'spoofed'],
    brand: 'amazon',
    must: ['BRAND_NOT_AUTHENTICATED', 'SENDER_LOOKALIKE_NAME'],
  },
  {
    name: 'class 5: a digit swap ("Amaz0n Support") is a display-name claim of Amazon',
    from: mailbox('Amaz0n Support', 'service@notice-center.example'),
    subject: 'Your account is on hold',
    body: 'Confirm your payment information.\n',
    auth: dmarcPass('notice-center.example'),
    verdict: ['suspicious', 'spoofed'],
    brand: 'amazon',
    must: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH'],
  },
  {
    name: 'class 5: Greek letters ("ΡayΡal" with Greek Rho) claim PayPal',
    from: mailbox('\u03a1ay\u03a1al', 'service@notice-center.example'),
    subject: 'Payment received',
    body: 'You sent a payment of $120.00.\n',
    auth: dmarcPass('notice-center.example'),
    brand: 'paypal',
    must: ['BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'class 5: a capital I for an l ("PayPaI Billing") claims PayPal',
    from: mailbox('PayPaI Billing', 'service@notice-center.example'),
    subject: 'Payment received',
    body: 'You sent a payment of $120.00.\n',
    auth: dmarcPass('notice-center.example'),
    verdict: ['suspicious', 'spoofed'],
    brand: 'paypal',
    must: ['BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'class 5 hard negative: a capital I inside a surname that is no brand ("McIntyre Plumbing")',
    from: mailbox('McIntyre Plumbing', 'office@mcintyre-plumbing.example'),
    subject: 'Your invoice',
    body: 'Invoice 1042\nAmount due: $180.00\n',
    auth: dmarcPass('mcintyre-plumbing.example'),
    brand: null,
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'SENDER_LOOKALIKE_NAME', 'BRAND_DISPLAY_NAME_MISMATCH'],
  },
  {
    name: 'class 5 hard negative: ordinary words near a brand\'s name claim nothing ("Amazing Deals", "Cloud Billing")',
    from: mailbox('Amazing Cloud Billing', 'billing@cloudhost.example'),
    subject: 'Your invoice',
    body: 'Invoice 77\nAmount due: $12.00\n',
    auth: dmarcPass('cloudhost.example'),
    brand: null,
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'SENDER_LOOKALIKE_NAME', 'BRAND_DISPLAY_NAME_MISMATCH'],
  },

  // --- sender names: a short form too common for text claims only as the whole display name ---
  {
    name: 'sender names: "AAA Member Support" from an unrelated, authenticated domain, over filler text: a claim',
    from: mailbox('AAA Member Support', 'members@quiet-harbour.example'),
    subject: 'A small thank-you for drivers',
    body: 'The river bends past the old mill, where the afternoon light settles on the water.\nNobody hurries here.\n',
    auth: noDmarc('quiet-harbour.example', undefined, 'quiet-harbour.example'),
    verdict: ['suspicious', 'spoofed'],
    brand: 'aaa',
    must: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH'],
    mustNot: ['BRAND_MENTIONED'],
    options: [['BRAND_NOT_AUTHENTICATED', 'via=display-name']],
  },
  {
    name: 'sender names: role words before the name ("Courtesy AAA Support"), offline: a claim',
    from: mailbox('Courtesy AAA Support', 'courtesy@kit-offers.example'),
    subject: 'Drivers in your area',
    body: 'Seasons turn, and the garden asks for patience more than for tools.\n',
    verdict: ['suspicious', 'spoofed'],
    brand: 'aaa',
    must: ['BRAND_NOT_AUTHENTICATED'],
  },
  {
    name: 'sender names: "Chase Alerts" at a free-mail mailbox, no notice words: a claim',
    from: mailbox('Chase Alerts', 'chase.alerts.desk@gmail.com'),
    subject: 'Please read',
    body: 'A short note about the weather this week and the roads.\n',
    auth: dmarcPass('gmail.com'),
    verdict: ['suspicious', 'spoofed'],
    brand: 'chase',
    must: ['BRAND_NOT_AUTHENTICATED', 'SENDER_FREEMAIL'],
  },
  {
    name: 'sender names: "AAA Member Services" from a host of aaa.com, authenticated: verified',
    from: mailbox('AAA Member Services', 'members@email.aaa.com'),
    subject: 'Your membership card is on its way',
    body: 'Your renewed membership card will arrive within 10 days.\n',
    auth: dmarcPass('email.aaa.com'),
    verdict: 'verified',
    brand: 'aaa',
    must: ['BRAND_AUTHENTICATED'],
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH'],
  },
  {
    name: 'sender names: "AAA Member Services" at aaa.com failing DMARC: a spoof of the own domain',
    from: mailbox('AAA Member Services', 'members@aaa.com'),
    subject: 'Your membership card is on its way',
    body: 'Your renewed membership card will arrive within 10 days.\n',
    auth: dmarcFail('aaa.com', 'reject'),
    verdict: ['suspicious', 'spoofed'],
    brand: 'aaa',
    must: ['BRAND_NOT_AUTHENTICATED'],
    mustNot: ['BRAND_AUTHENTICATED'],
  },
  {
    name: 'sender names hard negative: a small business named AAA-something sends its invoice',
    from: mailbox('AAA Plumbing', 'office@aaa-plumbing.example'),
    subject: 'Your invoice',
    body: 'Invoice 311\nKitchen sink repair\nAmount due: $240.00\n',
    auth: dmarcPass('aaa-plumbing.example'),
    verdict: ['none', 'notice'],
    brand: null,
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH', 'DOMAIN_LOOKALIKE_FROM'],
  },
  {
    name: 'sender names hard negative: a business word beside a role word ("AAA Storage Billing")',
    from: mailbox('AAA Storage Billing', 'billing@aaastorage.example'),
    subject: 'Your monthly storage invoice',
    body: 'Unit 14B\nAmount due: $89.00\nThank you for storing with us.\n',
    auth: dmarcPass('aaastorage.example'),
    verdict: ['none', 'notice'],
    brand: null,
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH'],
  },
  {
    name: 'sender names hard negative: a person called Chase',
    from: mailbox('Chase Smith', 'chase.smith@example.net'),
    subject: 'Dinner on Friday?',
    body: 'Shall we try the new place by the station at seven?\n',
    auth: dmarcPass('example.net'),
    verdict: 'none',
    brand: null,
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'BRAND_DISPLAY_NAME_MISMATCH'],
  },
  {
    name: 'sender names hard negative: a hotel confirmation offering the "AAA member rate" names no brand',
    from: mailbox('Harbor View Hotel Reservations', 'reservations@harborview-hotel.example'),
    subject: 'Your reservation is confirmed',
    body: 'Thank you for your booking.\nConfirmation number: HV-55120\nRate: AAA member rate, $129.00 per night\nPlease show your AAA card at check-in.\n',
    auth: dmarcPass('harborview-hotel.example'),
    verdict: ['none', 'notice'],
    brand: null,
    mustNot: ['BRAND_NOT_AUTHENTICATED', 'BRAND_CLAIM_FOREIGN_SENDER', 'BRAND_MENTIONED'],
  },
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    const raw = makeMessage({ from: c.from, subject: c.subject, body: c.body ?? '', html: c.html, charset: c.charset, extraHeaders: c.headers })
    const facts = await readMessage(raw, settings.limits.max_scan_bytes)
    const r = decide(facts, c.auth ?? UNAVAILABLE, settings, c.envelope)
    const symbols = r.hits.map((h) => h.symbol as string)
    const why = `signals ${r.hits.map((h) => `${h.symbol}(${h.options.join(',')})`).join(' ')}, score ${r.score}`
    if (c.verdict !== undefined) {
      const allowed = Array.isArray(c.verdict) ? c.verdict : [c.verdict]
      t.ok(allowed.includes(r.verdict), `verdict ${r.verdict} in ${allowed.join('|')} (${why})`)
    }
    if (c.brand !== undefined) t.equal(r.brand ?? null, c.brand, `brand (${why})`)
    for (const s of c.must ?? []) t.ok(symbols.includes(s), `${s} fires (${why})`)
    for (const s of c.mustNot ?? []) t.notOk(symbols.includes(s), `${s} does not fire (${why})`)
    for (const [s, option] of c.options ?? []) {
      t.ok(r.hits.find((h) => h.symbol === s)?.options.some((o) => o === option || o.includes(option)), `${s} has ${option} (${why})`)
    }
  })
}

t.test('[dmarc] enforce: the published policy for every message failing DMARC, within the mode', async (t) => {
  const on = { enforce: true }
  const cases: [string, { result: string; policy?: string } | undefined, { enforce: boolean } | undefined, string, string | undefined][] = [
    ['p=reject in reject mode', { result: 'fail', policy: 'reject' }, on, 'reject', 'reject'],
    ['p=reject in quarantine mode: held', { result: 'fail', policy: 'reject' }, on, 'quarantine', 'quarantine'],
    ['p=reject in tag mode: tagged', { result: 'fail', policy: 'reject' }, on, 'tag', 'tag'],
    ['p=reject in monitor mode: nothing', { result: 'fail', policy: 'reject' }, on, 'monitor', undefined],
    ['p=quarantine in reject mode: held', { result: 'fail', policy: 'quarantine' }, on, 'reject', 'quarantine'],
    ['p=none asks for nothing', { result: 'fail', policy: 'none' }, on, 'reject', undefined],
    ['never on temperror', { result: 'temperror', policy: 'reject' }, on, 'reject', undefined],
    ['a pass asks for nothing', { result: 'pass', policy: 'reject' }, on, 'reject', undefined],
    ['off by default', { result: 'fail', policy: 'reject' }, { enforce: false }, 'reject', undefined],
    ['no [dmarc] settings at all', { result: 'fail', policy: 'reject' }, undefined, 'reject', undefined],
  ]
  for (const [name, dmarc, set, mode, want] of cases) t.equal(dmarcAction(dmarc, set, mode as never), want, name)

  const base = settings
  const reject = { ...base.actions, mode: 'reject' as const }
  t.equal(
    actionFor({ verdict: 'none', score: 3, dnsTempfail: false, dmarc: { result: 'fail', policy: 'reject' } }, reject, base.thresholds, on),
    'reject',
    'personal mail forged from a p=reject domain is refused in reject mode',
  )
  t.equal(
    actionFor({ verdict: 'spoofed', score: 12, dnsTempfail: false, dmarc: { result: 'fail', policy: 'reject' } }, reject, base.thresholds, on),
    'reject',
    'a spoofed notice below the reject threshold is refused when its domain says p=reject',
  )
  t.equal(
    actionFor({ verdict: 'spoofed', score: 12, dnsTempfail: false, dmarc: { result: 'fail', policy: 'reject' } }, reject, base.thresholds),
    'quarantine',
    'without [dmarc] enforce it is held, as before',
  )
  t.equal(
    actionFor({ verdict: 'spoofed', score: 20, dnsTempfail: false, dmarc: { result: 'fail', policy: 'quarantine' } }, reject, base.thresholds, on),
    'reject',
    'the verdict\'s stronger action stands',
  )
  t.equal(
    actionFor({ verdict: 'notice', score: 1, dnsTempfail: true, dmarc: { result: 'temperror', policy: 'reject' } }, reject, base.thresholds, on),
    'defer',
    'a DNS failure still defers, never rejects',
  )
})
