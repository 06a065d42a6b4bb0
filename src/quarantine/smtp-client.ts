/**
 * A small SMTP client for `shop-notice quarantine release`: one connection, one
 * message, every step bounded by a timeout. It knows exactly how far a failed
 * delivery got: before the end of DATA was sent nothing was delivered
 * (`delivered: 'no'`); once the final dot was sent and no reply came, the next hop
 * may have taken the message (`delivered: 'unknown'`), and a careful caller must
 * not send it again without asking a person.
 *
 * Plain SMTP (no STARTTLS): it is meant for the local Haraka or a next hop on a
 * trusted network. RFC 5321; 8BITMIME (RFC 6152) and SMTPUTF8 (RFC 6531) are used
 * when the message or the envelope needs them.
 */
import net from 'node:net'
import os from 'node:os'

export interface SmtpTarget {
  readonly host: string
  readonly port: number
  /** the EHLO name; default: this machine's host name */
  readonly helo?: string
  /** the longest silence: waiting for the connection or for any one answer; default 30 s */
  readonly timeoutMs?: number
}

export interface SmtpEnvelope {
  /** the envelope sender; '' is the null sender `<>` */
  readonly from: string
  readonly to: readonly string[]
}

export type SmtpStage = 'connect' | 'greeting' | 'ehlo' | 'mail' | 'rcpt' | 'data' | 'end'

export class SmtpError extends Error {
  constructor(
    message: string,
    /** the step that failed */
    readonly stage: SmtpStage,
    /** 'no': nothing was delivered; 'unknown': the message was sent whole, the answer never came */
    readonly delivered: 'no' | 'unknown',
    /** the server's reply, when there was one */
    readonly reply?: string,
  ) {
    super(message)
    this.name = 'SmtpError'
  }
}

export interface SmtpSent {
  /** the reply to the end of DATA, e.g. `250 Message Queued (…)` */
  readonly reply: string
}

interface Reply {
  readonly code: number
  readonly lines: readonly string[]
}

const replyText = (r: Reply): string => `${r.code} ${r.lines.join(' / ')}`

/** The message as SMTP DATA: CRLF line endings, dot-stuffed (RFC 5321 4.5.2), ending with CRLF.CRLF. */
export function dataOf(message: Buffer): Buffer {
  // bare LF becomes CRLF; a CR already before an LF is kept once
  let text = message.toString('latin1').replace(/\r?\n/g, '\r\n')
  if (!text.endsWith('\r\n')) text += '\r\n'
  text = text.replace(/(^|\r\n)\./g, '$1..')
  return Buffer.from(`${text}.\r\n`, 'latin1')
}

const isAscii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s)
const has8bit = (b: Buffer): boolean => b.some((c) => c > 0x7f)

/** An address for MAIL FROM / RCPT TO: printable, no angle brackets, no spaces (the envelope is ours, but be strict). */
function checkAddress(addr: string, what: string): void {
  if (/[<>\s\x00-\x1f\x7f]/.test(addr)) throw new SmtpError(`${what} ${JSON.stringify(addr)} is not a valid envelope address`, 'mail', 'no')
}

