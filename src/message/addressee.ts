/**
 * Who a notice addresses, read from its text: the names its greeting uses (山田 太郎 様,
 * Dear Taro Yamada), and whether it carries that person's postal address or phone number.
 * Pure; every regex here is linear or bounded.
 *
 * Where personal data counts (docs/signals.md, NOTICE_PERSONAL_DATA): a notice's footer
 * almost always carries the shop's own postal address and telephone number, and a contact
 * desk's number appears in the body of many genuine notices. Counting every address or
 * number in the text would make the signal fire on every notice, and so say nothing. Data
 * counts only where a notice writes its customer's data:
 *
 * - in a block under a label that names the customer's data (お届け先, 配送先, ご請求先,
 *   ご住所, 注文者情報, Shipping address, Ship to, Bill to …), up to its first empty line, a
 *   new section marker, or 8 lines;
 * - next to the greeting (two lines above it, three below), where a letter puts its
 *   addressee's name and address.
 *
 * and never on a line that says it is the shop's own (お問い合わせ, カスタマーセンター,
 * 株式会社, 本社, 営業時間, Customer service, Contact us, Inc., © …), even inside those zones.
 */

export interface Addressee {
  /** the names the greeting uses, as written (honorifics and greeting words are the store's to strip) */
  readonly names: readonly string[]
  /** what personal data the customer's zones carry: `postal`, `phone` (each at most once, in that order) */
  readonly personal: readonly ('postal' | 'phone')[]
}

/** Lines read for a greeting: greetings open a notice (after a header line or two). */
const GREETING_LINES = 15
/** Lines of a labelled block read at most, after its label. */
const BLOCK_LINES = 8
/** Names read from one notice at most. */
const MAX_NAMES = 4


/** 〒123-4567, 郵便番号 123-4567 */
const POSTAL_CODE = /(?:〒|郵便番号[:\s]{0,3})\s?\d{3}-?\d{4}(?:$|\D)/
/** a prefecture followed by a municipality (市, 区, 町, 村, 郡) */
const PREFECTURE_CITY =
  /(?:北海道|青森県|岩手県|宮城県|秋田県|山形県|福島県|茨城県|栃木県|群馬県|埼玉県|千葉県|東京都|神奈川県|新潟県|富山県|石川県|福井県|山梨県|長野県|岐阜県|静岡県|愛知県|三重県|滋賀県|京都府|大阪府|兵庫県|奈良県|和歌山県|鳥取県|島根県|岡山県|広島県|山口県|徳島県|香川県|愛媛県|高知県|福岡県|佐賀県|長崎県|熊本県|大分県|宮崎県|鹿児島県|沖縄県)[^\s、。,]{1,12}?[市区町村郡]/
