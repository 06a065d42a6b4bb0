/**
 * Per-recipient-domain policy: `[policy.<domain>]` sections of shop-notice.ini override
 * `[actions] mode` and the `[thresholds]` for mail to that domain (and its subdomains).
 *
 * One message is one transaction: one copy, one set of headers, one action, whatever its
 * recipients. When they are in domains with different policies, the message gets the
 * weakest of them: the weakest mode and, threshold by threshold, the highest. So no
 * domain ever has mail held, refused, tagged or judged more strictly than its own policy
 * says; a domain that asked for more gets, for that message, what the others allow.
 */
import { ConfigError } from '../shared/errors.js'
import { MODES, type Mode, type Thresholds } from '../verdict/score.js'

export const POLICY_PREFIX = 'policy.'

export interface DomainPolicy {
  readonly mode: Mode
  readonly thresholds: Thresholds
}

/** The keys of a `[policy.<domain>]` section. */
export const POLICY_KEYS = ['mode', 'thresholds_suspicious', 'thresholds_spoofed', 'thresholds_reject'] as const

const DOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * The `[policy.<domain>]` sections of the ini object haraka-config made, validated: every
 * unset key inherits the global `[actions] mode` and `[thresholds]`.
 */
export function parsePolicies(
  src: Record<string, unknown>,
  file: string,
  defaults: DomainPolicy,
  warnings: string[],
): ReadonlyMap<string, DomainPolicy> {
  const out = new Map<string, DomainPolicy>()
  for (const [section, given] of Object.entries(src)) {
    if (!section.toLowerCase().startsWith(POLICY_PREFIX)) continue
    const at = `[${section}]`
    const domain = section.slice(POLICY_PREFIX.length).toLowerCase().replace(/\.$/, '')
    if (!DOMAIN.test(domain)) throw new ConfigError(file, at, `not a domain name after "policy." (write IDNs as xn--): ${JSON.stringify(domain)}`)
    if (out.has(domain)) throw new ConfigError(file, at, `a second section for ${domain}`)
    if (!isRecord(given)) throw new ConfigError(file, at, 'expected a section')
    for (const key of Object.keys(given)) {
      if (!(POLICY_KEYS as readonly string[]).includes(key)) warnings.push(`${file}: ${at} ${key}: unknown key, ignored (known: ${POLICY_KEYS.join(', ')})`)
    }
    let mode = defaults.mode
    if (given.mode !== undefined && given.mode !== '') {
      if (typeof given.mode !== 'string' || !(MODES as readonly string[]).includes(given.mode)) {
        throw new ConfigError(file, `${at} mode`, `expected one of ${MODES.join(', ')}, got ${JSON.stringify(given.mode)}`)
      }
      mode = given.mode as Mode
    }
    const threshold = (name: keyof Thresholds): number => {
      const v = given[`thresholds_${name}`]
      if (v === undefined || v === '') return defaults.thresholds[name]
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(file, `${at} thresholds_${name}`, `expected a number, got ${JSON.stringify(v)}`)
      return v
    }
    const t: Thresholds = { suspicious: threshold('suspicious'), spoofed: threshold('spoofed'), reject: threshold('reject') }
    if (!(t.suspicious < t.spoofed)) throw new ConfigError(file, `${at} thresholds_spoofed`, `must be greater than suspicious (${t.suspicious}), got ${t.spoofed}`)
    if (!(t.spoofed <= t.reject)) throw new ConfigError(file, `${at} thresholds_reject`, `must be at least spoofed (${t.spoofed}), got ${t.reject}`)
    out.set(domain, { mode, thresholds: t })
  }
  return out
}

/** The policy of one recipient domain: its own section, else its nearest parent domain's, else the global one. */
export function policyOfDomain(policies: ReadonlyMap<string, DomainPolicy>, domain: string, global: DomainPolicy): DomainPolicy {
  let d = domain.toLowerCase().replace(/\.$/, '')
  for (;;) {
    const p = policies.get(d)
    if (p) return p
    const dot = d.indexOf('.')
    if (dot < 0) return global
    d = d.slice(dot + 1)
  }
}

const STRENGTH: Readonly<Record<Mode, number>> = { monitor: 0, tag: 1, quarantine: 2, reject: 3 }

/**
 * The policy a message to these recipient domains gets: the weakest mode and the highest
 * of each threshold among their policies (module comment). No recipients: the global policy.
 */
export function policyForRecipients(policies: ReadonlyMap<string, DomainPolicy>, domains: readonly string[], global: DomainPolicy): DomainPolicy {
  if (!policies.size || !domains.length) return global
  const each = domains.map((d) => policyOfDomain(policies, d, global))
  const mode = each.reduce((m, p) => (STRENGTH[p.mode] < STRENGTH[m] ? p.mode : m), each[0]!.mode)
  const highest = (k: keyof Thresholds): number => Math.max(...each.map((p) => p.thresholds[k]))
  return { mode, thresholds: { suspicious: highest('suspicious'), spoofed: highest('spoofed'), reject: highest('reject') } }
}
