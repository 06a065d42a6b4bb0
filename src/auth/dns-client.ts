/**
 * A small DNS client for the records whose TTL the cache needs and node:dns does not report
 * (TXT: SPF, DKIM keys, DMARC). Built on dns-packet: one question over UDP (EDNS(0), 1232 bytes),
 * over TCP when the reply is truncated, each server in turn, `tries` rounds. Answers and errors
 * have node:dns's shapes and codes, so the cache above and mailauth cannot tell the difference:
 * TXT rows are lists of character-strings (latin1, as node:dns makes them); ENOTFOUND for
 * NXDOMAIN, ENODATA for an answer without the type, ESERVFAIL / EREFUSED / ENOTIMP / EFORMERR for
 * those rcodes, EBADRESP for a reply that cannot be read, ECONNREFUSED for a TCP connection
 * refused or closed before the answer, ETIMEOUT when nothing usable came back in time. A reply to
 * another query (another id or question) is ignored, as a resolver must.
 */
import crypto from 'node:crypto'
import dgram from 'node:dgram'
import net from 'node:net'

import packet from 'dns-packet'

import type { DnsAnswer } from './resolver.js'

export interface DnsServerAddress {
  readonly host: string
  readonly port: number
}

export interface DnsClientOptions {
  readonly servers: readonly DnsServerAddress[]
  /** per try (one server, one round) */
  readonly tryTimeoutMs: number
  /** rounds over the servers */
  readonly tries?: number
}

export interface AnswerWithTtl {
  readonly answer: DnsAnswer
  /** seconds: the smallest TTL of the records (and CNAMEs) the answer is made of */
  readonly ttl: number
}

const UDP_PAYLOAD = 1232

function dnsError(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(message)
  err.code = code
  return err
}

/** `ip`, `ip:port`, `[ip6]:port` (as node:dns getServers() writes them and `[dns] servers` takes them). */
export function parseServer(spec: string): DnsServerAddress {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec)
  if (bracket) return { host: bracket[1]!, port: bracket[2] ? Number(bracket[2]) : 53 }
  if (net.isIPv6(spec)) return { host: spec, port: 53 }
  const colon = spec.lastIndexOf(':')
  return colon > 0 ? { host: spec.slice(0, colon), port: Number(spec.slice(colon + 1)) } : { host: spec, port: 53 }
}

const RCODE_ERRORS: Readonly<Record<string, string>> = {
  NXDOMAIN: 'ENOTFOUND',
  SERVFAIL: 'ESERVFAIL',
  REFUSED: 'EREFUSED',
  NOTIMP: 'ENOTIMP',
  FORMERR: 'EFORMERR',
}

/** dns-packet sets rcode on what it decodes; its types leave it out */
type Reply = packet.DecodedPacket & { rcode?: string }

type Outcome = { kind: 'reply'; reply: Reply } | { kind: 'truncated' } | { kind: 'error'; err: NodeJS.ErrnoException }

export class DnsClient {
  readonly #servers: readonly DnsServerAddress[]
  readonly #tryTimeoutMs: number
  readonly #tries: number

  constructor(opts: DnsClientOptions) {
    if (!opts.servers.length) throw new Error('DnsClient: no DNS server')
    this.#servers = opts.servers
    this.#tryTimeoutMs = opts.tryTimeoutMs
    this.#tries = Math.max(1, opts.tries ?? 2)
  }

  /** TXT records of `name` with their TTL, node:dns's shape (`string[][]`). */
  async resolveTxt(name: string): Promise<AnswerWithTtl> {
    const reply = await this.#ask(name, 'TXT')
    let ttl = Infinity
    const rows: string[][] = []
    for (const a of reply.answers ?? []) {
      if (a.type === 'CNAME') ttl = Math.min(ttl, a.ttl ?? 0)
      if (a.type !== 'TXT') continue
      ttl = Math.min(ttl, a.ttl ?? 0)
      const data = Array.isArray(a.data) ? a.data : [a.data]
      rows.push(data.map((d) => (Buffer.isBuffer(d) ? d.toString('latin1') : String(d))))
    }
    if (!rows.length) throw dnsError('ENODATA', `queryTxt ENODATA ${name}`)
    return { answer: rows, ttl: Number.isFinite(ttl) ? ttl : 0 }
  }

