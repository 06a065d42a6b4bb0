/**
 * The linear scanners of src/message/find.ts return what the backtracking regexes they
 * replaced returned: checked here against those regexes (kept below, as they were)
 * on generated input, and on the inputs that made the regexes slow.
 */
import fc from 'fast-check'
import t from 'tap'

import { addressDomainIn, anchorsIn, firstHost, orderIdIn, splitStructured, stripBlocks, trimEnd } from '../../dist/src/message/find.js'
import { fcParams } from '../helpers/property'

// the regexes as they were before test/unit/redos.test.ts found them polynomial
const OLD_SHOWN_HOST = /(?:https?:\/\/)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(?![a-z0-9.-])/i
const OLD_EMAIL_IN_NAME = /[\p{L}\p{N}._%+-]{1,64}@((?:[\p{L}\p{N}-]{1,63}\.)+[\p{L}]{2,24})/u
const OLD_ORDER_ID = /[#＃:：]?\s*((?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{4,40})/
const OLD_AMOUNT = /(?:[¥￥$€£]\s?\d[\d,]*(?:\.\d{1,2})?|\d[\d,]*(?:\.\d{1,2})?\s?(?:円|ドル|usd|jpy|eur|gbp)|(?:usd|jpy|eur|gbp)\s?\d[\d,]*)/i
const NEW_AMOUNT = /[¥￥$€£]\s?\d|\d,*(?:\.\d{1,2})?\s?(?:円|ドル|usd|jpy|eur|gbp)|(?:usd|jpy|eur|gbp)\s?\d/i
const OLD_BLOCKS = /<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi
// the anchor regex with the attributes read up to the next < or > (the old one read past <)
const ANCHOR = /<a\b([^<>]{0,4000})>([\s\S]{0,4000}?)<\/a\s*>/gi

/** Strings over a small alphabet, so that the interesting shapes come up often. */
const over = (alphabet: readonly string[], maxLength = 60) => fc.string({ unit: fc.constantFrom(...alphabet), maxLength })

const HOSTISH = ['a', 'b', 'Z', '0', '9', '-', '.', '.', 'x', ' ', '/', ':', 'h', 't', 'p', 's', 'é', 'http://', 'https://', 'co.jp', 'com']
const MAILISH = ['a', 'B', '0', '.', '@', '@', '-', '_', '%', '+', ' ', 'é', '注', '文', 'co', 'jp', '.com', '\u{1d400}']
const IDISH = ['a', 'Z', '1', '9', '-', '#', '：', ' ', ':', '＃', '.', 'abcde', '12345']
const MONEY = ['1', '0', ',', '.', ' ', '¥', '$', '円', 'ドル', 'usd', 'JPY', 'a', '\n']
const HTML = ['<', '>', '/', 'a', 'A', ' ', 'script', 'STYLE', 'head', 'b', '<a>', '</a>', '</a >', '<style>', '</style>', '</script  >', 'x', '\n']

t.test('firstHost finds what SHOWN_HOST found', async (t) => {
  fc.assert(
    fc.property(over(HOSTISH), (s) => firstHost(s) === OLD_SHOWN_HOST.exec(s)?.[1]),
    fcParams(3000),
  )
  const cases: [string, string | undefined][] = [
    ['https://www.amazon.co.jp/gp', 'www.amazon.co.jp'],
    ['Visit amazon.co.jp.', undefined],
    ['-x.example.com', 'x.example.com'],
    [`${'a'.repeat(70)}.example.com`, `${'a'.repeat(63)}.example.com`],
    ['a..b.com', 'b.com'],
    ['example.c0m', undefined],
    ['no host here', undefined],
  ]
  for (const [s, want] of cases) {
    t.equal(firstHost(s), want, JSON.stringify(s))
    t.equal(OLD_SHOWN_HOST.exec(s)?.[1], want, `the old regex agrees on ${JSON.stringify(s)}`)
  }
})

t.test('addressDomainIn finds what EMAIL_IN_NAME found', async (t) => {
  fc.assert(
    fc.property(over(MAILISH), (s) => addressDomainIn(s) === OLD_EMAIL_IN_NAME.exec(s)?.[1]),
    fcParams(3000),
  )
  t.equal(addressDomainIn('Amazon <support@amazon.co.jp>'), 'amazon.co.jp')
  t.equal(addressDomainIn('x@bad y@good.example'), 'good.example')
  t.equal(addressDomainIn('a@b@c.example'), 'c.example')
  t.equal(addressDomainIn('注文@例え.テスト'), '例え.テスト')
})

t.test('orderIdIn finds what ORDER_ID found', async (t) => {
  fc.assert(
    fc.property(over(IDISH, 48), (s) => orderIdIn(s) === OLD_ORDER_ID.exec(s)?.[1]),
    fcParams(3000),
  )
  t.equal(orderIdIn(': 250-1234567-1234567 '), '250-1234567-1234567')
  t.equal(orderIdIn('#--ab-12'), 'ab-12')
  t.equal(orderIdIn('abcdef'), undefined, 'no digit')
})

t.test('the amount test answers as the old AMOUNT did', async (t) => {
  fc.assert(
    fc.property(over(MONEY, 40), (s) => NEW_AMOUNT.test(s) === OLD_AMOUNT.test(s)),
    fcParams(3000),
  )
})

t.test('stripBlocks removes what the old regex removed', async (t) => {
  fc.assert(
    fc.property(over(HTML, 40), (s) => stripBlocks(s) === s.replace(OLD_BLOCKS, ' ')),
    fcParams(3000),
  )
  t.equal(stripBlocks('a<style>x</style>b<SCRIPT src=1></script >c<head>'), 'a b c<head>')
})

t.test('anchorsIn finds what the anchor regex found', async (t) => {
  const viaRegex = (s: string) => [...s.matchAll(ANCHOR)].map((m) => [m[1], m[2]])
  const viaScanner = (s: string) => [...anchorsIn(s)].map((a) => [a.attrs, a.content])
  fc.assert(
    fc.property(over(HTML, 40), (s) => JSON.stringify(viaScanner(s)) === JSON.stringify(viaRegex(s))),
    fcParams(3000),
  )
  const far = `<a href="x">${'y'.repeat(4001)}</a><a href="z">near</a>`
  t.same(viaScanner(far), viaRegex(far), 'content longer than 4,000 characters is no anchor')
  t.same(viaScanner(far), [[' href="z"', 'near']])
})

t.test('splitStructured: split where a parser splits, comments out, quoted-strings kept', async (t) => {
  // without quotes, nesting or quoted-pairs it splits as the old `replace(/\([^)]*\)/g, ' ').split(';')` did
  fc.assert(
    fc.property(over(['(', ')', 'a', ' ', ';', 'b'], 40), (s) => {
      if (/\([^)]*\(/.test(s) || /\([^)]*$/.test(s)) return true // nested or unclosed: the old one was wrong there
      return JSON.stringify(splitStructured(s)) === JSON.stringify(s.replace(/\([^)]*\)/g, ' ').split(';'))
    }),
    fcParams(3000),
  )
  t.same(splitStructured('mx.example (a (nested; one) x) ; spf=pass'), ['mx.example   ', ' spf=pass'])
  t.same(splitStructured('a (b \\) c; d) e; f'), ['a   e', ' f'], 'a quoted-pair does not close the comment')
  t.same(splitStructured('spf=fail smtp.mailfrom="\\"a;dkim=pass\\"@x"; dmarc=fail'), ['spf=fail smtp.mailfrom="\\"a;dkim=pass\\"@x"', ' dmarc=fail'], 'no split inside a quoted-string')
  t.same(splitStructured('x (unclosed; y'), ['x '], 'an unclosed comment runs to the end')
  t.same(splitStructured('x "unclosed; y'), ['x "unclosed; y'], 'so does an unclosed quoted-string')
})

t.test('trimEnd', async (t) => {
  t.equal(trimEnd('https://a.example/x).,;', ').,;:!?]'), 'https://a.example/x')
  t.equal(trimEnd('----', '-'), '')
  t.equal(trimEnd('abc', '-'), 'abc')
})

t.test('each scanner is fast on the inputs that made its regex slow', async (t) => {
  // not a timing assertion: a quadratic scanner would make these take minutes, and tap's timeout says so
  const n = 200_000
  t.equal(firstHost('0' + 'ST'.repeat(n) + '\0'), undefined)
  t.equal(addressDomainIn('.%'.repeat(n)), undefined)
  t.equal(orderIdIn('A'.repeat(n) + '\0'), undefined)
  t.notOk(NEW_AMOUNT.test(',0'.repeat(n)))
  t.equal(stripBlocks('<' + 'STYLE<'.repeat(n) + 'a').length, 6 * n + 2)
  t.equal([...anchorsIn('<A>A' + '<A'.repeat(n) + 'a</a>')].length, 0, 'its content is over 4,000 characters')
  t.same(splitStructured('('.repeat(n)), [''])
  t.equal(trimEnd('!'.repeat(n) + '\0!', '!'), '!'.repeat(n) + '\0')
})
