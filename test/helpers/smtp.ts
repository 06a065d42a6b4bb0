/**
 * A small SMTP client for tests: one connection, one or more messages, every
 * reply recorded. Loopback only; bounded by a timeout.
 */
import net from 'node:net'

export interface Reply {
  readonly code: number
  readonly text: string
}

export interface Envelope {
  readonly from: string
  readonly to: readonly string[]
  /** the message, CRLF or LF line endings; dot-stuffing is done here */
  readonly data: string | Buffer
}

export interface SendResult {
  readonly greeting: Reply
  readonly mail: Reply
  readonly rcpt: readonly Reply[]
  readonly data?: Reply
  /** the reply to the end of DATA: 250 accepted, 4xx deferred, 5xx rejected */
  readonly final?: Reply
}

class Session {
  #buf = ''
  #waiters: ((r: Reply) => void)[] = []
  #replies: Reply[] = []
  #lines: string[] = []
  readonly socket: net.Socket
  constructor(socket: net.Socket) {
    this.socket = socket
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.#buf += chunk
      let i: number
      while ((i = this.#buf.indexOf('\r\n')) >= 0) {
        const line = this.#buf.slice(0, i)
        this.#buf = this.#buf.slice(i + 2)
        this.#lines.push(line.slice(4))
        if (line[3] !== '-') {
          const reply = { code: Number(line.slice(0, 3)), text: this.#lines.join('\n') }
          this.#lines = []
          const w = this.#waiters.shift()
          if (w) w(reply)
          else this.#replies.push(reply)
        }
      }
    })
  }
  next(): Promise<Reply> {
    const r = this.#replies.shift()
    if (r) return Promise.resolve(r)
    return new Promise((resolve) => this.#waiters.push(resolve))
  }
  async cmd(line: string): Promise<Reply> {
    this.socket.write(`${line}\r\n`)
    return this.next()
  }
}

export const toCrlf = (s: string | Buffer): Buffer => {
  const text = Buffer.isBuffer(s) ? s.toString('latin1') : s
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), Buffer.isBuffer(s) ? 'latin1' : 'utf8')
}

/** Sends messages over one SMTP connection; resolves with the replies of each. */
export async function sendMail(
  port: number,
  envelopes: readonly Envelope[],
  opts: { helo?: string; timeoutMs?: number; host?: string; localAddress?: string } = {},
): Promise<SendResult[]> {
  // localAddress: connect from another loopback address (127.0.0.2), e.g. one SPF does not allow
  const socket = net.connect({ port, host: opts.host ?? '127.0.0.1', ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) })
  const timer = setTimeout(() => socket.destroy(new Error('SMTP test client timed out')), opts.timeoutMs ?? 30_000)
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const s = new Session(socket)
    const failed = new Promise<never>((_, reject) => socket.once('error', reject))
    const run = async (): Promise<SendResult[]> => {
      const greeting = await s.next()
      await s.cmd(`EHLO ${opts.helo ?? 'client.test'}`)
      const results: SendResult[] = []
      for (const env of envelopes) {
        const mail = await s.cmd(`MAIL FROM:<${env.from}>`)
        const rcpt: Reply[] = []
        for (const to of env.to) rcpt.push(await s.cmd(`RCPT TO:<${to}>`))
        if (mail.code !== 250 || !rcpt.some((r) => r.code === 250)) {
          await s.cmd('RSET')
          results.push({ greeting, mail, rcpt })
          continue
        }
        const data = await s.cmd('DATA')
        if (data.code !== 354) {
          results.push({ greeting, mail, rcpt, data })
          continue
        }
        let body = toCrlf(env.data)
        if (!body.subarray(-2).equals(Buffer.from('\r\n'))) body = Buffer.concat([body, Buffer.from('\r\n')])
        // dot-stuffing (RFC 5321 4.5.2)
        const stuffed = Buffer.from(body.toString('latin1').replace(/(^|\r\n)\./g, '$1..'), 'latin1')
        socket.write(Buffer.concat([stuffed, Buffer.from('.\r\n')]))
        const final = await s.next()
        results.push({ greeting, mail, rcpt, data, final })
      }
      await s.cmd('QUIT')
      return results
    }
    return await Promise.race([run(), failed])
  } finally {
    clearTimeout(timer)
    socket.destroy()
  }
}
