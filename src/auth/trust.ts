/**
 * Whom the configuration trusts to have authenticated a message before us: upstream gateways
 * by client address (`[auth] trusted_relays`, IPs and CIDRs), ARC sealers by signing domain
 * (`[auth] trusted_arc_sealers`).
 */
import net from 'node:net'

/** `192.0.2.1`, `192.0.2.0/24`, `2001:db8::1`, `2001:db8::/32`; undefined when it is none of these. */
export function parseCidr(spec: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', bits, ...rest] = spec.trim().split('/')
  if (rest.length) return undefined
  const v = net.isIP(address)
  if (!v) return undefined
  const max = v === 4 ? 32 : 128
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return undefined
  const prefix = bits === undefined ? max : Number(bits)
  if (prefix > max) return undefined
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' }
}

const lists = new WeakMap<readonly string[], net.BlockList>()

/** The IPs and CIDRs as one BlockList, compiled once per configuration (the array is kept frozen in Settings). */
function blockListOf(specs: readonly string[]): net.BlockList {
  let list = lists.get(specs)
  if (!list) {
    list = new net.BlockList()
    for (const s of specs) {
      const c = parseCidr(s)
      if (c) list.addSubnet(c.address, c.prefix, c.family)
    }
    lists.set(specs, list)
  }
  return list
}

/** Is `ip` (the SMTP client's address; an IPv4-mapped IPv6 address counts as IPv4) one of the trusted relays? */
export function relayTrusted(ip: string | undefined, relays: readonly string[]): boolean {
  if (!ip || !relays.length) return false
  const plain = ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '')
  const v = net.isIP(plain)
  if (!v) return false
  return blockListOf(relays).check(plain, v === 4 ? 'ipv4' : 'ipv6')
}

/** Is `domain` (an ARC-Seal's d=) one of the trusted sealers? Compared whole, case and a root dot aside. */
export const sealerTrusted = (domain: string | undefined, sealers: readonly string[]): boolean => {
  const d = domain?.trim().toLowerCase().replace(/\.$/, '')
  return !!d && sealers.some((s) => s.toLowerCase().replace(/\.$/, '') === d)
}
