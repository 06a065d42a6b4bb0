/**
 * The benchmark's own pieces, so that `npm run bench` cannot silently measure
 * nonsense: the loopback DNS server and the benchmark's DNS world, the SMTP load
 * generator (against a small SMTP sink started here), the generated and signed
 * notices (verified by mailauth), the statistics and the profile summary.
 *
 * Only 127.0.0.1 is contacted. Nothing here asserts how fast anything is.
 */
import dgram from 'node:dgram'
import { promises as dnsPromises } from 'node:dns'
import net from 'node:net'
import { dkimVerify } from 'mailauth'
import t from 'tap'

import { startDnsServer, txtStrings } from '../../dist/bench/lib/dns-server.js'
import { GROWTH_FLOOR_MS, HOSTILE_CASES, MAX_GROWTH, judge, measureHostile } from '../../dist/bench/lib/hostile.js'
import { SELECTOR, makeKey, notice, quotedPrintable, sign } from '../../dist/bench/lib/mail.js'
import { placeOf, summarize } from '../../dist/bench/lib/profile.js'
import { runLoad, stuff } from '../../dist/bench/lib/smtp-load.js'
import { fmt, percentile, rng, spread, zipf } from '../../dist/bench/lib/stats.js'
import { benchWorld } from '../../dist/bench/lib/zone.js'

const key = makeKey()

const resolverAt = (port: number, timeout = 1000): dnsPromises.Resolver => {
  const r = new dnsPromises.Resolver({ timeout, tries: 1 })
  r.setServers([`127.0.0.1:${port}`])
  return r
}

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p
    return undefined
  } catch (err) {
    return (err as NodeJS.ErrnoException).code
  }
}

t.test('DNS server: the benchmark world answers as a sending domain publishes', async (t) => {
  const dns = await startDnsServer({ zone: benchWorld({ dkimTxt: key.dkimTxt, clientIp: '127.0.0.1' }) })
  t.teardown(() => dns.close())
  const r = resolverAt(dns.port)

  const dkim = await r.resolveTxt(`${SELECTOR}._domainkey.shop.example`)
  t.same(dkim.map((parts) => parts.join('')), [key.dkimTxt], 'the DKIM key, split into character-strings and joined back')
  t.ok(dkim[0]!.every((s) => Buffer.byteLength(s) <= 255), 'no character-string longer than 255 bytes')
  t.same(await r.resolveTxt('_dmarc.shop.example'), [['v=DMARC1; p=reject']])
  t.same(await r.resolveTxt('shop.example'), [['v=spf1 ip4:127.0.0.1 -all']])
  t.same(await r.resolve4('shop.example'), ['127.0.0.1'])
  t.match(await r.resolveMx('shop.example'), [{ exchange: 'mx.shop.example', priority: 10 }])
  // (reverse() would answer from /etc/hosts: ask the server for the PTR itself)
  t.same(await r.resolve('1.0.0.127.in-addr.arpa', 'PTR'), ['localhost'])
  t.equal(await codeOf(r.resolveTxt('_mta-sts.shop.example')), 'ENOTFOUND', 'other underscore names do not exist')
  t.equal(await codeOf(r.resolveTxt('_dmarc.co.jp')), 'ENOTFOUND', 'no DMARC record at a public suffix (the tree walk asks)')
  t.equal(await codeOf(r.resolveTxt('co.jp')), 'ENOTFOUND', 'nor any record')
  t.same(await r.resolveTxt('_dmarc.shop.co.jp'), [['v=DMARC1; p=reject']])
  t.equal(await codeOf(r.resolveTxt('_domainkey.shop.example')), 'ENOTFOUND', 'no selector, no key')
  t.equal(await codeOf(r.resolve6('shop.example')), 'ENODATA', 'a name without records of the type: NODATA')
  t.equal(await codeOf(r.resolve('2.0.0.127.in-addr.arpa', 'PTR')), 'ENOTFOUND', 'other addresses have no PTR')

  t.equal(dns.stats.queries, 13, 'every question counted')
  t.equal(dns.stats.nxdomain, 5)
  t.same(dns.stats.byType, { TXT: 8, A: 1, MX: 1, PTR: 2, AAAA: 1 })
  dns.resetStats()
  t.equal(dns.stats.queries, 0, 'stats reset')
})

