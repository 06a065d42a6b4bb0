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
 * The form names are matched in: NFKC, invisibles out, lower case, white space
 * folded, small capitals folded, a dash between letters read as a space (Tractor-Supply is
 * Tractor Supply); single letters spaced out joined (E T C → etc) and spaces next to a
 * non-ASCII character dropped (三 井 住 友 → 三井住友, ETC 利用 → etc利用). `keepCase` keeps
 * the case (for short names such as JCB, matched only as written). The length changes only
 * where white space is folded or dropped, the same for both cases.
 */
export function normaliseName(s: string, keepCase = false): string {
  const nfkc = foldSmallCaps(stripInvisible(s.normalize('NFKC'))).replace(INNER_DASH, ' ')
  return (keepCase ? nfkc : nfkc.toLowerCase())
    .replace(/\s+/g, ' ')
    .replace(/(?<=(?:^|[ \P{L}])[a-z]) (?=[a-z](?:$|[ \P{L}]))/giu, '')
    .replace(/(?<=[^\x00-\x7f]) | (?=[^\x00-\x7f])/g, '')
    .trim()
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
