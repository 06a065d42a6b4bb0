/**
 * CachedResolver: mailauth's resolve(name, rrtype) contract, in-flight joining,
 * positive / negative TTLs on a fake clock, never-cached failures, fresh errors,
 * copied answers, the hard per-query timeout, per-message budgets, counters, the
 * LRU bound, and end to end against haraka-test-fixtures' loopback DNS server.
 *
 * Time is always faked (clock-mock) except in the real-server timeout cases, which
 * use small real timeouts. Only 127.0.0.1 is ever contacted: every resolver here
 * gets either a fake lookup or the fixture server as its only server.
 */
import { Clock } from 'clock-mock'
import t from 'tap'

import { CachedResolver, dnsError, NO_RECORD_CODES } from '../../dist/src/auth/resolver.js'
import type { Lookup, ResolverOptions } from '../../dist/src/auth/resolver.js'

// ---------------------------------------------------------------------------
// helpers

type DnsErr = NodeJS.ErrnoException
type Row = { address: string; ttl: number }
type Rule = () => Promise<unknown>

/** A node:dns-like lookup driven by rules keyed `TYPE name`; unknown keys answer ENOTFOUND. */
class FakeLookup implements Lookup {
  readonly calls: string[] = []
  readonly ttlOpts: unknown[] = []
  readonly #rules = new Map<string, Rule>()

  constructor(rules: Record<string, Rule> = {}) {
    for (const [k, v] of Object.entries(rules)) this.#rules.set(k, v)
  }

  set(key: string, rule: Rule): void {
    this.#rules.set(key, rule)
  }

  count(key?: string): number {
    return key === undefined ? this.calls.length : this.calls.filter((c) => c === key).length
  }

  #run(key: string): Promise<never> {
    this.calls.push(key)
    const rule = this.#rules.get(key) ?? fail('ENOTFOUND')
    return rule() as Promise<never>
  }

  resolve(name: string, rrtype: string): Promise<unknown[]> {
    return this.#run(`${rrtype} ${name}`)
  }

  resolve4(name: string, opts: { ttl: true }): Promise<Row[]> {
    this.ttlOpts.push(opts)
    return this.#run(`A ${name}`)
  }

  resolve6(name: string, opts: { ttl: true }): Promise<Row[]> {
    this.ttlOpts.push(opts)
    return this.#run(`AAAA ${name}`)
  }
}

/** answers with a fresh copy each time, like node:dns */
const ok =
  (answer: unknown[]): Rule =>
  () =>
    Promise.resolve(structuredClone(answer))
/** fails with a fresh Error each time, like node:dns; no code = an Error without .code */
const fail =
  (code?: string, message = `query ${code ?? 'failed'}`): Rule =>
  () =>
    Promise.reject(code ? dnsError(code, message) : new Error(message))
/** never answers */
const hang = (): Rule => () => new Promise<never>(() => {})

/** an answer the test releases (or fails) by hand; every call shares it */
function gate() {
  let release!: (v: unknown) => void
  let reject!: (e: unknown) => void
  const p = new Promise<unknown>((res, rej) => {
    release = res
    reject = rej
  })
  return { rule: (): Promise<unknown> => p, release, reject }
}

interface Tracked<T> {
  settled: boolean
  value?: T
  error?: DnsErr
}
/** watch a promise without awaiting it (for "still pending" checks on the fake clock) */
function track<T>(p: Promise<T>): Tracked<T> {
  const s: Tracked<T> = { settled: false }
  p.then(
    (v) => {
      s.settled = true
      s.value = v
    },
    (e: DnsErr) => {
      s.settled = true
      s.error = e
    },
  )
  return s
}

/** let promise chains run; timers are faked, so only microtasks */
async function flush(): Promise<void> {
  for (let i = 0; i < 100; i++) await Promise.resolve()
}

/** the Error a promise rejects with; fails the caller if it resolves */
async function errOf(p: Promise<unknown>): Promise<DnsErr> {
  try {
    const v = await p
    throw new Error(`expected a rejection, got ${JSON.stringify(v)}`)
  } catch (err) {
    return err as DnsErr
  }
}

interface TestLike {
  teardown(fn: () => unknown): void
}

/** a fake clock (clock-mock, what @tapjs/clock wraps), entered for the test: timers, Date and performance are fake */
function fakeClock(t: TestLike): Clock {
  const clock = new Clock()
  t.teardown(clock.enter())
  return clock
}

/** a resolver on a fake lookup and the test's fake clock (entered: timers are fake too) */
function setup(t: TestLike, opts: Partial<ResolverOptions> = {}, rules: Record<string, Rule> = {}) {
  const clock = fakeClock(t)
  const lookup = new FakeLookup(rules)
  const r = new CachedResolver({ lookup, clock, ...opts })
  return { r, lookup, clock }
}

const MX = [
  { exchange: 'mx2.good.example', priority: 20 },
  { exchange: 'mx1.good.example', priority: 10 },
]
const TXT = [['v=spf1 ', 'include:_spf.good.example -all'], ['other']]

// ---------------------------------------------------------------------------
// 1. mailauth's contract

t.test('dnsError makes an Error with a code', async (t) => {
  const e = dnsError('ESERVFAIL', 'TXT x: server failure')
  t.ok(e instanceof Error)
  t.equal(e.code, 'ESERVFAIL')
  t.equal(e.message, 'TXT x: server failure')
  t.same([...NO_RECORD_CODES].sort(), ['ENODATA', 'ENOTFOUND'], 'only ENOTFOUND/ENODATA mean "no record"')
})

