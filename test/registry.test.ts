import t from 'tap'

import { brandOfDomain, brandsNamedIn, normaliseName, parseRegistry, registrableProblem } from '../dist/src/registry.js'

const FILE = 'shop-notice.retailers.yaml'
const good = {
  retailers: {
    amazon: { names: ['Amazon', 'アマゾン'], sending_domains: ['amazon.co.jp', 'amazon.com'], promises: { order_number: '\\d{3}-\\d{7}-\\d{7}', links: 'https-only' } },
    rakuten: { names: ['楽天', 'Rakuten'], sending_domains: ['rakuten.co.jp'] },
    'rakuten-card': { names: ['楽天カード'], sending_domains: ['rakuten-card.co.jp'], promises: { attachments: 'never' } },
    au: { names: ['au'], sending_domains: ['au.com'] },
    norton: { names: ['NortonLifeLock'], ambiguous_names: ['Norton'], sending_domains: ['norton.com'] },
  },
}

t.test('a valid registry compiles', async (t) => {
  const { value, warnings } = parseRegistry(good, FILE)
  t.same(warnings, [])
  t.equal(value.brands.size, 5)
  const amazon = value.brands.get('amazon')!
  t.ok(amazon.promises.order_number?.test('503-1234567-1234567'))
  t.notOk(amazon.promises.order_number?.test('x503-1234567-1234567'), 'the pattern is anchored')
  t.same(amazon.link_domains, ['amazon.co.jp', 'amazon.com'], 'sending domains are link domains too')
})

t.test('order_number patterns run on a linear-time engine (RE2): a catastrophic pattern answers', async (t) => {
  const withPattern = (order_number: string): unknown => ({ retailers: { a: { names: ['A'], sending_domains: ['a.com'], promises: { order_number } } } })
  // (\d+)+X backtracks exponentially in a backtracking engine: two minutes on 32 digits before this change
  const re = parseRegistry(withPattern('(\\d+)+X'), FILE).value.brands.get('a')!.promises.order_number!
  t.equal(re.test('1'.repeat(10_000)), false, '10,000 digits without the X: no match, and an answer')
  t.equal(re.test(`${'1'.repeat(10_000)}X`), true)
  t.equal(re.test(`${'1'.repeat(32)}X1`), false, 'anchored at both ends')
  const alt = parseRegistry(withPattern('\\d{3}|D\\d{2}'), FILE).value.brands.get('a')!.promises.order_number!
  t.ok(alt.test('D12') && alt.test('123'), 'an alternation is anchored as a whole')
  t.notOk(alt.test('123x'))

  const refused: [string, RegExp][] = [
    ['(\\d)\\1', /backreference/],
    ['(?<n>\\d)\\k<n>', /named backreference/],
    ['(?=\\d{3})\\d+', /lookahead/],
    ['(?!x)\\d+', /lookahead/],
    ['(?<=x)\\d+', /lookbehind/],
    ['(?<!x)\\d+', /lookbehind/],
    ['(?>\\d+)', /atomic group/],
    ['\\d++', /possessive quantifier/],
  ]
  for (const [pattern, construct] of refused) {
    t.throws(
      () => parseRegistry(withPattern(pattern), FILE),
      { name: 'ConfigError', file: FILE, message: /retailers\.a\.promises\.order_number: invalid pattern: .*not supported: patterns run on a linear-time engine/ },
      pattern,
    )
    t.throws(() => parseRegistry(withPattern(pattern), FILE), { message: construct }, `${pattern} names its construct`)
  }
  // escaped or bracketed, the same characters are plain and accepted
  for (const ok of ['\\(\\?=\\d+\\)', '[(?=]\\d+', '\\\\1']) {
    t.doesNotThrow(() => parseRegistry(withPattern(ok), FILE), ok)
  }
})

t.test('brandOfDomain compares registrable domains, never substrings', async (t) => {
  const { value } = parseRegistry(good, FILE)
  const cases: [string, string | undefined][] = [
    ['amazon.co.jp', 'amazon'],
    ['mail.amazon.co.jp', 'amazon'],
    ['AMAZON.COM', 'amazon'],
    ['amazon.co.jp.evil.example', undefined],
    ['amazon-co-jp.account-check.xyz', undefined],
    ['notamazon.com', undefined],
    ['co.jp', undefined],
    ['', undefined],
  ]
  for (const [domain, want] of cases) t.equal(brandOfDomain(value, domain)?.id, want, domain)
})

t.test('brandsNamedIn: whole words for ASCII names, substrings for others, longest first', async (t) => {
  const { value } = parseRegistry(good, FILE)
  const ids = (text: string) => brandsNamedIn(value, normaliseName(text)).map((b) => b.id)
  t.same(ids('Amazon.co.jp カスタマーサービス'), ['amazon'])
  t.same(ids('ＡＭＡＺＯＮ'), ['amazon'], 'full-width letters are NFKC-folded')
  t.same(ids('Paul'), [], '"au" does not match inside a word')
  t.same(ids('au お客さまセンター'), ['au'])
  t.same(ids('楽天カード株式会社'), ['rakuten-card'], '楽天 inside 楽天カード is one brand, not two')
  t.same(ids('楽天市場と楽天カード'), ['rakuten-card', 'rakuten'], 'both named separately')
  t.same(ids('Amazonian'), [], 'no partial word')
})

