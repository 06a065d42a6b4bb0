/**
 * Hostile inputs: the texts that made earlier readers and finders slow (backtracking
 * regexes, a rescan per tag, a name looked for at every offset). One list, used twice:
 *
 * - the tests (test/unit/html.test.ts, linear.test.ts, addressee.test.ts,
 *   registry.test.ts) run each case at its size `n` and assert its answer only (`want`):
 *   right output, no throw; a hang fails there through tap's timeout;
 * - `npm run bench` (part `hostile`) runs each at n/4 and n (at least 5 rounds, the least kept),
 *   prints CPU ms and sizes, and fails when a case at n takes more than its `boundMs`, or when
 *   it grows faster than linearly (more than `MAX_GROWTH` times the time at n/4 for four times
 *   the input).
 *
 * Speed is a benchmark's business, not a test's: a timed assertion fails on a busy machine.
 */
import fs from 'node:fs'
import path from 'node:path'
import { isDeepStrictEqual } from 'node:util'

import YAML from 'yaml'

import { parsePhrases } from '../../src/knowledge/phrases.js'
import { brandsBySenderName, parseRegistry, type Registry } from '../../src/knowledge/registry.js'
import { readAddressee } from '../../src/message/addressee.js'
import { addressDomainIn, firstHost, orderIdIn, splitStructured, trimEnd } from '../../src/message/find.js'
import { readHtml } from '../../src/message/html.js'
import { extractLinks } from '../../src/message/parse.js'

export interface HostileCase {
  /** the reader or finder under attack, as the tests group them */
  readonly group: 'html' | 'finders' | 'addressee' | 'sender names'
  readonly name: string
  /** the size at which the tests run it and the bench bounds it (repetitions of the hostile piece) */
  readonly n: number
  /** the hostile input of size `n` */
  readonly input: (n: number) => string
  /** what is measured: the reader or finder on the input, its answer */
  readonly run: (input: string) => unknown
  /** the right answer at size `n` (deep-equal); the bench checks it too, so that it never times a wrong answer */
  readonly want: (n: number) => unknown
  /** CPU ms at `n` above which the bench fails: tens of times what a linear reader takes, far below a quadratic one */
  readonly boundMs: number
}

/** Four times the input may take at most this many times as long (linear: about 4; quadratic: 16). */
export const MAX_GROWTH = 8
/** Below this (CPU ms at n), growth is not judged: timer resolution and GC noise dominate. */
export const GROWTH_FLOOR_MS = 5

const PKG_ROOT = path.resolve(__dirname, '..', '..', '..')

let senderWorld: { registry: Registry; roles: ReadonlySet<string> } | undefined
/** A registry with one brand known by a sender name (AAA), and the shipped role words. */
function senderNames(): { registry: Registry; roles: ReadonlySet<string> } {
  if (!senderWorld) {
    const raw = {
      retailers: {
        amazon: { names: ['Amazon', 'アマゾン'], sending_domains: ['amazon.co.jp', 'amazon.com'] },
        aaa: { names: ['American Automobile Association'], sender_names: ['AAA'], sending_domains: ['aaa.com'] },
      },
    }
    const phrases = YAML.parse(fs.readFileSync(path.join(PKG_ROOT, 'config', 'shop-notice.phrases.yaml'), 'utf8'))
    senderWorld = { registry: parseRegistry(raw, 'hostile-registry').value, roles: parsePhrases(phrases, 'phrases').value.sender_role_words }
  }
  return senderWorld
}

/** What the HTML reader makes of a page: its links (host and text shown) and the text a reader sees (tags are spaces: trimmed). */
const readPage = (html: string): { links: unknown[]; text: string } => ({
  links: extractLinks(html, '').map((l) => [l.host, l.text ?? null]),
  text: readHtml(html, () => true).trim(),
})

const N = 200_000