t.test('answers come back as node:dns shapes, and the lookup is asked the right way', async (t) => {
  const { r, lookup } = setup(t, {}, {
    'TXT good.example': ok(TXT),
    'MX good.example': ok(MX),
    'A good.example': ok([
      { address: '192.0.2.1', ttl: 300 },
      { address: '192.0.2.2', ttl: 60 },
    ]),
    'AAAA good.example': ok([{ address: '2001:db8::1', ttl: 300 }]),
    'PTR 1.2.0.192.in-addr.arpa': ok(['host.good.example']),
  })
  const cases: [string, string, unknown[], string][] = [
    ['good.example', 'TXT', TXT, 'TXT as string[][]'],
    ['good.example', 'MX', MX, 'MX as {exchange, priority}[]'],
    ['good.example', 'A', ['192.0.2.1', '192.0.2.2'], 'A as string[] (TTL rows flattened)'],
    ['good.example', 'AAAA', ['2001:db8::1'], 'AAAA as string[]'],
    ['1.2.0.192.in-addr.arpa', 'PTR', ['host.good.example'], 'other types pass through resolve()'],
  ]
  for (const [name, type, want, what] of cases) t.same(await r.resolve(name, type), want, what)
  t.same(lookup.calls, ['TXT good.example', 'MX good.example', 'A good.example', 'AAAA good.example', 'PTR 1.2.0.192.in-addr.arpa'])
  t.same(lookup.ttlOpts, [{ ttl: true }, { ttl: true }], 'A/AAAA are asked with {ttl: true}')
})

t.test('failures are Errors whose .code says what happened', async (t) => {
  const cases: [string, Rule, string][] = [
    ['nx.example', fail('ENOTFOUND', 'queryTxt ENOTFOUND nx.example'), 'ENOTFOUND'],
    ['empty.example', fail('ENODATA'), 'ENODATA'],
    ['slow.example', fail('ETIMEOUT'), 'ETIMEOUT'],
    ['broken.example', fail('ESERVFAIL'), 'ESERVFAIL'],
    ['refused.example', fail('EREFUSED'), 'EREFUSED'],
    ['weird.example', fail(undefined, 'boom'), 'EUNKNOWN'],
  ]
  const rules = Object.fromEntries(cases.map(([name, rule]) => [`TXT ${name}`, rule]))
  const { r } = setup(t, {}, rules)
  for (const [name, , code] of cases) {
    const e = await errOf(r.resolve(name, 'TXT'))
    t.ok(e instanceof Error, `${name}: an Error`)
    t.equal(e.code, code, `${name}: ${code}`)
  }
  t.equal((await errOf(r.resolve('nx.example', 'TXT'))).message, 'queryTxt ENOTFOUND nx.example', 'the message is kept')
  t.equal((await errOf(r.resolve('weird.example', 'TXT'))).message, 'boom')
})

// ---------------------------------------------------------------------------
// 2. one query in flight; case-insensitive keys

t.test('names and types are case-insensitive and ignore a trailing dot', async (t) => {
  const { r, lookup } = setup(t, {}, { 'TXT good.example': ok(TXT) })
  const variants: [string, string][] = [
    ['good.example', 'TXT'],
    ['GOOD.EXAMPLE', 'TXT'],
    ['good.example.', 'TXT'],
    ['Good.Example.', 'txt'],
    ['good.example', 'Txt'],
  ]
  for (const [name, type] of variants) t.same(await r.resolve(name, type), TXT, `${name} ${type}`)
  t.same(lookup.calls, ['TXT good.example'], 'one lookup, for the lower-cased name without the dot')
  t.equal(r.stats.misses, 1)
  t.equal(r.stats.hits, variants.length - 1)
  t.equal(r.size, 1)
})

t.test('different types of one name are different entries', async (t) => {
  const { r, lookup } = setup(t, {}, { 'TXT good.example': ok(TXT), 'MX good.example': ok(MX) })
  t.same(await r.resolve('good.example', 'TXT'), TXT)
  t.same(await r.resolve('good.example', 'MX'), MX)
  t.same(await r.resolve('other.example', 'TXT').catch((e: DnsErr) => e.code), 'ENOTFOUND', 'and different names')
  t.equal(lookup.count(), 3)
  t.equal(r.size, 3)
})

t.test('one query in flight per name and type: concurrent callers join it', async (t) => {
  const g = gate()
  const { r, lookup } = setup(t, {}, { 'MX good.example': g.rule })
  const ps = [r.resolve('good.example', 'MX'), r.resolve('GOOD.example.', 'mx'), r.resolve('good.example', 'MX')]
  t.equal(lookup.count(), 1, 'the lookup is called once')
  g.release(structuredClone(MX))
  const answers = await Promise.all(ps)
  t.equal(r.stats.inflightJoins, 2, 'two callers joined (counted once settled)')
  t.equal(r.stats.misses, 1)
  for (const a of answers) t.same(a, MX)
  t.not(answers[0], answers[1], 'each joiner gets its own copy')
  t.not(answers[1], answers[2])
  t.same(await r.resolve('good.example', 'MX'), MX)
  t.equal(lookup.count(), 1, 'afterwards a hit')
  t.equal(r.stats.hits, 1)
})

t.test('in-flight queries of different keys do not join each other', async (t) => {
  const ga = gate()
  const gt = gate()
  const { r, lookup } = setup(t, {}, { 'A good.example': ga.rule, 'TXT good.example': gt.rule })
  const a = r.resolve('good.example', 'A')
  const txt = r.resolve('good.example', 'TXT')
  t.same(lookup.calls, ['A good.example', 'TXT good.example'])
  t.equal(r.stats.inflightJoins, 0)
  ga.release([{ address: '192.0.2.1', ttl: 60 }])
  gt.release(TXT)
  t.same(await a, ['192.0.2.1'])
  t.same(await txt, TXT)
})

// ---------------------------------------------------------------------------
// 3. positive TTLs on the fake clock

