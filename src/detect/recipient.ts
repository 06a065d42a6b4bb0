/**
 * The recipient's own provider impersonated: a sender whose display name names the domain the
 * message is addressed to ("example.com IT Support", "Mail Administrator for example.com",
 * 「example.co.jp 管理者」), writing from another organisation's domain and sending the reader
 * to a third one: the mailbox-upgrade, maintenance, quota and password-expiry lures that name
 * no brand but the recipient's own. Pure: no Haraka, no DNS, no clock.
 *
 * The recipients are the envelope's (RCPT TO) when the relay knows them, else the To and Cc
 * headers (an offline scan): see Context.recipients.
 */
import type { DomainIndex } from '../knowledge/domains.js'
import type { Link, MessageFacts } from '../message/parse.js'
import { knownHost } from '../message/find.js'
import type { Hit } from '../verdict/symbols.js'
import type { Detector } from './context.js'
import { isFreeMailbox } from './claim.js'
import { examples, unique } from './options.js'

/** What the display name says of a recipient's domain, and where the links go instead. */
export interface RecipientPose {
  /** the recipient's registrable domain the display name names */
  readonly domain: string
  /** `domain`: it writes the domain (or a host under it); `label`: only its name (`Example IT Support`) */
  readonly how: 'domain' | 'label'
  /** registrable domains of the links that are neither the sender's, nor a recipient's, nor neutral */
  readonly elsewhere: readonly string[]
}

export interface RecipientInput {
  readonly facts: Pick<MessageFacts, 'from' | 'links' | 'listDomain'>
  /** the recipients' addresses, lower case (envelope, else headers) */
  readonly recipients: readonly string[]
  /** the message's wording makes it an account notice (password, mailbox, sign-in…) */
  readonly accountNotice: boolean
  readonly forwarded: boolean
}

/** Letters and digits of any script, hyphen kept (a label such as `acme-corp` is one word). */
const WORD_BREAK = /[^\p{L}\p{N}-]+/u
/** What a host name written in a display name is made of; anything else separates two of them. */
const HOST_BREAK = /[^a-z0-9.-]+/

/** The registrable domain of a recipient's address, and its name without the public suffix. */
function recipientOrg(address: string, domains: DomainIndex): { reg: string; label: string } | undefined {
  const at = address.lastIndexOf('@')
  const host = at < 0 ? '' : address.slice(at + 1)
  const info = host ? domains.host(host) : undefined
  const reg = info?.registrable ?? ''
  // a free-mail provider's own notices come from its company's other domains (gmail.com, google.com):
  // its name in a display name says nothing about its customers' mailboxes
  if (!reg || isFreeMailbox(domains, reg)) return undefined
  return { reg, label: info!.label }
}

/** A run without the dots and hyphens at its ends (a sentence's full stop, a dash before a name). Linear. */
function trimDots(run: string): string {
  let i = 0
  let j = run.length
  while (i < j && (run[i] === '.' || run[i] === '-')) i++
  while (j > i && (run[j - 1] === '.' || run[j - 1] === '-')) j--
  return run.slice(i, j)
}

/** Hosts written in a display name (`lists.example.org`, `IT Support <it@example.com>`), known suffixes only. */
function hostsIn(name: string): string[] {
  return name
    .split(HOST_BREAK)
    .map(trimDots)
    .filter((run) => run.includes('.') && knownHost(run) !== undefined)
}

/** A URL that carries one of the recipients' addresses (`?uid=user@example.com`, also %40-encoded): a page made for them. */
const carriesAddress = (l: Link, recipients: readonly string[]): boolean => {
  const url = l.url.toLowerCase().replaceAll('%40', '@')
  return recipients.some((r) => r.includes('@') && url.includes(r))
}

/**
 * Does the sender pose as the recipient's own provider? Its display name names a recipient's
 * registrable domain (written as a domain, or its name as a word), the From domain is another
 * organisation's (not that domain, not a registered brand owning both, not the mailing list
 * writing its own address into From), the display name does not also name the sender itself
 * ("Acme Corp via Slack" from slack.com is Slack speaking for its customer; "Pioneer Credit Union" from
 * pioneercu.example names itself with the word of pioneer.example), the message is no
 * forward, and it links to a domain that is neither the sender's, nor a recipient's, nor the
 * list's, nor a site named after a recipient's organisation (example-benefits.com), nor a
 * neutral site or a mailer's click tracker. A name alone (`Acme IT Support`) is
 * weaker than the domain written out, and a colleague or partner may carry the company's name
 * in theirs: it counts only on an account notice, or when a link carries a recipient's address.
 */
