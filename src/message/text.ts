/**
 * Text as a person reads it, in the forms phrases and names are matched in.
 * Pure functions; every regex here is linear (no nested quantifiers).
 */

/** Invisible characters (Unicode Default_Ignorable_Code_Point): zero-width spaces and joiners, variation selectors, soft hyphen… */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu

/** Emoji sequences legitimately carry ZWJ and variation selectors: take them out before counting invisibles. */
const EMOJI_SEQUENCE = /\p{Extended_Pictographic}[\uFE0E\uFE0F]?(?:\u200D\p{Extended_Pictographic}[\uFE0E\uFE0F]?)*|[#*0-9]\uFE0F\u20E3/gu

/** A combining mark that survived NFKC right after an ASCII letter: a foreign mark used to break words up. */
const STRAY_MARK = /[A-Za-z0-9@.][\p{M}]/gu

/**
 * How many characters in `s` hide or disguise text: invisible code points outside
 * emoji sequences, and combining marks that no ASCII letter takes.
 */
export function countDisguises(s: string): number {
  const plain = s.normalize('NFKC').replace(EMOJI_SEQUENCE, '')
  return (plain.match(INVISIBLE)?.length ?? 0) + (plain.match(STRAY_MARK)?.length ?? 0)
}

const stripInvisible = (s: string): string => s.replace(INVISIBLE, '')

/**
 * Small capitals (ᴀ ʙ ᴄ … from the IPA and Phonetic Extensions blocks), which NFKC keeps
 * and "fancy text" generators use to write ɴᴏʀᴛᴏɴ: folded onto the capitals a person reads.
 */
const SMALL_CAPS: Readonly<Record<string, string>> = Object.fromEntries(
  [...'ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡʏᴢ'].map((c, i) => [c, 'ABCDEFGHIJKLMNOPQRSTUVWYZ'[i]!]),
)
const SMALL_CAP = /[ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡʏᴢ]/gu
const foldSmallCaps = (s: string): string => s.replace(SMALL_CAP, (c) => SMALL_CAPS[c] ?? c)

/** Hiragana folded onto katakana: お届け and オ届ケ are one phrase. One pass over the code units, no call per character. */
function foldKana(s: string): string {
  let out = ''
  let from = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x3041 || c > 0x3096) continue
    out += s.slice(from, i) + String.fromCharCode(c + 0x60)
    from = i + 1
  }
  return from === 0 ? s : out + s.slice(from)
}

