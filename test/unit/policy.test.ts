/**
 * `[policy.<domain>]` and the `[auth]` trust keys of shop-notice.ini: parsed, validated,
 * and the policy a message to several recipient domains gets.
 */
import t from 'tap'

import { ConfigError, parseIni } from '../../dist/src/config/settings.js'
import { policyForRecipients, policyOfDomain } from '../../dist/src/config/policy.js'
import { parseCidr, relayTrusted, sealerTrusted } from '../../dist/src/auth/trust.js'

t.test('policy sections inherit what they do not set', async (t) => {
  const { value, warnings } = parseIni({
    actions: { mode: 'quarantine' },
    thresholds: { suspicious: 5, spoofed: 10, reject: 15 },
    'policy.example.com': { mode: 'monitor' },
    'policy.Strict.Example.NET': { mode: 'reject', thresholds_spoofed: 8, colour: 'red' },
  })
  t.same([...value.policies.keys()], ['example.com', 'strict.example.net'])
  t.same(value.policies.get('example.com'), { mode: 'monitor', thresholds: { suspicious: 5, spoofed: 10, reject: 15 } })
  t.same(value.policies.get('strict.example.net'), { mode: 'reject', thresholds: { suspicious: 5, spoofed: 8, reject: 15 } })
  t.match(warnings, [/\[policy\.Strict\.Example\.NET\] colour: unknown key, ignored/])
  t.notMatch(warnings.join('\n'), /unknown section/)
  t.equal(parseIni({}).value.policies.size, 0)
})

t.test('invalid policy sections are refused with file, section and key', async (t) => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['bad mode', { 'policy.example.com': { mode: 'loud' } }, /^shop-notice\.ini: \[policy\.example\.com\] mode: expected one of monitor, tag, quarantine, reject, got "loud"$/],
    ['bad domain', { 'policy.not a domain': { mode: 'tag' } }, /\[policy\.not a domain\]: not a domain name/],
    ['no domain', { 'policy.': { mode: 'tag' } }, /\[policy\.\]: not a domain name/],
    ['threshold not a number', { 'policy.example.com': { thresholds_spoofed: 'x' } }, /\[policy\.example\.com\] thresholds_spoofed: expected a number, got "x"/],
    ['out of order with the inherited ones', { 'policy.example.com': { thresholds_spoofed: 4 } }, /\[policy\.example\.com\] thresholds_spoofed: must be greater than suspicious \(5\), got 4/],
    ['reject below spoofed', { 'policy.example.com': { thresholds_reject: 9 } }, /\[policy\.example\.com\] thresholds_reject: must be at least spoofed \(10\), got 9/],
    ['twice', { 'policy.example.com': { mode: 'tag' }, 'policy.EXAMPLE.com': { mode: 'monitor' } }, /a second section for example\.com/],
  ]
  for (const [name, raw, re] of cases) {
    t.throws(() => parseIni(raw), re, name)
    t.throws(() => parseIni(raw), ConfigError, `${name}: a ConfigError`)
  }
})

const global = { mode: 'quarantine' as const, thresholds: { suspicious: 5, spoofed: 10, reject: 15 } }
const { value: withPolicies } = parseIni({
  actions: { mode: 'quarantine' },
  'policy.watch.example': { mode: 'monitor' },
  'policy.lenient.example': { mode: 'reject', thresholds_suspicious: 7, thresholds_spoofed: 20, thresholds_reject: 30 },
  'policy.strict.example': { mode: 'reject', thresholds_suspicious: 3, thresholds_spoofed: 6, thresholds_reject: 8 },
})
const policies = withPolicies.policies

t.test('a domain takes its own section, else its nearest parent\'s, else the global policy', async (t) => {
  t.equal(policyOfDomain(policies, 'watch.example', global).mode, 'monitor')
  t.equal(policyOfDomain(policies, 'Mail.Watch.Example.', global).mode, 'monitor')
  t.equal(policyOfDomain(policies, 'elsewhere.example', global), global)
  t.equal(policyOfDomain(policies, 'notwatch.example', global), global, 'a suffix that is not a parent domain does not count')
})

t.test('several recipient domains: the weakest mode, the highest of each threshold', async (t) => {
  t.equal(policyForRecipients(policies, [], global), global)
  t.equal(policyForRecipients(policies, ['elsewhere.example'], global).mode, 'quarantine')
  t.same(policyForRecipients(policies, ['strict.example'], global), { mode: 'reject', thresholds: { suspicious: 3, spoofed: 6, reject: 8 } })
  t.same(policyForRecipients(policies, ['strict.example', 'watch.example'], global), {
    mode: 'monitor',
    thresholds: { suspicious: 5, spoofed: 10, reject: 15 },
  })
  t.same(policyForRecipients(policies, ['strict.example', 'lenient.example'], global), {
    mode: 'reject',
    thresholds: { suspicious: 7, spoofed: 20, reject: 30 },
  })
  t.same(policyForRecipients(policies, ['strict.example', 'elsewhere.example'], global), {
    mode: 'quarantine',
    thresholds: { suspicious: 5, spoofed: 10, reject: 15 },
  })
})

t.test('[auth] trusted_relays and trusted_arc_sealers are validated', async (t) => {
  const { value, warnings } = parseIni({ auth: { trusted_relays: '10.0.0.0/8, 192.0.2.7 2001:db8::/32', trusted_arc_sealers: 'Forwarder.Example., lists.example.org' } })
  t.same(value.auth.trusted_relays, ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'])
  t.same(value.auth.trusted_arc_sealers, ['forwarder.example', 'lists.example.org'])
  t.match(warnings, [/trusted_relays: set, but \[auth\] trusted_authserv_ids is empty/])
  t.throws(() => parseIni({ auth: { trusted_relays: '10.0.0.0/8, gateway.example' } }), /\[auth\] trusted_relays\[1\]: not an IP address or CIDR/)
  t.throws(() => parseIni({ auth: { trusted_relays: '10.0.0.0/33' } }), /\[auth\] trusted_relays\[0\]/)
  t.throws(() => parseIni({ auth: { trusted_arc_sealers: 'localhost' } }), /\[auth\] trusted_arc_sealers\[0\]: not a domain name/)
  t.same(parseIni({}).value.auth, { trusted_authserv_ids: [], trusted_relays: [], trusted_arc_sealers: [] })
})

t.test('relayTrusted and sealerTrusted', async (t) => {
  const relays = ['10.9.0.0/16', '192.0.2.7', '2001:db8::/32']
  for (const ip of ['10.9.0.1', '10.9.255.255', '192.0.2.7', '::ffff:10.9.1.1', '2001:db8::25']) t.ok(relayTrusted(ip, relays), ip)
  for (const ip of ['10.10.0.1', '192.0.2.8', '2001:db9::1', '', 'not-an-ip', undefined]) t.notOk(relayTrusted(ip, relays), String(ip))
  t.notOk(relayTrusted('10.9.0.1', []))
  t.same(parseCidr('192.0.2.0/24'), { address: '192.0.2.0', prefix: 24, family: 'ipv4' })
  for (const bad of ['192.0.2.0/', '192.0.2.0/24/1', '1.2.3', '::/129', '10.0.0.0/-1']) t.equal(parseCidr(bad), undefined, bad)
  t.ok(sealerTrusted('Forwarder.example.', ['forwarder.example']))
  t.notOk(sealerTrusted('sub.forwarder.example', ['forwarder.example']), 'a subdomain is another signer')
  t.notOk(sealerTrusted(undefined, ['forwarder.example']))
})