t.test('answers are cached until their TTL, then asked again', async (t) => {
  const maxTtlMs = 60_000
  const cases: { what: string; type: string; rule: Rule; ttlMs: number }[] = [
    { what: 'TXT: the max TTL', type: 'TXT', rule: ok(TXT), ttlMs: maxTtlMs },
    { what: 'MX: the max TTL', type: 'MX', rule: ok(MX), ttlMs: maxTtlMs },
    { what: 'A: record TTL below the max', type: 'A', rule: ok([{ address: '192.0.2.1', ttl: 30 }]), ttlMs: 30_000 },
    { what: 'A: record TTL above the max is capped', type: 'A', rule: ok([{ address: '192.0.2.1', ttl: 7200 }]), ttlMs: maxTtlMs },
    {
      what: 'AAAA: the smallest TTL of the rows',
      type: 'AAAA',
      rule: ok([
        { address: '2001:db8::1', ttl: 50 },
        { address: '2001:db8::2', ttl: 20 },
      ]),
      ttlMs: 20_000,
    },
  ]
  for (const c of cases) {
    await t.test(c.what, async (t) => {
      const key = `${c.type} good.example`
      const { r, lookup, clock } = setup(t, { maxTtlMs }, { [key]: c.rule })
      const first = await r.resolve('good.example', c.type)
      t.equal(lookup.count(key), 1)
      clock.advance(c.ttlMs - 1)
      t.same(await r.resolve('good.example', c.type), first, 'within the TTL: the cached answer')
      t.equal(lookup.count(key), 1, 'within the TTL: no new lookup')
      t.equal(r.stats.hits, 1)
      clock.advance(2)
      t.same(await r.resolve('good.example', c.type), first)
      t.equal(lookup.count(key), 2, 'after the TTL: a new lookup')
      t.equal(r.stats.misses, 2)
    })
  }
})

t.test('an A record with TTL 0 is not kept for the max TTL (nor forever)', async (t) => {
  const { r, lookup, clock } = setup(t, { maxTtlMs: 3_600_000 }, { 'A zero.example': ok([{ address: '192.0.2.9', ttl: 0 }]) })
  await r.resolve('zero.example', 'A')
  clock.advance(1_001)
  await r.resolve('zero.example', 'A')
  t.equal(lookup.count(), 2, 'asked again within about a second')
})

t.test('a new answer after expiry replaces the old one', async (t) => {
  const { r, lookup, clock } = setup(t, { maxTtlMs: 10_000 }, { 'TXT good.example': ok([['old']]) })
  t.same(await r.resolve('good.example', 'TXT'), [['old']])
  lookup.set('TXT good.example', ok([['new']]))
  clock.advance(5_000)
  t.same(await r.resolve('good.example', 'TXT'), [['old']], 'cached until the TTL')
  clock.advance(5_001)
  t.same(await r.resolve('good.example', 'TXT'), [['new']], 'then the new answer')
  clock.advance(9_999)
  t.same(await r.resolve('good.example', 'TXT'), [['new']], 'which is cached again for a full TTL')
  t.equal(lookup.count(), 2)
})

// ---------------------------------------------------------------------------
// 4. negative caching

t.test('ENOTFOUND / ENODATA are cached for negativeTtlMs, then asked again', async (t) => {
  const cases: [string, string, string][] = [
    ['ENOTFOUND', 'TXT', 'nx.example'],
    ['ENODATA', 'TXT', 'empty.example'],
    ['ENOTFOUND', 'A', 'nx.example'],
    ['ENODATA', 'AAAA', 'v4only.example'],
    ['ENODATA', 'MX', 'nomx.example'],
  ]
  for (const [code, type, name] of cases) {
    await t.test(`${code} for ${type}`, async (t) => {
      const key = `${type} ${name}`
      const negativeTtlMs = 5_000
      const { r, lookup, clock } = setup(t, { maxTtlMs: 60_000, negativeTtlMs }, { [key]: fail(code, `query ${code} ${name}`) })
      const e1 = await errOf(r.resolve(name, type))
      t.equal(e1.code, code)
      t.equal(r.stats.negativeHits, 0, 'the first answer is not a negative hit')
      t.equal(r.size, 1, 'the negative answer is cached')

      lookup.set(key, type === 'A' || type === 'AAAA' ? ok([{ address: type === 'A' ? '192.0.2.7' : '2001:db8::7', ttl: 300 }]) : ok([['now here']]))
      clock.advance(negativeTtlMs - 1)
      const e2 = await errOf(r.resolve(name, type))
      t.equal(e2.code, code, 'within the negative TTL: still the cached failure')
      t.equal(e2.message, `query ${code} ${name}`, 'with its message')
      t.equal(lookup.count(key), 1, 'no new lookup')
      t.equal(r.stats.negativeHits, 1)
      t.equal(r.stats.hits, 1)
      t.equal(r.stats.errors, 0, 'a cached "no record" is not an error')

      clock.advance(2)
      const answer = await r.resolve(name, type)
      t.equal(lookup.count(key), 2, 'after the negative TTL: a new lookup')
      t.equal(answer.length, 1, 'and its answer')
      t.equal(r.stats.negativeHits, 1)
    })
  }
})

t.test('negative TTL is used even when the max TTL is shorter or longer', async (t) => {
  for (const [negativeTtlMs, maxTtlMs] of [
    [1_000, 60_000],
    [30_000, 10_000],
  ] as const) {
    await t.test(`negative ${negativeTtlMs}, max ${maxTtlMs}`, async (t) => {
      const { r, lookup, clock } = setup(t, { negativeTtlMs, maxTtlMs })
      await errOf(r.resolve('nx.example', 'TXT'))
      clock.advance(negativeTtlMs - 1)
      await errOf(r.resolve('nx.example', 'TXT'))
      t.equal(lookup.count(), 1)
      clock.advance(2)
      await errOf(r.resolve('nx.example', 'TXT'))
      t.equal(lookup.count(), 2)
    })
  }
})

// ---------------------------------------------------------------------------
// 5. temporary failures are never cached

