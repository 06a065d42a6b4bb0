/**
 * A loopback DNS server for the benchmark: UDP on 127.0.0.1, port 0, answering
 * A, AAAA, MX, TXT and PTR from a zone function, NXDOMAIN for every name the
 * function does not know, each answer held back `delayMs` (a resolver on the
 * other side of a network). It counts what it is asked, so that the benchmark can
 * report how many queries really left the cache.
 *
 * It speaks just enough RFC 1035 for node:dns (c-ares): one question, answers
 * that point back at it by compression, no EDNS in the reply.
 */
import dgram from 'node:dgram'
import net from 'node:net'

export type RRType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'PTR'

export interface ZoneRecords {
  readonly a?: readonly string[]
  readonly aaaa?: readonly string[]
  readonly mx?: readonly { readonly preference: number; readonly exchange: string }[]
  /** one entry per TXT record, each the record's character-strings (at most 255 bytes each) */
  readonly txt?: readonly (readonly string[])[]
  readonly ptr?: readonly string[]
}

/** The records of a name (lowercase, no trailing dot), or undefined for NXDOMAIN. */
export type ZoneFn = (name: string) => ZoneRecords | undefined

export interface DnsServerOptions {
  readonly zone: ZoneFn
  /** every answer (NXDOMAIN included) is sent this many milliseconds after the question came */
  readonly delayMs?: number
  /** the TTL written into answers */
  readonly ttl?: number
}

export interface DnsServerStats {
  /** questions received */
  queries: number
  /** questions by type name (unknown types by number) */
  byType: Record<string, number>
  nxdomain: number
  /** packets that were not a question this server could read */
  malformed: number
}

export interface DnsServer {
  readonly port: number
  readonly stats: DnsServerStats
  resetStats(): void
  close(): Promise<void>
}

const TYPE_CODES: Readonly<Record<RRType, number>> = { A: 1, PTR: 12, MX: 15, TXT: 16, AAAA: 28 }
const TYPE_NAMES = new Map<number, RRType>(Object.entries(TYPE_CODES).map(([name, code]) => [code, name as RRType]))
const NOERROR = 0
const FORMERR = 1
const NXDOMAIN = 3

/** Splits a TXT value into character-strings of at most 255 bytes (a DKIM key is longer). */
export function txtStrings(value: string): string[] {
  const out: string[] = []
  let rest = Buffer.from(value, 'utf8')
  while (rest.length > 255) {
    out.push(rest.subarray(0, 255).toString('utf8'))
    rest = rest.subarray(255)
  }
  out.push(rest.toString('utf8'))
  return out
}

interface Question {
  readonly name: string
  readonly qtype: number
  /** where the question section ends */
  readonly end: number
}

function readQuestion(msg: Buffer): Question | undefined {
  if (msg.length < 17 || msg.readUInt16BE(4) !== 1) return undefined
  const labels: string[] = []
  let off = 12
  for (;;) {
    const len = msg[off]
    if (len === undefined || len & 0xc0) return undefined
    if (len === 0) break
    if (off + 1 + len > msg.length) return undefined
    labels.push(msg.toString('latin1', off + 1, off + 1 + len))
    off += 1 + len
  }
  off += 1
  if (off + 4 > msg.length) return undefined
  return { name: labels.join('.').toLowerCase(), qtype: msg.readUInt16BE(off), end: off + 4 }
}

function encodeName(name: string): Buffer {
  const parts: Buffer[] = []
  for (const label of name.replace(/\.$/, '').split('.')) {
    const b = Buffer.from(label, 'latin1')
    if (b.length === 0 || b.length > 63) throw new Error(`bad label in ${JSON.stringify(name)}`)
    parts.push(Buffer.from([b.length]), b)
  }
  parts.push(Buffer.from([0]))
  return Buffer.concat(parts)
}

