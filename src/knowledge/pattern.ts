/**
 * Patterns an admin writes into the configuration (a brand's `promises.order_number`), compiled
 * with re2js, a pure JavaScript port of RE2: matching takes time linear in the input whatever the
 * pattern, so `(\d+)+X` over a long digit string answers at once instead of backtracking for
 * minutes. RE2 has no backtracking, so it refuses the constructs that need it; they are named at
 * load, with the file and key the caller puts in front.
 */
import { RE2JS } from 're2js'

/** A compiled admin pattern: `test` is true when the whole input matches (the pattern is anchored). */
export interface AdminPattern {
  /** the pattern as the admin wrote it */
  readonly source: string
  readonly flags: string
  test(input: string): boolean
}

/** The constructs RE2 refuses, each with how it is written, checked before compiling to name it. */
const REFUSED: readonly { readonly name: string; readonly at: RegExp }[] = [
  { name: 'lookbehind `(?<=…)` / `(?<!…)`', at: /\(\?<[=!]/ },
  { name: 'lookahead `(?=…)` / `(?!…)`', at: /\(\?[=!]/ },
  { name: 'atomic group `(?>…)`', at: /\(\?>/ },
  { name: 'backreference `\\1`…`\\9`', at: /\\[1-9]/ },
  { name: 'named backreference `\\k<name>`', at: /\\k</ },
  { name: 'possessive quantifier `*+` / `++` / `?+`', at: /[*+?}]\+/ },
  { name: 'recursion or subroutine call `(?R)` / `(?1)` / `(?&name)`', at: /\(\?(?:R|\d|&|P>)/ },
  { name: 'conditional `(?(…)…)`', at: /\(\?\(/ },
]

/** Drops escaped characters and bracket expressions, where the REFUSED marks are plain characters. */
function outsideEscapes(pattern: string): string {
  let out = ''
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '\\') {
      const next = pattern[i + 1] ?? ''
      // keep a backreference's escape, which REFUSED looks for; drop every other escaped character
      out += !inClass && /[1-9k]/.test(next) ? `\\${next}` : '__'
      i++
    } else if (inClass) {
      if (c === ']') inClass = false
      out += '_'
    } else if (c === '[') {
      inClass = true
      // a `]` right after `[` or `[^` is a literal member
      if (pattern[i + 1] === '^') i++
      if (pattern[i + 1] === ']') i++
      out += '_'
    } else out += c
  }
  return out
}

export class AdminPatternError extends Error {}

/**
 * Compiles an admin pattern for whole-string matching. Throws AdminPatternError naming the construct
 * RE2 does not accept (backreferences, lookaround, atomic groups, possessive quantifiers, recursion,
 * conditionals) or re2js's own syntax message.
 */
export function compileAdminPattern(pattern: string): AdminPattern {
  const plain = outsideEscapes(pattern)
  for (const { name, at } of REFUSED) {
    if (at.test(plain)) {
      throw new AdminPatternError(`${name} is not supported: patterns run on a linear-time engine (RE2) without backtracking`)
    }
  }
  let re: RE2JS
  try {
    re = RE2JS.compile(`(?:${pattern})`)
  } catch (err) {
    throw new AdminPatternError((err as Error).message)
  }
  return { source: pattern, flags: '', test: (input: string): boolean => re.matches(input) }
}