t.test('timeouts, SERVFAIL, refusals and other errors are never cached', async (t) => {
  const cases: [string | undefined, string][] = [
    ['ETIMEOUT', 'ETIMEOUT'],
    ['ESERVFAIL', 'ESERVFAIL'],
    ['EREFUSED', 'EREFUSED'],
    ['ECONNREFUSED', 'ECONNREFUSED'],
    ['ECANCELLED', 'ECANCELLED'],
    ['EBADRESP', 'EBADRESP'],
    ['EAI_AGAIN', 'EAI_AGAIN'],
    [undefined, 'EUNKNOWN'],
  ]
  for (const [code, want] of cases) {
    await t.test(want, async (t) => {
      const { r, lookup } = setup(t, {}, { 'TXT flaky.example': fail(code) })
      t.equal((await errOf(r.resolve('flaky.example', 'TXT'))).code, want)
      t.equal(r.size, 0, 'nothing cached')
      t.equal((await errOf(r.resolve('flaky.example', 'TXT'))).code, want)
      t.equal(lookup.count(), 2, 'the second call asks again (no time passed)')
      t.equal(r.stats.errors, 2)
      t.equal(r.stats.hits, 0)
      t.equal(r.stats.negativeHits, 0)
      lookup.set('TXT flaky.example', ok([['back']]))
      t.same(await r.resolve('flaky.example', 'TXT'), [['back']], 'and the next answer arrives at once')
      t.equal(lookup.count(), 3)
    })
  }
})

t.test('a temporary failure while refreshing an expired answer is not cached either', async (t) => {
  const { r, lookup, clock } = setup(t, { maxTtlMs: 10_000 }, { 'TXT good.example': ok([['one']]) })
  await r.resolve('good.example', 'TXT')
  clock.advance(10_001)
  lookup.set('TXT good.example', fail('ESERVFAIL'))
  t.equal((await errOf(r.resolve('good.example', 'TXT'))).code, 'ESERVFAIL', 'the stale answer is not served')
  t.equal(r.size, 0)
  lookup.set('TXT good.example', ok([['two']]))
  t.same(await r.resolve('good.example', 'TXT'), [['two']])
  t.equal(lookup.count(), 3)
})

// ---------------------------------------------------------------------------
// 6. every failure is a fresh Error

function mutate(e: DnsErr): void {
  ;(e as DnsErr & { foo?: string }).foo = 'bar'
  e.message = 'changed by a caller'
  e.code = 'EMUTATED'
}

t.test('every failure reaches every caller as a fresh Error', async (t) => {
  const cases: [string, Rule, string][] = [
    ['a cached ENOTFOUND', fail('ENOTFOUND', 'nx'), 'ENOTFOUND'],
    ['a cached ENODATA', fail('ENODATA', 'nx'), 'ENODATA'],
    ['an uncached ESERVFAIL', fail('ESERVFAIL', 'nx'), 'ESERVFAIL'],
    ['an uncached error without a code', fail(undefined, 'nx'), 'EUNKNOWN'],
  ]
  for (const [what, rule, code] of cases) {
    await t.test(what, async (t) => {
      const { r } = setup(t, {}, { 'TXT x.example': rule })
      const e1 = await errOf(r.resolve('x.example', 'TXT'))
      mutate(e1)
      const e2 = await errOf(r.resolve('x.example', 'TXT'))
      t.not(e2, e1, 'a different object')
      t.equal(e2.code, code, 'code unchanged')
      t.equal(e2.message, 'nx', 'message unchanged')
      t.notOk('foo' in e2, 'no property written by the other caller')
      mutate(e2)
      const e3 = await errOf(r.resolve('x.example', 'TXT'))
      t.not(e3, e2)
      t.equal(e3.code, code)
    })
  }
})

t.test("the lookup's own Error object is never handed out", async (t) => {
  // a lookup that rejects with the very same object every time
  for (const code of ['ENOTFOUND', 'ESERVFAIL']) {
    await t.test(code, async (t) => {
      const shared = dnsError(code, 'shared')
      const { r } = setup(t, {}, { 'TXT x.example': () => Promise.reject(shared) })
      const e1 = await errOf(r.resolve('x.example', 'TXT'))
      t.not(e1, shared)
      mutate(e1)
      t.equal(shared.code, code, "mutating the caller's error leaves the source alone")
      const e2 = await errOf(r.resolve('x.example', 'TXT'))
      t.not(e2, shared)
      t.equal(e2.code, code)
      t.equal(e2.message, 'shared')
    })
  }
})

t.test('in-flight joiners of one failing query each get their own Error', async (t) => {
  for (const code of ['ENOTFOUND', 'ESERVFAIL', 'ETIMEOUT']) {
    await t.test(code, async (t) => {
      const g = gate()
      const { r, lookup } = setup(t, {}, { 'TXT x.example': g.rule })
      const ps = [1, 2, 3].map(() => errOf(r.resolve('x.example', 'TXT')))
      t.equal(lookup.count(), 1)
      g.reject(dnsError(code, 'shared failure'))
      const [a, b, c] = await Promise.all(ps)
      t.equal(r.stats.inflightJoins, 2)
      t.ok(a && b && c)
      if (!a || !b || !c) return
      t.not(a, b)
      t.not(b, c)
      t.not(a, c)
      mutate(a)
      for (const e of [b, c]) {
        t.equal(e.code, code)
        t.equal(e.message, 'shared failure')
        t.notOk('foo' in e)
      }
    })
  }
})

// ---------------------------------------------------------------------------
// 7. answers are copies

t.test('answers are copies: mutating one does not change the next', async (t) => {
  const { r } = setup(t, {}, {
    'MX good.example': ok(MX),
    'TXT good.example': ok(TXT),
    'A good.example': ok([{ address: '192.0.2.1', ttl: 300 }]),
  })
  // on the miss and then on the hit
  for (const round of ['miss', 'hit']) {
    const mx = (await r.resolve('good.example', 'MX')) as { exchange: string; priority: number }[]
    mx.sort((a, b) => a.priority - b.priority) // what mailauth does
    mx.push({ exchange: 'evil.example', priority: 0 })
    const first = mx[0]
    if (first) first.exchange = 'changed.example'
    const txt = (await r.resolve('good.example', 'TXT')) as string[][]
    txt[0]?.push('appended')
    txt.pop()
    const a = (await r.resolve('good.example', 'A')) as string[]
    a.length = 0
    t.same(await r.resolve('good.example', 'MX'), MX, `MX intact after mutating the ${round}`)
    t.same(await r.resolve('good.example', 'TXT'), TXT, `TXT intact (deep) after mutating the ${round}`)
    t.same(await r.resolve('good.example', 'A'), ['192.0.2.1'], `A intact after mutating the ${round}`)
  }
  t.equal(r.stats.misses, 3)
})

