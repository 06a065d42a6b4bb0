/**
 * Brand families: the brands whose names begin alike (三井住友カード, 三井住友銀行, 三井住友トラストクラブ),
 * which a display name cut short to the shared leading part (三井住友) speaks for. Pure.
 */
import type { Brand, Registry } from './registry.js'

/** The Latin letters and digits, and the other letters (kanji, kana), of a name: how long it is to a reader. */
const LATIN = /[a-z0-9]/g
const OTHER = /[^\x00-\x7f]/gu

/**
 * The brands whose registered name begins with `name` and goes on (三井住友 for 三井住友カード,
 * 三井住友銀行 and 三井住友トラストクラブ; 三菱UFJ for 三菱UFJ銀行): the family a display name
 * cut short to its leading part speaks for, in registry order. `name` is in normaliseName's form.
 * A cut must be long enough not to be an ordinary word, and of a kind that is no word of its own:
 * - it holds a kanji, and three kanji or kana, or four Latin letters (a kanji or kana counts as
 *   4/3 of a letter: 三菱UFJ is long enough, 三井 is not); a cut in kana alone is a given name or
 *   a word as often as a brand (みずほ, セゾン, ソフト);
 * - or it is in Latin letters, of two words or more (Sumitomo Mitsui): a name's first word alone
 *   is often a word or a name of its own (Tokyo, Sumitomo, American, Home);
 * - where it ends in a Latin letter or digit, the name does not go on with one (Amaz is no cut of Amazon).
 * Ambiguous names are no family's.
 */
export function brandsLedBy(registry: Registry, name: string): Brand[] {
  const weight = 3 * (name.match(LATIN)?.length ?? 0) + 4 * (name.match(OTHER)?.length ?? 0)
  const kind = /\p{Script=Han}/u.test(name) || (/^[\x20-\x7e]+$/.test(name) && name.includes(' '))
  if (weight < 12 || !kind) return []
  const latinEnd = /[a-z0-9]$/.test(name)
  const out: Brand[] = []
  for (const entry of registry.names) {
    if (entry.ambiguous || entry.name.length <= name.length || !entry.name.startsWith(name)) continue
    if (latinEnd && /[a-z0-9]/.test(entry.name[name.length]!)) continue
    if (!out.includes(entry.brand)) out.push(entry.brand)
  }
  const order = [...registry.brands.values()]
  return out.sort((a, b) => order.indexOf(a) - order.indexOf(b))
}
