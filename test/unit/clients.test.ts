/**
 * docs/examples/shop-notice.sieve, the Sieve script of docs/clients.md, run
 * against messages carrying each verdict as the plugin writes it (formatVerdict),
 * and against forged-looking variants: folded, upper-case, several copies.
 *
 * The interpreter is test/helpers/sieve.ts (RFC 5228 + fileinto + imap4flags;
 * its own tests are below). When Dovecot's `sieve-test` (Debian: dovecot-sieve)
 * is installed, every case is also run through it and both must agree; on a
 * machine with only `npm ci` that part is skipped, saying so.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'

import { formatVerdict } from '../../dist/src/verdict/headers.js'
import type { Verdict } from '../../dist/src/verdict/score.js'
import { type SieveResult, SieveError, messageOf, parseSieve, runSieve } from '../helpers/sieve'

const ROOT = path.resolve(__dirname, '..', '..')
const SCRIPT_FILE = path.join(ROOT, 'docs', 'examples', 'shop-notice.sieve')
const SCRIPT = fs.readFileSync(SCRIPT_FILE, 'utf8')

const JUNK = 'Junk'
const INBOX = 'INBOX'

const message = (headers: readonly string[]): string =>
  [
    'Return-Path: <bounce@shop.example>',
    ...headers,
    'From: TestShop <order@shop.example>',
    'To: customer@recipient.example',
    'Subject: Your order confirmation',
    'Message-ID: <sieve.1@test.example>',
    '',
    'Thank you for your order.',
    '',
  ].join('\r\n')

/** X-Shop-Notice exactly as the plugin writes it. */
const verdictHeader = (verdict: Verdict, brand?: string): string =>
  `X-Shop-Notice: ${formatVerdict({
    verdict,
    brand,
    kind: brand ? 'order' : undefined,
    score: verdict === 'spoofed' ? 16 : verdict === 'suspicious' ? 6 : verdict === 'verified' ? -4 : 0,
    hits: verdict === 'spoofed' ? [{ symbol: 'AUTH_DMARC_FAIL_ENFORCED' }, { symbol: 'BRAND_NOT_AUTHENTICATED' }] as never : [],
  })}`

/** X-Shop-Notice of a notice with these signals, as the plugin writes it. */
const withSignals = (verdict: Verdict, brand: string | undefined, symbols: string[]): string =>
  `X-Shop-Notice: ${formatVerdict({ verdict, brand, kind: 'order', score: verdict === 'verified' ? -4 : 0, hits: symbols.map((symbol) => ({ symbol })) as never })}`

/** X-Shop-Notice-Released as `shop-notice quarantine release` writes it (docs/operations.md). */
const RELEASED = 'X-Shop-Notice-Released: by=alice; at=Sat, 21 Nov 2026 14:05:13 +0000; id=F92D934C-A81D-49C1-8296-6079E166B43F.1; token=6baba86b0c2f4d1e8a7b6c5d4e3f2a1b'

interface Case {
  readonly name: string
  readonly headers: readonly string[]
  readonly want: SieveResult['deliveries']
}