export const HOSTILE_CASES: readonly HostileCase[] = [
  // HTML (src/message/html.ts, htmlparser2): nothing a reader sees, no link without an end
  { group: 'html', name: 'unclosed tags', n: N, input: (n) => '<a'.repeat(n), run: readPage, want: () => ({ links: [], text: '' }), boundMs: 3000 },
  { group: 'html', name: 'unclosed style', n: N, input: (n) => '<style<style'.repeat(n / 2), run: readPage, want: () => ({ links: [], text: '' }), boundMs: 3000 },
  { group: 'html', name: 'anchors without an end', n: N, input: (n) => '<a href=x>'.repeat(n / 2), run: readPage, want: () => ({ links: [], text: '' }), boundMs: 3000 },
  { group: 'html', name: 'forms inside an anchor', n: N, input: (n) => `<a href=x>${'<form action=y>'.repeat(n / 4)}`, run: readPage, want: () => ({ links: [], text: '' }), boundMs: 3000 },
  { group: 'html', name: 'comments', n: N, input: (n) => '<!--'.repeat(n), run: readPage, want: () => ({ links: [], text: '' }), boundMs: 3000 },
  { group: 'html', name: 'entities', n: N, input: (n) => '&amp'.repeat(n), run: readPage, want: (n) => ({ links: [], text: '&'.repeat(n) }), boundMs: 3000 },

  // the finders of src/message/find.ts, on the inputs that made the old regexes slow
  { group: 'finders', name: 'firstHost', n: N, input: (n) => `0${'ST'.repeat(n)}\0`, run: firstHost, want: () => undefined, boundMs: 2000 },
  { group: 'finders', name: 'firstHost, one long run', n: N, input: (n) => 'a.'.repeat(n), run: firstHost, want: () => undefined, boundMs: 2000 },
  { group: 'finders', name: 'addressDomainIn', n: N, input: (n) => '.%'.repeat(n), run: addressDomainIn, want: () => undefined, boundMs: 2000 },
  // one suffix lookup per @ (about 10 µs): linear, with a larger constant
  { group: 'finders', name: 'addressDomainIn, many @', n: N / 10, input: (n) => 'a@b.'.repeat(n), run: addressDomainIn, want: () => undefined, boundMs: 2000 },
  { group: 'finders', name: 'orderIdIn', n: N, input: (n) => `${'A'.repeat(n)}\0`, run: (s) => orderIdIn(s, 0, s.length - 1), want: () => undefined, boundMs: 2000 },
  { group: 'finders', name: 'orderIdIn, many short tokens', n: N, input: (n) => 'a-'.repeat(n), run: (s) => orderIdIn(s, 0, s.length), want: () => undefined, boundMs: 2000 },
  { group: 'finders', name: 'splitStructured', n: N, input: (n) => '('.repeat(n), run: splitStructured, want: () => [''], boundMs: 2000 },
  { group: 'finders', name: 'trimEnd', n: N, input: (n) => `${'!'.repeat(n)}\0!`, run: (s) => trimEnd(s, '!'), want: (n) => `${'!'.repeat(n)}\0`, boundMs: 2000 },

  // the addressee reader (src/message/addressee.ts): long lines after a label
  {
    group: 'addressee',
    name: 'a label, then long lines of tokens',
    n: 50_000,
    input: (n) => `お届け先 ${'1 '.repeat(n)}\n${'a '.repeat(n)}Street`,
    run: (s) => readAddressee(s),
    want: () => ({ names: [], personal: [] }),
    boundMs: 2000,
  },

  // sender names (src/knowledge/registry.ts brandsBySenderName): a header can be long
  { group: 'sender names', name: 'the name repeated, a business word at the end', n: 50_000, input: (n) => `${'AAA '.repeat(n)}Plumbing`, run: bySender, want: () => [], boundMs: 2000 },
  { group: 'sender names', name: 'the name repeated beside role words', n: 25_000, input: (n) => 'AAA Support '.repeat(n), run: bySender, want: () => [], boundMs: 2000 },
  { group: 'sender names', name: 'role words, the name once at the end', n: 40_000, input: (n) => `${'Support '.repeat(n)}AAA`, run: bySender, want: () => ['aaa'], boundMs: 2000 },
]