t.test('in-flight joiners get separate copies', async (t) => {
  const g = gate()
  const { r } = setup(t, {}, { 'MX good.example': g.rule })
  const ps = [r.resolve('good.example', 'MX'), r.resolve('good.example', 'MX')]
  g.release(structuredClone(MX))
  const [a, b] = (await Promise.all(ps)) as { exchange: string; priority: number }[][]
  a?.reverse()
  a?.push({ exchange: 'x', priority: 1 })
  t.same(b, MX)
  t.same(await r.resolve('good.example', 'MX'), MX)
})

// ---------------------------------------------------------------------------
// 8. the hard per-query timeout

t.test('a query that never answers fails with ETIMEOUT after timeoutMs, and is not cached', async (t) => {
  const timeoutMs = 500
  const { r, lookup, clock } = setup(t, { timeoutMs }, { 'TXT gone.example': hang() })
  const s = track(r.resolve('gone.example', 'TXT'))
  await flush()
  clock.advance(timeoutMs - 1)
  await flush()
  t.notOk(s.settled, 'still waiting just before the timeout')
  clock.advance(1)
  await flush()
  t.ok(s.settled, 'settled at the timeout')
  t.equal(s.error?.code, 'ETIMEOUT')
  t.match(s.error?.message, /TXT gone\.example/)
  t.equal(r.stats.timeouts, 1)
  t.equal(r.stats.errors, 1)
  t.equal(r.size, 0, 'not cached')

  const s2 = track(r.resolve('gone.example', 'TXT'))
  t.equal(lookup.count(), 2, 'the next call asks again')
  clock.advance(timeoutMs)
  await flush()
  t.equal(s2.error?.code, 'ETIMEOUT')
  t.equal(r.stats.timeouts, 2)
})

t.test('joiners of a query that times out each get their own ETIMEOUT', async (t) => {
  const { r, lookup, clock } = setup(t, { timeoutMs: 300 }, { 'A gone.example': hang() })
  const ps = [1, 2, 3].map(() => errOf(r.resolve('gone.example', 'A')))
  clock.advance(300)
  const errs = await Promise.all(ps)
  for (const e of errs) t.equal(e.code, 'ETIMEOUT')
  t.equal(new Set(errs).size, 3, 'three distinct objects')
  t.equal(lookup.count(), 1)
  t.equal(r.stats.timeouts, 1, 'one query timed out')
  t.equal(r.stats.errors, 3, 'three callers saw an error')
})

t.test('an answer that arrives after the timeout is not cached', async (t) => {
  const g = gate()
  const { r, lookup, clock } = setup(t, { timeoutMs: 200 }, { 'TXT late.example': g.rule })
  const p = errOf(r.resolve('late.example', 'TXT'))
  clock.advance(200)
  t.equal((await p).code, 'ETIMEOUT')
  g.release([['late']])
  await flush()
  t.equal(r.size, 0)
  lookup.set('TXT late.example', ok([['fresh']]))
  t.same(await r.resolve('late.example', 'TXT'), [['fresh']])
  t.equal(lookup.count(), 2)
})

t.test('an answered query leaves no timeout behind', async (t) => {
  const { r, clock } = setup(t, { timeoutMs: 200 }, { 'TXT good.example': ok(TXT) })
  t.same(await r.resolve('good.example', 'TXT'), TXT)
  clock.advance(10_000)
  await flush()
  t.equal(r.stats.timeouts, 0)
  t.equal(r.stats.errors, 0)
})

t.test('an answer just before the timeout wins', async (t) => {
  const g = gate()
  const { r, clock } = setup(t, { timeoutMs: 200 }, { 'TXT edge.example': g.rule })
  const s = track(r.resolve('edge.example', 'TXT'))
  clock.advance(199)
  g.release([['in time']])
  await flush()
  t.same(s.value, [['in time']])
  clock.advance(1_000)
  await flush()
  t.equal(r.stats.timeouts, 0)
})

// ---------------------------------------------------------------------------
// 9. forMessage budgets

t.test('forMessage: once the budget is spent every query fails at once without a lookup', async (t) => {
  const { r, lookup, clock } = setup(t, {}, { 'TXT good.example': ok(TXT) })
  t.same(await r.resolve('good.example', 'TXT'), TXT, 'cached beforehand')
  const view = r.forMessage(1_000)
  t.same(await view('good.example', 'TXT'), TXT, 'within budget')
  clock.advance(1_000)
  for (const [name, type] of [
    ['good.example', 'TXT'],
    ['other.example', 'A'],
    ['third.example', 'MX'],
  ] as const) {
    const s = track(view(name, type))
    await flush() // no clock advance: it must fail by itself
    t.ok(s.settled, `${type} ${name}: fails immediately`)
    t.equal(s.error?.code, 'ETIMEOUT')
    t.ok(s.error instanceof Error)
  }
  t.equal(lookup.count(), 1, 'the lookup was not called for the spent budget')
  t.equal(r.stats.timeouts, 3)
  t.equal(r.stats.queries, 2, 'spent-budget calls do not reach the cache')
  const e1 = await errOf(view('x.example', 'TXT'))
  const e2 = await errOf(view('x.example', 'TXT'))
  t.not(e1, e2, 'fresh errors here too')
})

t.test('forMessage: a query is cut off at the remaining budget', async (t) => {
  const { r, clock } = setup(t, { timeoutMs: 5_000 }, { 'TXT gone.example': hang() })
  const view = r.forMessage(1_000)
  clock.advance(600)
  const s = track(view('gone.example', 'TXT'))
  clock.advance(399)
  await flush()
  t.notOk(s.settled, 'still waiting with 1 ms of budget left')
  clock.advance(1)
  await flush()
  t.equal(s.error?.code, 'ETIMEOUT', 'cut off when the budget runs out, long before timeoutMs')
  t.equal(r.stats.timeouts, 1)
  const s2 = track(view('gone.example', 'TXT'))
  await flush()
  t.equal(s2.error?.code, 'ETIMEOUT', 'and the next query fails at once')
})

