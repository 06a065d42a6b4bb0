/**
 * The loopback DNS server of the tests and the benchmark: UDP and TCP on 127.0.0.1, on
 * one port the kernel picks. It answers A, AAAA, MX, TXT and PTR from a zone function,
 * NXDOMAIN for every name the function does not know, and counts what it is asked (so
 * that the benchmark can report how many queries really left the cache).
 *
 * Records may also ask for the way broken and hostile DNS answers (test/unit/dns-faults.test.ts,
 * test/e2e/hostile.test.ts): slowly, not at all, SERVFAIL and friends, with the TC bit (and
 * then over TCP with the answer, a closed connection or silence), with packets that are not
 * DNS, with TXT records of garbage bytes or of many kilobytes. test/helpers/dns-server.ts
 * wraps it with a zone map for the tests.
 *
 * It speaks enough RFC 1035 for node:dns (c-ares): one question, answers that point
 * back at it by compression; with `honourUdpSize`, EDNS(0) payload sizes (RFC 6891,
 * 512 bytes without) and the TC bit past them.
 */
import dgram from 'node:dgram'
import net from 'node:net'

export type RRType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'PTR'

export type Fault =
  /** never answer, on UDP or TCP */
  | 'drop'
  /** a reply that is not DNS: random bytes */
  | 'random-bytes'
  /** a well-formed reply to another query id */
  | 'wrong-id'
  /** an answer whose RDLENGTH runs past the end of the packet */
  | 'bad-rdlength'
  /** the first 7 bytes of a reply */
  | 'short'

export interface ZoneRecords {
  readonly a?: readonly string[]
  readonly aaaa?: readonly string[]
  readonly mx?: readonly { readonly preference: number; readonly exchange: string }[]
  /** one entry per TXT record: one character-string, or the record's character-strings (each at most 255 bytes) */
  readonly txt?: readonly (string | Buffer | readonly (string | Buffer)[])[]
  readonly ptr?: readonly string[]
  /** the TTL of this name's answers (else the server's) */
  readonly ttl?: number
  readonly rcode?: 'SERVFAIL' | 'REFUSED' | 'NXDOMAIN' | 'NOTIMP' | 'FORMERR'
  /** answer after this many milliseconds (else the server's delayMs) */
  readonly delayMs?: number
  readonly fault?: Fault
  /**
   * Truncation: over UDP the reply has the TC bit and no answers (as if too large); over TCP
   * it is `answer` (the full answer), `close` (the connection closed) or `hang` (silence).
   */
  readonly truncate?: 'answer' | 'close' | 'hang'
}

/** The records of a name (lowercase, no trailing dot), or undefined for NXDOMAIN. */
export type ZoneFn = (name: string) => ZoneRecords | undefined

export interface DnsServerOptions {
  readonly zone: ZoneFn
  /** every answer (NXDOMAIN included) is sent this many milliseconds after the question came */
  readonly delayMs?: number
  /** the TTL written into answers */
  readonly ttl?: number
  /** a UDP answer larger than the client's payload size (EDNS(0), else 512) gets the TC bit instead */
  readonly honourUdpSize?: boolean
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
  /** `127.0.0.1:port`, for [dns] servers and CachedResolver */
  readonly address: string
  readonly stats: DnsServerStats
  resetStats(): void
  /** questions received for `TYPE name` (both transports), or all of them */
  count(type?: string, name?: string): number
  /** questions over TCP only */
  tcpCount(type?: string, name?: string): number
  close(): Promise<void>
}

const TYPE: Readonly<Record<string, number>> = { A: 1, PTR: 12, MX: 15, TXT: 16, AAAA: 28, OPT: 41 }
const TYPE_NAME = new Map(Object.entries(TYPE).map(([k, v]) => [v, k]))
const RCODE: Readonly<Record<string, number>> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 }

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
  readonly id: number
  readonly name: string
  readonly type: string
  /** the bytes of the question section, echoed in the reply */
  readonly raw: Buffer
  readonly rd: boolean
  /** EDNS(0) UDP payload size, 512 without OPT */
  readonly udpSize: number
}

function parseQuery(msg: Buffer): Question | undefined {
  if (msg.length < 17 || msg.readUInt16BE(4) !== 1) return undefined
  const labels: string[] = []
  let off = 12
  for (;;) {
    const len = msg[off]
    if (len === undefined || len & 0xc0) return undefined
    if (len === 0) {
      off++
      break
    }
    if (off + 1 + len > msg.length) return undefined
    labels.push(msg.toString('latin1', off + 1, off + 1 + len))
    off += 1 + len
  }
  if (off + 4 > msg.length) return undefined
  const qtype = msg.readUInt16BE(off)
  const raw = msg.subarray(12, off + 4)
  let udpSize = 512
  // an OPT pseudo-RR in the additional section: root name, type 41, class = payload size
  if (msg.readUInt16BE(10) > 0 && msg[off + 4] === 0 && off + 9 <= msg.length && msg.readUInt16BE(off + 5) === TYPE.OPT) {
    udpSize = Math.max(512, msg.readUInt16BE(off + 7))
  }
  return { id: msg.readUInt16BE(0), name: labels.join('.').toLowerCase(), type: TYPE_NAME.get(qtype) ?? String(qtype), raw, rd: !!(msg[2]! & 1), udpSize }
}