const DECORATION = /[\s\p{Z}【】「」『』〔〕［］[\]()（）〈〉《》<>★☆■□◆◇●○◎▼▽▲△※＊*〓♪!！?？:：|｜_＿~〜～\-－ー・･…‥"'`´‘’“”、。,.，．]+/gu

/**
 * The form phrases are matched in: NFKC, invisibles out, lower case, hiragana as
 * katakana, no white space, punctuation or decorative brackets and symbols.
 * The long-vowel mark and the middle dot go too (ログイン and ログ・イン are one word), and so do
 * typographic quotes (you’ve and you've are one phrase).
 */
export const normaliseText = (s: string): string => foldKana(foldSmallCaps(stripInvisible(s.normalize('NFKC'))).toLowerCase()).replace(DECORATION, '')

/** A dash between two letters or digits: Tractor-Supply, Home‐Depot (U+2010 to U+2015 too). */
const INNER_DASH = /(?<=[\p{L}\p{N}])[-\u2010-\u2015](?=[\p{L}\p{N}])/gu

/**
 * Chinese forms of the kanji of Japanese brand and institution names, folded onto one form when names
 * are matched: lures written by Chinese-speaking senders name 警察厅 for 警察庁, 乐天 for 楽天, 东京电力
 * for 東京電力, 三井住友卡 for 三井住友カード. Simplified forms (厅 银 东 乐 邮 电 …) and the traditional
 * ones that differ from Japanese (廳 樂 國 會 …), each onto the Japanese form; 動 and 働 are one (労働 is
 * 劳动 in Chinese), and 卡 is カード. The form only serves to compare names (the registry's names are
 * folded the same way): it is no reading of the text. CHINESE_FORMS_JAPANESE lists the keys that are also
 * Japanese characters (叶う, 机, 托, 國); the others are in the phrase book's `simplified_chinese`.
 */
export const CHINESE_FORMS: Readonly<Record<string, string>> = {
  乐: '楽', 樂: '楽', 场: '場', 员: '員', 會: '会', 决: '決', 济: '済', 濟: '済', 银: '銀', 灭: '滅',
  讬: '託', 托: '託', 证: '証', 證: '証', 兴: '興', 东: '東', 输: '輸', 运: '運', 邮: '郵',
  电: '電', 关: '関', 關: '関', 协: '協', 國: '国', 厅: '庁', 廳: '庁', 纳: '納', 务: '務', 劳: '労',
  勞: '労', 动: '動', 働: '動', 库: '庫', 势: '勢', 滨: '浜', 濱: '浜', 叶: '葉', 靜: '静',
  冈: '岡', 阳: '陽', 机: '機', 构: '構', 总: '総', 總: '総', 广: '広', 廣: '広', 岛: '島', 马: '馬',
  儿: '児', 兒: '児', 视: '視', 險: '険', 险: '険', 门: '門', 铁: '鉄', 鐵: '鉄', 车: '車', 经: '経',
  經: '経', 产: '産', 產: '産', 业: '業', 费: '費', 拂: '払', 卡: 'カード',
}
/** Keys of CHINESE_FORMS that are Japanese characters too (not marks of machine-made text). */
export const CHINESE_FORMS_JAPANESE: ReadonlySet<string> = new Set(['托', '叶', '机', '儿', '卡', '働', '拂', '國', '會', '證', '濟', '樂', '關', '廳', '勞', '濱', '靜', '總', '廣', '兒', '險', '鐵', '經', '產'])
/** The keys of CHINESE_FORMS as one class (test/unit/names.test.ts checks that they agree). */
export const CHINESE_FORM = /[乐樂场员會决济濟银灭讬托证證兴东输运邮电关關协國厅廳纳务劳勞动働库势滨濱叶靜冈阳机构总總广廣岛马儿兒视險险门铁鐵车经經产產业费拂卡]/gu
const foldChineseForms = (s: string): string => s.replace(CHINESE_FORM, (c) => CHINESE_FORMS[c] ?? c)

/**
 * Single Latin letters spaced out, three or more (S M B C, A m a z o n): a run is not glued to a
 * Latin letter on either side; a kana or kanji may follow (S M B Cカード).
 */
const SPELLED_OUT = /(?<![a-z])[a-z](?: [a-z]){2,}(?![a-z])/gi

/** A name-matching form and where in it runs of spaced-out letters were joined. */
export interface NameForm {
  readonly text: string
  /** [start, end) of each joined run in `text` */
  readonly spelled: readonly (readonly [number, number])[]
}

/**
 * The form names are matched in, with the runs of spaced-out letters it joined: NFKC, invisibles
 * out, lower case, white space folded, small capitals folded, Chinese forms of kanji folded
 * (CHINESE_FORMS); spaces next to a non-ASCII character dropped (三 井 住 友 → 三井住友, ETC 利用 →
 * etc利用) and three or more single Latin letters spaced out joined (E T C → etc, S M B Cカード →
 * smbcカード). `keepCase` keeps the case (for short names such as JCB, matched only as written).
 * A joined run can make ordinary text ("a b c", "I a m") look like a word: brandsNamedIn
 * counts a name there only when the name holds the whole run.
 */
export function nameForm(s: string, keepCase = false): NameForm {
  const nfkc = foldChineseForms(foldSmallCaps(stripInvisible(s.normalize('NFKC')))).replace(INNER_DASH, ' ')
  const spaced = (keepCase ? nfkc : nfkc.toLowerCase())
    .replace(/\s+/g, ' ')
    .replace(/(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])/g, '')
    .trim()
  const spelled: [number, number][] = []
  let removed = 0
  const text = spaced.replace(SPELLED_OUT, (run, at: number) => {
    const joined = run.replaceAll(' ', '')
    spelled.push([at - removed, at - removed + joined.length])
    removed += run.length - joined.length
    return joined
  })
  return { text, spelled }
}

