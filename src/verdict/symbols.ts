/**
 * The signal vocabulary. Detectors emit these names; configuration owns their scores:
 * config/shop-notice.scores.yaml gives every symbol's default score and the composites
 * (src/config/scores.ts checks that each symbol here has one), an admin's copy of that
 * file and `[scores] NAME = n` in shop-notice.ini override it. A new symbol is one entry
 * here and one line under `scores:` there. Every symbol is documented in docs/signals.md.
 */

export interface SymbolDef {
  readonly group: 'AUTH' | 'BRAND' | 'DOMAIN' | 'LINK' | 'SENDER' | 'ATTACHMENT' | 'CONTENT' | 'NOTICE' | 'SCAN'
  readonly description: string
}

export const SYMBOLS = {
  AUTH_DMARC_PASS: {
    group: 'AUTH',
    description: 'DMARC passed with an aligned SPF or DKIM identity for the From domain.',
  },
  AUTH_ALIGNED_PASS: {
    group: 'AUTH',
    description:
      'No DMARC result (the From domain publishes no record, or the trusted upstream recorded only dkim= and spf=), but a DKIM or SPF pass is aligned with the From domain (relaxed: the same organisational domain), as DMARC would align it.',
  },
  AUTH_DMARC_FAIL: {
    group: 'AUTH',
    description: 'DMARC failed and the From domain publishes p=none (monitoring only).',
  },
  AUTH_DMARC_FAIL_ENFORCED: {
    group: 'AUTH',
    description: 'DMARC failed and the From domain asks receivers to quarantine or reject such mail.',
  },
  AUTH_DMARC_MISSING: {
    group: 'AUTH',
    description: 'The From domain publishes no DMARC record.',
  },
  AUTH_SPF_FAIL: {
    group: 'AUTH',
    description: 'SPF hard fail (-all) for the envelope sender.',
  },
  AUTH_SPF_SOFTFAIL: {
    group: 'AUTH',
    description: 'SPF soft fail (~all) for the envelope sender.',
  },
  AUTH_NONE: {
    group: 'AUTH',
    description: 'Neither SPF nor any DKIM signature passed: nothing authenticates the sender.',
  },
  AUTH_DNS_TEMPFAIL: {
    group: 'AUTH',
    description:
      'A DNS lookup failed temporarily (timeout, SERVFAIL): some results are temperror. Never treated as a failure (RFC 7489 6.6.2).',
  },
  AUTH_UNAVAILABLE: {
    group: 'AUTH',
    description: 'Authentication was not performed (offline scan without a trusted Authentication-Results header).',
  },
  BRAND_NOT_AUTHENTICATED: {
    group: 'BRAND',
    description:
      'The message claims a registered brand in its sender (From domain or display name), but none of the brand\'s mail domains (its own, its issuers\') authenticated it: no DMARC pass, nor, without a DMARC result, an aligned DKIM or SPF pass (even when the brand publishes p=none). A DMARC fail stays a fail.',
  },
  BRAND_AUTHENTICATED: {
    group: 'BRAND',
    description:
      'The claimed registered brand is authenticated: DMARC pass, or without a DMARC result an aligned DKIM or SPF pass, for a From domain that is one of the brand\'s mail domains (its own, its issuers\', or under its own top-level domain; never a free-mail mailbox).',
  },
  BRAND_DISPLAY_NAME_MISMATCH: {
    group: 'BRAND',
    description: 'The From display name names a registered brand that the From address domain does not belong to.',
  },
  BRAND_CLAIM_FOREIGN_SENDER: {
    group: 'BRAND',
    description:
      'A notice names a registered brand in its subject, its first lines or its links, but comes from a domain that is not the brand\'s (a weaker claim than the display name; forwarded mail is exempt).',
  },
  BRAND_MENTIONED: {
    group: 'BRAND',
    description:
      'An authenticated sender (its own From domain passed, no lookalike, no free mail) names registered brands without speaking as them: in its subject words, text or links, or as the marketplace its shop is on (〇〇 楽天市場店). Its notice is its own; options list brand:where.',
  },
  BRAND_PROMISE_ATTACHMENTS: {
    group: 'BRAND',
    description: 'The claimed brand promises `attachments: never`, and this notice carries an attachment.',
  },
  BRAND_PROMISE_HTTPS: {
    group: 'BRAND',
    description:
      'The claimed brand promises `links: https-only`, and this notice has an http:// link (for a claim made only in the text, a link to the sender\'s own site does not count: it is not the brand\'s).',
  },
  BRAND_PROMISE_ORDER_NUMBER: {
    group: 'BRAND',
    description: 'The notice shows an order number that does not have the shape of the claimed brand\'s order numbers.',
  },
  BRAND_INCIDENT: {
    group: 'BRAND',
    description:
      'The message speaks in the name of a brand with an incident in force (registry `incidents:`: its display name, a domain imitating it, or a notice naming it) and that brand did not authenticate it: at least `suspicious`, whatever the score (options: brand, since, leaked).',
  },
  BRAND_INCIDENT_DATA_REQUEST: {
    group: 'BRAND',
    description:
      'A request for card data or credentials (CONTENT_CARD_DATA_REQUEST, CONTENT_CREDENTIAL_REQUEST) in the name of a brand with an incident in force: `spoofed`, even from the brand\'s own authenticated domain (options: brand, since, what was asked).',
  },
  BRAND_PROMISE_CARD_DATA: {
    group: 'BRAND',
    description:
      'A request for card data (CONTENT_CARD_DATA_REQUEST) in the name of a brand that promises `card_data: never`: at least `suspicious`, even from the brand\'s own domain.',
  },
  BRAND_PROMISE_CREDENTIALS: {
    group: 'BRAND',
    description:
      'A request for a password, PIN or security code (CONTENT_CREDENTIAL_REQUEST) in the name of a brand that promises `credentials: never`: at least `suspicious`, even from the brand\'s own domain.',
  },
  DOMAIN_LOOKALIKE_FROM: {
    group: 'DOMAIN',
    description:
      'The From domain imitates a registered brand domain: the brand\'s name inside another registrable domain, a Unicode confusable (UTS #39 skeleton) or a small edit distance.',
  },
  DOMAIN_LOOKALIKE_LINK: {
    group: 'DOMAIN',
    description: 'A link goes to a domain that imitates a registered brand domain (as DOMAIN_LOOKALIKE_FROM).',
  },
  DOMAIN_IDN_MIXED_SCRIPT: {
    group: 'DOMAIN',
    description:
      'The From domain or a link domain is an IDN (punycode) whose label mixes scripts that no real name mixes (Latin with Cyrillic or Greek…).',
  },
  LINK_TEXT_MISMATCH: {
    group: 'LINK',
    description:
      'An HTML link shows one domain in its text and goes to another registrable domain (not when an authenticated sender shows its own domain over a click-tracking redirector).',
  },
  LINK_HTTP: {
    group: 'LINK',
    description: 'A notice links with plain http://, in its HTML or its text (an address written without a scheme, www.example.com/…, is no http link).',
  },
  LINK_IP: {
    group: 'LINK',
    description: 'A link goes to a bare IP address instead of a domain name.',
  },
  LINK_SHORTENER: {
    group: 'LINK',
    description: 'A notice links through a public URL shortener, which hides where the link goes.',
  },
  LINK_OFF_BRAND: {
    group: 'LINK',
    description:
      'A notice claiming a registered brand links to domains that are not the brand\'s (nor neutral sites, redirectors or the mailing list that carried it).',
  },
  LINK_NO_BRAND_LINK: {
    group: 'LINK',
    description:
      'A notice claiming a registered brand links somewhere, but not once to the brand itself: genuine notices link to the brand\'s own site (adds to LINK_OFF_BRAND).',
  },
  LINK_ALL_ON_BRAND: {
    group: 'LINK',
    description: 'Every link of a notice claiming a registered brand goes to the brand\'s own domains (or neutral sites).',
  },
  SENDER_DISPLAY_NAME_ADDRESS: {
    group: 'SENDER',
    description: 'The From display name holds an e-mail address whose domain is not the From address\'s.',
  },
  SENDER_LOOKALIKE_NAME: {
    group: 'SENDER',
    description:
      'A word of the display name or of the address\'s local part imitates a registered brand\'s name without being it (amazom, Aamzon, paypa1): a typo no brand makes in its own name.',
  },
  SENDER_REPLY_TO_OFF_BRAND: {
    group: 'SENDER',
    description: 'A notice claiming a registered brand asks for replies to a domain that is not the brand\'s.',
  },
  SENDER_REPLY_TO_FREEMAIL: {
    group: 'SENDER',
    description: 'A notice asks for replies to a free-mail address, while it is not sent from that free-mail provider.',
  },
  SENDER_FREEMAIL: {
    group: 'SENDER',
    description: 'A notice is sent from a free-mail address: shops and payment brands send from their own domains.',
  },
  SENDER_ENVELOPE_OFF_BRAND: {
    group: 'SENDER',
    description: 'The envelope sender (MAIL FROM) of a notice claiming a registered brand is outside the brand\'s domains.',
  },
  SENDER_NAME_RECIPIENT_DOMAIN: {
    group: 'SENDER',
    description:
      "The display name names the recipient's own domain (example.com IT Support, Mail Administrator for example.com; or the domain's name alone on an account notice or with a link carrying the recipient's address), the From domain is another organisation's, and a link goes to a third domain: the recipient's own mail provider impersonated (mailbox upgrade, maintenance, quota, password expiry). The envelope recipients in the relay, To and Cc offline. Makes the message a notice.",
  },
  ATTACHMENT_RISKY: {
    group: 'ATTACHMENT',
    description:
      'A notice carries an archive, an executable or script, an HTML file, a disk image, a macro document or a file that opens as something else (.url, .xll, .eml, .msg): the phrase book\'s `attachments` lists; a double extension such as invoice.pdf.exe counts by its last one, and a name ending in a dot or a space is risky.',
  },
  ATTACHMENT_ON_NOTICE: {
    group: 'ATTACHMENT',
    description: 'A notice carries a document attachment (PDF, office document, unknown type); pictures shown inline do not count.',
  },
  CONTENT_CARD_DATA_REQUEST: {
    group: 'CONTENT',
    description:
      'The text asks for a card number, security code, PIN, bank account or identity document: a sentence holds both the item and a request outside a condition, the request is not negated, and the sentence is no warning or promise ("we will never ask…", "scammers may ask you to…").',
  },
  CONTENT_CARD_DATA_ELSEWHERE: {
    group: 'CONTENT',
    description:
      'An authenticated sender (registered brand or not) asks for card data (CONTENT_CARD_DATA_REQUEST) and links to a domain that neither it, nor the claimed brand, nor any registered brand answers for: a hijacked shop account sending buyers to re-enter their card elsewhere. With the request it outweighs the brand\'s authentication: at least suspicious.',
  },
  CONTENT_CREDENTIAL_REQUEST: {
    group: 'CONTENT',
    description:
      'The text asks for a password, a one-time code or other sign-in secrets (a sentence with the item and a request, no reassurance); weighs less than card data, since reset mail talks about passwords too.',
  },
  CONTENT_DETAILS_MISSING: {
    group: 'CONTENT',
    description: 'A payment, order or card-usage notice with no order number, no amount and no item: the details genuine notices carry.',
  },
  CONTENT_CALLBACK_NUMBER: {
    group: 'CONTENT',
    description:
      'A notice gives a telephone number to call, with words asking the reader to ring it (callback phrases of the phrase book): the callback lure of fake renewals and charges.',
  },
  CONTENT_CALLBACK_DOCUMENT: {
    group: 'CONTENT',
    description:
      'A payment or order message that is nothing but a document attachment and a telephone number labelled as support (Phone Support:, Support Desk Contact:, hotline): no link, a few lines of text, no registered brand, and neither its display name nor its text names the From domain\'s organisation: the callback-invoice lure. Makes the message a notice.',
  },
  CONTENT_SIMPLIFIED_CHINESE: {
    group: 'CONTENT',
    description: 'Japanese text holds simplified-Chinese characters that Japanese never uses (确认, 订单, 账户…): machine-made.',
  },
  CONTENT_OBFUSCATED: {
    group: 'CONTENT',
    description:
      'The subject or display name hides characters to dodge filters: invisible code points (zero-width, variation selectors) outside emoji, or stray combining marks.',
  },
  NOTICE_FIRST_CONTACT: {
    group: 'NOTICE',
    description:
      'The first authenticated notice of this brand (or, for a shop outside the registry, of this authenticated organisational domain) that the store remembers for a recipient of the message. Informational: a client may say so (docs/store.md).',
  },
  NOTICE_PERSONAL_DATA: {
    group: 'NOTICE',
    description:
      'The notice carries a person\'s postal address or phone number where notices write their customer\'s (a shipping or billing block, next to the greeting; options say postal, phone). Informational.',
  },
  NOTICE_OTHER_ADDRESSEE: {
    group: 'NOTICE',
    description:
      'The greeting addresses a person by a name that none of a recipient\'s earlier authenticated notices used (and it has some): a misdirected notice, as when someone mistypes their address at a shop. Informational.',
  },
  SCAN_TRUNCATED: {
    group: 'SCAN',
    description: 'The message is larger than [limits] max_scan_bytes, or has more MIME parts than [limits] max_mime_parts: only its headers and beginning were read.',
  },
} as const satisfies Record<string, SymbolDef>