t.test('DNS server: malformed packets get FORMERR, delayed answers can be waited out, close stops it', async (t) => {
  const dns = await startDnsServer({ zone: () => ({ a: ['192.0.2.1'] }), delayMs: 5000 })
  const sock = dgram.createSocket('udp4')
  t.teardown(() => sock.close())
  const reply = new Promise<Buffer>((resolve) => sock.once('message', resolve))
  sock.send(Buffer.from([0x12, 0x34, 1, 0, 0, 0]), dns.port, '127.0.0.1')
  t.equal(await codeOf(resolverAt(dns.port, 200).resolve4('held.example')), 'ETIMEOUT', 'an answer held 5 s is not there within 200 ms')
  // the FORMERR is held back too; closing the server drops what is pending
  t.equal(dns.stats.malformed, 1, 'the short packet counted as malformed')
  t.equal(dns.stats.queries, 1, 'the held question counted')
  await dns.close()
  await dns.close()
  t.pass('close is safe twice')
  const quick = await startDnsServer({ zone: () => undefined })
  t.teardown(() => quick.close())
  sock.send(Buffer.from([0x12, 0x34, 1, 0, 0, 0]), quick.port, '127.0.0.1')
  const formerr = await reply
  t.equal(formerr.readUInt16BE(0), 0x1234, 'the reply carries the query id')
  t.equal(formerr.readUInt16BE(2) & 0x800f, 0x8001, 'a response, FORMERR')
})

t.test('txtStrings splits at 255 bytes, counting bytes not characters', async (t) => {
  t.same(txtStrings('short'), ['short'])
  const long = 'x'.repeat(600)
  t.same(
    txtStrings(long).map((s) => s.length),
    [255, 255, 90],
  )
  t.same(txtStrings(long).join(''), long)
})

// --------------------------------------------------------------------------- SMTP

interface Sink {
  readonly port: number
  readonly received: { from: string; data: string }[]
  readonly connections: number
  close(): Promise<void>
}

/**
 * A minimal SMTP server: 550 for RCPT to `refuse@…`, 451 at the end of DATA for a
 * message whose Subject is `defer`, and silence after DATA for `Subject: hang`.
 */
function startSink(): Promise<Sink> {
  const received: { from: string; data: string }[] = []
  let connections = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => {
    connections++
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.setEncoding('latin1')
    let buf = ''
    let inData = false
    let from = ''
    s.write('220 sink ready\r\n')
    s.on('data', (chunk: string) => {
      buf += chunk
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n')
          if (end < 0) return
          const data = buf.slice(0, end + 2).replace(/(^|\r\n)\.\./g, '$1.')
          buf = buf.slice(end + 5)
          inData = false
          if (/^Subject: hang$/m.test(data)) return
          received.push({ from, data })
          s.write(/^Subject: defer$/m.test(data) ? '451 4.3.0 try later\r\n' : '250 2.0.0 queued\r\n')
          continue
        }
        const i = buf.indexOf('\r\n')
        if (i < 0) return
        const line = buf.slice(0, i)
        buf = buf.slice(i + 2)
        const verb = line.slice(0, 4).toUpperCase()
        if (verb === 'EHLO') s.write('250-sink\r\n250 8BITMIME\r\n')
        else if (verb === 'MAIL') {
          from = /<([^>]*)>/.exec(line)?.[1] ?? ''
          s.write('250 ok\r\n')
        } else if (verb === 'RCPT') s.write(line.includes('refuse@') ? '550 5.1.1 no such user\r\n' : '250 ok\r\n')
        else if (verb === 'DATA') {
          inData = true
          s.write('354 go ahead\r\n')
        } else if (verb === 'RSET') s.write('250 ok\r\n')
        else if (verb === 'QUIT') s.end('221 bye\r\n')
        else s.write('500 what\r\n')
      }
    })
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        received,
        get connections() {
          return connections
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          }),
      })
    })
  })
}

const msg = (subject: string, body: string): Buffer => Buffer.from(`From: a@b.example\r\nSubject: ${subject}\r\n\r\n${body}`, 'latin1')

