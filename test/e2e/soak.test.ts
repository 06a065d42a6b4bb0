/**
 * The soak (`npm run soak`, bench/lib/soak.ts) in small: a few hundred genuine, spoofed
 * and malformed messages at 5 connections through a real Haraka with the plugin, in
 * mode=quarantine and mode=reject, every message accounted for from the files Haraka
 * wrote, by the number each one carries. And the accounting itself: a copy taken away,
 * one doubled, one kept against a refusal, a changed body, a connection lost in flight
 * are each found, by number.
 *
 * Only 127.0.0.1 is contacted. Nothing here asserts how fast anything is, nor how much
 * memory it takes (that is `npm run soak`'s, on a machine of its own).
 */
import t, { type Test } from 'tap'

import {
  type PassReport,
  type SoakWorld,
  type Store,
  DNS_DEFER_TEXT,
  account,
  expectedBody,
  formatPass,
  makeWorld,
  runPass,
} from '../../dist/bench/lib/soak.js'

let world: SoakWorld
t.before(async () => {
  world = await makeWorld({ genuineDomains: 10, spoofDomains: 4, generated: 8 })
})
t.teardown(() => world?.close())

const REJECT_MESSAGE = 'Message looks like a forged shop notice'

const tallyOk = (t: Test, r: PassReport): void => {
  const a = r.accounting.total
  t.same(r.failures, [], `mode=${r.mode}: no check failed\n${formatPass(r).join('\n')}`)
  t.equal(a.sent, r.messages, 'every message sent')
  t.equal(a.delivered + a.quarantined + a.rejected, a.sent, 'delivered + quarantined + rejected = sent')
  t.equal(a.deferred, 0, 'none deferred')
  t.equal(a.unknown, 0, 'none left unknown')
  t.equal(a.lost, 0, 'none lost')
  t.equal(a.duplicated, 0, 'none duplicated')
  t.equal(a.keptAfterRefusal, 0, 'nothing kept that was refused')
  t.equal(r.raw.store.copies.length, a.delivered + a.quarantined, 'one file for each message stored, no other file')
  t.equal(r.accounting.bodies.identical, r.accounting.bodies.compared, 'every body stored as sent')
  t.equal(r.log.verdictLines + Object.entries(r.accounting.refusals).filter(([k]) => k.includes(' by haraka')).reduce((s, [, v]) => s + v, 0), a.sent, 'a verdict for every message that reached the plugin')
  const genuine = r.accounting.byKind.genuine!
  t.ok(genuine.sent > 0 && genuine.delivered === genuine.sent, `every genuine notice delivered (${genuine.delivered}/${genuine.sent})`)
  t.same(Object.keys(r.accounting.verdicts.genuine), ['verified'], 'and verified')
  const spoof = r.accounting.byKind.spoof!
  t.ok(spoof.sent > 0, 'spoofs were sent')
  t.equal(spoof.delivered, 0, 'no spoof delivered')
  for (const v of ['bad-signature', 'wrong-ip', 'lookalike']) t.ok(r.accounting.byKind[`spoof/${v}`]?.sent, `spoofs by ${v} were sent`)
  t.ok(r.accounting.byKind.malformed?.sent, 'malformed messages were sent')
}

let quarantine: PassReport

t.test('mode=quarantine: genuine delivered, spoofs quarantined, malformed stored whole, every message accounted for', async (t) => {
  quarantine = await runPass(world, { mode: 'quarantine', messages: 240, connections: 5, warmup: 100, timeoutMs: 120_000 })
  tallyOk(t, quarantine)
  const spoof = quarantine.accounting.byKind.spoof!
  t.equal(spoof.quarantined, spoof.sent, 'every spoof quarantined')
  t.same(Object.keys(quarantine.accounting.verdicts.spoof), ['spoofed'], 'as spoofed')
  t.notOk(Object.keys(quarantine.accounting.refusals).some((k) => k.includes(' by plugin')), 'the plugin refused nothing: it may not in mode=quarantine')
  t.ok(quarantine.accounting.total.delivered > 0 && quarantine.accounting.total.quarantined > 0, 'both delivered and quarantined')
})

t.test('mode=reject: spoofs refused with 550 (or quarantined below the reject threshold), never delivered', async (t) => {
  const r = await runPass(world, { mode: 'reject', messages: 120, connections: 5, warmup: 50, timeoutMs: 120_000 })
  tallyOk(t, r)
  const spoof = r.accounting.byKind.spoof!
  t.equal(spoof.rejected + spoof.quarantined, spoof.sent, 'every spoof rejected or quarantined')
  t.ok(spoof.rejected > 0, `spoofs rejected: ${spoof.rejected}`)
  t.ok(Object.keys(r.accounting.refusals).some((k) => k.startsWith('end of DATA 550 by plugin')), 'by the plugin, with 550 at the end of DATA')
})

