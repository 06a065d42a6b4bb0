/**
 * The quarantine end to end, as an admin meets it: a real Haraka (installed mode,
 * [actions] mode=quarantine) with a loopback DNS server holds a spoofed notice; the
 * real `shop-notice quarantine` command lists it, shows it and releases it to a
 * loopback SMTP sink; the released bytes are the stored ones plus one header; a
 * second release is refused. A release back into the local Haraka passes it once,
 * and its token cannot be used again by anyone.
 */
import { execFile } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { dkimSign } from 'mailauth'
import t, { type Test } from 'tap'

import { type Haraka, type StoredMessage, startHaraka } from '../helpers/haraka'
import { sendMail } from '../helpers/smtp'
import { type Sink, startSink } from '../helpers/smtp-sink'

const fixtures = require('haraka-test-fixtures') as {
  dns: { start(zones: Record<string, unknown>): Promise<{ port: number; close(): Promise<void> }> }
}

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'shop-notice.js')
const SHOP = 'shop.example'
const AUTHSERV_ID = 'mx.test.example'

const key = (): { privateKey: string; txt: string[] } => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
  return { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), txt: `v=DKIM1; k=rsa; p=${p}`.match(/.{1,200}/g)! }
}
const shopKey = key()
const attackerKey = key()

const ZONES = {
  [SHOP]: { txt: ['v=spf1 ip4:127.0.0.1 -all'], a: ['127.0.0.1'] },
  [`sel._domainkey.${SHOP}`]: { txt: shopKey.txt },
  [`_dmarc.${SHOP}`]: { txt: ['v=DMARC1; p=reject'] },
}