t.test('forMessage: a cut-off spends the budget even if the clock is a little behind the timer', async (t) => {
  // Real timers (libuv loop time, whole ms) can fire a little before performance.now()
  // reaches the deadline. Timers here run on the fake clock, the resolver reads `now`.
  const clock = fakeClock(t)
  let now = 0
  const lookup = new FakeLookup({ 'TXT gone.example': hang(), 'TXT good.example': ok(TXT) })
  const r = new CachedResolver({ lookup, clock: { now: () => now }, timeoutMs: 5_000 })
  const view = r.forMessage(100)
  const p = errOf(view('gone.example', 'TXT'))
  clock.advance(100)
  now = 99.5 // the timer fired, the clock says half a millisecond is left
  t.equal((await p).code, 'ETIMEOUT', 'cut off')
  const s = track(view('good.example', 'TXT'))
  await flush()
  t.ok(s.settled, 'the next query fails at once')
  t.equal(s.error?.code, 'ETIMEOUT')
  t.equal(lookup.count('TXT good.example'), 0, 'without a lookup')
  t.same(await r.forMessage(100)('good.example', 'TXT'), TXT, 'another message is not affected')
})

t.test('forMessage: the per-query timeout still applies inside a larger budget', async (t) => {
  const { r, clock } = setup(t, { timeoutMs: 300 }, { 'TXT gone.example': hang() })
  const view = r.forMessage(10_000)
  const s = track(view('gone.example', 'TXT'))
  clock.advance(299)
  await flush()
  t.notOk(s.settled)
  clock.advance(1)
  await flush()
  t.equal(s.error?.code, 'ETIMEOUT')
  t.equal(r.size, 0)
})

t.test('forMessage: answers, failures and copies behave as with resolve()', async (t) => {
  const { r, lookup } = setup(t, {}, { 'MX good.example': ok(MX), 'TXT broken.example': fail('ESERVFAIL') })
  const view = r.forMessage(10_000)
  const mx = (await view('good.example', 'MX')) as { exchange: string; priority: number }[]
  mx.sort((a, b) => a.priority - b.priority)
  t.same(await view('good.example', 'MX'), MX)
  t.same(await r.resolve('good.example', 'MX'), MX, 'shares the cache with the resolver')
  t.equal(lookup.count('MX good.example'), 1)
  t.equal((await errOf(view('nx.example', 'TXT'))).code, 'ENOTFOUND')
  t.equal((await errOf(view('broken.example', 'TXT'))).code, 'ESERVFAIL')
})

t.test('forMessage: each message has its own budget', async (t) => {
  const { r, clock } = setup(t, {}, { 'TXT good.example': ok(TXT) })
  const first = r.forMessage(500)
  clock.advance(500)
  t.equal((await errOf(first('good.example', 'TXT'))).code, 'ETIMEOUT')
  const second = r.forMessage(500)
  t.same(await second('good.example', 'TXT'), TXT, 'a new message starts with a full budget')
})

t.test('forMessage: a query cut off by one message is joined, not repeated, by the next', async (t) => {
  const g = gate()
  const { r, lookup, clock } = setup(t, { timeoutMs: 5_000 }, { 'TXT slow.example': g.rule })
  const m1 = r.forMessage(100)
  const p1 = errOf(m1('slow.example', 'TXT'))
  clock.advance(100)
  t.equal((await p1).code, 'ETIMEOUT')
  const m2 = r.forMessage(1_000)
  const p2 = m2('slow.example', 'TXT')
  t.equal(lookup.count(), 1, 'still one query in flight')
  g.release([['finally']])
  t.same(await p2, [['finally']])
})

// ---------------------------------------------------------------------------
// 10. counters, size, clear()

t.test('counters, size and clear()', async (t) => {
  const g = gate()
  const { r, lookup, clock } = setup(t, { timeoutMs: 100 }, {
    'TXT good.example': ok(TXT),
    'A good.example': g.rule,
    'TXT broken.example': fail('ESERVFAIL'),
    'TXT gone.example': hang(),
  })
  const zero = { queries: 0, hits: 0, misses: 0, inflightJoins: 0, negativeHits: 0, errors: 0, timeouts: 0 }
  t.same(r.stats, zero)
  t.equal(r.size, 0)

  await r.resolve('good.example', 'TXT')
  t.same(r.stats, { ...zero, queries: 1, misses: 1 }, 'a miss')
  await r.resolve('good.example', 'TXT')
  t.same(r.stats, { ...zero, queries: 2, misses: 1, hits: 1 }, 'a hit')

  const joined = [r.resolve('good.example', 'A'), r.resolve('good.example', 'A')]
  g.release([{ address: '192.0.2.1', ttl: 300 }])
  await Promise.all(joined)
  t.same(r.stats, { ...zero, queries: 4, misses: 2, hits: 1, inflightJoins: 1 }, 'a join')

  await errOf(r.resolve('nx.example', 'TXT'))
  t.same(r.stats, { ...zero, queries: 5, misses: 3, hits: 1, inflightJoins: 1 }, 'a negative answer is a miss, not an error')
  await errOf(r.resolve('nx.example', 'TXT'))
  t.same(r.stats, { ...zero, queries: 6, misses: 3, hits: 2, inflightJoins: 1, negativeHits: 1 }, 'a negative hit')

  await errOf(r.resolve('broken.example', 'TXT'))
  t.same(r.stats, { ...zero, queries: 7, misses: 4, hits: 2, inflightJoins: 1, negativeHits: 1, errors: 1 }, 'an error')

  const p = errOf(r.resolve('gone.example', 'TXT'))
  clock.advance(100)
  await p
  t.same(r.stats, { ...zero, queries: 8, misses: 5, hits: 2, inflightJoins: 1, negativeHits: 1, errors: 2, timeouts: 1 }, 'a timeout')

  const spent = r.forMessage(0)
  await errOf(spent('good.example', 'TXT'))
  t.same(r.stats, { ...zero, queries: 8, misses: 5, hits: 2, inflightJoins: 1, negativeHits: 1, errors: 2, timeouts: 2 }, 'a spent budget')

  t.equal(r.size, 3, 'TXT good, A good, TXT nx are cached')
  t.equal(lookup.count(), 5)
  r.clear()
  t.equal(r.size, 0, 'clear() empties the cache')
  await r.resolve('good.example', 'TXT')
  await errOf(r.resolve('nx.example', 'TXT'))
  t.equal(lookup.count(), 7, 'after clear() both are asked again')
  t.equal(r.stats.misses, 7)
  t.equal(r.size, 2)
})