export function recipientPose(input: RecipientInput, domains: DomainIndex): RecipientPose | undefined {
  const from = input.facts.from
  if (!from?.domain || !from.name || input.forwarded) return undefined
  const { registrable: fromReg, label: fromLabel } = domains.host(from.domain)
  if (!fromReg) return undefined
  const listReg = input.facts.listDomain ? domains.host(input.facts.listDomain).registrable : ''
  if (listReg === fromReg) return undefined
  const name = from.name.normalize('NFKC').toLowerCase()
  const words = new Set(name.split(WORD_BREAK).filter(Boolean))
  const hosts = hostsIn(name).map((h) => domains.host(h).registrable)
  // the sender names itself too: a platform speaking for its customer, not posing as it
  if (hosts.includes(fromReg) || (fromLabel.length >= 3 && words.has(fromLabel))) return undefined

  const orgs = unique(input.recipients)
    .map((r) => recipientOrg(r, domains))
    .filter((o): o is { reg: string; label: string } => o !== undefined)
  const recipientRegs = new Set(orgs.map((o) => o.reg))
  if (recipientRegs.has(fromReg)) return undefined
  const fromBrand = domains.brandOf(fromReg)
  let named: { reg: string; how: 'domain' | 'label' } | undefined
  for (const o of orgs) {
    // a registered brand's own domains are one organisation (amazon.co.jp writing to amazon.com)
    if (fromBrand && domains.brandOf(o.reg) === fromBrand) continue
    if (hosts.includes(o.reg)) {
      named = { reg: o.reg, how: 'domain' }
      break
    }
    // the word may be the sender's own name too: "Pioneer Credit Union" at pioneercu.example writing to
    // someone at pioneer.example names itself; the domain written out (`pioneer.example`) still counts
    const ownWord = fromLabel.split('-').some((part) => part.startsWith(o.label))
    if (!named && o.label.length >= 3 && /\p{L}/u.test(o.label) && words.has(o.label) && !ownWord) named = { reg: o.reg, how: 'label' }
  }
  if (!named) return undefined

  const web = input.facts.links.filter((l) => (l.scheme === 'http' || l.scheme === 'https') && l.host)
  // a site named after the recipient's organisation (example-benefits.com for example.com) is the
  // organisation's own, run by a provider: its benefits, payroll or training portal, not elsewhere
  const recipientLabels = new Set(orgs.map((o) => o.label).filter((l) => l.length >= 3))
  const namedForRecipient = (reg: string): boolean =>
    domains.host(reg).label.split('-').some((part) => recipientLabels.has(part))
  // a link to a bare IP address goes elsewhere too (LINK_IP says so on its own)
  const away = web.filter((l) => {
    const info = domains.host(l.host)
    if (info.isIp) return true
    const reg = info.registrable || l.host
    return (
      reg !== fromReg &&
      !recipientRegs.has(reg) &&
      !namedForRecipient(reg) &&
      reg !== listReg &&
      !domains.inList(reg, 'neutral_link_domains') &&
      !domains.inList(reg, 'redirectors')
    )
  })
  const elsewhere = unique(away.map((l) => domains.host(l.host).registrable || l.host))
  if (!elsewhere.length) return undefined
  if (named.how === 'label' && !input.accountNotice && !away.some((l) => carriesAddress(l, input.recipients))) return undefined
  return { domain: named.reg, how: named.how, elsewhere }
}

/** SENDER_NAME_RECIPIENT_DOMAIN, from what the context decided (a pose makes the message a notice). */
export const recipientDetector: Detector = (c) =>
  c.recipientPose
    ? [
        {
          symbol: 'SENDER_NAME_RECIPIENT_DOMAIN',
          options: [c.recipientPose.domain, `via=${c.recipientPose.how}`, `from=${c.fromDomain ?? '-'}`, ...examples(c.recipientPose.elsewhere, 2)],
        } satisfies Hit,
      ]
    : []
