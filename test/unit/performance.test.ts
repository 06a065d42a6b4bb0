/**
 * The shortcuts taken for speed give the answers the long way gave: bare LF made
 * CRLF once before mailauth, DNS answers copied without structuredClone and cached
 * ones returned without a timer, kana folded without a call per character, glyph
 * sets searched as one character class, and card-data sentences read only when the
 * whole text holds both kinds of phrase.
 */
import { Clock } from 'clock-mock'
import t from 'tap'

import { UNAVAILABLE, withCrlf } from '../../dist/src/auth/authenticate.js'
import { readMessage } from '../../dist/src/message/parse.js'
import { CachedResolver, type Lookup, copyAnswer } from '../../dist/src/auth/resolver.js'
import { decide } from '../../dist/src/scan.js'
import { glyphsIn, normaliseText } from '../../dist/src/message/text.js'
import { makeMessage, mailbox } from '../helpers/messages'
import { testSettings } from '../helpers/settings'

t.test('withCrlf: bare LF becomes CRLF, CRLF stays, a CRLF message is returned as it is', async (t) => {
  const cases: [string, string][] = [
    ['a\nb\r\nc\n', 'a\r\nb\r\nc\r\n'],
    ['\nx', '\r\nx'],
    ['x\n\n', 'x\r\n\r\n'],
    ['\r\n\n', '\r\n\r\n'],
    ['no line end', 'no line end'],
    ['', ''],
    ['bare\rCR\n', 'bare\rCR\r\n'],
  ]
  for (const [input, want] of cases) t.equal(withCrlf(Buffer.from(input, 'latin1')).toString('latin1'), want, JSON.stringify(input))
  const crlf = Buffer.from('Subject: x\r\n\r\nbody\r\n')
  t.equal(withCrlf(crlf), crlf, 'no copy when there is nothing to change')
  const bytes = Buffer.from([0xe3, 0x81, 0x82, 0x0a, 0xff, 0x0a])
  t.same([...withCrlf(bytes)], [0xe3, 0x81, 0x82, 0x0d, 0x0a, 0xff, 0x0d, 0x0a], 'any bytes kept as they are')
})

t.test('copyAnswer: a copy one level deep of every node:dns answer shape', async (t) => {
  const txt = [['v=spf1 ', '-all'], ['other']]
  const mx = [{ exchange: 'mx.a.example', priority: 10 }]
  const a = ['192.0.2.1']
  for (const answer of [txt, mx, a, []] as unknown[][]) {
    const copy = copyAnswer(answer)
    t.same(copy, answer)
    t.not(copy, answer)
    answer.forEach((row, i) => {
      if (typeof row === 'object') t.not(copy[i], row, 'rows are copies too')
    })
  }
  const copy = copyAnswer(mx) as { priority: number }[]
  copy[0]!.priority = 99
  t.equal(mx[0]!.priority, 10, 'changing the copy leaves the cached answer')
})

t.test('forMessage: a cached answer comes without a timer, but never past the budget', async (t) => {
  const clock = new Clock()
  t.teardown(clock.enter())
  let calls = 0
  const lookup: Lookup = {
    resolve: async () => {
      calls++
      return [['v=spf1 -all']]
    },
    resolve4: async () => [],
    resolve6: async () => [],
  }
  const r = new CachedResolver({ lookup, clock, timeoutMs: 1000 })
  const first = r.forMessage(500)
  t.same(await first('a.example', 'TXT'), [['v=spf1 -all']])
  const second = r.forMessage(500)
  const answer = (await second('A.EXAMPLE.', 'txt')) as string[][]
  t.same(answer, [['v=spf1 -all']], 'the cached answer, whatever the case and trailing dot')
  answer[0]!.push('changed')
  t.same(await second('a.example', 'TXT'), [['v=spf1 -all']], 'each caller its own copy')
  t.equal(calls, 1, 'one query')
  t.equal(r.stats.hits, 2)
  clock.advance(600)
  try {
    await second('a.example', 'TXT')
    t.fail('a spent budget fails even for a cached name')
  } catch (err) {
    t.equal((err as NodeJS.ErrnoException).code, 'ETIMEOUT')
  }
})

t.test('normaliseText folds kana exactly, whatever surrounds it', async (t) => {
  t.equal(normaliseText('おとどけ'), 'オトドケ')
  t.equal(normaliseText('ABCあいう😀ゔ'), 'abcアイウ😀ヴ')
  t.equal(normaliseText('no kana at all'), 'nokanaatall')
  t.equal(normaliseText('ゖ\u3097'), 'ヶ\u3097', 'the folded range ends at U+3096')
  t.equal(normaliseText('\ud800あ'), '\ud800ア', 'a lone surrogate stays as it was')
})

t.test('glyphsIn: one character class per glyph set, in order of appearance', async (t) => {
  const glyphs = new Set(['确', '认', ']', '^', '-', '\\'])
  t.same(glyphsIn('认确认x]^-\\', glyphs), ['认', '确', ']', '^', '-', '\\'])
  t.same(glyphsIn('nothing here', glyphs), [])
  t.same(glyphsIn('确', new Set()), [], 'an empty set finds nothing')
  t.same(glyphsIn('a𠀋b', new Set(['𠀋'])), ['𠀋'], 'a character outside the BMP')
})

t.test('card data: one sentence must ask for it; the words spread over two do not', async (t) => {
  const settings = testSettings()
  const scanBody = async (body: string): Promise<string[]> => {
    const raw = makeMessage({ from: mailbox('Card Center', 'info@cards.example'), subject: 'カード利用制限のお知らせ', body })
    const facts = await readMessage(raw, settings.limits.max_scan_bytes)
    return decide(facts, UNAVAILABLE, settings).hits.map((h) => h.symbol)
  }
  t.ok((await scanBody('下記のリンクよりカード番号を入力してください。\n')).includes('CONTENT_CARD_DATA_REQUEST'))
  t.notOk(
    (await scanBody('カード番号は下4桁のみ表示しています。\nご不明な点はフォームに入力してください。\n')).includes('CONTENT_CARD_DATA_REQUEST'),
    'a card word in one sentence and a request in another is no request for card data',
  )
  t.notOk((await scanBody('ご注文ありがとうございました。\n')).includes('CONTENT_CARD_DATA_REQUEST'))
})

t.test('imitatedName: judged once per word, the same answer from the cache', async (t) => {
  const { domains } = testSettings()
  for (let i = 0; i < 2; i++) {
    t.match(domains.imitatedName('amazom'), { brand: { id: 'amazon' }, keyword: 'amazon' }, `a lookalike (${i ? 'cached' : 'first'})`)
    t.match(domains.imitatedName('AMAZOM'), { brand: { id: 'amazon' } }, 'whatever the case')
    t.equal(domains.imitatedName('hanako'), undefined, `no brand (${i ? 'cached' : 'first'})`)
    t.equal(domains.imitatedName('amazon'), undefined, 'the name itself is no imitation')
  }
})
