import t from 'tap'

import { authservIdOf, headerSafe } from '../../dist/src/auth/results.js'
import { formatVerdict } from '../../dist/src/verdict/headers.js'
import { formatAuthResults, isOurAuthResults } from '../../dist/src/auth/results.js'

t.test('formatVerdict follows INTERFACE.md exactly', async (t) => {
  t.equal(formatVerdict({ verdict: 'none', score: 0, hits: [] }), 'none; brand=-; kind=-; score=0; signals=-')
  t.equal(
    formatVerdict({
      verdict: 'spoofed',
      brand: 'amazon',
      kind: 'gift-card',
      score: 12.345,
      hits: [
        { symbol: 'BRAND_NOT_AUTHENTICATED', options: ['amazon'] },
        { symbol: 'AUTH_NONE', options: [] },
        { symbol: 'AUTH_NONE', options: [] },
      ],
    }),
    'spoofed; brand=amazon; kind=gift-card; score=12.35; signals=BRAND_NOT_AUTHENTICATED,AUTH_NONE',
  )
  t.equal(formatVerdict({ verdict: 'verified', brand: 'x; evil=1\r\nBcc: y', score: -4, hits: [] }), 'verified; brand=-; kind=-; score=-4; signals=-', 'a brand that is not a token is never written')
})

t.test('formatAuthResults: printable ASCII, folded between fragments, lines bounded', async (t) => {
  const v = formatAuthResults('mx.example.net', ['spf=pass smtp.mailfrom=a@b.example', 'dkim=pass header.d=b.example\r\nX-Injected: 1', 'dmarc=pass (Ａ) header.from=b.example'])
  t.equal(v, 'mx.example.net;\r\n\tspf=pass smtp.mailfrom=a@b.example;\r\n\tdkim=pass header.d=b.example X-Injected: 1;\r\n\tdmarc=pass (?) header.from=b.example')
  t.equal(formatAuthResults('mx.example.net', []), 'mx.example.net;\r\n\tnone', 'RFC 8601 "none" when there are no results')
  const long = formatAuthResults('mx', [`dkim=pass (${'x'.repeat(2000)})`])
  for (const line of long.split('\r\n')) t.ok(line.length < 998, 'no line over 998 octets')
})

t.test('our authserv-id is recognised in every spelling', async (t) => {
  const ours = [
    'mx.example.net; dmarc=pass',
    'MX.EXAMPLE.NET; dmarc=pass',
    '  mx.example.net ; spf=pass',
    'mx.example.net (forged comment); dmarc=pass',
    '"mx.example.net"; dmarc=pass',
    'mx.example.net 1; dmarc=pass',
    'mx.example.net;\r\n\tdmarc=pass',
    '=?utf-8?q?mx.example.net?=; dmarc=pass',
    '=?utf-8?b?bXguZXhhbXBsZS5uZXQ=?=; dmarc=pass',
    'mx.example.net',
  ]
  for (const v of ours) t.ok(isOurAuthResults(v, 'mx.example.net'), JSON.stringify(v))
  const others = [
    'mx.example.org; dmarc=pass',
    'mx.example.net.evil.example; dmarc=pass',
    'x-mx.example.net; spf=pass',
    '; dmarc=pass',
    // encoded, but another relay's id: kept (decoding must work, not fail into "ours")
    '=?utf-8?q?mx.example.org?=; dmarc=pass',
    'mx.example.org (=?utf-8?q?caf=C3=A9?=); spf=pass',
  ]
  for (const v of others) t.notOk(isOurAuthResults(v, 'mx.example.net'), JSON.stringify(v))
})

t.test('authservIdOf and headerSafe', async (t) => {
  t.equal(authservIdOf('(c) mx.a.example (d); spf=pass'), 'mx.a.example')
  t.equal(headerSafe('a\r\n\tb\u0000c'), 'a b?c')
})