// ---------------------------------------------------------------------------
// 11. LRU bound

t.test('the cache holds at most cacheSize entries', async (t) => {
  for (const [cacheSize, extra] of [
    [1, 3],
    [3, 2],
    [10, 15],
  ] as const) {
    await t.test(`cacheSize ${cacheSize}, ${cacheSize + extra} names`, async (t) => {
      const { r, lookup } = setup(t, { cacheSize })
      const names = Array.from({ length: cacheSize + extra }, (_, i) => `n${i}.example`)
      for (const [i, name] of names.entries()) {
        lookup.set(`TXT ${name}`, i % 2 ? ok([[name]]) : fail('ENOTFOUND')) // negatives count too
        await r.resolve(name, 'TXT').catch(() => {})
        t.ok(r.size <= cacheSize, `size ${r.size} <= ${cacheSize} after ${i + 1} names`)
      }
      t.equal(r.size, cacheSize)
      // the most recent cacheSize names are hits, the oldest were evicted
      for (const name of names.slice(-cacheSize)) await r.resolve(name, 'TXT').catch(() => {})
      t.equal(lookup.count(), names.length, 'the most recent names are still cached')
      await r.resolve(names[0] ?? '', 'TXT').catch(() => {})
      t.equal(lookup.count(), names.length + 1, 'the oldest name was evicted')
      t.equal(r.size, cacheSize)
    })
  }
})

t.test('the LRU keeps the recently used entry', async (t) => {
  const { r, lookup } = setup(t, { cacheSize: 2 }, { 'TXT a.example': ok([['a']]), 'TXT b.example': ok([['b']]), 'TXT c.example': ok([['c']]) })
  await r.resolve('a.example', 'TXT')
  await r.resolve('b.example', 'TXT')
  await r.resolve('a.example', 'TXT') // a is now the most recent
  await r.resolve('c.example', 'TXT') // evicts b
  await r.resolve('a.example', 'TXT')
  t.equal(lookup.count('TXT a.example'), 1)
  await r.resolve('b.example', 'TXT')
  t.equal(lookup.count('TXT b.example'), 2)
})

// ---------------------------------------------------------------------------
// 12. end to end with the loopback DNS server

interface DnsZone {
  a?: string[]
  aaaa?: string[]
  mx?: { preference?: number; exchange: string }[]
  txt?: string[]
  rcode?: string
  delayMs?: number
  drop?: boolean
}
interface DnsFixture {
  port: number
  setZone(name: string, cfg: DnsZone): void
  close(): Promise<void>
}
const fixtures = require('haraka-test-fixtures') as { dns: { start(zones: Record<string, DnsZone>): Promise<DnsFixture> } }