t.test('ambiguous names count only in a notice, as written or in capitals, as whole words', async (t) => {
  const { value } = parseRegistry(good, FILE)
  const ids = (text: string, ambiguous: boolean) => brandsNamedIn(value, text, { ambiguous }).map((b) => b.id)
  t.same(ids('Norton Billing', false), [], 'not outside a notice')
  t.same(ids('Norton Billing', true), ['norton'])
  t.same(ids('NORTON ALERT', true), ['norton'], 'in capitals')
  t.same(ids('ɴᴏʀᴛᴏɴ ᴀʟᴇʀᴛ', true), ['norton'], 'small capitals are read as capitals')
  t.same(ids('our norton hedge trimmer', true), [], 'lower case is the ordinary word')
  t.same(ids('Nortonville', true), [], 'whole words only')
  t.same(ids('nortonlifelock renewal', false), ['norton'], 'the unambiguous names count everywhere, in any case')
  t.same(value.brands.get('norton')?.ambiguous_names, ['Norton'])
})

t.test('every invalid shape is refused with its path', async (t) => {
  const r = (retailers: unknown) => ({ retailers })
  const cases: [string, unknown, RegExp][] = [
    ['empty file', null, /retailers: missing/],
    ['no retailers key', { brands: {} }, /retailers: expected a mapping/],
    ['no brands', r({}), /retailers: no brands defined/],
    ['bad id', r({ 'Amazon JP': { names: ['a'], sending_domains: ['amazon.com'] } }), /retailers\.Amazon JP: brand id must be/],
    ['brand not a mapping', r({ amazon: ['amazon.com'] }), /retailers\.amazon: expected a mapping/],
    ['no names', r({ amazon: { sending_domains: ['amazon.com'] } }), /retailers\.amazon\.names: expected a non-empty list/],
    ['empty name', r({ amazon: { names: ['Amazon', ' '], sending_domains: ['amazon.com'] } }), /retailers\.amazon\.names\[1\]: expected a non-empty string/],
    ['uppercase domain', r({ amazon: { names: ['A'], sending_domains: ['Amazon.com'] } }), /retailers\.amazon\.sending_domains\[0\]: "Amazon.com": not lowercase/],
    ['subdomain', r({ amazon: { names: ['A'], sending_domains: ['amazon.com', 'mail.amazon.co.jp'] } }), /sending_domains\[1\]: "mail.amazon.co.jp": not a registrable domain \(did you mean amazon.co.jp\?\)/],
    ['public suffix', r({ amazon: { names: ['A'], sending_domains: ['co.jp'] } }), /sending_domains\[0\]: "co.jp": not a registrable domain/],
    ['unicode domain', r({ amazon: { names: ['A'], sending_domains: ['アマゾン.jp'] } }), /not an ASCII domain name \(write IDNs as xn--\)/],
    ['bad link domain', r({ amazon: { names: ['A'], sending_domains: ['amazon.com'], link_domains: ['https://amazon.com'] } }), /link_domains\[0\]/],
    [
      'shared name',
      r({ a: { names: ['Shop'], sending_domains: ['a.com'] }, b: { names: ['SHOP'], sending_domains: ['b.com'] } }),
      /retailers\.b\.names\[0\]: "SHOP" is already a name of a/,
    ],
    [
      'shared sending domain',
      r({ a: { names: ['A'], sending_domains: ['a.com'] }, b: { names: ['B'], sending_domains: ['a.com'] } }),
      /retailers\.b\.sending_domains\[0\]: a.com already belongs to a/,
    ],
    ['bad promise', r({ a: { names: ['A'], sending_domains: ['a.com'], promises: { attachments: 'sometimes' } } }), /retailers\.a\.promises\.attachments: the only promise is `never`/],
    ['bad links promise', r({ a: { names: ['A'], sending_domains: ['a.com'], promises: { links: 'http' } } }), /promises\.links: the only promise is `https-only`/],
    ['bad pattern', r({ a: { names: ['A'], sending_domains: ['a.com'], promises: { order_number: '(' } } }), /promises\.order_number: invalid pattern/],
    ['ambiguous names not a list', r({ a: { names: ['A'], ambiguous_names: 'Chase', sending_domains: ['a.com'] } }), /retailers\.a\.ambiguous_names: expected a non-empty list/],
    ['ambiguous name in lower case', r({ a: { names: ['A'], ambiguous_names: ['chase'], sending_domains: ['a.com'] } }), /retailers\.a\.ambiguous_names\[0\]: "chase": write an ambiguous name capitalised/],
    ['ambiguous name not ASCII', r({ a: { names: ['A'], ambiguous_names: ['チェース'], sending_domains: ['a.com'] } }), /ambiguous_names\[0\]: "チェース": only ASCII names can be ambiguous/],
    [
      'ambiguous name shared with another brand',
      r({ a: { names: ['Chase'], sending_domains: ['a.com'] }, b: { names: ['B'], ambiguous_names: ['Chase'], sending_domains: ['b.com'] } }),
      /retailers\.b\.ambiguous_names\[0\]: "Chase" is already a name of a/,
    ],
  ]
  for (const [name, raw, re] of cases) {
    t.throws(() => parseRegistry(raw, FILE), { name: 'ConfigError', file: FILE, message: re }, name)
  }
})

t.test('unknown keys are warnings', async (t) => {
  const { warnings } = parseRegistry(
    { retailers: { a: { names: ['A'], sending_domains: ['a.com'], colour: 'red', promises: { refunds: 'fast' } } }, extra: 1 },
    FILE,
  )
  t.match(warnings, [/extra: unknown key/, /retailers\.a\.colour: unknown key/, /retailers\.a\.promises\.refunds: unknown promise/])
})

t.test('registrableProblem', async (t) => {
  t.equal(registrableProblem('amazon.co.jp'), undefined)
  t.equal(registrableProblem('xn--eckwd4c7c.jp'), undefined, 'punycode is fine')
  t.match(registrableProblem('www.amazon.co.jp'), /did you mean amazon.co.jp/)
})
