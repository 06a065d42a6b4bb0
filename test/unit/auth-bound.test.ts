/**
 * One message cannot buy unbounded authentication work: hundreds of DKIM-Signature fields, each
 * with its own l=, over a multi-megabyte body are cut down to [limits] max_dkim_signatures and
 * max_auth_bytes before mailauth sees them (src/auth/dkim-bound.ts), the genuine aligned signature
 * still verifies, and the event loop keeps turning while the big message is checked. The figures
 * are work counted (signatures verified, key lookups, bytes hashed), never time.
 */
import crypto from 'node:crypto'

import { dkimSign } from 'mailauth'
import t from 'tap'

import { authenticateMessage } from '../../dist/src/auth/authenticate.js'
import { boundDkimWork, dkimTags, fromDomainOf, headerFields } from '../../dist/src/auth/dkim-bound.js'

const SHOP = 'shop.example'
const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
const KEY_TXT = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`

/** A declarative zone that counts every query, as mailauth's own tests do. */
function zone(): { resolve: (name: string, rrtype: string) => Promise<unknown>; queries: string[] } {
  const queries: string[] = []
  const records: Record<string, string[][]> = {
    [`sel._domainkey.${SHOP}`]: [KEY_TXT.match(/.{1,200}/g)!],
    [`_dmarc.${SHOP}`]: [['v=DMARC1; p=reject']],
  }
  const resolve = async (name: string, rrtype: string): Promise<unknown> => {
    queries.push(`${rrtype} ${name}`)
    const found = rrtype === 'TXT' ? records[name.toLowerCase()] : undefined
    if (found) return found
    const err: NodeJS.ErrnoException = new Error(`queryTxt ENOTFOUND ${name}`)
    err.code = 'ENOTFOUND'
    throw err
  }
  return { resolve, queries }
}

/** A notice from shop.example with a body of `bodyBytes`, signed by the shop, then `fakes` signatures added above. */
async function flooded(bodyBytes: number, fakes: number, alignedFakes = 0): Promise<Buffer> {
  const head = [`From: Shop <order@${SHOP}>`, 'To: customer@recipient.example', 'Subject: Your order', 'Message-ID: <big@shop.example>', 'Content-Type: text/plain']
  const line = 'Thank you for your order. Order number 503-1234567-1234567, amount 3,980 yen.   \r\n'
  const body = line.repeat(Math.ceil(bodyBytes / line.length))
  const data = Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`)
  const sig = { signingDomain: SHOP, selector: 'sel', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }
  const signed = await dkimSign(data, { ...sig, signatureData: [sig] })
  const extra: string[] = []
  for (let i = 0; i < fakes; i++) {
    const d = i < alignedFakes ? `s${i}.${SHOP}` : `sender${i}.example`
    // each its own l= and so its own body hash in mailauth, the attack's point
    extra.push(`DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=${d}; s=k${i}; l=${1000 + i};\r\n h=from:to:subject; bh=${crypto.randomBytes(32).toString('base64')};\r\n b=${crypto.randomBytes(256).toString('base64')}`)
  }
  return Buffer.concat([Buffer.from(signed.signatures), Buffer.from(`${extra.join('\r\n')}\r\n`), data])
}

t.test('the header reader: fields, tags and the From domain', async (t) => {
  const raw = Buffer.from('From: "a@evil.example" <Order@Shop.Example>\r\nDKIM-Signature: v=1; d=Shop.Example;\r\n s=sel; l = 12 ; bh=a b\r\nSubject: x\r\n\r\nbody\r\n')
  const { fields, bodyStart } = headerFields(raw)
  t.same(
    fields.map((f) => f.name),
    ['from', 'dkim-signature', 'subject'],
  )
  t.equal(raw.subarray(bodyStart).toString(), 'body\r\n')
  const tags = dkimTags(fields[1]!.value)
  t.equal(tags.get('d'), 'Shop.Example')
  t.equal(tags.get('l'), '12')
  t.equal(tags.get('bh'), 'ab', 'white space is not part of a value')
  t.equal(fromDomainOf(fields[0]!.value), 'shop.example', 'the angle-addr, not an @ in the display name')
  t.equal(fromDomainOf(' order@shop.example (Shop)'), 'shop.example')
  t.equal(fromDomainOf(' undisclosed'), undefined)
})