t.test('against the loopback DNS server', async (t) => {
  const dns = await fixtures.dns.start({
    'good.example': {
      a: ['1.2.3.4'],
      aaaa: ['2001:db8::1'],
      txt: ['v=spf1 -all'],
      mx: [
        { preference: 20, exchange: 'mx2.good.example' },
        { preference: 10, exchange: 'mx1.good.example' },
      ],
    },
    'txtonly.example': { txt: ['hello'] },
    'broken.example': { rcode: 'SERVFAIL' },
    'refused.example': { rcode: 'REFUSED' },
    'gone.example': { drop: true },
    'slow.example': { a: ['1.2.3.4'], delayMs: 300 },
  })
  t.teardown(() => dns.close())
  const servers = [`127.0.0.1:${dns.port}`]
  const resolver = (opts: Partial<ResolverOptions> = {}) => new CachedResolver({ servers, timeoutMs: 2_000, ...opts })

  t.test('TXT, A, AAAA and MX answers in node:dns shapes', async (t) => {
    const r = resolver()
    t.same(await r.resolve('good.example', 'TXT'), [['v=spf1 -all']])
    t.same(await r.resolve('good.example', 'A'), ['1.2.3.4'])
    t.same(await r.resolve('good.example', 'AAAA'), ['2001:db8::1'])
    const mx = (await r.resolve('good.example', 'MX')) as { exchange: string; priority: number }[]
    t.equal(mx.length, 2)
    t.has(
      [...mx].sort((a, b) => a.priority - b.priority),
      [
        { exchange: 'mx1.good.example', priority: 10 },
        { exchange: 'mx2.good.example', priority: 20 },
      ],
    )
    mx.sort((a, b) => a.priority - b.priority)
    mx.pop()
    t.equal(((await r.resolve('GOOD.example.', 'mx')) as unknown[]).length, 2, 'a cached copy, whatever the case')
    t.same(r.stats, { queries: 5, hits: 1, misses: 4, inflightJoins: 0, negativeHits: 0, errors: 0, timeouts: 0 })
  })

  t.test('concurrent callers share one query', async (t) => {
    const r = resolver()
    const answers = await Promise.all([r.resolve('good.example', 'TXT'), r.resolve('Good.Example.', 'TXT'), r.resolve('good.example', 'txt')])
    for (const a of answers) t.same(a, [['v=spf1 -all']])
    t.equal(r.stats.misses, 1)
    t.equal(r.stats.inflightJoins, 2)
  })

  t.test('answers are cached: a changed zone is not seen within the TTL', async (t) => {
    const r = resolver()
    dns.setZone('change.example', { txt: ['one'] })
    t.same(await r.resolve('change.example', 'TXT'), [['one']])
    dns.setZone('change.example', { txt: ['two'] })
    t.same(await r.resolve('change.example', 'TXT'), [['one']])
    t.equal(r.stats.hits, 1)
  })

  t.test('SERVFAIL: a temporary error, not cached', async (t) => {
    const r = resolver()
    dns.setZone('servfail.example', { rcode: 'SERVFAIL' })
    const e1 = await errOf(r.resolve('servfail.example', 'TXT'))
    t.equal(e1.code, 'ESERVFAIL')
    t.notOk(NO_RECORD_CODES.has(e1.code ?? ''), 'not a "no record" code')
    const e2 = await errOf(r.resolve('servfail.example', 'TXT'))
    t.equal(e2.code, 'ESERVFAIL')
    t.not(e2, e1)
    t.equal(r.stats.misses, 2, 'asked the server twice')
    t.equal(r.size, 0)
    dns.setZone('servfail.example', { txt: ['recovered'] })
    t.same(await r.resolve('servfail.example', 'TXT'), [['recovered']], 'the next answer arrives at once')
  })

  t.test('REFUSED: a temporary error, not cached', async (t) => {
    const r = resolver()
    dns.setZone('refused2.example', { rcode: 'REFUSED' })
    const e = await errOf(r.resolve('refused2.example', 'A'))
    t.equal(e.code, 'EREFUSED')
    t.notOk(NO_RECORD_CODES.has(e.code ?? ''))
    dns.setZone('refused2.example', { a: ['5.6.7.8'] })
    t.same(await r.resolve('refused2.example', 'A'), ['5.6.7.8'])
  })

  t.test('NXDOMAIN: ENOTFOUND, cached for the negative TTL', async (t) => {
    const clock = fakeClock(t)
    const negativeTtlMs = 5_000
    const r = resolver({ clock: clock, negativeTtlMs })
    const e1 = await errOf(r.resolve('later.example', 'TXT'))
    t.equal(e1.code, 'ENOTFOUND')
    dns.setZone('later.example', { txt: ['now it exists'] })
    clock.advance(negativeTtlMs - 1)
    const e2 = await errOf(r.resolve('later.example', 'TXT'))
    t.equal(e2.code, 'ENOTFOUND', 'within the negative TTL: still ENOTFOUND')
    t.not(e2, e1)
    t.equal(r.stats.negativeHits, 1)
    t.equal(r.stats.misses, 1, 'the server was asked once')
    clock.advance(2)
    t.same(await r.resolve('later.example', 'TXT'), [['now it exists']], 'after it: the new record')
    t.equal(r.stats.misses, 2)
  })

  t.test('NOERROR without the type: ENODATA, cached for the negative TTL', async (t) => {
    const clock = fakeClock(t)
    const r = resolver({ clock: clock, negativeTtlMs: 5_000 })
    t.equal((await errOf(r.resolve('txtonly.example', 'A'))).code, 'ENODATA')
    dns.setZone('txtonly.example', { txt: ['hello'], a: ['9.9.9.9'] })
    t.equal((await errOf(r.resolve('txtonly.example', 'A'))).code, 'ENODATA')
    t.equal(r.stats.negativeHits, 1)
    clock.advance(5_001)
    t.same(await r.resolve('txtonly.example', 'A'), ['9.9.9.9'])
  })

  t.test('A and TXT use the record TTL (300 s from the fixture) under the max TTL', async (t) => {
    const clock = fakeClock(t)
    const r = resolver({ clock: clock, maxTtlMs: 3_600_000 })
    dns.setZone('ttl.example', { a: ['10.0.0.1'], txt: ['one'] })
    t.same(await r.resolve('ttl.example', 'A'), ['10.0.0.1'])
    t.same(await r.resolve('ttl.example', 'TXT'), [['one']])
    dns.setZone('ttl.example', { a: ['10.0.0.2'], txt: ['two'] })
    clock.advance(300_001)
    t.same(await r.resolve('ttl.example', 'A'), ['10.0.0.2'], 'A expired after its 300 s TTL')
    t.same(await r.resolve('ttl.example', 'TXT'), [['two']], 'TXT expired after its 300 s TTL too (read by src/auth/dns-client.ts)')
  })

  t.test('a dropped query fails with ETIMEOUT after about timeoutMs, not cached', async (t) => {
    const r = resolver({ timeoutMs: 200 })
    dns.setZone('drop.example', { drop: true })
    const start = performance.now()
    const e = await errOf(r.resolve('drop.example', 'TXT'))
    const took = performance.now() - start
    t.equal(e.code, 'ETIMEOUT')
    t.ok(took >= 150 && took < 1_500, `took ${Math.round(took)} ms`)
    t.equal(r.size, 0)
    dns.setZone('drop.example', { txt: ['back'] })
    t.same(await r.resolve('drop.example', 'TXT'), [['back']], 'the next call asks again')
  })

  t.test('forMessage cuts off a slow answer at the budget', async (t) => {
    const r = resolver()
    const view = r.forMessage(100)
    const start = performance.now()
    const e = await errOf(view('slow.example', 'A'))
    const took = performance.now() - start
    t.equal(e.code, 'ETIMEOUT')
    t.ok(took >= 80 && took < 1_000, `took ${Math.round(took)} ms`)
    t.equal((await errOf(view('good.example', 'A'))).code, 'ETIMEOUT', 'the budget is spent')
  })

  t.test("the fixture's failure zones as started", async (t) => {
    // gone.example / broken.example / refused.example straight from start()
    const r = resolver({ timeoutMs: 200 })
    t.equal((await errOf(r.resolve('broken.example', 'MX'))).code, 'ESERVFAIL')
    t.equal((await errOf(r.resolve('refused.example', 'MX'))).code, 'EREFUSED')
    t.equal((await errOf(r.resolve('gone.example', 'MX'))).code, 'ETIMEOUT')
    t.equal((await errOf(r.resolve('unknown.example', 'MX'))).code, 'ENOTFOUND')
    t.equal(r.size, 1, 'only the NXDOMAIN is cached')
  })
})