  async #ask(name: string, type: 'TXT'): Promise<Reply> {
    let last: NodeJS.ErrnoException = dnsError('ETIMEOUT', `query${type} ETIMEOUT ${name}`)
    for (let round = 0; round < this.#tries; round++) {
      for (const server of this.#servers) {
        const id = crypto.randomInt(0, 0x10000)
        const query: packet.Packet = {
          type: 'query',
          id,
          flags: packet.RECURSION_DESIRED,
          questions: [{ type, name }],
          additionals: [{ type: 'OPT', name: '.', udpPayloadSize: UDP_PAYLOAD } as never],
        }
        let outcome = await this.#udp(server, query, name, type)
        if (outcome.kind === 'truncated') outcome = await this.#tcp(server, query, name, type)
        if (outcome.kind !== 'reply') {
          if (outcome.kind === 'error') last = outcome.err
          continue
        }
        const rcode = outcome.reply.rcode ?? 'NOERROR'
        if (rcode === 'NOERROR') return outcome.reply
        const code = RCODE_ERRORS[rcode] ?? 'EBADRESP'
        // "no such domain" is an answer: no other server or round is asked
        if (code === 'ENOTFOUND') throw dnsError(code, `query${type} ${code} ${name}`)
        last = dnsError(code, `query${type} ${code} ${name}`)
      }
    }
    throw dnsError(last.code ?? 'ETIMEOUT', last.message)
  }

  /** Reads a reply: undefined when it answers another query (ignored), an error when it cannot be read. */
  static #read(buf: Buffer, query: packet.Packet, name: string, type: string): Reply | NodeJS.ErrnoException | undefined {
    let reply: Reply
    try {
      reply = packet.decode(buf)
      // dns-packet reads a record whose RDLENGTH runs past the end without a word (its count of
      // bytes read is then NaN or more than there are)
      const read = (packet.decode as { bytes?: number }).bytes
      if (read === undefined || !(read <= buf.length)) throw new RangeError('past the end')
    } catch {
      return dnsError('EBADRESP', `query${type} EBADRESP ${name}`)
    }
    const q = reply.questions?.[0]
    if (reply.id !== query.id || !q || q.type !== type || q.name.toLowerCase().replace(/\.$/, '') !== name.toLowerCase().replace(/\.$/, '')) {
      return undefined
    }
    return reply
  }

  #udp(server: DnsServerAddress, query: packet.Packet, name: string, type: string): Promise<Outcome> {
    return new Promise((resolve) => {
      const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4')
      let done = false
      const finish = (o: Outcome): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        socket.close()
        resolve(o)
      }
      const timer = setTimeout(() => finish({ kind: 'error', err: dnsError('ETIMEOUT', `query${type} ETIMEOUT ${name}`) }), this.#tryTimeoutMs)
      socket.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'error', err: dnsError(err.code === 'ECONNREFUSED' ? 'ECONNREFUSED' : 'ESERVFAIL', `query${type} ${err.code ?? 'ESERVFAIL'} ${name}`) }))
      socket.on('message', (buf, rinfo) => {
        if (rinfo.port !== server.port) return
        const read = DnsClient.#read(buf, query, name, type)
        if (read === undefined) return
        if (read instanceof Error) return finish({ kind: 'error', err: read })
        if (read.flag_tc) return finish({ kind: 'truncated' })
        finish({ kind: 'reply', reply: read })
      })
      socket.send(packet.encode(query), server.port, server.host)
    })
  }

  #tcp(server: DnsServerAddress, query: packet.Packet, name: string, type: string): Promise<Outcome> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: server.host, port: server.port })
      let done = false
      let data = Buffer.alloc(0)
      const finish = (o: Outcome): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        socket.destroy()
        resolve(o)
      }
      const refused = (): void => finish({ kind: 'error', err: dnsError('ECONNREFUSED', `query${type} ECONNREFUSED ${name}`) })
      const timer = setTimeout(() => finish({ kind: 'error', err: dnsError('ETIMEOUT', `query${type} ETIMEOUT ${name}`) }), this.#tryTimeoutMs)
      socket.on('error', refused)
      socket.on('close', refused)
      socket.on('connect', () => socket.write(packet.streamEncode(query)))
      socket.on('data', (chunk: Buffer) => {
        data = Buffer.concat([data, chunk])
        if (data.length < 2) return
        const length = data.readUInt16BE(0)
        if (data.length < 2 + length) return
        const read = DnsClient.#read(data.subarray(2, 2 + length), query, name, type)
        if (read === undefined) return refused()
        if (read instanceof Error) return finish({ kind: 'error', err: read })
        finish({ kind: 'reply', reply: read })
      })
    })
  }
}