t.test('load generator: N messages over C connections, dot-stuffed, latencies per message', async (t) => {
  const sink = await startSink()
  t.teardown(() => sink.close())
  const messages = [
    { from: 'one@a.example', data: msg('first', '.leading dot\r\nplain\r\n..two dots\r\n.\r\nend') },
    { from: 'two@b.example', data: msg('second', 'no final newline') },
  ]
  const r = await runLoad({ port: sink.port, messages, count: 25, connections: 3, timeoutMs: 30_000 })
  t.equal(r.completed, 25)
  t.equal(r.accepted, 25)
  t.same(r.refused, {})
  t.same(r.errors, [])
  t.equal(r.timedOut, false)
  t.equal(r.latenciesMs.length, 25, 'one latency per message')
  t.ok([...r.latenciesMs].every((x) => x >= 0))
  t.equal(sink.connections, 3, 'three connections')
  t.equal(sink.received.length, 25)
  t.equal(sink.received.filter((m) => m.from === 'one@a.example').length, 13, 'the messages taken in turn')
  const first = sink.received.find((m) => m.from === 'one@a.example')!
  t.equal(first.data, `${messages[0]!.data.toString('latin1')}\r\n`, 'the sink gets the bytes back after un-stuffing')
  const second = sink.received.find((m) => m.from === 'two@b.example')!
  t.equal(second.data, `${messages[1]!.data.toString('latin1')}\r\n`, 'a missing final CRLF is added')
})

t.test('load generator: refusals are counted, a silent server ends at the time limit', async (t) => {
  const sink = await startSink()
  t.teardown(() => sink.close())
  const refused = await runLoad({ port: sink.port, messages: [{ from: 'x@a.example', data: msg('defer', 'x') }], count: 4, connections: 2, to: 'someone@recipient.example' })
  t.equal(refused.completed, 4)
  t.equal(refused.accepted, 0)
  t.same(refused.refused, { 'end of DATA 451': 4 })
  const rcpt = await runLoad({ port: sink.port, messages: [{ from: 'x@a.example', data: msg('ok', 'x') }], count: 3, connections: 1, to: 'refuse@recipient.example' })
  t.equal(rcpt.completed, 0)
  t.same(rcpt.refused, { 'RCPT 550': 3 })

  const hang = await runLoad({ port: sink.port, messages: [{ from: 'x@a.example', data: msg('hang', 'x') }], count: 5, connections: 2, timeoutMs: 300 })
  t.equal(hang.timedOut, true, 'bounded in time')
  t.equal(hang.completed, 0)

  try {
    await runLoad({ port: sink.port, host: '192.0.2.1', messages: [{ from: 'x@a.example', data: msg('x', 'x') }], count: 1, connections: 1 })
    t.fail('a non-loopback host must be refused')
  } catch (err) {
    t.match((err as Error).message, /not a loopback address/)
  }
})

t.test('load generator: a closed port is an error per connection, not a hang', async (t) => {
  const sink = await startSink()
  const port = sink.port
  await sink.close()
  const r = await runLoad({ port, messages: [{ from: 'x@a.example', data: msg('x', 'x') }], count: 2, connections: 2, timeoutMs: 10_000 })
  t.equal(r.completed, 0)
  t.equal(r.errors.length, 2)
})

t.test('stuff: dot-stuffing and the terminator', async (t) => {
  t.equal(stuff(Buffer.from('.a\r\nb\r\n.c')).toString(), '..a\r\nb\r\n..c\r\n.\r\n')
  t.equal(stuff(Buffer.from('plain\r\n')).toString(), 'plain\r\n.\r\n')
})

// --------------------------------------------------------------------------- mail

