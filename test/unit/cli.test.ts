/**
 * `shop-notice scan` as an admin runs it: the real bin, a child process, real files.
 */
import { execFile, spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { dkimSign } from 'mailauth'

import { makeMessage, mailbox } from '../helpers/messages'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fixtures = require('haraka-test-fixtures')

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'shop-notice.js')

interface Run {
  code: number
  stdout: string
  stderr: string
}

function cli(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-cli-'))
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
fs.mkdirSync(path.join(dir, 'config'))
fs.writeFileSync(
  path.join(dir, 'config', 'shop-notice.retailers.yaml'),
  'retailers:\n  testshop:\n    names: [TestShop, テストショップ]\n    sending_domains: [testshop.jp]\n',
)
fs.writeFileSync(path.join(dir, 'config', 'shop-notice.ini'), '[main]\nauthserv_id=mx.cli.test\n[dns]\ntimeout_ms=500\n[auth]\ntrusted_authserv_ids=mx.upstream.test\n')

const notice = makeMessage({
  from: mailbox('テストショップ', 'order@testshop.jp'),
  subject: '【テストショップ】ご注文確認',
  body: 'ご注文ありがとうございます。\nご注文番号: 1001\nお支払い金額: 2,000円\n',
})
const chat = makeMessage({ from: mailbox('Hanako', 'hanako@example.org'), subject: '週末の予定', body: '土曜日は空いていますか?\n' })
fs.writeFileSync(path.join(dir, 'notice.eml'), notice)
fs.writeFileSync(path.join(dir, 'chat.eml'), chat)

t.test('a reader that goes away ends the output, not the command: no EPIPE, the exit status stands', async (t) => {
  // the pipe is closed before the command writes a line (`shop-notice … | head -0`)
  const files = Array.from({ length: 40 }, () => 'notice.eml')
  const child = spawn(process.execPath, [BIN, 'scan', '--offline', ...files, 'missing.eml'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.destroy()
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
  t.notMatch(stderr, /EPIPE|Unhandled 'error' event/)
  t.match(stderr, /missing\.eml/, 'what goes to stderr is still said')
  t.equal(code, 1, 'the exit status is the one the work earned (a file could not be read), not a crash')
})

t.test('guardStdout swallows only a closed pipe', async (t) => {
  const { EventEmitter } = await import('node:events')
  const { guardStdout } = await import('../../dist/src/cli/main.js')
  const onError = guardStdout(new EventEmitter())
  t.doesNotThrow(() => onError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })))
  t.throws(() => onError(Object.assign(new Error('i/o error'), { code: 'EIO' })), /i\/o error/)
})

t.test('scan --offline prints one tab-separated line per file', async (t) => {
  const r = await cli(['scan', '--offline', 'notice.eml', 'chat.eml'], dir)
  t.equal(r.code, 0, r.stderr)
  const lines = r.stdout.trim().split('\n').map((l) => l.split('\t'))
  t.same(lines, [
    ['notice.eml', 'notice', '0', 'testshop', 'AUTH_UNAVAILABLE'],
    ['chat.eml', 'none', '0', '-', 'AUTH_UNAVAILABLE'],
  ])
})

t.test('--json prints one object per line', async (t) => {
  const r = await cli(['scan', '--offline', '--json', 'notice.eml'], dir)
  t.equal(r.code, 0)
  const obj = JSON.parse(r.stdout)
  t.match(obj, { file: 'notice.eml', verdict: 'notice', brand: 'testshop', kind: 'order', score: 0, auth: { source: 'unavailable' } })
  t.same(obj.signals, [{ symbol: 'AUTH_UNAVAILABLE', score: 0, options: [] }])
})

t.test('an unreadable file exits 1, the others are still scanned', async (t) => {
  const r = await cli(['scan', '--offline', 'missing.eml', 'chat.eml'], dir)
  t.equal(r.code, 1)
  t.match(r.stderr, /missing\.eml: ENOENT/)
  const lines = r.stdout.trim().split('\n')
  t.equal(lines.length, 2)
  t.match(lines[0], /^missing\.eml\terror\t/)
  t.match(lines[1], /^chat\.eml\tnone\t/)
})

