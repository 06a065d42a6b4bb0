/**
 * The DKIM flood figure for docs/reliability.md: one message of BODY_MB megabytes with SIGS
 * DKIM-Signature fields, each with its own l=, authenticated as the plugin did before the bound
 * (mailauth over the whole Buffer) and as it does now (authenticateMessage with the default
 * [limits]). Prints wall seconds, the longest the event loop stood still, and the RSS growth.
 *   npm run build && npx node scripts/auth-flood.mts [BODY_MB=20] [SIGS=900] [before|after|both]
 * Runs each case in a child process of its own, so one case's memory does not count for the other.
 */
import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'

import { authenticate } from 'mailauth'

import auth from '../dist/src/auth/authenticate.js'
import config from '../dist/src/config/settings.js'

const [bodyMb = '20', sigs = '900', which = 'both'] = process.argv.slice(2)

if (which === 'both') {
  for (const c of ['before', 'after']) {
    process.stdout.write(execFileSync(process.execPath, [process.argv[1]!, bodyMb, sigs, c], { encoding: 'utf8', maxBuffer: 1e6 }))
  }
  process.exit(0)
}

const line = 'Thank you for your order. Order number 503-1234567-1234567, amount 3,980 yen.   \r\n'
const body = line.repeat(Math.ceil((Number(bodyMb) * 1024 * 1024) / line.length))
const fakes: string[] = []
for (let i = 0; i < Number(sigs); i++) {
  fakes.push(
    `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender${i}.example; s=k${i}; l=${1000 + i};\r\n h=from:to:subject; bh=${crypto.randomBytes(32).toString('base64')};\r\n b=${crypto.randomBytes(256).toString('base64')}`,
  )
}
const raw = Buffer.from(`${fakes.join('\r\n')}\r\nFrom: Shop <order@shop.example>\r\nTo: c@recipient.example\r\nSubject: Your order\r\n\r\n${body}`)
const resolver = async (name: string): Promise<never> => {
  const err: NodeJS.ErrnoException = new Error(`ENOTFOUND ${name}`)
  err.code = 'ENOTFOUND'
  throw err
}

let maxLag = 0
let last = performance.now()
const timer = setInterval(() => {
  const now = performance.now()
  maxLag = Math.max(maxLag, now - last - 10)
  last = now
}, 10)
const rss0 = process.memoryUsage().rss
let peak = rss0
const mem = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50)
const t0 = performance.now()
if (which === 'before') {
  await authenticate(raw, { ip: '192.0.2.1', sender: 'b@shop.example', mta: 'mx.test', resolver: resolver as never, disableBimi: true })
} else {
  const limits = config.INI_SCHEMA.limits!
  await auth.authenticateMessage(raw, { ip: '192.0.2.1', sender: 'b@shop.example' }, resolver as never, 'mx.test', {
    maxSignatures: Number(limits.max_dkim_signatures!.default),
    maxAuthBytes: Number(limits.max_auth_bytes!.default),
  })
}
const secs = (performance.now() - t0) / 1000
clearInterval(timer)
clearInterval(mem)
peak = Math.max(peak, process.memoryUsage().rss)
console.log(
  `${which}: ${bodyMb} MB body, ${sigs} signatures: ${secs.toFixed(1)} s, event loop stood still up to ${(maxLag / 1000).toFixed(2)} s, RSS +${Math.round((peak - rss0) / 1048576)} MB`,
)
