/** The address forms of shop-notice.ini: DNS servers (`[dns] servers`) and listeners (`[metrics] listen`). */
import net from 'node:net'

/** `ip`, `ip:port` or `[ipv6]:port`, as node:dns setServers() accepts them. */
export const isServerSpec = (spec: string): boolean => {
  if (net.isIP(spec)) return true
  const m = /^\[([0-9a-f:.]+)\]:(\d{1,5})$/i.exec(spec) ?? /^([0-9.]+):(\d{1,5})$/.exec(spec)
  if (!m?.[1] || !m[2]) return false
  const port = Number(m[2])
  return net.isIP(m[1]) !== 0 && port > 0 && port < 65536
}

/** `host:port` of a listener: an IPv4 address, `[ipv6]` or `localhost`, and a port (0: any free one). */
export function parseListen(spec: string): { host: string; port: number } | undefined {
  const m = /^\[([0-9a-f:.]+)\]:(\d{1,5})$/i.exec(spec) ?? /^([0-9.]+|localhost):(\d{1,5})$/i.exec(spec)
  if (!m?.[1] || !m[2]) return undefined
  const host = m[1].toLowerCase()
  const port = Number(m[2])
  if (host !== 'localhost' && net.isIP(host) === 0) return undefined
  if (port > 65535) return undefined
  return { host, port }
}

const LOOPBACK = new net.BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

/** 127.0.0.0/8, ::1 or `localhost`: reachable from this host only. */
export const isLoopbackHost = (host: string): boolean =>
  host === 'localhost' || (net.isIPv4(host) ? LOOPBACK.check(host, 'ipv4') : net.isIPv6(host) && LOOPBACK.check(host, 'ipv6'))