const inbox = (...flags: string[]) => [{ mailbox: INBOX, flags }]
const CASES: readonly Case[] = [
  { name: 'none', headers: [verdictHeader('none')], want: inbox() },
  { name: 'notice', headers: [verdictHeader('notice', 'testshop')], want: inbox() },
  { name: 'verified: flagged, in the inbox', headers: [verdictHeader('verified', 'testshop')], want: inbox('$VerifiedNotice') },
  { name: 'suspicious: Junk', headers: [verdictHeader('suspicious', 'testshop')], want: [{ mailbox: JUNK, flags: [] }] },
  { name: 'spoofed: Junk, $Phishing, never the inbox', headers: [verdictHeader('spoofed', 'testshop')], want: [{ mailbox: JUNK, flags: ['$Phishing'] }] },
  { name: 'error: the inbox, untouched', headers: [verdictHeader('error')], want: inbox() },
  { name: 'no X-Shop-Notice', headers: [], want: inbox() },
  {
    name: 'spoofed, folded and in other case',
    headers: ['x-shop-notice: SPOOFED;', '\tbrand=testshop; kind=order;', '  score=16; signals=AUTH_NONE'],
    want: [{ mailbox: JUNK, flags: ['$Phishing'] }],
  },
  { name: 'verified in capitals', headers: ['X-SHOP-NOTICE:   VERIFIED; brand=testshop; kind=order; score=-4; signals=-'], want: inbox('$VerifiedNotice') },
  { name: 'a bare verdict token', headers: ['X-Shop-Notice: suspicious'], want: [{ mailbox: JUNK, flags: [] }] },
  {
    name: 'a forged "verified" beside the real "spoofed": the worst wins',
    headers: [verdictHeader('verified', 'testshop'), verdictHeader('spoofed', 'testshop')],
    want: [{ mailbox: JUNK, flags: ['$Phishing'] }],
  },
  {
    name: '"verified" beside "none": not flagged',
    headers: [verdictHeader('none'), verdictHeader('verified', 'testshop')],
    want: inbox(),
  },
  {
    name: 'verified, another addressee: checked',
    headers: [withSignals('verified', 'testshop', ['AUTH_DMARC_PASS', 'BRAND_AUTHENTICATED', 'NOTICE_OTHER_ADDRESSEE'])],
    want: inbox('$VerifiedNotice', '$CheckNotice'),
  },
  {
    name: 'verified, first contact carrying personal data: checked',
    headers: [withSignals('verified', 'testshop', ['AUTH_DMARC_PASS', 'BRAND_AUTHENTICATED', 'NOTICE_FIRST_CONTACT', 'NOTICE_PERSONAL_DATA'])],
    want: inbox('$VerifiedNotice', '$CheckNotice'),
  },
  {
    name: 'verified, first contact alone: not checked',
    headers: [withSignals('verified', 'testshop', ['AUTH_DMARC_PASS', 'BRAND_AUTHENTICATED', 'NOTICE_FIRST_CONTACT'])],
    want: inbox('$VerifiedNotice'),
  },
  {
    name: 'verified, personal data alone: not checked',
    headers: [withSignals('verified', 'testshop', ['NOTICE_PERSONAL_DATA', 'BRAND_AUTHENTICATED'])],
    want: inbox('$VerifiedNotice'),
  },
  {
    name: 'a shop outside the registry (notice), another addressee first in the list: checked',
    headers: [withSignals('notice', undefined, ['NOTICE_OTHER_ADDRESSEE', 'AUTH_DMARC_PASS'])],
    want: inbox('$CheckNotice'),
  },
  {
    name: 'spoofed with the same signals: Junk, not checked',
    headers: [withSignals('spoofed', 'testshop', ['BRAND_NOT_AUTHENTICATED', 'NOTICE_OTHER_ADDRESSEE'])],
    want: [{ mailbox: JUNK, flags: ['$Phishing'] }],
  },
  {
    name: 'a look-alike signal name is not the signal',
    headers: ['X-Shop-Notice: verified; brand=testshop; kind=order; score=-4; signals=BRAND_AUTHENTICATED,NOTICE_OTHER_ADDRESSEES,XNOTICE_FIRST_CONTACT,NOTICE_PERSONAL_DATA'],
    want: inbox('$VerifiedNotice'),
  },
  { name: 'a look-alike verdict is no verdict', headers: ['X-Shop-Notice: spoofedness; brand=-'], want: inbox() },
  { name: 'a look-alike header name is not ours', headers: ['X-Shop-Notice-Copy: spoofed; brand=testshop', 'X-Old-Shop-Notice: verified'], want: inbox() },
  {
    name: 'released by an admin while spoofed: the inbox, not Junk, no $Phishing (docs/operations.md)',
    headers: [RELEASED, verdictHeader('spoofed', 'testshop')],
    want: inbox(),
  },
  { name: 'released while suspicious: the inbox', headers: [verdictHeader('suspicious', 'testshop'), RELEASED], want: inbox() },
  {
    name: 'released, the header folded and in other case: the inbox',
    headers: ['x-shop-notice-released: by=alice;', '	at=Sat, 21 Nov 2026 14:05:13 +0000; id=A.1; token=00', verdictHeader('spoofed', 'testshop')],
    want: inbox(),
  },
  { name: 'a look-alike of the release header does not release', headers: ['X-Shop-Notice-Released-Copy: by=alice', verdictHeader('spoofed', 'testshop')], want: [{ mailbox: JUNK, flags: ['$Phishing'] }] },
  { name: 'an encoded-word is decoded first (RFC 5228 §5.7)', headers: ['X-Shop-Notice: =?UTF-8?B?c3Bvb2ZlZDsgYnJhbmQ9dGVzdHNob3A=?='], want: [{ mailbox: JUNK, flags: ['$Phishing'] }] },
]