t.test('the accounting finds a lost, a doubled, a kept, a changed and an unknown message, by number', async (t) => {
  const base = { mode: quarantine.mode, templates: world.templates, plan: quarantine.raw.plan, token: quarantine.token, rejectMessage: REJECT_MESSAGE }
  const { copies, leftovers } = quarantine.raw.store
  const outcomes = quarantine.raw.outcomes
  const clean = account({ ...base, outcomes, store: { copies, leftovers } })
  t.same(clean.failures, [], 'the run as it was: nothing to find')

  const store = (c: Store['copies']): Store => ({ copies: c, leftovers })
  const lost = account({ ...base, outcomes, store: store(copies.slice(1)) })
  t.equal(lost.total.lost, 1, 'a copy taken away: lost')
  t.match(lost.failures.join('\n'), new RegExp(`stored nowhere \\(lost\\): 1 message\\(s\\), numbers ${copies[0]!.seqs[0]}\\b`))
  t.match(lost.failures.join('\n'), /delivered \d+ \+ quarantined \d+ \+ rejected \d+ \+ deferred \d+ != sent 240/)

  const doubled = account({ ...base, outcomes, store: store([...copies, { ...copies[3]!, file: `${copies[3]!.file}.again` }]) })
  t.equal(doubled.total.duplicated, 1, 'a copy stored twice: duplicated')
  t.match(doubled.failures.join('\n'), new RegExp(`stored 2 times .*numbers ${copies[3]!.seqs[0]}\\b`))

  const stored = copies[0]!.seqs[0]!
  const refusedOutcomes = outcomes.map((o, i) => (i === stored ? { stage: 'end of DATA' as const, code: 550, text: '5.7.1 refused' } : o))
  const kept = account({ ...base, outcomes: refusedOutcomes, store: store(copies) })
  t.equal(kept.total.keptAfterRefusal, 1, 'a message stored although the client heard 550: kept after refusal')
  t.match(kept.failures.join('\n'), new RegExp(`stored although refused with 550: 1 message\\(s\\), numbers ${stored}\\b`))

  const changed = account({ ...base, outcomes, store: store(copies.map((c, i) => (i === 5 ? { ...c, body: Buffer.concat([c.body ?? Buffer.alloc(0), Buffer.from('x')]) } : c))) })
  t.match(changed.failures.join('\n'), /body below the headers not stored as sent/, 'a changed body')

  const unknown = account({ ...base, outcomes: outcomes.map((o, i) => (i === 7 ? { stage: 'connection' as const, error: 'reset' } : o)), store: store(copies.filter((c) => c.seqs[0] !== 7)) })
  t.equal(unknown.total.unknown, 1, 'a connection lost in flight: unknown, not counted as delivered')
  t.match(unknown.failures.join('\n'), /connection failed in flight \(reset\): 1 message\(s\), numbers 7\b/)

  const foreign = account({ ...base, outcomes, store: store([...copies, { ...copies[0]!, file: 'stray', seqs: [] }]) })
  t.match(foreign.failures.join('\n'), /stored files without a number of this run: stray/, 'a file without a number')
  // a deferral: a fate only under DNS faults, only the plugin's DNS 451, never for a lookalike (its From is no brand's)
  const byVariant = (v: string): number => quarantine.raw.plan.findIndex((ti) => world.templates[ti]!.variant === v)
  const dnsDefer = { stage: 'end of DATA' as const, code: 451, text: `4.4.3 ${DNS_DEFER_TEXT}, try again later` }
  for (const [variant, dnsFaults, text, ok] of [
    ['dkim-signed', true, dnsDefer.text, true],
    ['wrong-ip', true, dnsDefer.text, true],
    ['dkim-signed', false, dnsDefer.text, false],
    ['lookalike', true, dnsDefer.text, false],
    ['wrong-ip', true, '4.3.0 something else', false],
  ] as const) {
    const i = byVariant(variant)
    const a = account({ ...base, dnsFaults, outcomes: outcomes.map((o, k) => (k === i ? { ...dnsDefer, text } : o)), store: store(copies.filter((c) => c.seqs[0] !== i)) })
    t.equal(a.total.deferred, 1, `${variant}, faults ${dnsFaults}, ${text}: deferred`)
    t.equal(a.failures.length === 0, ok, `${variant}, faults ${dnsFaults}, ${text}: ${ok ? 'a fate' : 'a failure'}${a.failures.length ? `: ${a.failures.join('; ')}` : ''}`)
  }

  const left = account({ ...base, outcomes, store: { copies, leftovers: ['/q/20260521/.x.abc.tmp'] } })
  t.match(left.failures.join('\n'), /unfinished files left in tmp\/: \.x\.abc\.tmp/, "a quarantine writer's temporary file left behind")
})

t.test('expectedBody: the part below the headers, LF endings, long lines cut as Haraka cuts them', async (t) => {
  t.equal(expectedBody(Buffer.from('A: 1\r\n\r\nline\r\n.dot\r\nend'))?.toString(), 'line\n.dot\nend\n', 'LF endings, a final line ending added')
  t.equal(expectedBody(Buffer.from('A: 1\r\nno body\r\n')), undefined, 'no empty line: no body to compare')
  const long = 'x'.repeat(2500)
  t.equal(expectedBody(Buffer.from(`A: 1\r\n\r\n${long}\r\n`))?.toString(), `${'x'.repeat(990)}\n ${'x'.repeat(989)}\n ${'x'.repeat(521)}\n`, 'cut after 990 bytes, continued after a space')
  t.equal(expectedBody(Buffer.from(`A: 1\r\n\r\n.${'y'.repeat(990)}\r\n`))?.toString(), `.${'y'.repeat(988)}\n ${'y'.repeat(2)}\n`, 'a leading dot counts as two bytes on the wire')
  t.equal(expectedBody(Buffer.from(`A: 1\r\n\r\n${'z'.repeat(990)}\r\n`))?.toString(), `${'z'.repeat(990)}\n`, 'a line of 990 bytes is not cut')
})