function encodeName(name: string): Buffer {
  const parts = name
    .replace(/\.$/, '')
    .split('.')
    .filter(Boolean)
    .map((l) => {
      const b = Buffer.from(l, 'latin1')
      return Buffer.concat([Buffer.from([b.length]), b])
    })
  return Buffer.concat([...parts, Buffer.from([0])])
}

function ipv4(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number))
}

function ipv6(a: string): Buffer {
  const [head = '', tail = ''] = a.split('::')
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const groups = a.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h
  const b = Buffer.alloc(16)
  groups.forEach((g, i) => b.writeUInt16BE(Number.parseInt(g, 16), i * 2))
  return b
}

function txtRdata(record: string | Buffer | readonly (string | Buffer)[]): Buffer {
  const strings = typeof record === 'string' || Buffer.isBuffer(record) ? [record] : record
  return Buffer.concat(
    strings.map((s) => {
      const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8')
      if (b.length > 255) throw new Error('a TXT character-string is at most 255 bytes')
      return Buffer.concat([Buffer.from([b.length]), b])
    }),
  )
}

function answersFor(zone: ZoneRecords, type: string): { type: number; rdata: Buffer }[] {
  switch (type) {
    case 'A':
      return (zone.a ?? []).map((a) => ({ type: TYPE.A!, rdata: ipv4(a) }))
    case 'AAAA':
      return (zone.aaaa ?? []).map((a) => ({ type: TYPE.AAAA!, rdata: ipv6(a) }))
    case 'MX':
      return (zone.mx ?? []).map((m) => {
        const pref = Buffer.alloc(2)
        pref.writeUInt16BE(m.preference)
        return { type: TYPE.MX!, rdata: Buffer.concat([pref, encodeName(m.exchange)]) }
      })
    case 'TXT':
      return (zone.txt ?? []).map((r) => ({ type: TYPE.TXT!, rdata: txtRdata(r) }))
    case 'PTR':
      return (zone.ptr ?? []).map((p) => ({ type: TYPE.PTR!, rdata: encodeName(p) }))
    default:
      return []
  }
}

function reply(q: Question, rcode: number, answers: { type: number; rdata: Buffer }[], ttl: number, opts: { tc?: boolean; id?: number } = {}): Buffer {
  const header = Buffer.alloc(12)
  header.writeUInt16BE(opts.id ?? q.id, 0)
  // QR, AA, RD as asked, RA, TC when truncated
  header.writeUInt16BE(0x8000 | 0x0400 | (opts.tc ? 0x0200 : 0) | (q.rd ? 0x0100 : 0) | 0x0080 | (rcode & 0x0f), 2)
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(answers.length, 6)
  const rrs = answers.map(({ type, rdata }) => {
    const head = Buffer.alloc(12)
    head.writeUInt16BE(0xc00c, 0) // the name: a pointer to the question
    head.writeUInt16BE(type, 2)
    head.writeUInt16BE(1, 4)
    head.writeUInt32BE(ttl, 6)
    head.writeUInt16BE(rdata.length, 10)
    return Buffer.concat([head, rdata])
  })
  return Buffer.concat([header, q.raw, ...rrs])
}

function formerr(query: Buffer): Buffer {
  const header = Buffer.alloc(12)
  if (query.length >= 2) header.writeUInt16BE(query.readUInt16BE(0), 0)
  header.writeUInt16BE(0x8000 | RCODE.FORMERR!, 2)
  return header
}

