/**
 * A bounded SMTP load generator: `count` messages over `connections` parallel
 * connections to a loopback server, one transaction after another on each
 * connection (no PIPELINING: every command waits for its reply). Each message's
 * latency is measured from MAIL FROM to the reply to the end of DATA.
 *
 * Bounded in count and in time: past `timeoutMs` every connection is closed and
 * the result says so. Messages are dot-stuffed once, before the clock starts (those
 * of `messageAt`, made one by one, just before their MAIL FROM).
 *
 * `onMessage` hears what became of each message by its index, so that a caller can
 * account for every one: the reply that ended its transaction (250, or the refusal at
 * MAIL, RCPT, DATA or the end of DATA), or the connection failing while it was in flight
 * (then whether the server kept it is unknown).
 */
import net from 'node:net'

export interface LoadOptions {
  readonly port: number
  /** loopback only */
  readonly host?: string
  /** the messages to send, taken in turn: envelope sender and data (CRLF line endings) */
  readonly messages?: readonly LoadMessage[]
  /** instead of `messages`: message number i (0 <= i < count), made when it is sent */
  readonly messageAt?: (i: number) => LoadMessage
  /** what became of message number i */
  readonly onMessage?: (i: number, outcome: MessageOutcome) => void
  readonly count: number
  readonly connections: number
  readonly to?: string
  readonly helo?: string
  /** the whole run ends after this, finished or not */
  readonly timeoutMs?: number
}

export interface LoadMessage {
  readonly from: string
  readonly data: Buffer
}

export type MessageOutcome =
  /** the reply that ended the transaction: 250 to the end of DATA, or a refusal at some stage */
  | { readonly stage: 'MAIL' | 'RCPT' | 'DATA' | 'end of DATA'; readonly code: number; readonly text: string }
  /** the connection failed (or the run timed out) while the message was in flight */
  | { readonly stage: 'connection'; readonly error: string }

export interface LoadResult {
  /** transactions that got a reply to the end of DATA */
  readonly completed: number
  /** ... of which 250 */
  readonly accepted: number
  /** replies that were not 2xx/3xx where expected, by code */
  readonly refused: Readonly<Record<string, number>>
  /** connections that failed (reset, timeout, unexpected greeting) */
  readonly errors: readonly string[]
  readonly timedOut: boolean
  readonly wallMs: number
  /** per completed message, in milliseconds, in completion order */
  readonly latenciesMs: Float64Array
}

const isLoopback = (host: string): boolean => /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === 'localhost'

/** Dot-stuffing (RFC 5321 4.5.2) and the terminating `.`, once per message. */
export function stuff(raw: Buffer): Buffer {
  let body = raw
  if (!body.subarray(-2).equals(Buffer.from('\r\n'))) body = Buffer.concat([body, Buffer.from('\r\n')])
  const stuffed = body.toString('latin1').replace(/(^|\r\n)\./g, '$1..')
  return Buffer.concat([Buffer.from(stuffed, 'latin1'), Buffer.from('.\r\n')])
}

/** One SMTP connection reading replies (multi-line ones joined). */
class Conn {
  readonly socket: net.Socket
  #buf = ''
  /** the text of the last reply (its last line, after the code) */
  lastText = ''
  #waiter: ((code: number) => void) | undefined
  #failer: ((err: Error) => void) | undefined
  #ready: number[] = []
  #error: Error | undefined