t.test('usage errors exit 2', async (t) => {
  for (const args of [['scan'], ['scan', '--bogus', 'x.eml'], ['scan', '--dns', 'resolver.example', 'x.eml'], ['scan', '--offline', '--dns', '127.0.0.1', 'x.eml']]) {
    const r = await cli(args, dir)
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, /Usage: shop-notice scan/)
  }
  for (const args of [[], ['frobnicate'], ['--bogus']]) {
    const r = await cli(args, dir)
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, /Usage: shop-notice COMMAND/)
    t.match(r.stderr, /incidents/)
    t.equal(r.stdout, '')
  }
  for (const args of [['incidents', 'extra'], ['incidents', '--at', 'yesterday'], ['incidents', '--bogus']]) {
    const r = await cli(args, dir)
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, /Usage: shop-notice incidents/)
  }
  const help = await cli(['scan', '--help'], dir)
  t.equal(help.code, 0)
  t.match(help.stdout, /--offline/)
})

t.test('--version prints the package version, --help every command', async (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
  for (const flag of ['--version', '-V']) {
    const r = await cli([flag], dir)
    t.equal(r.code, 0, flag)
    t.equal(r.stdout, `shop-notice ${pkg.version}\n`, flag)
  }
  for (const flag of ['--help', '-h', 'help']) {
    const r = await cli([flag], dir)
    t.equal(r.code, 0, flag)
    for (const usage of ['Usage: shop-notice COMMAND', 'Usage: shop-notice scan', 'Usage: shop-notice quarantine', 'Usage: shop-notice incidents']) {
      t.ok(r.stdout.includes(usage), `${flag}: ${usage}`)
    }
    t.match(r.stdout, /--version/)
    t.equal(r.stderr, '')
  }
  const one = await cli(['incidents', '--help'], dir)
  t.equal(one.code, 0)
  t.match(one.stdout, /--all/)
})

t.test('incidents lists the incidents in force, from the admin\'s registry', async (t) => {
  const admin = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-cli-incidents-'))
  t.teardown(() => fs.rmSync(admin, { recursive: true, force: true }))
  fs.mkdirSync(path.join(admin, 'config'))
  fs.writeFileSync(
    path.join(admin, 'config', 'shop-notice.retailers.yaml'),
    [
      'retailers:',
      '  leakyshop:',
      '    names: [LeakyShop]',
      '    sending_domains: [leakyshop.example]',
      '    incidents:',
      '      - { since: 2026-03-01, days: 90, leaked: [card, email], note: "card data\tof 2,000 customers" }',
      '      - { since: 2024-01-10, until: 2024-06-30, leaked: [password] }',
      '  calmshop:',
      '    names: [CalmShop]',
      '    sending_domains: [calmshop.example]',
      '',
    ].join('\n'),
  )
  const inForce = await cli(['incidents', '--config', admin, '--at', '2026-04-15'], dir)
  t.equal(inForce.code, 0, inForce.stderr)
  t.same(inForce.stdout.trim().split('\n').map((l) => l.split('\t')), [
    ['leakyshop', '2026-03-01', '2026-05-29', 'in-force', 'card,email', 'card data of 2,000 customers'],
  ])
  const all = await cli(['incidents', '--config', admin, '--at', '2026-04-15', '--all', '--json'], dir)
  t.equal(all.code, 0)
  t.same(all.stdout.trim().split('\n').map((l) => JSON.parse(l)), [
    { brand: 'leakyshop', since: '2024-01-10', until: '2024-06-30', status: 'ended', leaked: ['password'] },
    { brand: 'leakyshop', since: '2026-03-01', until: '2026-05-29', status: 'in-force', leaked: ['card', 'email'], note: 'card data\tof 2,000 customers' },
  ])
  const later = await cli(['incidents', '--config', admin, '--at', '2026-05-30T00:00:00Z'], dir)
  t.equal(later.code, 0)
  t.equal(later.stdout, '')
  t.match(later.stderr, /no incident in force/)
  const before = await cli(['incidents', '--config', admin, '--at', '2026-02-28', '--all'], dir)
  t.match(before.stdout, /leakyshop\t2026-03-01\t2026-05-29\tupcoming\t/)
  const none = await cli(['incidents', '--all'], dir)
  t.equal(none.code, 0)
  t.match(none.stderr, /declares no incidents/)
})