t.test('generated notices reach their size, and their DKIM signature verifies', async (t) => {
  const dns = await startDnsServer({ zone: benchWorld({ dkimTxt: key.dkimTxt, clientIp: '127.0.0.1' }) })
  t.teardown(() => dns.close())
  const r = resolverAt(dns.port)
  const resolver = (name: string, rrtype: string): Promise<unknown> => r.resolve(name, rrtype)
  for (const bytes of [6 * 1024, 60 * 1024]) {
    for (const lang of ['ja', 'en'] as const) {
      const raw = notice({ domain: 'shop.example', shop: 'テストショップ', lang, bytes, seq: 7 })
      t.ok(raw.length >= bytes && raw.length < bytes * 1.2, `${lang} ${bytes}: ${raw.length} bytes`)
      t.notOk(/[^\r]\n/.test(raw.toString('latin1')), 'CRLF only')
      const signed = await sign(raw, 'shop.example', key.privateKey)
      const res = await dkimVerify(signed, { resolver: resolver as never })
      t.equal(res.results?.[0]?.status.result, 'pass', `${lang} ${bytes}: dkim=pass`)
      t.equal(res.results?.[0]?.signingDomain, 'shop.example')
    }
  }
  const other = makeKey()
  const forged = await sign(notice({ domain: 'shop.example', shop: 'Shop', lang: 'en', bytes: 2000, seq: 1 }), 'shop.example', other.privateKey)
  const res = await dkimVerify(forged, { resolver: resolver as never })
  t.equal(res.results?.[0]?.status.result, 'fail', 'a signature by another key fails against the published one')
})

t.test('quotedPrintable: short lines, escapes, no split escape', async (t) => {
  const qp = quotedPrintable(`${'あ'.repeat(40)}\n= end `)
  for (const line of qp.split('\r\n')) t.ok(line.length <= 76, `line of ${line.length}`)
  t.notOk(/=[0-9A-F]?=\r?\n|=[0-9A-F]?$/m.test(qp.replace(/=\r\n/g, '\n')), 'no =XX cut by a soft break')
  const decoded = Buffer.from(
    qp
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
    'latin1',
  ).toString('utf8')
  t.equal(decoded, `${'あ'.repeat(40)}\r\n= end `)
})

// --------------------------------------------------------------------------- stats and profiles

t.test('statistics', async (t) => {
  t.equal(percentile([5, 1, 4, 2, 3], 0.5), 3)
  t.equal(percentile([5, 1, 4, 2, 3], 0.99), 5)
  t.equal(percentile(Float64Array.from({ length: 100 }, (_, i) => i + 1), 0.99), 99)
  t.ok(Number.isNaN(percentile([], 0.5)))
  t.same(spread([3, 1, 2]), { median: 2, min: 1, max: 3, n: 3 })
  t.same(spread([4, 1, 2, 3]), { median: 2.5, min: 1, max: 4, n: 4 })
  t.equal(fmt(spread([1, 2, 3]), 1, ' ms'), '2.0 ms (1.0-3.0)')
  t.equal(fmt(spread([]), 1), 'n/a')

  const a = rng(7)
  const b = rng(7)
  t.same([a(), a(), a()], [b(), b(), b()], 'the same seed, the same draws')
  const draw = zipf(100, 1, rng(3))
  const counts = new Array<number>(100).fill(0)
  for (let i = 0; i < 20_000; i++) counts[draw()]!++
  t.ok(counts[0]! > counts[9]! && counts[9]! > counts[99]!, 'rank 1 sends most, rank 100 least')
  t.ok(counts[0]! / 20_000 > 0.15 && counts[0]! / 20_000 < 0.25, `rank 1 sends about 19% (1/H(100)): ${counts[0]}`)
})

t.test('profile summary: self time by place and by function', async (t) => {
  const root = '/repo'
  const profile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 3, 4] },
      { id: 2, callFrame: { functionName: 'parse', url: 'file:///repo/node_modules/postal-mime/dist/x.js', lineNumber: 9 } },
      { id: 3, callFrame: { functionName: 'decide', url: 'file:///repo/dist/src/scan.js', lineNumber: 55 } },
      { id: 4, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1 } },
    ],
    startTime: 0,
    endTime: 10_000,
    samples: [2, 2, 3, 4, 2],
    timeDeltas: [1000, 1000, 2000, 500, 1000],
  }
  const s = summarize(profile, root)
  t.equal(s.totalMs, 5.5)
  t.same(
    s.byPlace.map((r) => [r.name, r.ms]),
    [
      ['postal-mime', 3],
      ['dist/src/scan.js', 2],
      ['(gc)', 0.5],
    ],
  )
  t.equal(s.byFunction[0]!.name, 'parse postal-mime/dist/x.js:10')
  t.equal(placeOf('file:///repo/node_modules/@scope/pkg/a.js', root), '@scope/pkg')
  t.equal(placeOf('node:internal/blob', root), 'node:internal')
})