  constructor(socket: net.Socket) {
    this.socket = socket
    socket.setEncoding('latin1')
    socket.setNoDelay(true)
    socket.on('data', (chunk: string) => {
      this.#buf += chunk
      let i: number
      while ((i = this.#buf.indexOf('\r\n')) >= 0) {
        const line = this.#buf.slice(0, i)
        this.#buf = this.#buf.slice(i + 2)
        if (line[3] === '-') continue
        const code = Number(line.slice(0, 3))
        this.lastText = line.slice(4)
        const w = this.#waiter
        this.#waiter = undefined
        this.#failer = undefined
        if (w) w(code)
        else this.#ready.push(code)
      }
    })
    const fail = (err: Error): void => {
      this.#error ??= err
      const f = this.#failer
      this.#waiter = undefined
      this.#failer = undefined
      f?.(err)
    }
    socket.on('error', fail)
    socket.on('close', () => fail(new Error('connection closed')))
  }

  reply(): Promise<number> {
    const r = this.#ready.shift()
    if (r !== undefined) return Promise.resolve(r)
    if (this.#error) return Promise.reject(this.#error)
    return new Promise((resolve, reject) => {
      this.#waiter = resolve
      this.#failer = reject
    })
  }

  send(data: string | Buffer): Promise<number> {
    this.socket.write(data)
    return this.reply()
  }
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const host = opts.host ?? '127.0.0.1'
  if (!isLoopback(host)) throw new Error(`load generator: ${host} is not a loopback address`)
  if (!opts.messageAt && !opts.messages?.length) throw new Error('load generator: no messages')
  if (opts.count < 0 || opts.connections < 1) throw new Error('load generator: count >= 0 and connections >= 1')
  const stuffed = (opts.messages ?? []).map((m) => ({ from: m.from, data: stuff(m.data) }))
  const messageAt = opts.messageAt
  const take = messageAt
    ? (i: number): LoadMessage => {
        const m = messageAt(i)
        return { from: m.from, data: stuff(m.data) }
      }
    : (i: number): LoadMessage => stuffed[i % stuffed.length]!
  const onMessage = opts.onMessage ?? ((): void => undefined)
  const to = opts.to ?? 'customer@recipient.example'
  const latencies = new Float64Array(opts.count)
  let next = 0
  let completed = 0
  let accepted = 0
  const refused: Record<string, number> = {}
  const errors: string[] = []
  let timedOut = false
  const sockets = new Set<net.Socket>()
  const refuse = (what: string, code: number): void => {
    refused[`${what} ${code}`] = (refused[`${what} ${code}`] ?? 0) + 1
  }

  const worker = async (): Promise<void> => {
    if (next >= opts.count) return
    const socket = net.connect({ port: opts.port, host })
    sockets.add(socket)
    const c = new Conn(socket)
    /** the message in flight on this connection */
    let current: number | undefined
    try {
      const greeting = await c.reply()
      if (greeting !== 220) throw new Error(`greeting ${greeting}`)
      const ehlo = await c.send(`EHLO ${opts.helo ?? 'client.bench.example'}\r\n`)
      if (ehlo !== 250) throw new Error(`EHLO ${ehlo}`)
      while (!timedOut && next < opts.count) {
        const i = next++
        const msg = take(i)
        current = i
        const t0 = performance.now()
        const mail = await c.send(`MAIL FROM:<${msg.from}>\r\n`)
        if (mail !== 250) {
          refuse('MAIL', mail)
          current = undefined
          onMessage(i, { stage: 'MAIL', code: mail, text: c.lastText })
          await c.send('RSET\r\n')
          continue
        }
        const rcpt = await c.send(`RCPT TO:<${to}>\r\n`)
        if (rcpt !== 250) {
          refuse('RCPT', rcpt)
          current = undefined
          onMessage(i, { stage: 'RCPT', code: rcpt, text: c.lastText })
          await c.send('RSET\r\n')
          continue
        }
        const data = await c.send('DATA\r\n')
        if (data !== 354) {
          refuse('DATA', data)
          current = undefined
          onMessage(i, { stage: 'DATA', code: data, text: c.lastText })
          continue
        }
        const final = await c.send(msg.data)
        latencies[completed++] = performance.now() - t0
        if (final === 250) accepted++
        else refuse('end of DATA', final)
        current = undefined
        onMessage(i, { stage: 'end of DATA', code: final, text: c.lastText })
      }
      if (!timedOut) await c.send('QUIT\r\n').catch(() => 0)
    } catch (err) {
      if (!timedOut) errors.push((err as Error).message)
      if (current !== undefined) onMessage(current, { stage: 'connection', error: timedOut ? 'timed out' : (err as Error).message })
    } finally {
      socket.destroy()
      sockets.delete(socket)
    }
  }

  const t0 = performance.now()
  const timer = setTimeout(() => {
    timedOut = true
    for (const s of sockets) s.destroy()
  }, opts.timeoutMs ?? 120_000)
  try {
    await Promise.all(Array.from({ length: Math.min(opts.connections, Math.max(1, opts.count)) }, worker))
  } finally {
    clearTimeout(timer)
  }
  return { completed, accepted, refused, errors, timedOut, wallMs: performance.now() - t0, latenciesMs: latencies.slice(0, completed) }
}