t.test('an invalid configuration is reported with file and key', async (t) => {
  const bad = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-cli-bad-'))
  t.teardown(() => fs.rmSync(bad, { recursive: true, force: true }))
  fs.mkdirSync(path.join(bad, 'config'))
  fs.writeFileSync(path.join(bad, 'config', 'shop-notice.ini'), '[actions]\nmode=loud\n')
  const r = await cli(['scan', '--offline', '--config', bad, path.join(dir, 'chat.eml')], dir)
  t.equal(r.code, 2)
  t.match(r.stderr, /shop-notice\.ini: \[actions\] mode: expected one of monitor, tag, quarantine, reject, got "loud"/)
})

t.test('--offline trusts only the configured upstream Authentication-Results', async (t) => {
  const withAr = (id: string) =>
    Buffer.concat([Buffer.from(`Authentication-Results: ${id}; spf=pass smtp.mailfrom=testshop.jp; dmarc=pass header.from=testshop.jp\r\n`), notice])
  fs.writeFileSync(path.join(dir, 'trusted.eml'), withAr('mx.upstream.test'))
  fs.writeFileSync(path.join(dir, 'untrusted.eml'), withAr('mx.someone.test'))
  const r = await cli(['scan', '--offline', 'trusted.eml', 'untrusted.eml'], dir)
  const lines = r.stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 2))
  t.same(lines, [
    ['trusted.eml', 'verified'],
    ['untrusted.eml', 'notice'],
  ])
})

t.test('--rcpt applies the recipient domain\'s policy thresholds; --ip of a trusted relay reads its results', async (t) => {
  const admin = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-cli-policy-'))
  t.teardown(() => fs.rmSync(admin, { recursive: true, force: true }))
  fs.mkdirSync(path.join(admin, 'config'))
  fs.copyFileSync(path.join(dir, 'config', 'shop-notice.retailers.yaml'), path.join(admin, 'config', 'shop-notice.retailers.yaml'))
  fs.writeFileSync(
    path.join(admin, 'config', 'shop-notice.ini'),
    '[main]\nauthserv_id=mx.cli.test\n[auth]\ntrusted_authserv_ids=mx.gw.test\ntrusted_relays=10.1.0.0/16\n[policy.lenient.example]\nthresholds_suspicious=50\nthresholds_spoofed=60\nthresholds_reject=70\n',
  )
  // a spoof from another domain in the shop's name: suspicious or worse by default
  const spoof = makeMessage({ from: mailbox('テストショップ', 'info@elsewhere.example'), subject: '【テストショップ】ご注文確認', body: 'ご注文ありがとうございます。\nご注文番号: 1001\n' })
  fs.writeFileSync(path.join(admin, 'spoof.eml'), spoof)
  const plain = await cli(['scan', '--offline', '--config', admin, path.join(admin, 'spoof.eml')], dir)
  t.match(plain.stdout, /\t(suspicious|spoofed)\t/)
  const lenient = await cli(['scan', '--offline', '--config', admin, '--rcpt', 'a@lenient.example', path.join(admin, 'spoof.eml')], dir)
  t.match(lenient.stdout, /\tnotice\t/)
  const mixed = await cli(['scan', '--offline', '--config', admin, '--rcpt', 'a@other.example', '--rcpt', 'b@lenient.example', path.join(admin, 'spoof.eml')], dir)
  t.match(mixed.stdout, /\tnotice\t/, 'the weakest of the recipients\' policies')
  const bad = await cli(['scan', '--offline', '--rcpt', 'nobody', 'x.eml'], dir)
  t.equal(bad.code, 2)

  // the recipients the display name is compared with: --rcpt as the envelope, else the To header
  const lure = makeMessage({
    from: mailbox('example.com IT Support', 'helpdesk@mbx-services.net'),
    to: 'undisclosed-recipients:;',
    subject: 'Mailbox storage almost full',
    body: 'Increase storage now: https://quota-restore-site.net/increase\n',
  })
  fs.writeFileSync(path.join(admin, 'lure.eml'), lure)
  const byEnvelope = await cli(['scan', '--offline', '--config', admin, '--rcpt', 'jane@example.com', path.join(admin, 'lure.eml')], dir)
  t.match(byEnvelope.stdout, /\t(suspicious|spoofed)\t.*SENDER_NAME_RECIPIENT_DOMAIN/)
  const noRecipient = await cli(['scan', '--offline', '--config', admin, path.join(admin, 'lure.eml')], dir)
  t.notMatch(noRecipient.stdout, /SENDER_NAME_RECIPIENT_DOMAIN/, 'no recipient known: nothing to compare')

  const relayed = Buffer.concat([Buffer.from('Authentication-Results: mx.gw.test; spf=pass smtp.mailfrom=testshop.jp; dmarc=pass header.from=testshop.jp\r\n'), notice])
  fs.writeFileSync(path.join(admin, 'relayed.eml'), relayed)
  const viaGateway = await cli(['scan', '--offline', '--json', '--config', admin, '--ip', '10.1.2.3', path.join(admin, 'relayed.eml')], dir)
  t.match(JSON.parse(viaGateway.stdout), { verdict: 'verified', auth: { source: 'trusted-header', via: 'relay mx.gw.test' } })
})