/** Starts the server on 127.0.0.1 (UDP and TCP on one port the kernel picks). */
export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const ttl = opts.ttl ?? 3600
  const stats: DnsServerStats = { queries: 0, byType: {}, nxdomain: 0, malformed: 0 }
  const counts = new Map<string, number>()
  const tcpCounts = new Map<string, number>()
  const timers = new Set<NodeJS.Timeout>()
  const sockets = new Set<net.Socket>()
  let closed = false

  const bump = (m: Map<string, number>, key: string): void => {
    m.set(key, (m.get(key) ?? 0) + 1)
  }
  const record = (q: Question): ZoneRecords | undefined => {
    stats.queries++
    stats.byType[q.type] = (stats.byType[q.type] ?? 0) + 1
    bump(counts, `${q.type} ${q.name}`)
    const zone = opts.zone(q.name)
    if (!zone) stats.nxdomain++
    return zone
  }

  /** The reply to a query, or undefined for silence; `udp` says whether it may be truncated. */
  const answer = (q: Question, zone: ZoneRecords | undefined, udp: boolean): Buffer | undefined => {
    if (!zone) return reply(q, RCODE.NXDOMAIN!, [], ttl)
    const zttl = zone.ttl ?? ttl
    if (zone.fault === 'drop') return undefined
    if (zone.fault === 'random-bytes') return Buffer.from(Array.from({ length: 40 }, (_, i) => (i * 97 + q.id) & 0xff))
    if (zone.fault === 'short') return reply(q, 0, [], zttl).subarray(0, 7)
    if (zone.fault === 'wrong-id') return reply(q, 0, answersFor(zone, q.type), zttl, { id: (q.id + 1) & 0xffff })
    if (zone.fault === 'bad-rdlength') {
      const r = reply(q, 0, answersFor(zone, q.type).slice(0, 1), zttl)
      if (r.length > 12 + q.raw.length + 12) r.writeUInt16BE(0xfff0, 12 + q.raw.length + 10)
      return r
    }
    if (zone.rcode) return reply(q, RCODE[zone.rcode]!, [], zttl)
    if (udp && zone.truncate) return reply(q, 0, [], zttl, { tc: true })
    if (!udp && zone.truncate === 'hang') return undefined
    // a name that exists without records of this type: NOERROR and no answer (ENODATA)
    const full = reply(q, 0, answersFor(zone, q.type), zttl)
    // too large for the UDP payload the client offered: the TC bit, and the client asks over TCP
    if (udp && opts.honourUdpSize && full.length > q.udpSize) return reply(q, 0, [], zttl, { tc: true })
    return full
  }

  const later = (ms: number | undefined, f: () => void): void => {
    if (closed) return
    if (!ms) return f()
    const timer = setTimeout(() => {
      timers.delete(timer)
      if (!closed) f()
    }, ms)
    timers.add(timer)
  }

  const udp = dgram.createSocket('udp4')
  udp.on('message', (msg, rinfo) => {
    const q = parseQuery(msg)
    if (!q) {
      stats.malformed++
      later(opts.delayMs, () => udp.send(formerr(msg), rinfo.port, rinfo.address))
      return
    }
    const zone = record(q)
    later(zone?.delayMs ?? opts.delayMs, () => {
      const r = answer(q, zone, true)
      if (r) udp.send(r, rinfo.port, rinfo.address)
    })
  })

  const tcp = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let buf = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk])
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0))
        buf = buf.subarray(2 + msg.length)
        const q = parseQuery(msg)
        if (!q) continue
        const zone = record(q)
        bump(tcpCounts, `${q.type} ${q.name}`)
        if (zone?.truncate === 'close') {
          socket.destroy()
          return
        }
        later(zone?.delayMs ?? opts.delayMs, () => {
          const r = answer(q, zone, false)
          if (!r || socket.destroyed) return
          const len = Buffer.alloc(2)
          len.writeUInt16BE(r.length)
          socket.write(Buffer.concat([len, r]))
        })
      }
    })
  })

  // the UDP port the kernel picks, and TCP on the same number (tried again if that one is taken)
  let port = 0
  for (let attempt = 0; ; attempt++) {
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject)
      udp.bind(0, '127.0.0.1', () => {
        udp.removeListener('error', reject)
        resolve()
      })
    })
    port = udp.address().port
    const listening = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false))
      tcp.listen(port, '127.0.0.1', () => resolve(true))
    })
    if (listening) break
    await new Promise<void>((r) => udp.close(() => r()))
    if (attempt >= 5) throw new Error('no port free for both UDP and TCP')
  }

  const sum = (m: Map<string, number>, type?: string, name?: string): number =>
    type && name ? (m.get(`${type} ${name.toLowerCase()}`) ?? 0) : [...m.values()].reduce((a, b) => a + b, 0)

  return {
    port,
    address: `127.0.0.1:${port}`,
    stats,
    resetStats: () => {
      stats.queries = 0
      stats.byType = {}
      stats.nxdomain = 0
      stats.malformed = 0
      counts.clear()
      tcpCounts.clear()
    },
    count: (type, name) => sum(counts, type, name),
    tcpCount: (type, name) => sum(tcpCounts, type, name),
    close: async () => {
      if (closed) return
      closed = true
      for (const t of timers) clearTimeout(t)
      timers.clear()
      for (const s of sockets) s.destroy()
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))])
    },
  }
}