// --------------------------------------------------------------------------- what-if

t.test('what-if library fixes: the same parsed facts and DKIM results, only faster', async (t) => {
  const { readMessage } = await import('../../dist/src/message/parse.js')
  const { applyLibraryFixes, joinChunks } = await import('../../dist/bench/lib/what-if.js')
  t.same(
    [...new Uint8Array(joinChunks([new Uint8Array([1, 2]).buffer, 'é', new Uint8Array([9, 8, 7]).subarray(1)]))],
    [1, 2, 0xc3, 0xa9, 8, 7],
    'chunks joined as a Blob joins them',
  )
  const dns = await startDnsServer({ zone: benchWorld({ dkimTxt: key.dkimTxt, clientIp: '127.0.0.1' }) })
  t.teardown(() => dns.close())
  const r = resolverAt(dns.port)
  const resolver = (name: string, rrtype: string): Promise<unknown> => r.resolve(name, rrtype)
  const signed = await sign(notice({ domain: 'shop.example', shop: 'ショップ', lang: 'ja', bytes: 4000, seq: 3 }), 'shop.example', key.privateKey)
  const attachment = Buffer.from(
    [
      'From: a@shop.example',
      'Subject: =?UTF-8?B?44GU5rOo5paH?=',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=ISO-2022-JP',
      'Content-Transfer-Encoding: 7bit',
      '',
      '\x1b$B$3$s$K$A$O\x1b(B',
      '--b',
      'Content-Type: application/pdf; name="invoice.pdf"',
      'Content-Disposition: attachment; filename="invoice.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4 not really').toString('base64'),
      '--b--',
      '',
    ].join('\n'),
    'latin1',
  )
  const inputs = [signed, Buffer.from(signed.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'), attachment, Buffer.from('\r\nbody only'), Buffer.from('Subject: no body')]
  const snapshot = async (): Promise<string> => {
    const out: unknown[] = []
    for (const raw of inputs) {
      out.push(await readMessage(raw, 1 << 20))
      const res = await dkimVerify(raw, { resolver: resolver as never })
      out.push(res.results?.map((x) => [x.status.result, x.signingDomain, x.status.comment]), res.headerFrom)
    }
    return JSON.stringify(out)
  }
  const before = await snapshot()
  applyLibraryFixes()
  const after = await snapshot()
  t.equal(after, before, 'identical facts and results with the fixes applied')
  t.match(before, /"pass","shop.example"/, 'the signed notice passes both ways')
})

t.test('hostile inputs: what fails the benchmark', async (t) => {
  // judged from given times (no clock here): over the bound, or more than MAX_GROWTH times slower for four times the input
  const c = { boundMs: 100 }
  t.same(judge(c, 10, 40), { growth: 4, failures: [] }, 'linear')
  t.equal(judge(c, 10, 160).failures.length, 2, 'quadratic and over the bound')
  t.match(judge(c, 2, 32).failures, [/4x the input took 16\.0x the time/], 'quadratic within the bound')
  t.match(judge(c, 1, 101).failures, [/101\.0 ms at n, over its bound of 100 ms/, /took/], 'over the bound')
  t.same(judge(c, 0.01, GROWTH_FLOOR_MS - 0.1), { growth: undefined, failures: [] }, 'too fast to judge its growth')
  t.same(judge(c, 0, GROWTH_FLOOR_MS).growth, MAX_GROWTH, 'the time at n/4 is floored')
  // a wrong answer fails whatever the time
  const [r] = measureHostile(1, [{ group: 'finders', name: 'wrong', n: 8, input: (n) => 'x'.repeat(n), run: (s) => s.length, want: () => 0, boundMs: 1000 }])
  t.match(r, { sizes: [2, 8], chars: [2, 8], failures: [/a wrong answer at size 2: 2/, /a wrong answer at size 8: 8/] })
  // every shipped case is named once, and its answer at a small size is the one it wants
  t.equal(new Set(HOSTILE_CASES.map((c) => c.name)).size, HOSTILE_CASES.length)
  for (const h of HOSTILE_CASES) t.same(h.run(h.input(40)), h.want(40), `${h.group}: ${h.name} at size 40`)
})