/** a number, up to four words, a street word: 1200 Oak Street, 5 Main St. */
const STREET =
  /(?:^|[^\dA-Za-z])\d{1,6}[A-Za-z]?\s+(?:[A-Za-z][A-Za-z.'-]*\s+){0,4}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|Terrace|Parkway|Pkwy|Highway|Hwy|Square|Sq|Circle|Cir)(?:$|[^A-Za-z])/
/** the end of `City, ST 12345(-6789)` */
const CITY_STATE_ZIP = /,\s?[A-Z]{2}\s{1,2}\d{5}(?:$|\D)/

/** Japanese numbers (03-1234-5678, 090-1234-5678, 09012345678, +81 90 1234 5678) and North American ones ((555) 123-4567). */
const PHONES: readonly RegExp[] = [
  /(?:^|[^\d-])0\d{1,4}-\d{1,4}-\d{3,4}(?:$|[^\d-])/,
  /(?:^|\D)0[5789]0\d{8}(?:$|\D)/,
  /\+81[\s-]?\d{1,4}[\s-]?\d{1,4}[\s-]?\d{3,4}(?:$|\D)/,
  /(?:^|[^\d-])(?:\+1[\s.-]?)?\(\d{3}\)\s?\d{3}[\s.-]\d{4}(?:$|\D)/,
  /(?:^|[^\d-])(?:\+1[\s.-]?)?\d{3}[.-]\d{3}[.-]\d{4}(?:$|[^\d-])/,
]

/** A label that opens the customer's own data. */
const CUSTOMER_LABEL =
  /(?:お届け先|お届け住所|配送先|配達先|送付先|送り先|ご請求先|請求先|ご住所|ご注文者|注文者情報|購入者情報|お客様情報|ご登録住所|shipping address|shipping to|ship to|ship-to|delivery address|deliver to|delivering to|billing address|bill to|bill-to|sold to|your address)/i

/** A line that speaks for the shop: its desk, its company, its hours, its copyright. */
const SHOP_LINE =
  /(?:問い?合わ?せ|カスタマー|サポート|センター|窓口|本社|所在地|会社概要|運営|発行|株式会社|有限会社|合同会社|受付時間|営業時間|フリーダイヤル|ナビダイヤル|customer (?:service|care|support)|support|contact us|help ?desk|headquarters|registered office|(?:^|[^a-z])(?:inc|ltd|llc)(?:$|[^a-z])|corporation|toll[ -]free|©|\(c\)|copyright)/i

/** A line that starts a new section: a decorated heading or a rule. */
const SECTION_START = /^(?:[■□◆◇●○◎▼▽▲△★☆【\[]|[-=_*~━─]{3})/

/** Greetings: 〇〇 様 (さま, サマ, 殿; then へ, 宛て, 宛, あて) at the start of a line, ended by the line, a space or punctuation. */
const HONORIFICS = ['様', 'さま', 'サマ', '殿'] as const
const ADDRESSED_TO = ['宛て', '宛', 'あて', 'へ'] as const
const AFTER_HONORIFIC = ' \t、,。.:：!！'
/** Dear …, Hello …, Hi …, Hey … at the start of a line, up to the first comma, colon, semicolon, ! or ?. */
const EN_GREETINGS = ['dear', 'hello', 'hi', 'hey'] as const
const NAME_ENDS = ',:;!?'
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t'

/** Words that address a reader without naming anyone. */
const JA_GENERIC =
  /(?:お客|客|会員|利用者|購入者|契約者|担当者|申込者|登録者|注文者|出品者|落札者|お得意|顧客|ユーザー|メンバー|ゲスト|オーナー|各位|皆|みな|みんな|ショップ|ストア|店長|ご家族|ファン)$/
const EN_GENERIC = new Set([
  'customer', 'customers', 'valued', 'member', 'members', 'user', 'users', 'sir', 'madam', 'there', 'all', 'everyone',
  'friend', 'friends', 'shopper', 'client', 'team', 'cardmember', 'cardholder', 'holder', 'account', 'subscriber',
  'guest', 'buyer', 'seller', 'folks', 'owner', 'patron', 'traveler', 'traveller', 'again', 'from', 'and', 'to',
  'for', 'your', 'our', 'we', 'thank', 'thanks', 'welcome', 'this', 'the', 'you', 'is', 'it',
])
/** placeholders a template forgot to fill: {name}, %NAME%, 〇〇, ＊＊ */
const PLACEHOLDER = /[{}%<>〇○◯＊*#$@]|(?:^|[^a-z])name(?:$|[^a-z])/i

/** a dash between digits, as phone numbers and postal codes are written in Japanese text (０９０ー１２３４) */
const DASH = /(\d)[‐‑‒–—―−ー](\d)/g
const normaliseLine = (line: string): string => {
  const nfkc = line.normalize('NFKC')
  // twice: a one-digit group between two dashes (1ー2ー3) is matched on the second pass
  return nfkc.replace(DASH, '$1-$2').replace(DASH, '$1-$2').trim()
}

/** `s` without the characters of `chars` at its end (a loop: an anchored `[…]+$` regex is quadratic). */
function trimEnd(s: string, chars: string): string {
  let end = s.length
  while (end > 0 && chars.includes(s[end - 1]!)) end--
  return s.slice(0, end)
}

/** The text before the first honorific of a greeting line, at most 30 characters in (plain string search: no backtracking). */
function beforeHonorific(line: string): string | undefined {
  for (let i = 1; i <= Math.min(line.length - 1, 40); i++) {
    const honorific = HONORIFICS.find((h) => line.startsWith(h, i))
    if (!honorific) continue
    let after = i + honorific.length
    const to = ADDRESSED_TO.find((a) => line.startsWith(a, after))
    if (to) after += to.length
    if (after < line.length && !AFTER_HONORIFIC.includes(line[after]!)) continue
    const name = line.slice(0, i).trim()
    return name.length <= 30 ? name : undefined
  }
  return undefined
}

function japaneseName(line: string): string | undefined {
  const name = beforeHonorific(line)
  if (!name) return undefined
  // a sentence, a label or a number is not a name
  if (/[、。,.:：!！?？「」()（）\d様殿]/.test(name) || PLACEHOLDER.test(name)) return undefined
  if (JA_GENERIC.test(name.replace(/\s+/g, ''))) return undefined
  if (!/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{L}]/u.test(name)) return undefined
  return name
}

/** What follows `Dear`, `Hello`, `Hi` or `Hey` and a space, up to the first comma (or colon, …), at most 60 characters. */
function afterGreeting(line: string): string | undefined {
  const lower = line.toLowerCase()
  const word = EN_GREETINGS.find((g) => lower.startsWith(g) && isSpace(line[g.length]))
  if (!word) return undefined
  let end = word.length
  while (end < line.length && !NAME_ENDS.includes(line[end]!) && end - word.length < 61) end++
  return line.slice(word.length, end).trim().slice(0, 60)
}

function englishName(line: string): string | undefined {
  const given = afterGreeting(line)
  const name = given ? trimEnd(given, '. ') : undefined
  if (!name || PLACEHOLDER.test(name)) return undefined
  const words = name.split(/\s+/)
  if (words.length > 4) return undefined
  if (!words.every((w) => /^[\p{L}][\p{L}.'-]*$/u.test(w))) return undefined
  if (words.some((w) => EN_GENERIC.has(trimEnd(w.toLowerCase(), ".'")))) return undefined
  return name
}

const postalIn = (line: string): boolean =>
  POSTAL_CODE.test(line) || PREFECTURE_CITY.test(line) || STREET.test(line) || CITY_STATE_ZIP.test(line)
const phoneIn = (line: string): boolean => PHONES.some((re) => re.test(line))

/**
 * The names a notice's greeting uses (the first 15 non-empty lines outside labelled blocks:
 * a name in a shipping block is whom the parcel goes to, a gift's recipient perhaps, not the
 * reader), and the personal data written where a notice writes its customer's.
 */
export function readAddressee(text: string): Addressee {
  const lines = text.split(/\r?\n/).map(normaliseLine)
  const names: string[] = []
  const zone = new Set<number>()

  const block = new Set<number>()
  for (let i = 0; i < lines.length; i++) {
    const label = CUSTOMER_LABEL.exec(lines[i]!)
    if (!label) continue
    zone.add(i)
    block.add(i)
    let content = 0
    for (let j = i + 1; j < lines.length && j <= i + BLOCK_LINES; j++) {
      const line = lines[j]!
      if (!line) {
        if (content > 0) break
        continue
      }
      if (SECTION_START.test(line) && content > 0) break
      zone.add(j)
      block.add(j)
      content++
    }
  }

  let seen = 0
  for (let i = 0; i < lines.length && seen < GREETING_LINES; i++) {
    const line = lines[i]!
    // a name in a shipping or billing block is whom the parcel goes to (a gift's recipient), not whom the notice addresses
    if (!line || block.has(i)) continue
    seen++
    const name = japaneseName(line) ?? englishName(line)
    if (!name) continue
    if (!names.includes(name) && names.length < MAX_NAMES) names.push(name)
    for (let j = Math.max(0, i - 2); j <= Math.min(lines.length - 1, i + 3); j++) zone.add(j)
  }

  let postal = false
  let phone = false
  for (const i of zone) {
    const line = lines[i]!
    if (!line || SHOP_LINE.test(line)) continue
    postal ||= postalIn(line)
    phone ||= phoneIn(line)
  }
  const personal: ('postal' | 'phone')[] = []
  if (postal) personal.push('postal')
  if (phone) personal.push('phone')
  return { names, personal }
}
