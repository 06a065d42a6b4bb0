/**
 * Scanners for message text that replace regular expressions which backtrack
 * (found by recheck, test/unit/redos.test.ts): each one reads its input once or twice,
 * so its time is linear in the input, whatever a sender writes. Each returns what
 * the regex it replaces returned; test/unit/linear.test.ts checks that on generated
 * input against the old regex. Pure functions.
 */

/** `s` without the trailing characters that are in `chars` (was `/[…]+$/`, quadratic on `!!!!…x`). */
export function trimEnd(s: string, chars: string): string {
  let end = s.length
  while (end > 0 && chars.includes(s[end - 1]!)) end--
  return end === s.length ? s : s.slice(0, end)
}

/**
 * A structured header value (RFC 5322, RFC 8601) split at `sep` where a parser splits
 * it: outside quoted-strings and comments. Comments (nested, with quoted-pairs) become
 * one space; quoted-strings are kept as written, quotes and backslashes included. An
 * unclosed comment or quoted-string runs to the end, as it does for a parser. Linear.
 * (Was `value.replace(/\([^)]*\)/g, ' ').split(';')`: quadratic on `((((…`, and it split
 * inside quoted-strings, where a sender's `"a;dkim=pass"@x` became a result.)
 */
export function splitStructured(s: string, sep = ';'): string[] {
  const parts: string[] = []
  let cur = ''
  let depth = 0
  let quoted = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (quoted) {
      cur += c
      if (c === '\\' && i + 1 < s.length) cur += s[++i]
      else if (c === '"') quoted = false
    } else if (depth > 0) {
      if (c === '\\') i++
      else if (c === '(') depth++
      else if (c === ')' && --depth === 0) cur += ' '
    } else if (c === '"') {
      quoted = true
      cur += c
    } else if (c === '(') depth = 1
    else if (c === sep) {
      parts.push(cur)
      cur = ''
    } else cur += c
  }
  parts.push(cur)
  return parts
}

const isAsciiAlnum = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9]$/.test(c)
const isAsciiLetter = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z]$/.test(c)
const HOST_CHAR = /[A-Za-z0-9.-]/

/** A DNS label as SHOWN_HOST took it: 1 to 63 of [A-Za-z0-9-], starting and ending with a letter or digit. */
const isLabel = (s: string): boolean =>
  s.length >= 1 && s.length <= 63 && isAsciiAlnum(s[0]) && isAsciiAlnum(s[s.length - 1]) && /^[A-Za-z0-9-]+$/.test(s)

/** The leftmost suffix of a run of [A-Za-z0-9.-] that is a host name (labels, then a TLD of 2 to 24 letters). */
function hostSuffix(run: string): string | undefined {
  const segments = run.split('.')
  const tld = segments[segments.length - 1]!
  if (segments.length < 2 || tld.length < 2 || tld.length > 24 || ![...tld].every(isAsciiLetter)) return undefined
  let k = segments.length - 1
  while (k > 0 && isLabel(segments[k - 1]!)) k--
  const tail = segments.slice(k)
  // the label before the whole ones may be taken in part: from a letter or digit, at most 63 long
  const before = k > 0 ? segments[k - 1]! : ''
  let partial = ''
  if (isAsciiAlnum(before[before.length - 1])) {
    let p = Math.max(0, before.length - 63)
    while (!isAsciiAlnum(before[p])) p++
    partial = before.slice(p)
  }
  if (!partial && tail.length < 2) return undefined
  return partial ? [partial, ...tail].join('.') : tail.join('.')
}

/**
 * The first host name written in a text (`amazon.co.jp`, `https://www.example.com/…`),
 * as `/(?:https?:\/\/)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(?![a-z0-9.-])/i`
 * found it (polynomial on long runs of letters and dots).
 */
export function firstHost(text: string): string | undefined {
  let i = 0
  while (i < text.length) {
    if (!HOST_CHAR.test(text[i]!)) {
      i++
      continue
    }
    let j = i
    while (j < text.length && HOST_CHAR.test(text[j]!)) j++
    const host = hostSuffix(text.slice(i, j))
    if (host) return host
    i = j
  }
  return undefined
}

const LOCAL_CHAR = /^[\p{L}\p{N}._%+-]$/u
const LABEL_CHAR = /^[\p{L}\p{N}-]$/u
const LETTER = /^\p{L}$/u

/**
 * The domain of the first e-mail address written in a text (a display name holding
 * an address), as `/[\p{L}\p{N}._%+-]{1,64}@((?:[\p{L}\p{N}-]{1,63}\.)+[\p{L}]{2,24})/u`
 * found it (polynomial on `.%.%.%…`). Characters are code points.
 */
