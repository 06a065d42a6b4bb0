/**
 * The tests' face of the one loopback DNS server (bench/lib/dns-server.ts): zones by
 * name, changed while it runs, TTL 300, EDNS(0) payload sizes honoured. Its records can
 * answer the way broken and hostile DNS does (`fault`, `rcode`, `delayMs`, `truncate`).
 * haraka-test-fixtures' dns fixture is UDP only and cannot truncate. Loopback only.
 */
import { type Fault, type ZoneRecords, startDnsServer as startServer } from '../../dist/bench/lib/dns-server.js'

export type { Fault }
export type Zone = ZoneRecords

export interface DnsServer {
  readonly port: number
  /** `ip:port`, for [dns] servers and CachedResolver */
  readonly address: string
  setZone(name: string, zone: Zone): void
  /** queries received for `TYPE name` (both transports), or for every key */
  count(type?: string, name?: string): number
  /** queries over TCP only */
  tcpCount(type?: string, name?: string): number
  resetCounts(): void
  close(): Promise<void>
}

const key = (name: string): string => name.toLowerCase().replace(/\.$/, '')

/** Starts the server on 127.0.0.1 (UDP and TCP on one port). Names not in `zones` are NXDOMAIN. */
export async function startDnsServer(zones: Readonly<Record<string, Zone>> = {}): Promise<DnsServer> {
  const map = new Map<string, Zone>(Object.entries(zones).map(([k, v]) => [key(k), v]))
  const server = await startServer({ zone: (name) => map.get(name), ttl: 300, honourUdpSize: true })
  return {
    port: server.port,
    address: server.address,
    setZone: (name, zone) => map.set(key(name), zone),
    count: server.count,
    tcpCount: server.tcpCount,
    resetCounts: server.resetStats,
    close: server.close,
  }
}