t.test('hundreds of signatures with their own l= over a multi-MB body: bounded work, the genuine one verifies', async (t) => {
  const BODY = 4 * 1024 * 1024
  const raw = await flooded(BODY, 400, 3)
  const limits = { maxSignatures: 5, maxAuthBytes: 64 * 1024 * 1024 }

  const bounded = boundDkimWork(raw, limits)
  t.equal(bounded.signatures, 401)
  t.equal(bounded.skipped.length, 396)
  t.equal(bounded.skipped.filter((s) => s.aligned).length, 0, 'aligned signatures are kept first: the shop and its 3 subdomains')
  t.ok(bounded.hashedBytes <= 5 * (BODY + 200), `bytes hashed bounded (${bounded.hashedBytes})`)
  t.equal(headerFields(bounded.message).fields.filter((f) => f.name === 'dkim-signature').length, 5, 'mailauth sees 5 signatures')

  const { resolve, queries } = zone()
  const auth = await authenticateMessage(raw, { ip: '192.0.2.1', helo: 'mx.shop.example', sender: `bounce@${SHOP}` }, resolve as never, 'mx.test', limits)
  t.equal(auth.dkim.length, 5, 'mailauth verified 5 signatures, not 401')
  const keyLookups = queries.filter((q) => q.includes('._domainkey.'))
  t.ok(keyLookups.length >= 1 && keyLookups.length <= 5, `key lookups for kept signatures only: ${keyLookups.join(', ')}`)
  t.ok(auth.dkim.some((d) => d.domain === SHOP && d.result === 'pass' && d.aligned), 'the shop signature passed')
  t.equal(auth.dmarc.result, 'pass', 'DMARC passes on it')
  t.ok(
    auth.fragments.includes('dkim=policy (396 signatures not checked: over the per-message limits max_dkim_signatures=5 max_auth_bytes=67108864)'),
    'the rest are reported once, as policy',
  )
})

t.test('max_auth_bytes: a second body hash only while the budget allows; the first signature always', async (t) => {
  const BODY = 1024 * 1024
  const raw = await flooded(BODY, 50, 0)
  const tight = boundDkimWork(raw, { maxSignatures: 50, maxAuthBytes: BODY / 2 })
  t.equal(tight.signatures - tight.skipped.length, 1, 'a body over max_auth_bytes: its preferred signature is still checked')
  t.ok(tight.hashedBytes > BODY / 2 && tight.hashedBytes < 2 * BODY)
  const three = boundDkimWork(raw, { maxSignatures: 50, maxAuthBytes: 3.5 * BODY })
  t.equal(three.signatures - three.skipped.length, 3, 'three distinct body hashes fit in 3.5 bodies')
  const none = boundDkimWork(raw, { maxSignatures: 100, maxAuthBytes: 1e12 })
  t.equal(none.skipped.length, 0)
  t.equal(none.message, raw, 'nothing over the limits: the message as it was')
})

t.test('a spoof gains nothing from the bound: its own aligned signature is still checked and fails', async (t) => {
  const raw = await flooded(64 * 1024, 30, 0)
  // the shop's signature made invalid: the body changed after signing
  const tampered = Buffer.from(raw.toString('latin1').replace('amount 3,980 yen', 'amount 9,980 yen'), 'latin1')
  const { resolve } = zone()
  const auth = await authenticateMessage(tampered, { ip: '192.0.2.1', sender: `bounce@${SHOP}` }, resolve as never, 'mx.test', { maxSignatures: 2, maxAuthBytes: 1e9 })
  t.ok(auth.dkim.some((d) => d.domain === SHOP && d.aligned && d.result !== 'pass' && d.result !== 'policy'), `the aligned signature was verified, and did not pass: ${JSON.stringify(auth.dkim)}`)
  t.equal(auth.dmarc.result, 'fail')
})

t.test('the event loop turns during a big scan, and a plain message checked alongside completes first', async (t) => {
  const BODY = 4 * 1024 * 1024
  const big = await flooded(BODY, 300, 0)
  const plain = await flooded(2000, 0, 0)
  const limits = { maxSignatures: 5, maxAuthBytes: 64 * 1024 * 1024 }
  let ticks = 0
  let ticking = true
  const tick = (): void => {
    ticks++
    if (ticking) setImmediate(tick)
  }
  setImmediate(tick)
  const order: string[] = []
  const { resolve } = zone()
  const bigDone = authenticateMessage(big, { ip: '192.0.2.1', sender: `b@${SHOP}` }, resolve as never, 'mx.test', limits).then((a) => {
    order.push('big')
    return a
  })
  const plainDone = authenticateMessage(plain, { ip: '192.0.2.1', sender: `b@${SHOP}` }, resolve as never, 'mx.test', limits).then(() => order.push('plain'))
  await Promise.all([bigDone, plainDone])
  ticking = false
  t.same(order, ['plain', 'big'], 'the plain message did not wait for the big one')
  // mailauth feeds the body 64 KiB at a time and yields in between: at least one turn per chunk
  t.ok(ticks >= BODY / (64 * 1024), `the loop turned ${ticks} times during the big scan`)
  t.equal((await bigDone).dkim.length, 5)
})