function bySender(displayName: string): string[] {
  const { registry, roles } = senderNames()
  return brandsBySenderName(registry, displayName, roles).map((b) => b.id)
}

export interface HostileResult {
  readonly group: string
  readonly name: string
  /** the sizes measured (n/4 and n) and the input's length in UTF-16 units at each */
  readonly sizes: readonly [number, number]
  readonly chars: readonly [number, number]
  /** CPU ms of one run at each size (a mean over repeats when short), the least of the rounds */
  readonly ms: readonly [number, number]
  readonly boundMs: number
  /** ms at n over ms at n/4 (undefined below GROWTH_FLOOR_MS) */
  readonly growth: number | undefined
  /** why the case fails the benchmark: a wrong answer, over its bound, super-linear */
  readonly failures: readonly string[]
}

const cpuMs = (start: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(start)
  return (d.user + d.system) / 1000
}

/** Judges one case from its times: the bound at n, and the growth from n/4 to n. */
export function judge(c: Pick<HostileCase, 'boundMs'>, msQuarter: number, msFull: number): { growth: number | undefined; failures: string[] } {
  const failures: string[] = []
  if (msFull > c.boundMs) failures.push(`${msFull.toFixed(1)} ms at n, over its bound of ${c.boundMs} ms`)
  // the time at n/4 is floored, so that a case too fast to time at n/4 is not judged on noise
  const growth = msFull >= GROWTH_FLOOR_MS ? msFull / Math.max(msQuarter, GROWTH_FLOOR_MS / MAX_GROWTH) : undefined
  if (growth !== undefined && growth > MAX_GROWTH) failures.push(`4x the input took ${growth.toFixed(1)}x the time (linear: about 4; at most ${MAX_GROWTH})`)
  return { growth, failures }
}

/** A run repeated until it has taken this much CPU in all (at most MAX_REPEATS runs): short runs are timed as a mean */
const TIMED_MS = 20
const MAX_REPEATS = 50
/** Rounds at least: the least of them is the figure, so that one GC pause or a busy core does not fail the bench */
export const MIN_ROUNDS = 5

/**
 * Runs every case at n/4 and n, `rounds` times each (at least MIN_ROUNDS, rounds alternating between the
 * sizes), after one warm-up run; a round repeats a short run until TIMED_MS and takes the mean. Keeps the
 * least CPU time of the rounds, which is the least disturbed by other work on the machine.
 */
export function measureHostile(rounds: number, cases: readonly HostileCase[] = HOSTILE_CASES): HostileResult[] {
  return cases.map((c) => {
    const sizes = [Math.round(c.n / 4), c.n] as const
    const inputs = sizes.map((n) => c.input(n))
    const wrong = new Set<string>()
    const best = [Infinity, Infinity]
    c.run(inputs[0]!) // warm-up: compiled code, lazily built tables
    for (let r = 0; r < Math.max(MIN_ROUNDS, rounds); r++) {
      for (const i of [0, 1]) {
        const start = process.cpuUsage()
        let runs = 0
        do {
          const got = c.run(inputs[i]!)
          if (runs === 0 && !isDeepStrictEqual(got, c.want(sizes[i]!))) wrong.add(`a wrong answer at size ${sizes[i]}: ${JSON.stringify(got)?.slice(0, 120)}`)
          runs++
        } while (runs < MAX_REPEATS && cpuMs(start) < TIMED_MS)
        best[i] = Math.min(best[i]!, cpuMs(start) / runs)
      }
    }
    const { growth, failures } = judge(c, best[0]!, best[1]!)
    return {
      group: c.group,
      name: c.name,
      sizes,
      chars: [inputs[0]!.length, inputs[1]!.length],
      ms: [best[0]!, best[1]!],
      boundMs: c.boundMs,
      growth,
      failures: [...wrong, ...failures],
    }
  })
}