t.test('--dns authenticates against the given resolver (loopback)', async (t) => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 })
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
  const dns = await fixtures.dns.start({
    'testshop.jp': { txt: ['v=spf1 ip4:192.0.2.25 -all'] },
    'cli._domainkey.testshop.jp': { txt: ['v=DKIM1; k=rsa; p=', p.slice(0, 200), p.slice(200)] },
    '_dmarc.testshop.jp': { txt: ['v=DMARC1; p=reject'] },
  })
  t.teardown(() => dns.close())
  // mailauth's index.d.ts lacks signatureData, which its code takes (lib/dkim/sign.js)
  const { signatures } = await dkimSign(notice, {
    signatureData: [{ signingDomain: 'testshop.jp', selector: 'cli', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }],
  } as never)
  fs.writeFileSync(path.join(dir, 'signed.eml'), Buffer.concat([Buffer.from(signatures), notice]))
  const ctx = ['--dns', `127.0.0.1:${dns.port}`, '--ip', '192.0.2.25', '--helo', 'mail.testshop.jp', '--mail-from', 'bounce@testshop.jp']
  const good = await cli(['scan', ...ctx, '--json', 'signed.eml'], dir)
  t.equal(good.code, 0, good.stderr)
  const g = JSON.parse(good.stdout)
  t.equal(g.verdict, 'verified')
  t.equal(g.auth.dmarc.result, 'pass')
  t.equal(g.auth.spf.result, 'pass')
  t.match(g.auth.dkim, [{ result: 'pass', domain: 'testshop.jp' }])

  // the same signed message from another address: SPF fails but aligned DKIM still passes DMARC
  const relayed = await cli(['scan', '--dns', `127.0.0.1:${dns.port}`, '--ip', '198.51.100.7', '--mail-from', 'bounce@testshop.jp', 'signed.eml'], dir)
  t.match(relayed.stdout, /\tverified\t/)

  // unsigned, from a foreign address: a spoof
  const spoof = await cli(['scan', '--dns', `127.0.0.1:${dns.port}`, '--ip', '198.51.100.7', '--mail-from', 'bounce@testshop.jp', 'notice.eml'], dir)
  t.match(spoof.stdout, /^notice\.eml\tspoofed\t\d+(\.\d+)?\ttestshop\t.*BRAND_NOT_AUTHENTICATED/)
})