/** Sends one message. Resolves with the final reply; rejects with SmtpError saying how far it got. */
export async function sendMessage(target: SmtpTarget, envelope: SmtpEnvelope, message: Buffer): Promise<SmtpSent> {
  if (!envelope.to.length) throw new SmtpError('no recipient', 'rcpt', 'no')
  checkAddress(envelope.from, 'sender')
  for (const to of envelope.to) checkAddress(to, 'recipient')
  const timeoutMs = target.timeoutMs ?? 30_000
  const where = `${target.host}:${target.port}`

  const socket = net.connect({ host: target.host, port: target.port })
  let stage: SmtpStage = 'connect'
  let dataSent = false
  let buf = ''
  let lines: string[] = []
  const replies: Reply[] = []
  let waiter: ((r: Reply) => void) | undefined
  let failure: Error | undefined
  let failed: ((err: Error) => void) | undefined

  const fail = (err: Error): void => {
    if (failure) return
    failure = err
    failed?.(err)
  }
  socket.setTimeout(timeoutMs, () => {
    fail(new Error(`no answer from ${where} within ${timeoutMs} ms`))
    socket.destroy()
  })
  socket.on('error', (err) => fail(err))
  socket.on('close', () => fail(new Error(`${where} closed the connection`)))
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => {
    buf += chunk
    let i: number
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, '')
      buf = buf.slice(i + 1)
      if (!/^\d{3}([ -]|$)/.test(line)) {
        fail(new Error(`${where} answered something that is not SMTP: ${JSON.stringify(line.slice(0, 80))}`))
        socket.destroy()
        return
      }
      lines.push(line.slice(4))
      if (line[3] === '-') continue
      const reply = { code: Number(line.slice(0, 3)), lines }
      lines = []
      if (waiter) {
        const w = waiter
        waiter = undefined
        w(reply)
      } else replies.push(reply)
    }
  })

  const next = (): Promise<Reply> => {
    const r = replies.shift()
    if (r) return Promise.resolve(r)
    if (failure) return Promise.reject(failure)
    return new Promise((resolve, reject) => {
      waiter = resolve
      failed = reject
    })
  }
  const send = (line: string): Promise<Reply> => {
    socket.write(`${line}\r\n`, 'latin1')
    return next()
  }
  const expect = (r: Reply, ok: (code: number) => boolean, what: string): void => {
    if (!ok(r.code)) throw new SmtpError(`${where} refused ${what}: ${replyText(r)}`, stage, 'no', replyText(r))
  }

  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      failed = reject
      if (failure) reject(failure)
    })
    stage = 'greeting'
    expect(await next(), (c) => c === 220, 'the connection')

    stage = 'ehlo'
    const helo = target.helo ?? os.hostname()
    let ehlo = await send(`EHLO ${helo}`)
    let extensions: string[] = []
    if (ehlo.code === 250) extensions = ehlo.lines.slice(1).map((l) => l.split(/\s+/)[0]!.toUpperCase())
    else {
      ehlo = await send(`HELO ${helo}`)
      expect(ehlo, (c) => c === 250, 'EHLO and HELO')
    }

    stage = 'mail'
    const utf8 = ![envelope.from, ...envelope.to].every(isAscii)
    if (utf8 && !extensions.includes('SMTPUTF8')) {
      throw new SmtpError(`${where} does not offer SMTPUTF8, which this envelope needs`, 'mail', 'no')
    }
    const params = [
      has8bit(message) && extensions.includes('8BITMIME') ? ' BODY=8BITMIME' : '',
      utf8 ? ' SMTPUTF8' : '',
    ].join('')
    const enc = (s: string): string => (utf8 ? Buffer.from(s, 'utf8').toString('latin1') : s)
    expect(await send(`MAIL FROM:<${enc(envelope.from)}>${params}`), (c) => c === 250, `the sender <${envelope.from}>`)

    stage = 'rcpt'
    for (const to of envelope.to) {
      // every recipient or none: a partial release would leave the others to a second one
      expect(await send(`RCPT TO:<${enc(to)}>`), (c) => c === 250 || c === 251, `the recipient <${to}>`)
    }

    stage = 'data'
    expect(await send('DATA'), (c) => c === 354, 'DATA')

    stage = 'end'
    dataSent = true
    socket.write(dataOf(message))
    const final = await next()
    if (final.code !== 250) throw new SmtpError(`${where} refused the message: ${replyText(final)}`, 'end', 'no', replyText(final))
    // say goodbye, but the message is delivered whatever the answer
    await Promise.race([send('QUIT').catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2000).unref())])
    socket.destroy()
    return { reply: replyText(final) }
  } catch (err) {
    socket.destroy()
    if (err instanceof SmtpError) throw err
    const msg = `${where}: ${(err as Error).message} (during ${stage})`
    throw new SmtpError(msg, stage, dataSent ? 'unknown' : 'no')
  }
}
