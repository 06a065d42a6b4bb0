/** What `shop-notice quarantine list` and `show` print for an entry: lines and JSON, every field sanitised. */
import fs from 'node:fs'
import { parseHeaderBlock, printableJson, readHead, sanitizeText } from '../quarantine/text.js'
import { formatScore } from '../verdict/score.js'
import { isSymbolName, SYMBOLS } from '../verdict/symbols.js'
import { localTime } from './args.js'
import { type Io, UsageError } from './io.js'
import { type Entry, type Status } from '../quarantine/store.js'

export const STATUSES: readonly Status[] = ['held', 'releasing', 'released', 'unknown']

const dash = (s: string | null | undefined): string => (s === null || s === undefined || s === '' ? '-' : s)
const cell = (s: string | null | undefined, max = 200): string => dash(s === null || s === undefined ? s : sanitizeText(s, max))
const scoreText = (n: number | null): string => (n === null ? '-' : formatScore(n))

export function listLine(e: Entry): string {
  const i = e.info
  const sender = e.source === 'sidecar' ? (i.envelope.from ? i.envelope.from : '<>') : '-'
  return [
    e.id,
    localTime(e.received),
    e.status,
    cell(i.verdict, 64),
    scoreText(i.score),
    cell(i.brand, 64),
    cell(sender),
    cell(i.envelope.to.join(',')),
    cell(i.subject),
  ].join('\t')
}

export function listJson(e: Entry): Record<string, unknown> {
  const i = e.info
  return {
    id: e.id,
    file: e.file,
    received: e.received.toISOString(),
    status: e.status,
    verdict: i.verdict,
    score: i.score,
    brand: i.brand,
    kind: i.kind,
    sender: e.source === 'sidecar' ? i.envelope.from : null,
    recipients: i.envelope.to,
    subject: i.subject,
    from: i.from,
    remote_ip: i.remote.ip,
    signals: i.signals.map((s) => s.symbol),
    size: e.size,
    source: e.source,
    ...(e.sidecarProblem ? { sidecar_problem: e.sidecarProblem } : {}),
  }
}

/** A release record for people: without the one-time token. */
const releaseView = (e: Entry): Record<string, unknown> | null => {
  if (!e.release) return null
  const { token: _token, ...rest } = e.release
  return rest
}

const description = (symbol: string): string => (isSymbolName(symbol) ? SYMBOLS[symbol].description : 'not a signal this version knows')

export async function show(io: Io, e: Entry, mode: 'text' | 'json' | 'raw'): Promise<void> {
  if (mode === 'raw') {
    // the stored bytes, exactly: for a pipe (`| less`, `> copy.eml`), never raw onto a terminal
    if (process.stdout.isTTY) throw new UsageError('--raw writes the stored bytes as they are, escape sequences included: redirect it (> copy.eml) or pipe it (| less)')
    process.stdout.write(await fs.promises.readFile(e.file))
    return
  }
  const head = await readHead(e.file)
  const fields = parseHeaderBlock(head)
  const i = e.info
  if (mode === 'json') {
    io.out(
      printableJson({
        ...listJson(e),
        message_id: i.message_id,
        remote: i.remote,
        envelope: e.source === 'sidecar' ? i.envelope : null,
        action: i.action,
        signals: i.signals.map((s) => ({ ...s, description: description(s.symbol) })),
        auth: i.auth,
        authentication_results: i.authentication_results,
        release: releaseView(e),
        headers: fields.map((f) => ({ name: f.name, value: f.raw })),
      }),
    )
    return
  }
  const row = (label: string, value: string): void => io.out(`${label.padEnd(10)} ${value}`)
  row('ID', e.id)
  row('File', `${e.file} (${e.size} bytes)`)
  const client = i.remote.ip ? ` from ${i.remote.ip}${i.remote.host ? ` (${cell(i.remote.host, 255)})` : ''}${i.remote.helo ? ` HELO ${cell(i.remote.helo, 255)}` : ''}` : ''
  row('Received', `${localTime(e.received)}${client}`)
  if (e.source === 'sidecar') {
    row('Envelope', `MAIL FROM:<${cell(i.envelope.from, 320).replace(/^-$/, '')}> RCPT TO:${i.envelope.to.map((t) => `<${cell(t, 320)}>`).join(',')}`)
  } else {
    row('Envelope', `unknown: ${e.sidecarProblem ? `sidecar unusable (${e.sidecarProblem})` : 'no sidecar'}; what follows is read from the headers`)
  }
  row('From', cell(i.from))
  row('Subject', cell(i.subject))
  const r = e.release
  row('Status', r ? `${e.status}: by ${cell(r.by, 64)} at ${cell(r.at, 64)} to ${cell(r.to, 300)}${r.reply ? ` (${cell(r.reply)})` : ''}${r.error ? ` (${cell(r.error)})` : ''}` : e.status)
  row('Verdict', `${cell(i.verdict, 64)}  score=${scoreText(i.score)}  brand=${cell(i.brand, 64)}  kind=${cell(i.kind, 64)}${i.action ? `  action=${cell(i.action, 64)}` : ''}`)
  io.out('')
  io.out('Signals')
  if (!i.signals.length) io.out('  (none)')
  for (const s of i.signals) {
    const score = s.score === null ? '' : s.score > 0 ? `+${scoreText(s.score)}` : scoreText(s.score)
    io.out(`  ${score.padStart(5)}  ${cell(s.symbol, 64)}${s.options.length ? `  ${s.options.map((o) => cell(o, 200)).join(', ')}` : ''}`)
    io.out(`         ${description(s.symbol)}`)
  }
  io.out('')
  io.out('Authentication')
  if (i.auth) io.out(`  spf=${cell(i.auth.spf, 64)} dkim=${i.auth.dkim.map((d) => cell(d, 300)).join(',') || 'none'} dmarc=${cell(i.auth.dmarc, 64)} arc=${cell(i.auth.arc, 64)}`)
  for (const ar of i.authentication_results) io.out(`  Authentication-Results: ${sanitizeText(ar, 4000)}`)
  if (!i.auth && !i.authentication_results.length) io.out('  (not recorded)')
  io.out('')
  io.out('Headers')
  for (const f of fields) {
    // one line per stored line: continuation lines stay indented under their field
    const [first, ...more] = `${f.name}: ${f.raw}`.split('\n')
    io.out(`  ${sanitizeText(first ?? '', 2000)}`)
    for (const line of more) io.out(`      ${sanitizeText(line, 2000)}`)
  }
}