function rdataOf(type: RRType, records: ZoneRecords): Buffer[] {
  switch (type) {
    case 'A':
      return (records.a ?? []).map((ip) => Buffer.from(ip.split('.').map(Number)))
    case 'AAAA':
      return (records.aaaa ?? []).map((ip) => ipv6Bytes(ip))
    case 'MX':
      return (records.mx ?? []).map((mx) => {
        const pref = Buffer.alloc(2)
        pref.writeUInt16BE(mx.preference)
        return Buffer.concat([pref, encodeName(mx.exchange)])
      })
    case 'TXT':
      return (records.txt ?? []).map((strings) =>
        Buffer.concat(
          strings.flatMap((s) => {
            const b = Buffer.from(s, 'utf8')
            if (b.length > 255) throw new Error('TXT character-string longer than 255 bytes')
            return [Buffer.from([b.length]), b]
          }),
        ),
      )
    case 'PTR':
      return (records.ptr ?? []).map(encodeName)
  }
}

function ipv6Bytes(ip: string): Buffer {
  if (net.isIPv6(ip) === false) throw new Error(`not an IPv6 address: ${ip}`)
  const [head = '', tail = ''] = ip.split('::')
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16), i * 2))
  return out
}

function response(query: Buffer, q: Question, rcode: number, type: number, rdatas: readonly Buffer[], ttl: number): Buffer {
  const header = Buffer.alloc(12)
  header.writeUInt16BE(query.readUInt16BE(0), 0)
  const rd = (query.readUInt16BE(2) >> 8) & 1
  header.writeUInt16BE(0x8000 | 0x0400 | (rd << 8) | 0x0080 | rcode, 2) // QR AA RD RA rcode
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(rdatas.length, 6)
  const answers = rdatas.map((rdata) => {
    const rr = Buffer.alloc(12)
    rr.writeUInt16BE(0xc00c, 0) // the question's name
    rr.writeUInt16BE(type, 2)
    rr.writeUInt16BE(1, 4) // IN
    rr.writeUInt32BE(ttl, 6)
    rr.writeUInt16BE(rdata.length, 10)
    return Buffer.concat([rr, rdata])
  })
  return Buffer.concat([header, query.subarray(12, q.end), ...answers])
}

function formerr(query: Buffer): Buffer {
  const header = Buffer.alloc(12)
  if (query.length >= 2) header.writeUInt16BE(query.readUInt16BE(0), 0)
  header.writeUInt16BE(0x8000 | FORMERR, 2)
  return header
}

/** Starts the server on 127.0.0.1 with a port the kernel picks. */
export function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const delayMs = opts.delayMs ?? 0
  const ttl = opts.ttl ?? 3600
  const stats: DnsServerStats = { queries: 0, byType: {}, nxdomain: 0, malformed: 0 }
  const pending = new Set<NodeJS.Timeout>()
  const sock = dgram.createSocket('udp4')
  let closed = false

  const send = (buf: Buffer, port: number, address: string): void => {
    if (closed) return
    if (delayMs <= 0) {
      sock.send(buf, port, address)
      return
    }
    const timer = setTimeout(() => {
      pending.delete(timer)
      if (!closed) sock.send(buf, port, address)
    }, delayMs)
    pending.add(timer)
  }

  sock.on('message', (msg, rinfo) => {
    const q = readQuestion(msg)
    if (!q) {
      stats.malformed++
      send(formerr(msg), rinfo.port, rinfo.address)
      return
    }
    stats.queries++
    const typeName = TYPE_NAMES.get(q.qtype)
    const key = typeName ?? String(q.qtype)
    stats.byType[key] = (stats.byType[key] ?? 0) + 1
    const records = opts.zone(q.name)
    if (!records) {
      stats.nxdomain++
      send(response(msg, q, NXDOMAIN, q.qtype, [], ttl), rinfo.port, rinfo.address)
      return
    }
    // a name that exists without records of this type: NOERROR and no answer (ENODATA)
    const rdatas = typeName ? rdataOf(typeName, records) : []
    send(response(msg, q, NOERROR, q.qtype, rdatas, ttl), rinfo.port, rinfo.address)
  })

  return new Promise((resolve, reject) => {
    sock.once('error', reject)
    sock.bind(0, '127.0.0.1', () => {
      sock.removeListener('error', reject)
      resolve({
        port: sock.address().port,
        stats,
        resetStats: () => {
          stats.queries = 0
          stats.byType = {}
          stats.nxdomain = 0
          stats.malformed = 0
        },
        close: () =>
          new Promise<void>((done) => {
            if (closed) return done()
            closed = true
            for (const t of pending) clearTimeout(t)
            pending.clear()
            sock.close(() => done())
          }),
      })
    })
  })
}