export function addressDomainIn(text: string): string | undefined {
  const cps = [...text]
  for (let at = 1; at < cps.length; at++) {
    if (cps[at] !== '@' || !LOCAL_CHAR.test(cps[at - 1]!)) continue
    // labels: maximal runs of 1 to 63 label characters, each followed by a dot
    const labels: string[] = []
    const after: number[] = []
    let i = at + 1
    for (;;) {
      let j = i
      while (j < cps.length && LABEL_CHAR.test(cps[j]!)) j++
      if (j === i || j - i > 63 || cps[j] !== '.') break
      labels.push(cps.slice(i, j).join(''))
      i = j + 1
      after.push(i)
    }
    // the TLD after as many labels as possible: 2 to 24 letters
    for (let k = labels.length; k >= 1; k--) {
      let n = 0
      const start = after[k - 1]!
      while (n < 24 && start + n < cps.length && LETTER.test(cps[start + n]!)) n++
      if (n >= 2) return [...labels.slice(0, k), cps.slice(start, start + n).join('')].join('.')
    }
  }
  return undefined
}

const ID_CHAR = /[A-Za-z0-9-]/
const DIGIT = /[0-9]/

/**
 * The first thing in a text that can be an order number: 5 to 41 of [A-Za-z0-9-],
 * starting with a letter or digit, in a run that holds a digit; as
 * `/[#＃:：]?\s*((?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{4,40})/` found it.
 */
export function orderIdIn(text: string): string | undefined {
  let i = 0
  while (i < text.length) {
    if (!ID_CHAR.test(text[i]!)) {
      i++
      continue
    }
    let j = i
    while (j < text.length && ID_CHAR.test(text[j]!)) j++
    let p = i
    while (p < j && text[p] === '-') p++
    if (j - p >= 5) {
      let digit = false
      for (let q = p; q < j && !digit; q++) digit = DIGIT.test(text[q]!)
      if (digit) return text.slice(p, Math.min(j, p + 41))
    }
    i = j
  }
  return undefined
}

const BLOCK_CLOSE = /<\/(script|style|head)\s*>/gi

/**
 * HTML with its script, style and head blocks each replaced by one space, as
 * `html.replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')` did (cubic on
 * `<style<style…` without an end tag): a block ends at the first end tag of its name.
 */
export function stripBlocks(html: string): string {
  const closes = new Map<string, { start: number; end: number }[]>()
  for (const m of html.matchAll(BLOCK_CLOSE)) {
    const name = m[1]!.toLowerCase()
    const list = closes.get(name) ?? []
    list.push({ start: m.index, end: m.index + m[0].length })
    closes.set(name, list)
  }
  if (!closes.size) return html
  const next = new Map<string, number>()
  let out = ''
  let from = 0
  // a literal here is a new RegExp (and lastIndex) on each call
  const open = /<(script|style|head)\b/gi
  for (let m = open.exec(html); m; m = open.exec(html)) {
    const name = m[1]!.toLowerCase()
    const list = closes.get(name) ?? []
    const contentStart = m.index + m[0].length
    let k = next.get(name) ?? 0
    while (k < list.length && list[k]!.start < contentStart) k++
    next.set(name, k)
    const close = list[k]
    if (!close) continue // no end tag after it: left as written, as the regex left it
    out += `${html.slice(from, m.index)} `
    from = close.end
    open.lastIndex = close.end
  }
  return out + html.slice(from)
}

/** The longest an anchor's attributes and its content may be, in characters. */
const ANCHOR_MAX = 4000
const ANCHOR_CLOSE = /<\/a\s*>/gi

/**
 * The anchors of HTML, `<a …>…</a>`: their attributes and content, as
 * `/<a\b([^<>]{0,4000})>([\s\S]{0,4000}?)<\/a\s*>/gi` found them (quartic on `<a<a…`
 * without an end tag): the content ends at the first `</a>`, at most 4,000 characters on.
 */
export function* anchorsIn(html: string): Generator<{ readonly attrs: string; readonly content: string }> {
  const closes = [...html.matchAll(ANCHOR_CLOSE)].map((m) => ({ start: m.index, end: m.index + m[0].length }))
  if (!closes.length) return
  const open = /<a\b([^<>]*)>/gi
  let k = 0
  for (let m = open.exec(html); m; m = open.exec(html)) {
    const contentStart = m.index + m[0].length
    while (k < closes.length && closes[k]!.start < contentStart) k++
    const close = closes[k]
    if (!close || close.start - contentStart > ANCHOR_MAX) {
      open.lastIndex = m.index + 1
      continue
    }
    yield { attrs: m[1] ?? '', content: html.slice(contentStart, close.start) }
    open.lastIndex = close.end
  }
}