export type SymbolName = keyof typeof SYMBOLS

export const isSymbolName = (name: string): name is SymbolName => Object.hasOwn(SYMBOLS, name)

/**
 * Floors, declared: when `when` fired, the verdict of a notice is at least `verdict`,
 * whatever the score (the score stays the sum of the weights, as written in X-Shop-Notice).
 * A promise or an incident in force is the brand's own word: no weighing makes a request it
 * ruled out look genuine.
 */
export const FLOORS: readonly { readonly when: SymbolName; readonly verdict: 'suspicious' | 'spoofed'; readonly why: string }[] = [
  { when: 'BRAND_INCIDENT', verdict: 'suspicious', why: 'mail in the name of a brand whose data leaked, not authenticated by it' },
  { when: 'BRAND_INCIDENT_DATA_REQUEST', verdict: 'spoofed', why: 'after a leak, a request for card data or credentials in the brand\'s name is the phishing the leak enables' },
  { when: 'BRAND_PROMISE_CARD_DATA', verdict: 'suspicious', why: 'the brand says it never asks for card data by mail' },
  { when: 'BRAND_PROMISE_CREDENTIALS', verdict: 'suspicious', why: 'the brand says it never asks for passwords, PINs or security codes by mail' },
]

/** One detector hit: a symbol and the options that explain it (`amazon:dmarc=fail`). */
export interface Hit {
  readonly symbol: SymbolName
  readonly options: readonly string[]
}