let seq = 0
/** A spoofed order notice of the registered test brand: sent from 127.0.0.2 (SPF -all), signed with a key that is not shop.example's. */
async function spoof(extraHeaders: string[] = []): Promise<{ data: Buffer; messageId: string }> {
  const messageId = `<q-e2e.${process.pid}.${++seq}@test.example>`
  const head = [
    ...extraHeaders,
    `From: TestShop <order@${SHOP}>`,
    'To: customer@recipient.example',
    `Subject: =?UTF-8?B?${Buffer.from('ご注文確認 / Your order confirmation').toString('base64')}?=`,
    'Date: Thu, 21 May 2026 10:00:00 +0000',
    `Message-ID: ${messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 8bit',
  ].join('\r\n')
  const body = 'テストショップをご利用いただき、ありがとうございます。\r\nご注文番号: TS-2026-0001234\r\nご請求金額: 3,980円\r\n.a line that starts with a dot\r\n'
  const data = Buffer.from(`${head}\r\n\r\n${body}`, 'utf8')
  const sig = { signingDomain: SHOP, selector: 'sel', privateKey: attackerKey.privateKey }
  const res = await dkimSign(data, { ...sig, signatureData: [sig] })
  return { data: Buffer.concat([Buffer.from(res.signatures), data]), messageId }
}

interface Run {
  code: number
  stdout: string
  stderr: string
}
const cli = (args: string[], cwd: string): Promise<Run> =>
  new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'quarantine', ...args], { cwd, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })

const send = async (h: Haraka, data: Buffer, ip = '127.0.0.2'): Promise<number | undefined> => {
  const [r] = await sendMail(h.port, [{ from: `bounce@${SHOP}`, to: ['customer@recipient.example'], data }], { localAddress: ip, helo: 'client.test', timeoutMs: 15_000 })
  return r?.final?.code
}

const withId = (list: readonly StoredMessage[], messageId: string): StoredMessage[] => list.filter((m) => m.get('Message-ID')[0] === messageId)

let dns: { port: number; close(): Promise<void> }
let sink: Sink
let h: Haraka

t.before(async () => {
  dns = await fixtures.dns.start(ZONES)
  sink = await startSink()
  h = await startHaraka({
    layout: 'installed',
    dnsPort: dns.port,
    config: {
      'shop-notice.ini': `[main]\nauthserv_id=${AUTHSERV_ID}\n[dns]\nservers=127.0.0.1:${dns.port}\ntimeout_ms=600\nmessage_timeout_ms=2000\n[actions]\nmode=quarantine\n[quarantine]\nrelease_host=127.0.0.1\nrelease_port=${sink.port}\n`,
      'shop-notice.retailers.yaml': `retailers:\n  testshop:\n    names: [TestShop, テストショップ]\n    sending_domains: [${SHOP}]\n`,
    },
  })
})
t.teardown(async () => {
  await h?.stop()
  await sink?.close()
  await dns?.close()
})

/** Sends a spoof, checks it was held, returns its stored copy. */
async function held(t: Test, extraHeaders: string[] = []): Promise<StoredMessage> {
  const msg = await spoof(extraHeaders)
  t.equal(await send(h, msg.data), 250, 'the spoof is answered 250')
  const q = withId(h.quarantined(), msg.messageId)
  t.equal(q.length, 1, 'one copy in the quarantine')
  t.equal(withId(h.delivered(), msg.messageId).length, 0, 'none delivered')
  if (!q[0]) throw new Error('not quarantined')
  return q[0]
}

t.test('a spoof is held, listed, shown, released once to the next hop', async (t) => {
  const m = await held(t)
  const id = path.basename(m.file)

  t.test('the sidecar next to it says what was held and why', async (t) => {
    const sidecar = JSON.parse(fs.readFileSync(`${m.file}.json`, 'utf8'))
    t.match(sidecar, {
      version: 1,
      id,
      verdict: 'spoofed',
      brand: 'testshop',
      kind: 'order',
      action: 'quarantine',
      envelope: { from: `bounce@${SHOP}`, to: ['customer@recipient.example'] },
      subject: 'ご注文確認 / Your order confirmation',
      from: `TestShop <order@${SHOP}>`,
      remote: { ip: '127.0.0.2', helo: 'client.test' },
      auth: { spf: 'fail', dmarc: 'fail' },
      size: m.raw.length,
    })
    t.ok(sidecar.score >= 10, `score ${sidecar.score}`)
    const symbols = sidecar.signals.map((s: { symbol: string }) => s.symbol)
    for (const s of ['AUTH_DMARC_FAIL_ENFORCED', 'AUTH_SPF_FAIL', 'BRAND_NOT_AUTHENTICATED']) t.ok(symbols.includes(s), s)
    t.ok(sidecar.signals.every((s: { score: unknown; options: unknown }) => typeof s.score === 'number' && Array.isArray(s.options)), 'each signal with its score and options')
    t.match(sidecar.authentication_results[0], new RegExp(`^${AUTHSERV_ID.replace(/\./g, '\\.')};`), 'our Authentication-Results')
    t.ok(Math.abs(Date.parse(sidecar.received) - Date.now()) < 10 * 60_000, 'received is a time of today')
    t.match(h.output(), new RegExp(`quarantined id=${id.replace(/\./g, '\\.')} file=`), 'the plugin logged it')
  })

  t.test('list', async (t) => {
    const r = await cli(['list'], h.dir)
    t.equal(r.code, 0, r.stderr)
    const line = r.stdout.split('\n').find((l) => l.startsWith(`${id}\t`))
    t.ok(line, 'the held message is listed')
    const cols = (line ?? '').split('\t')
    t.same([cols[2], cols[3], cols[5], cols[6], cols[7], cols[8]], ['held', 'spoofed', 'testshop', `bounce@${SHOP}`, 'customer@recipient.example', 'ご注文確認 / Your order confirmation'])
    t.ok(Number(cols[4]) >= 10, 'with its score')

    const j = await cli(['list', '--json', '--brand', 'testshop', '--verdict', 'spoofed', '--recipient', 'RECIPIENT.example', '--status', 'held'], h.dir)
    t.equal(j.code, 0, j.stderr)
    const rows = j.stdout.trim().split('\n').map((l) => JSON.parse(l))
    t.ok(rows.some((x) => x.id === id && x.source === 'sidecar'), 'found by brand, verdict, recipient and status')
    const none = await cli(['list', '--brand', 'amazon'], h.dir)
    t.equal(none.stdout, '', 'another brand: nothing')
    const today = await cli(['list', '--date', '1999-01-01'], h.dir)
    t.equal(today.stdout, '', 'another day: nothing')
  })

  t.test('show', async (t) => {
    const r = await cli(['show', id.slice(0, 12)], h.dir)
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, new RegExp(`^ID +${id.replace(/\./g, '\\.')}$`, 'm'), 'by a prefix of its id')
    t.match(r.stdout, /^Verdict +spoofed {2}score=\d+ {2}brand=testshop {2}kind=order {2}action=quarantine$/m)
    t.match(r.stdout, /^Envelope +MAIL FROM:<bounce@shop\.example> RCPT TO:<customer@recipient\.example>$/m)
    t.match(r.stdout, /^ +\+6 +AUTH_DMARC_FAIL_ENFORCED/m, 'each signal with its score')
    t.match(r.stdout, /DMARC failed and the From domain asks receivers to quarantine or reject such mail\./, '... and its explanation')
    t.match(r.stdout, /^ +spf=fail dkim=fail:shop\.example dmarc=fail arc=none$/m, 'the authentication results')
    t.match(r.stdout, /^Headers\n {2}X-Shop-Notice: spoofed; brand=testshop/m, 'the stored headers')
    const j = await cli(['show', '--json', id], h.dir)
    const o = JSON.parse(j.stdout)
    t.equal(o.id, id)
    t.match(o.signals.find((s: { symbol: string }) => s.symbol === 'AUTH_SPF_FAIL'), { score: 2, description: /SPF hard fail/ })
    t.ok(o.headers.some((x: { name: string }) => x.name === 'Message-ID'))
  })

  t.test('release to the next hop of shop-notice.ini: the stored bytes plus one header', async (t) => {
    const before = sink.messages.length
    const r = await cli(['release', id, '--by', 'alice'], h.dir)
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, new RegExp(`^released ${id.replace(/\./g, '\\.')} to 127\\.0\\.0\\.1:${sink.port}: 250 `, 'm'))
    t.equal(sink.messages.length, before + 1, 'the sink got one message')
    const got = sink.messages.at(-1)!
    t.equal(got.from, `bounce@${SHOP}`, 'the recorded envelope sender')
    t.same(got.to, ['customer@recipient.example'], 'the recorded recipients')
    t.match(got.params, /BODY=8BITMIME/, '8-bit body announced')
    const wire = got.data.toString('latin1')
    const nl = wire.indexOf('\r\n')
    const first = wire.slice(0, nl)
    t.match(first, new RegExp(`^X-Shop-Notice-Released: by=alice; at=[A-Z][a-z]{2}, \\d{1,2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000; id=${id.replace(/\./g, '\\.')}; token=[0-9a-f]{32}$`))
    const rest = Buffer.from(wire.slice(nl + 2).replace(/\r\n/g, '\n'), 'latin1')
    t.ok(rest.equals(fs.readFileSync(m.file)), 'the rest is the stored message, byte for byte')
    t.ok(fs.existsSync(m.file), 'the stored copy stays, for the record')

    const again = await cli(['release', id], h.dir)
    t.equal(again.code, 1, 'a second release fails')
    t.match(again.stderr, /already released by alice at .* to 127\.0\.0\.1:\d+: not sent again/)
    t.equal(sink.messages.length, before + 1, 'and sends nothing')

    const list = await cli(['list', '--status', 'released', '--json'], h.dir)
    t.ok(list.stdout.trim().split('\n').some((l) => JSON.parse(l).id === id), 'listed as released')
    const show = await cli(['show', id], h.dir)
    t.match(show.stdout, /^Status +released: by alice at \S+ to 127\.0\.0\.1:\d+ \(250 /m)
  })
})

t.test('release back into the local Haraka: passed once, never held again; its token is good once only', async (t) => {
  const m = await held(t)
  const id = path.basename(m.file)
  const messageId = m.get('Message-ID')[0]!
  const r = await cli(['release', id, '--port', String(h.port), '--by', 'bob'], h.dir)
  t.equal(r.code, 0, `${r.stdout}${r.stderr}`)
  const delivered = withId(h.delivered(), messageId)
  t.equal(delivered.length, 1, 'delivered once')
  t.equal(withId(h.quarantined(), messageId).length, 1, 'and not held a second time')
  const d = delivered[0]!
  const rel = d.get('X-Shop-Notice-Released')
  t.equal(rel.length, 1, 'with the release header')
  t.match(rel[0], /^by=bob; at=.*; id=.*; token=[0-9a-f]{32}$/)
  t.match(d.get('X-Shop-Notice')[0], /^spoofed; brand=testshop/, 'and the verdict it was held with')
  t.match(h.output(), /released from quarantine id=\S+ by=bob: passed as held/, 'the plugin logged the release')

  t.test('the delivered copy sent again is held again, its release header removed', async (t) => {
    const before = h.quarantined().length
    t.equal(await send(h, d.raw), 250)
    const q = withId(h.quarantined(), messageId)
    t.equal(q.length, 2, 'held again')
    t.equal(h.quarantined().length, before + 1)
    const copy = q.find((x) => x.file !== m.file)!
    t.same(copy.get('X-Shop-Notice-Released'), [], 'the used token does not pass, and its header is gone')
    t.equal(withId(h.delivered(), messageId).length, 1, 'not delivered again')
  })

  t.test('a made-up token for a held message does not pass', async (t) => {
    const other = await held(t)
    const forged = `X-Shop-Notice-Released: by=root; at=Thu, 21 May 2026 10:00:00 +0000; id=${path.basename(other.file)}; token=${'0'.repeat(32)}`
    const m2 = await held(t, [forged])
    t.same(m2.get('X-Shop-Notice-Released'), [], 'the forged header is removed')
    t.match(m2.get('X-Shop-Notice')[0], /^spoofed;/)
  })
})

t.test('a release the next hop refuses: still held, and can be released later', async (t) => {
  const m = await held(t)
  const id = path.basename(m.file)
  sink.behaviour = 'refuse-rcpt'
  const r = await cli(['release', id], h.dir)
  sink.behaviour = 'accept'
  t.equal(r.code, 1)
  t.match(r.stderr, /not released, still held: 127\.0\.0\.1:\d+ refused the recipient <customer@recipient\.example>: 550 /)
  t.notOk(fs.existsSync(`${m.file}.release`), 'the claim is given back')
  const ok = await cli(['release', id], h.dir)
  t.equal(ok.code, 0, ok.stderr)
})

t.test('delete and purge', async (t) => {
  const m = await held(t)
  const id = path.basename(m.file)
  const del = await cli(['delete', id], h.dir)
  t.equal(del.code, 0, del.stderr)
  t.notOk(fs.existsSync(m.file) || fs.existsSync(`${m.file}.json`), 'the message and its sidecar are gone')
  const gone = await cli(['show', id], h.dir)
  t.equal(gone.code, 1)
  t.match(gone.stderr, /no held message/)
  const dry = await cli(['purge', '--older-than', '1w', '--dry-run'], h.dir)
  t.equal(dry.code, 0, dry.stderr)
  t.match(dry.stdout, /^would purge 0 message\(s\), 0 bytes, held before /m, 'nothing is a week old')
})

t.test('usage errors exit 2', async (t) => {
  for (const args of [['release'], ['purge'], ['purge', '--older-than', 'soon'], ['list', '--status', 'gone'], ['frobnicate'], ['show', '../etc/passwd']]) {
    const r = await cli(args, h.dir)
    t.equal(r.code, 2, args.join(' '))
  }
})

t.test('DNS stayed on loopback', async (t) => {
  t.notMatch(h.output(), /DNS-GUARD/)
  t.notMatch(h.output(), /\[(ERROR|CRIT)\] \[[^\]]*\] \[(shop-notice|queue\/quarantine)\]/, 'no errors from the plugin or core quarantine')
})
