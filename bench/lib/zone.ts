/**
 * The DNS world of the benchmark: every domain publishes what a well-run sending
 * domain publishes, so that mailauth does all of its work on every message.
 *
 * - `<any>._domainkey.<d>` TXT: the benchmark's DKIM key (one RSA-2048 key for all
 *   domains; a message signed by another key still costs a full RSA verify, and fails);
 * - `_dmarc.<d>` TXT: `v=DMARC1; p=reject`;
 * - `<d>` TXT: `v=spf1 ip4:<client> -all`, A: the client, MX: `mx.<d>`;
 * - the reverse name of the client: PTR `localhost` (Haraka core asks it per connection);
 * - other underscore names (`_mta-sts`, `_bimi`…), and public suffixes (`co.jp`, `_dmarc.co.jp`:
 *   DMARC's tree walk asks them): NXDOMAIN.
 */
import { getPublicSuffix } from 'tldts'

import { type ZoneFn, type ZoneRecords, txtStrings } from './dns-server.js'

export interface WorldOptions {
  /** the TXT value of every DKIM key record: `v=DKIM1; k=rsa; p=…` */
  readonly dkimTxt: string
  /** the address every SPF record allows (the SMTP client) */
  readonly clientIp: string
}

const reverseName = (ip: string): string => `${ip.split('.').reverse().join('.')}.in-addr.arpa`

export function benchWorld(opts: WorldOptions): ZoneFn {
  const key: ZoneRecords = { txt: [txtStrings(opts.dkimTxt)] }
  const dmarc: ZoneRecords = { txt: [['v=DMARC1; p=reject']] }
  const spf = [`v=spf1 ip4:${opts.clientIp} -all`]
  const reverse = reverseName(opts.clientIp)
  const hosts = new Map<string, ZoneRecords>()
  return (name) => {
    if (name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa')) return name === reverse ? { ptr: ['localhost'] } : undefined
    if (name === 'localhost') return { a: ['127.0.0.1'] }
    const labels = name.split('.')
    if (labels.length < 2) return undefined
    const dk = labels.indexOf('_domainkey')
    if (dk >= 0) return dk >= 1 && dk < labels.length - 1 ? key : undefined
    const isSuffix = (domain: string): boolean => getPublicSuffix(domain) === domain
    if (labels[0] === '_dmarc') return isSuffix(labels.slice(1).join('.')) ? undefined : dmarc
    if (labels.some((l) => l.startsWith('_')) || isSuffix(name)) return undefined
    let records = hosts.get(name)
    if (!records) {
      records = { txt: [spf], a: [opts.clientIp], mx: [{ preference: 10, exchange: `mx.${name}` }] }
      if (hosts.size < 100_000) hosts.set(name, records)
    }
    return records
  }
}
