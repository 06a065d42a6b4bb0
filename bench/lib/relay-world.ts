/**
 * The DNS world of the relay-view evaluation (`npm run eval`, docs/development.md): what a relay's
 * resolver would find for phishing that names real brands, served by bench/lib/dns-server.ts.
 *
 * Every domain of the world has one role, given to its organisational (registrable) domain:
 *
 * - `brand`: a real brand or institution. It sends from its own hosts only and monitors DMARC:
 *   every name under it has TXT `v=spf1 ip4:198.51.100.0/24 -all`, and `_dmarc.<org>` has
 *   `v=DMARC1; p=none`. An outside host using its domain fails SPF, and DMARC fails with p=none.
 * - `free-mail`: a mailbox provider where the attacker holds a real account, so mail whose envelope
 *   is at the provider left through the provider's own hosts: TXT `v=spf1 ip4:192.0.2.0/24 -all`,
 *   `_dmarc.<org>` `v=DMARC1; p=none`.
 * - `attacker`: a domain the attacker owns or controls: TXT `v=spf1 ip4:203.0.113.0/24 -all` (its
 *   sending hosts pass SPF), no DMARC record.
 *
 * No DKIM key is published anywhere (`<selector>._domainkey.*` is NXDOMAIN): archived signatures
 * cannot verify. Every other name (unknown domains, public suffixes, `_dmarc` of a subdomain, other
 * underscore names, reverse names) is NXDOMAIN, so that a name that does not exist reads as "no
 * record", never as a DNS failure. Only the three TEST-NET ranges of RFC 5737 appear: nothing is
 * ever sent to them, they are data in the SMTP context.
 */
import { getDomain, getPublicSuffix } from 'tldts'

import type { ZoneFn, ZoneRecords } from './dns-server.js'

export type Role = 'brand' | 'free-mail' | 'attacker'

/** The SMTP client ranges: the brands' own hosts, the free-mail providers' outbound hosts, the attacker's hosts. */
export const BRAND_HOSTS = '198.51.100.0/24'
export const FREE_MAIL_HOSTS = '192.0.2.0/24'
export const ATTACKER_HOSTS = '203.0.113.0/24'

const SPF: Readonly<Record<Role, string>> = {
  brand: `v=spf1 ip4:${BRAND_HOSTS} -all`,
  'free-mail': `v=spf1 ip4:${FREE_MAIL_HOSTS} -all`,
  attacker: `v=spf1 ip4:${ATTACKER_HOSTS} -all`,
}
const DMARC_P_NONE: ZoneRecords = { txt: [['v=DMARC1; p=none']] }

/** The organisational domain of a name (public suffix + one label), lower case; undefined for a bare suffix. */
export function orgDomain(name: string): string | undefined {
  const d = name.toLowerCase().replace(/\.$/, '')
  return getDomain(d, { allowPrivateDomains: true }) ?? undefined
}

/**
 * True for a domain under a public-sector suffix (`go.jp`, `lg.jp`, `gov`, `gov.uk`, `gouv.fr`,
 * `gob.mx`, `govt.nz`, `mil` …): an institution, whatever the registry knows.
 */
export function isPublicSector(domain: string): boolean {
  const suffix = getPublicSuffix(domain.toLowerCase()) ?? ''
  return ['gov', 'go', 'gouv', 'gob', 'govt', 'mil', 'lg'].includes(suffix.split('.')[0] ?? '')
}

/**
 * The zone: `roles` maps organisational domains to their role; every name under one of them has
 * the role's SPF record, `_dmarc.<org>` the role's DMARC record, everything else is NXDOMAIN.
 */
export function relayWorld(roles: ReadonlyMap<string, Role>): ZoneFn {
  const spf = new Map<Role, ZoneRecords>(Object.entries(SPF).map(([role, value]) => [role as Role, { txt: [[value]] }]))
  return (name) => {
    const labels = name.split('.')
    if (labels[0] === '_dmarc') {
      const rest = labels.slice(1).join('.')
      const role = roles.get(rest) // only the organisational domain publishes one
      return role === 'brand' || role === 'free-mail' ? DMARC_P_NONE : undefined
    }
    if (labels.some((l) => l.startsWith('_'))) return undefined // DKIM keys, _mta-sts, _bimi …
    const org = orgDomain(name)
    const role = org === undefined ? undefined : roles.get(org)
    return role === undefined ? undefined : spf.get(role)
  }
}
