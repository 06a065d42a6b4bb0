/**
 * Incidents and promises (registry `incidents:`, `promises.card_data` / `credentials`):
 * what must and must not fire, and the verdict floors, with the scan time given.
 */
import t from 'tap'

import { type AuthFacts, UNAVAILABLE } from '../../dist/src/auth/authenticate.js'
import { readMessage } from '../../dist/src/message/parse.js'
import { decide } from '../../dist/src/scan.js'
import { incidentsHit } from '../../dist/src/metrics/metrics.js'
import { makeMessage, mailbox } from '../helpers/messages'
import { TEST_LISTS, TEST_RETAILERS, testSettings } from '../helpers/settings'

const settings = testSettings(
  {
    ...TEST_RETAILERS,
    testshop: {
      ...TEST_RETAILERS.testshop,
      incidents: [
        { since: '2026-03-01', days: 90, leaked: ['card', 'email', 'name'], note: 'test leak' },
        { since: '2025-01-01', until: '2025-02-01', leaked: ['password'] },
      ],
    },
    promiser: { names: ['PromiseBank'], sending_domains: ['promisebank.example'], promises: { card_data: 'never', credentials: 'never' } },
  },
  TEST_LISTS,
)

const DURING = new Date('2026-04-01T09:00:00Z')
const AFTER = new Date('2026-05-30T00:00:00Z') // the day after the 90th

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

const orderBody = 'ご注文ありがとうございます。\nご注文番号: 1001-2002\nお支払い金額: 2,000円\n'
const cardAsk = 'お支払いが確認できませんでした。\n下記よりカード番号とセキュリティコードを入力してください。\nご注文番号: 1001-2002\nお支払い金額: 2,000円\n'

interface Case {
  name: string
  msg: Buffer
  auth: AuthFacts
  now?: Date
  verdict: string
  must: string[]
  mustNot: string[]
}

const cases: Case[] = [
  {
    name: 'a notice naming the brand from another (authenticated) domain, during the incident',
    msg: makeMessage({ from: mailbox('Order Desk', 'desk@orders-mail.example'), subject: 'ご注文の確認', body: `テストショップをご利用いただき、\n${orderBody}` }),
    auth: dmarcPass('orders-mail.example'),
    now: DURING,
    verdict: 'suspicious',
    must: ['BRAND_INCIDENT', 'BRAND_CLAIM_FOREIGN_SENDER'],
    mustNot: ['BRAND_INCIDENT_DATA_REQUEST'],
  },
  {
    name: 'the same notice after the incident ended is weighed as always',
    msg: makeMessage({ from: mailbox('Order Desk', 'desk@orders-mail.example'), subject: 'ご注文の確認', body: `テストショップをご利用いただき、\n${orderBody}` }),
    auth: dmarcPass('orders-mail.example'),
    now: AFTER,
    verdict: 'notice',
    must: ['BRAND_CLAIM_FOREIGN_SENDER'],
    mustNot: ['BRAND_INCIDENT'],
  },
  {
    name: 'without a scan time no incident is in force',
    msg: makeMessage({ from: mailbox('Order Desk', 'desk@orders-mail.example'), subject: 'ご注文の確認', body: `テストショップをご利用いただき、\n${orderBody}` }),
    auth: dmarcPass('orders-mail.example'),
    verdict: 'notice',
    must: [],
    mustNot: ['BRAND_INCIDENT'],
  },
  {
    name: 'a friend writing about the news only mentions the brand',
    msg: makeMessage({ from: mailbox('Hanako', 'hanako@home.example'), subject: 'ニュース見た?', body: 'テストショップで情報が漏れたらしいよ。\n気をつけてね。\n' }),
    auth: dmarcPass('home.example'),
    now: DURING,
    verdict: 'none',
    must: [],
    mustNot: ['BRAND_INCIDENT'],
  },
  {
    name: 'the display name speaks for the brand, whatever the wording',
    msg: makeMessage({ from: mailbox('TestShop', 'news@elsewhere.example'), subject: 'こんにちは', body: 'いつもありがとうございます。\n' }),
    auth: dmarcPass('elsewhere.example'),
    now: DURING,
    verdict: 'spoofed',
    must: ['BRAND_INCIDENT'],
    mustNot: [],
  },
  {
    name: 'the brand\'s own domain unauthenticated, with no notice wording, is judged during one',
    msg: makeMessage({ from: mailbox('Info', 'info@testshop.jp'), subject: 'こんにちは', body: 'いつもありがとうございます。\n' }),
    auth: auth({ spf: { result: 'fail', domain: 'testshop.jp' }, dmarc: { result: 'fail', fromDomain: 'testshop.jp', policy: 'none' } }),
    now: DURING,
    verdict: 'spoofed',
    must: ['BRAND_INCIDENT'],
    mustNot: [],
  },
  {
    name: 'the brand\'s own domain when nothing could be authenticated (offline): nothing held against it',
    msg: makeMessage({ from: mailbox('テストショップ', 'order@testshop.jp'), subject: '【テストショップ】ご注文確認', body: orderBody }),
    auth: UNAVAILABLE,
    now: DURING,
    verdict: 'notice',
    must: [],
    mustNot: ['BRAND_INCIDENT'],
  },
  {
    name: 'a genuine, authenticated notice during the incident stays verified',
    msg: makeMessage({ from: mailbox('テストショップ', 'order@testshop.jp'), subject: '【テストショップ】ご注文確認', body: orderBody }),
    auth: dmarcPass('testshop.jp'),
    now: DURING,
    verdict: 'verified',
    must: ['BRAND_AUTHENTICATED'],
    mustNot: ['BRAND_INCIDENT', 'BRAND_INCIDENT_DATA_REQUEST'],
  },
  {
    name: 'an authenticated notice of another brand naming the brand with the incident as its co-brand',
    msg: makeMessage({ from: mailbox('TestShop Card (JCB)', 'info@jcb.co.jp'), subject: 'ご利用明細のお知らせ', body: orderBody }),
    auth: dmarcPass('jcb.co.jp'),
    now: DURING,
    verdict: 'verified',
    must: ['BRAND_AUTHENTICATED'],
    mustNot: ['BRAND_INCIDENT'],
  },
  {
    name: 'a card-data request in the brand\'s name is spoofed even from its authenticated domain',
    msg: makeMessage({ from: mailbox('テストショップ', 'order@testshop.jp'), subject: '【テストショップ】お支払い情報の確認', body: cardAsk }),
    auth: dmarcPass('testshop.jp'),
    now: DURING,
    verdict: 'spoofed',
    must: ['BRAND_INCIDENT_DATA_REQUEST', 'CONTENT_CARD_DATA_REQUEST', 'BRAND_AUTHENTICATED'],
    mustNot: ['BRAND_INCIDENT'],
  },
  {
    name: 'the same request outside the incident, from the authenticated brand without promises, is not floored',
    msg: makeMessage({ from: mailbox('テストショップ', 'order@testshop.jp'), subject: '【テストショップ】お支払い情報の確認', body: cardAsk }),
    auth: dmarcPass('testshop.jp'),
    now: AFTER,
    verdict: 'verified',
    must: ['CONTENT_CARD_DATA_REQUEST'],
    mustNot: ['BRAND_INCIDENT_DATA_REQUEST', 'BRAND_PROMISE_CARD_DATA'],
  },
  {
    name: 'a brand that never asks for card data: a request in its name is at least suspicious, even authenticated',
    msg: makeMessage({ from: mailbox('PromiseBank', 'info@promisebank.example'), subject: 'お支払い情報の確認', body: cardAsk }),
    auth: dmarcPass('promisebank.example'),
    verdict: 'suspicious',
    must: ['BRAND_PROMISE_CARD_DATA', 'BRAND_AUTHENTICATED'],
    mustNot: ['BRAND_PROMISE_CREDENTIALS', 'BRAND_INCIDENT'],
  },
  {
    name: 'the promise is not broken by a notice that asks for nothing',
    msg: makeMessage({ from: mailbox('PromiseBank', 'info@promisebank.example'), subject: 'ご利用明細のお知らせ', body: orderBody }),
    auth: dmarcPass('promisebank.example'),
    verdict: 'verified',
    must: ['BRAND_AUTHENTICATED'],
    mustNot: ['BRAND_PROMISE_CARD_DATA', 'BRAND_PROMISE_CREDENTIALS'],
  },
]

