/**
 * A loopback SMTP server for tests (127.0.0.1, port 0): records every message it
 * accepts (envelope and DATA with dot-stuffing undone, CRLF as on the wire), and can
 * be told to misbehave at one step: refuse a recipient, refuse the message, or drop
 * the connection once the whole message has arrived (so that the client never hears
 * whether it was taken).
 */
import net from 'node:net'

export interface SunkMessage {
  readonly helo: string
  readonly from: string
  /** MAIL FROM parameters, e.g. ` BODY=8BITMIME` */
  readonly params: string
  readonly to: readonly string[]
  /** the DATA as received, dot-stuffing undone, without the final `.` line */
  readonly data: Buffer
}

export type Behaviour = 'accept' | 'refuse-rcpt' | 'refuse-data' | 'drop-after-data' | 'greet-554'

export interface Sink {
  readonly port: number
  readonly messages: SunkMessage[]
  /** what the next sessions do (default: accept) */
  behaviour: Behaviour
  /** with `extensions`, what EHLO offers */
  extensions: string[]
  close(): Promise<void>
}

export async function startSink(): Promise<Sink> {
  const sockets = new Set<net.Socket>()
  const sink: Sink = {
    port: 0,
    messages: [],
    behaviour: 'accept',
    extensions: ['8BITMIME', 'SMTPUTF8', 'PIPELINING'],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    const behaviour = sink.behaviour
    let buf = Buffer.alloc(0)
    let inData = false
    let data: Buffer[] = []
    let helo = ''
    let from = ''
    let params = ''
    let to: string[] = []
    const say = (line: string): void => {
      socket.write(`${line}\r\n`)
    }
    if (behaviour === 'greet-554') {
      say('554 5.3.2 not today')
      socket.end()
      return
    }
    say('220 sink.test ESMTP')
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      let i: number
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.subarray(0, i)
        buf = buf.subarray(i + 2)
        if (inData) {
          if (line.length === 1 && line[0] === 0x2e) {
            inData = false
            const raw = Buffer.concat(data)
            data = []
            if (behaviour === 'drop-after-data') {
              socket.destroy()
              return
            }
            if (behaviour === 'refuse-data') {
              say('554 5.7.1 no thanks')
              continue
            }
            sink.messages.push({ helo, from, params, to, data: raw })
            say('250 2.0.0 Ok: queued as SINK1')
            continue
          }
          const unstuffed = line[0] === 0x2e ? line.subarray(1) : line
          data.push(Buffer.from(unstuffed), Buffer.from('\r\n'))
          continue
        }
        const cmd = line.toString('latin1')
        const verb = cmd.slice(0, 4).toUpperCase()
        if (verb === 'EHLO') {
          helo = cmd.slice(5)
          const ext = sink.extensions
          if (!ext.length) say('250 sink.test')
          else {
            say('250-sink.test')
            ext.forEach((e, n) => say(`250${n === ext.length - 1 ? ' ' : '-'}${e}`))
          }
        } else if (verb === 'HELO') {
          helo = cmd.slice(5)
          say('250 sink.test')
        } else if (verb === 'MAIL') {
          const m = /^MAIL FROM:<([^>]*)>(.*)$/i.exec(cmd)
          from = Buffer.from(m?.[1] ?? '', 'latin1').toString('utf8')
          params = m?.[2] ?? ''
          to = []
          say('250 2.1.0 Ok')
        } else if (verb === 'RCPT') {
          const m = /^RCPT TO:<([^>]*)>/i.exec(cmd)
          const addr = Buffer.from(m?.[1] ?? '', 'latin1').toString('utf8')
          if (behaviour === 'refuse-rcpt') {
            say('550 5.1.1 no such user')
          } else {
            to.push(addr)
            say('250 2.1.5 Ok')
          }
        } else if (verb === 'DATA') {
          inData = true
          say('354 go ahead')
        } else if (verb === 'QUIT') {
          say('221 bye')
          socket.end()
        } else if (verb === 'RSET') {
          to = []
          say('250 Ok')
        } else say('502 5.5.2 unknown command')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  if (!addr || typeof addr === 'string') throw new Error('sink: no port')
  ;(sink as { port: number }).port = addr.port
  return sink
}
