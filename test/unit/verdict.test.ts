import t from 'tap'

import { parseIni } from '../../dist/src/config/settings.js'
import type { Hit } from '../../dist/src/verdict/symbols.js'
import { actionFor, scoreHits, verdictOf } from '../../dist/src/verdict/score.js'

const { value: base } = parseIni({})
const hit = (symbol: Hit['symbol'], ...options: string[]): Hit => ({ symbol, options })

t.test('scoreHits sums configured scores', async (t) => {
  t.equal(scoreHits([], base.scores), 0)
  t.equal(scoreHits([hit('BRAND_NOT_AUTHENTICATED'), hit('AUTH_NONE')], base.scores), 8)
  t.equal(scoreHits([hit('AUTH_DNS_TEMPFAIL')], { ...base.scores, AUTH_DNS_TEMPFAIL: 0.333 }), 0.33)
})

t.test('verdictOf', async (t) => {
  const th = base.thresholds
  const cases: [string, boolean, number, Hit[], string][] = [
    ['not a notice is none whatever the score', false, 50, [], 'none'],
    ['spoofed at the spoofed threshold', true, th.spoofed, [], 'spoofed'],
    ['suspicious at the suspicious threshold', true, th.suspicious, [], 'suspicious'],
    ['verified below the thresholds with the brand authenticated', true, -4, [hit('BRAND_AUTHENTICATED')], 'verified'],
    ['brand authenticated but over the threshold is not verified', true, th.suspicious, [hit('BRAND_AUTHENTICATED')], 'suspicious'],
    ['a notice with nothing wrong', true, 1, [], 'notice'],
  ]
  for (const [name, isNotice, score, hits, want] of cases) t.equal(verdictOf(isNotice, score, hits, th), want, name)
})

t.test('actionFor by mode', async (t) => {
  const th = base.thresholds
  const a = (mode: typeof base.actions.mode, verdict: Parameters<typeof actionFor>[0]['verdict'], score: number, dnsTempfail = false) =>
    actionFor({ verdict, score, dnsTempfail }, { ...base.actions, mode }, th)
  t.equal(a('monitor', 'spoofed', 99), 'accept', 'monitor never changes delivery')
  t.equal(a('tag', 'spoofed', 99), 'tag')
  t.equal(a('quarantine', 'spoofed', 99), 'quarantine', 'quarantine mode never rejects')
  t.equal(a('reject', 'spoofed', th.reject), 'reject')
  t.equal(a('reject', 'spoofed', th.reject - 0.5), 'quarantine', 'reject needs the reject threshold')
  t.equal(a('reject', 'suspicious', 7), 'tag')
  t.equal(a('reject', 'notice', 0), 'accept')
  t.equal(a('reject', 'verified', -3), 'accept')
  t.equal(a('reject', 'error', 0), 'accept', 'an error never blocks mail')
  t.equal(a('quarantine', 'notice', 0.5, true), 'defer', 'DNS failure on a brand notice defers')
  t.equal(a('tag', 'notice', 0.5, true), 'accept', 'tag mode does not defer')
  t.equal(
    actionFor({ verdict: 'notice', score: 0.5, dnsTempfail: true }, { ...base.actions, mode: 'quarantine', defer_on_dns_error: false }, th),
    'accept',
  )
})