t.test('incidents and promises: what must and must not fire', async (t) => {
  for (const c of cases) {
    const facts = await readMessage(c.msg, settings.limits.max_scan_bytes)
    const r = decide(facts, c.auth, settings, undefined, c.now)
    const symbols = r.hits.map((h) => h.symbol)
    t.equal(r.verdict, c.verdict, `${c.name}: verdict (signals ${symbols.join(',')}, score ${r.score})`)
    for (const s of c.must) t.ok(symbols.includes(s as never), `${c.name}: ${s} fires`)
    for (const s of c.mustNot) t.notOk(symbols.includes(s as never), `${c.name}: ${s} does not fire`)
  }
})

t.test('BRAND_INCIDENT names the brand and the incident; the metric counts it once', async (t) => {
  const msg = makeMessage({ from: mailbox('Order Desk', 'desk@orders-mail.example'), subject: 'ご注文の確認', body: `テストショップをご利用いただき、\n${orderBody}` })
  const facts = await readMessage(msg, settings.limits.max_scan_bytes)
  const r = decide(facts, dmarcPass('orders-mail.example'), settings, undefined, DURING)
  const hit = r.hits.find((h) => h.symbol === 'BRAND_INCIDENT')
  t.same(hit?.options, ['testshop', 'since=2026-03-01', 'leaked=card+email+name'])
  // the floor, not the score: with its weight at 0 the verdict is still suspicious
  const unweighted = decide(facts, dmarcPass('orders-mail.example'), { ...settings, scores: { ...settings.scores, BRAND_INCIDENT: 0 } }, undefined, DURING)
  t.ok(unweighted.score < settings.thresholds.suspicious, `score ${unweighted.score} is under the threshold`)
  t.equal(unweighted.verdict, 'suspicious')
  t.same(incidentsHit(r), [['testshop', '2026-03-01']])
  t.same(incidentsHit({ hits: [] }), [])
})