const script = parseSieve(SCRIPT)

t.test('the shipped script, message by message', async (t) => {
  for (const c of CASES) {
    const r = runSieve(script, messageOf(message(c.headers)))
    t.same(r.deliveries, c.want, c.name)
    t.notOk(r.discarded, `${c.name}: nothing is discarded`)
    if (c.want.every((d) => d.mailbox !== INBOX)) t.notOk(r.deliveries.some((d) => d.mailbox === INBOX), `${c.name}: never the inbox`)
  }
})

t.test('docs/clients.md shows the shipped script, whole', async (t) => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'clients.md'), 'utf8')
  const blocks = [...doc.matchAll(/```sieve\n([\s\S]*?)```/g)].map((m) => m[1])
  t.ok(blocks.includes(SCRIPT), 'the ```sieve block is docs/examples/shop-notice.sieve')
})

/** Dovecot Pigeonhole's own interpreter, when installed (it refuses to run as root: then as nobody). */
function dovecot(): ((file: string) => SieveResult['deliveries']) | undefined {
  const which = spawnSync('sh', ['-c', 'command -v sieve-test'], { encoding: 'utf8' })
  const bin = which.stdout.trim()
  if (which.status !== 0 || !bin) return undefined
  const asRoot = process.getuid?.() === 0
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-sieve-'))
  fs.chmodSync(dir, 0o755)
  const scriptCopy = path.join(dir, 'shop-notice.sieve')
  fs.copyFileSync(SCRIPT_FILE, scriptCopy)
  fs.chmodSync(scriptCopy, 0o644)
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return (file) => {
    fs.chmodSync(file, 0o644)
    const args = ['-o', `mail_home=${dir}`, '-o', `sieve_dir=${dir}`, scriptCopy, file]
    const r = asRoot ? spawnSync('runuser', ['-u', 'nobody', '--', bin, ...args], { encoding: 'utf8' }) : spawnSync(bin, args, { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`sieve-test failed (${r.status}): ${r.stderr}${r.stdout}`)
    const out: { mailbox: string; flags: string[] }[] = []
    for (const line of r.stdout.split('\n')) {
      const store = /^\s*\* store message in folder: (.+)$/.exec(line)
      if (store) out.push({ mailbox: store[1]!.trim(), flags: [] })
      const flags = /^\s*\+ add IMAP flags: (.+)$/.exec(line)
      if (flags && out.length) out[out.length - 1]!.flags = flags[1]!.trim().split(/\s+/)
    }
    return out
  }
}

const pigeonhole = dovecot()
const skipDovecot = pigeonhole ? false : 'sieve-test (Debian: dovecot-sieve) is not installed: only the interpreter in test/helpers ran'
t.test("Dovecot's sieve-test agrees, when installed", { skip: skipDovecot }, async (t) => {
  const run = pigeonhole!
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-sieve-msg-'))
  fs.chmodSync(dir, 0o755)
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  CASES.forEach((c, i) => {
    const file = path.join(dir, `${i}.eml`)
    fs.writeFileSync(file, message(c.headers))
    t.same(run(file), c.want, `${c.name} (Dovecot)`)
  })
})

// ---------------------------------------------------------------- the interpreter itself

t.test('interpreter: RFC 5228 basics', async (t) => {
  const msg = messageOf(message(['X-Spam: Yes', 'Keywords: nonsense, strange, testing', 'Subject: Frobnitzm']))
  const run = (src: string) => runSieve(parseSieve(src), msg).deliveries
  t.same(run('keep;'), inbox(), 'keep')
  t.same(run('# nothing\n/* at\nall */'), inbox(), 'implicit keep')
  t.same(run('require "fileinto"; fileinto "A"; fileinto "A";'), [{ mailbox: 'A', flags: [] }], 'fileinto cancels the implicit keep; one delivery per mailbox')
  t.same(runSieve(parseSieve('discard;'), msg), { deliveries: [], discarded: true }, 'discard')
  t.same(runSieve(parseSieve('if header :contains "keywords" "STRANGE" { discard; }'), msg).discarded, true, ':contains, case folded (i;ascii-casemap)')
  t.same(run('if header :comparator "i;octet" :contains "keywords" "STRANGE" { discard; }'), inbox(), 'i;octet does not fold case')
  t.same(run('if header :comparator "i;octet" :contains "keywords" "strange" { discard; }'), [], 'i;octet, same case')
})

t.test('interpreter: match types, control flow, flags', async (t) => {
  const msg = messageOf(message(['Keywords: nonsense, strange, testing', 'X-Two: a', 'X-Two: b']))
  const run = (src: string) => runSieve(parseSieve(`require ["fileinto", "imap4flags"];\n${src}`), msg).deliveries
  const where = (src: string) => run(src).map((d) => d.mailbox)
  t.same(where('if header :matches "Keywords" "*, strange, *" { fileinto "M"; }'), ['M'], ':matches with *')
  t.same(where('if header :matches "Keywords" "nonsens?, *" { fileinto "M"; }'), ['M'], ':matches with ?')
  t.same(where('if header :matches "Keywords" "nonsense" { fileinto "M"; }'), [INBOX], ':matches is anchored')
  t.same(where('if header :is "X-Two" "b" { fileinto "B"; }'), ['B'], 'any occurrence of a header')
  t.same(where('if header "Keywords" "nonsense, strange, testing" { fileinto "IS"; }'), ['IS'], ':is is the default')
  t.same(where('if header :matches "Keywords" "\\\\*" { fileinto "X"; } else { fileinto "E"; }'), ['E'], 'an escaped * is a star')
  t.same(where('if false { fileinto "1"; } elsif true { fileinto "2"; } else { fileinto "3"; }'), ['2'], 'elsif')
  t.same(where('if anyof (false, not exists "X-None") { fileinto "Y"; }'), ['Y'], 'anyof, not, exists')
  t.same(where('if allof (true, exists ["X-Two", "X-None"]) { fileinto "N"; }'), [INBOX], 'exists needs every header')
  t.same(where('if size :over 1K { fileinto "Big"; } fileinto "After"; stop; fileinto "Never";'), ['After'], 'size, stop')
  t.same(run('setflag "\\\\Seen a"; addflag ["b", "A"]; removeflag "a"; keep;'), inbox('\\Seen', 'b'), 'setflag, addflag, removeflag')
  t.same(run('addflag "x"; fileinto :flags "y" "F";'), [{ mailbox: 'F', flags: ['y'] }], ':flags replaces the internal flags for that action')
  t.same(run('addflag "x";'), inbox('x'), 'the implicit keep takes the internal flags')
  t.same(run('if true { fileinto text:\nMulti\n.\n; }'), [{ mailbox: 'Multi\r\n', flags: [] }], 'text: strings')
})

t.test('interpreter: errors, never a silent pass', async (t) => {
  const msg = messageOf(message([]))
  const bad: [string, RegExp][] = [
    ['fileinto "Junk";', /fileinto needs require "fileinto"/],
    ['addflag "x";', /addflag needs require "imap4flags"/],
    ['require "vacation";', /unsupported capability "vacation"/],
    ['require "fileinto"; fileinto :create "Junk";', /:create needs require "mailbox"/],
    ['redirect "a@b.example";', /unknown command redirect/],
    ['if envelope "from" "x" { keep; }', /unknown test envelope/],
    ['else { keep; }', /else without if/],
    ['if true keep;', /true takes no test/],
    ['if header :regex "a" "b" { keep; }', /unknown tag :regex/],
    ['keep', /expected "\{"|expected ";"/],
    ['if header :comparator "i;unicode-casemap" "a" "b" { keep; }', /unknown comparator i;unicode-casemap/],
    ['"x";', /expected a command/],
    ['if true { keep; } require "fileinto";', /require must come first/],
  ]
  for (const [src, re] of bad) {
    let err: unknown
    try {
      runSieve(parseSieve(src), msg)
    } catch (e) {
      err = e
    }
    t.type(err, SieveError, src)
    t.match((err as Error)?.message, re, src)
  }
})