/** The form names are matched in (nameForm): the registry's names are written in it. */
export const normaliseName = (s: string, keepCase = false): string => nameForm(s, keepCase).text

const isLetterOrDigit = (c: string): boolean => /[\p{L}\p{N}]/u.test(c)

/** Without the punctuation, symbols and spaces at either end (【三井住友】, "三井住友 -"). */
function trimEdges(s: string): string {
  const chars = [...s]
  let from = 0
  let to = chars.length
  while (from < to && !isLetterOrDigit(chars[from]!)) from++
  while (to > from && !isLetterOrDigit(chars[to - 1]!)) to--
  return chars.slice(from, to).join('')
}

/** Each set of desk words (a phrase book's `sender_role_words`, loaded once per configuration), longest first. */
const deskWordLists = new WeakMap<ReadonlySet<string>, readonly (readonly [word: string, ascii: boolean])[]>()

/**
 * The display name, in normaliseName's form, without the desk words around it (`roleWords`: the phrase
 * book's `sender_role_words`, lower case): 三井住友カスタマーセンター → 三井住友, "Sumitomo Mitsui Support
 * Team" → sumitomo mitsui. A Latin desk word goes only as a whole word (Supportive stays); a kana or
 * kanji one wherever it ends or starts the name, Japanese having no spaces between words.
 */
export function withoutRoleWords(displayName: string, roleWords: ReadonlySet<string>): string {
  let words = deskWordLists.get(roleWords)
  if (!words) {
    words = [...roleWords].sort((a, b) => b.length - a.length).map((w) => [w, /^[ -~]+$/.test(w)] as const)
    deskWordLists.set(roleWords, words)
  }
  let n = trimEdges(normaliseName(displayName))
  // a few desk words at most: a display name made of hundreds of them is no brand's name, and costs no more
  for (let changed = true, rounds = 0; changed && rounds < 4; rounds++) {
    changed = false
    for (const [w, ascii] of words) {
      if (n.endsWith(w) && n.length > w.length && !(ascii && /[a-z0-9]/.test(n[n.length - w.length - 1]!))) {
        n = trimEdges(n.slice(0, -w.length))
        changed = true
      } else if (n.startsWith(w) && n.length > w.length && !(ascii && /[a-z0-9]/.test(n[w.length]!))) {
        n = trimEdges(n.slice(w.length))
        changed = true
      }
    }
  }
  return n
}

/**
 * A capital I right after a small letter read as the l it looks like in most fonts (WaImart,
 * SuppIy): the way lures write a brand's name so that filters miss it. Same length.
 */
export const capitalIAsL = (s: string): string => s.replace(/(?<=\p{Ll})I/gu, 'l')

/** Kana (hiragana or katakana): the mark of Japanese text. */
export const hasKana = (s: string): boolean => /[\u3041-\u3096\u30a1-\u30fa]/.test(s)

/** Each glyph set (a phrase book's, loaded once per configuration) as one character class, compiled on first use. */
const glyphClasses = new WeakMap<ReadonlySet<string>, RegExp | null>()

function glyphClass(glyphs: ReadonlySet<string>): RegExp | null {
  let re = glyphClasses.get(glyphs)
  if (re === undefined) {
    const chars = [...glyphs].filter((g) => [...g].length === 1)
    re = chars.length ? new RegExp(`[${chars.map((c) => c.replace(/[\\\]\[^-]/g, '\\$&')).join('')}]`, 'gu') : null
    glyphClasses.set(glyphs, re)
  }
  return re
}

/** The distinct characters of `s` found in `glyphs`, in order of appearance. */
export function glyphsIn(s: string, glyphs: ReadonlySet<string>): string[] {
  const re = glyphClass(glyphs)
  return re ? [...new Set(s.match(re))] : []
}
