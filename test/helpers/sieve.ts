/**
 * A small Sieve interpreter for tests: RFC 5228 (the language) with the
 * `fileinto` and `imap4flags` (RFC 5232) extensions, enough to run the shipped
 * docs/examples/shop-notice.sieve against messages without a mail server.
 *
 * No npm package interprets Sieve (checked when this was written), and the test
 * suite must run after `npm ci` alone, so this is the interpreter. It is a subset,
 * but a genuine one: the script file is lexed and parsed as RFC 5228 §8 says, and
 * anything outside the subset (an unknown command, test, tag or capability) is an
 * error, never ignored. test/unit/clients.test.ts also runs Dovecot's `sieve-test`
 * when it is installed, and compares the two.
 *
 * Supported: `require`, `if`/`elsif`/`else`, `stop`, `keep`, `discard`,
 * `fileinto` (`:flags`, and `:create` of RFC 5490 "mailbox"), `setflag`/`addflag`/`removeflag`; tests `header`
 * (`:is`, `:contains`, `:matches`; comparators `i;ascii-casemap`, `i;octet`),
 * `exists`, `size`, `allof`, `anyof`, `not`, `true`, `false`; strings, `text:`
 * multi-line strings, string lists, numbers with K/M/G, both comment forms.
 */
import libmime from 'libmime'

// ---------------------------------------------------------------- lexer (RFC 5228 §8.1)

type Token =
  | { t: 'id'; v: string; line: number }
  | { t: 'tag'; v: string; line: number }
  | { t: 'num'; v: number; line: number }
  | { t: 'str'; v: string; line: number }
  | { t: 'sym'; v: string; line: number }

export class SieveError extends Error {}

function lex(src: string): Token[] {
  const out: Token[] = []
  let i = 0
  let line = 1
  const fail = (msg: string): never => {
    throw new SieveError(`line ${line}: ${msg}`)
  }
  while (i < src.length) {
    const c = src[i]!
    if (c === '\n') {
      line++
      i++
    } else if (c === ' ' || c === '\t' || c === '\r') i++
    else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++
    } else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2)
      if (end < 0) fail('unterminated comment')
      line += (src.slice(i, end).match(/\n/g) ?? []).length
      i = end + 2
    } else if ('[](){},;'.includes(c)) {
      out.push({ t: 'sym', v: c, line })
      i++
    } else if (c === '"') {
      let v = ''
      const start = line
      i++
      for (;;) {
        if (i >= src.length) fail('unterminated string')
        const d = src[i]!
        if (d === '"') break
        if (d === '\\') {
          // RFC 5228 §2.4.2: \" and \\ stand for themselves; any other \x is x
          v += src[i + 1] ?? ''
          i += 2
          continue
        }
        if (d === '\n') line++
        v += d
        i++
      }
      i++
      out.push({ t: 'str', v: v.replace(/\r?\n/g, '\r\n'), line: start })
    } else if (c === ':') {
      const m = /^:([a-zA-Z_][a-zA-Z0-9_]*)/.exec(src.slice(i))
      if (!m) fail('a tag is ":" and an identifier')
      out.push({ t: 'tag', v: m![1]!.toLowerCase(), line })
      i += m![0].length
    } else if (/[0-9]/.test(c)) {
      const m = /^([0-9]+)([KMGkmg]?)/.exec(src.slice(i))!
      const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g']
      out.push({ t: 'num', v: Number(m[1]) * mult, line })
      i += m[0].length
    } else if (/[a-zA-Z_]/.test(c)) {
      const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(src.slice(i))!
      const word = m[0]
      i += word.length
      if (word.toLowerCase() === 'text' && src[i] === ':') {
        // multi-line: "text:" then whitespace/comment to the end of the line, lines up to a lone "."
        i++
        const eol = src.indexOf('\n', i)
        if (eol < 0) fail('text: without a line break')
        const rest = src.slice(i, eol).replace(/\r$/, '')
        if (!/^[ \t]*(#.*)?$/.test(rest)) fail('text: must end its line')
        i = eol + 1
        line++
        const start = line
        const lines: string[] = []
        for (;;) {
          if (i >= src.length) fail('unterminated text:')
          let e = src.indexOf('\n', i)
          if (e < 0) e = src.length
          const l = src.slice(i, e).replace(/\r$/, '')
          i = e + 1
          line++
          if (l === '.') break
          lines.push(l.startsWith('..') ? l.slice(1) : l)
        }
        out.push({ t: 'str', v: lines.map((l) => `${l}\r\n`).join(''), line: start })
      } else out.push({ t: 'id', v: word.toLowerCase(), line })
    } else fail(`unexpected character ${JSON.stringify(c)}`)
  }
  return out
}

// ---------------------------------------------------------------- parser (RFC 5228 §8.2)

type Arg = { kind: 'strings'; v: string[] } | { kind: 'num'; v: number } | { kind: 'tag'; v: string }
export interface Test {
  name: string
  args: Arg[]
  tests: Test[]
  line: number
}
export interface Command {
  name: string
  args: Arg[]
  tests: Test[]
  block?: Command[]
  line: number
}

class Parser {
  #i = 0
  constructor(private readonly toks: Token[]) {}
  #peek(): Token | undefined {
    return this.toks[this.#i]
  }
  #isSym(v: string): boolean {
    const t = this.#peek()
    return t?.t === 'sym' && t.v === v
  }
  #expect(v: string): void {
    const t = this.toks[this.#i++]
    if (!(t?.t === 'sym' && t.v === v)) throw new SieveError(`line ${t?.line ?? 'end'}: expected "${v}", got ${t ? JSON.stringify(t.v) : 'the end'}`)
  }
  commands(endSym?: string): Command[] {
    const out: Command[] = []
    while (this.#peek() && !(endSym && this.#isSym(endSym))) out.push(this.#command())
    return out
  }
  #command(): Command {
    const t = this.toks[this.#i++]
    if (t?.t !== 'id') throw new SieveError(`line ${t?.line}: expected a command, got ${JSON.stringify(t?.v)}`)
    const args = this.#args()
    const tests = this.#testsAfterArgs()
    if (this.#isSym(';')) {
      this.#i++
      return { name: t.v, args, tests, line: t.line }
    }
    this.#expect('{')
    const block = this.commands('}')
    this.#expect('}')
    return { name: t.v, args, tests, block, line: t.line }
  }
  #args(): Arg[] {
    const args: Arg[] = []
    for (;;) {
      const t = this.#peek()
      if (t?.t === 'tag') args.push({ kind: 'tag', v: t.v })
      else if (t?.t === 'num') args.push({ kind: 'num', v: t.v })
      else if (t?.t === 'str') args.push({ kind: 'strings', v: [t.v] })
      else if (t?.t === 'sym' && t.v === '[') {
        this.#i++
        const list: string[] = []
        for (;;) {
          const s = this.toks[this.#i++]
          if (s?.t !== 'str') throw new SieveError(`line ${s?.line}: a string list holds strings`)
          list.push(s.v)
          if (this.#isSym(',')) {
            this.#i++
            continue
          }
          this.#expect(']')
          break
        }
        args.push({ kind: 'strings', v: list })
        continue
      } else return args
      this.#i++
    }
  }
  #testsAfterArgs(): Test[] {
    if (this.#isSym('(')) {
      this.#i++
      const list = [this.#test()]
      while (this.#isSym(',')) {
        this.#i++
        list.push(this.#test())
      }
      this.#expect(')')
      return list
    }
    return this.#peek()?.t === 'id' ? [this.#test()] : []
  }
  #test(): Test {
    const t = this.toks[this.#i++]
    if (t?.t !== 'id') throw new SieveError(`line ${t?.line}: expected a test, got ${JSON.stringify(t?.v)}`)
    const args = this.#args()
    return { name: t.v, args, tests: this.#testsAfterArgs(), line: t.line }
  }
}

export function parseSieve(src: string): Command[] {
  return new Parser(lex(src)).commands()
}

// ---------------------------------------------------------------- the message

export interface SieveMessage {
  /** all values of a header field (case-insensitive name), unfolded, RFC 2047 decoded, leading and trailing whitespace removed */
  header(name: string): string[]
  readonly size: number
}

export function messageOf(raw: Buffer | string): SieveMessage {
  const text = Buffer.isBuffer(raw) ? raw.toString('latin1') : raw
  const end = text.search(/\r?\n\r?\n/)
  const head = end < 0 ? text : text.slice(0, end)
  const fields: { name: string; value: string }[] = []
  for (const l of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(l) && fields.length) {
      fields[fields.length - 1]!.value += l // unfolding (RFC 5322 §2.2.3): the CRLF goes, the WSP stays
      continue
    }
    const i = l.indexOf(':')
    if (i > 0) fields.push({ name: l.slice(0, i).trim().toLowerCase(), value: l.slice(i + 1) })
  }
  return {
    header: (name) => fields.filter((f) => f.name === name.toLowerCase()).map((f) => libmime.decodeWords(f.value).trim()),
    size: Buffer.byteLength(text, 'latin1'),
  }
}

// ---------------------------------------------------------------- the interpreter

export interface SieveResult {
  /** where the message goes: `INBOX` for keep (explicit or implicit), mailbox names for fileinto; empty when discarded */
  readonly deliveries: readonly { readonly mailbox: string; readonly flags: readonly string[] }[]
  readonly discarded: boolean
}

const CAPABILITIES = new Set(['fileinto', 'imap4flags', 'mailbox', 'comparator-i;octet', 'comparator-i;ascii-casemap'])

/** `*` any run, `?` one character, `\` escapes the next (RFC 5228 §2.7.1). */
function matches(value: string, pattern: string, fold: (s: string) => string): boolean {
  let re = '^'
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '\\' && i + 1 < pattern.length) re += fold(pattern[++i]!).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    else if (c === '*') re += '[\\s\\S]*'
    else if (c === '?') re += '[\\s\\S]'
    else re += fold(c).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`${re}$`).test(fold(value))
}

const splitFlags = (list: readonly string[]): string[] => list.flatMap((s) => s.split(' ')).filter(Boolean)
function addFlags(to: string[], add: readonly string[]): string[] {
  const out = [...to]
  for (const f of splitFlags(add)) if (!out.some((x) => x.toLowerCase() === f.toLowerCase())) out.push(f)
  return out
}

class Stop {}

export function runSieve(script: Command[], msg: SieveMessage): SieveResult {
  const required = new Set<string>()
  const need = (cap: string, what: string, line: number): void => {
    if (!required.has(cap)) throw new SieveError(`line ${line}: ${what} needs require "${cap}"`)
  }
  let flags: string[] = []
  let implicitKeep = true
  let discarded = false
  const deliveries: { mailbox: string; flags: string[] }[] = []
  const deliver = (mailbox: string, f: string[]): void => {
    const at = deliveries.find((d) => d.mailbox === mailbox)
    if (at) at.flags = f // RFC 5228 §4.2: the same mailbox twice is one delivery
    else deliveries.push({ mailbox, flags: f })
  }

  /** Splits arguments into tags (with the one value that follows some of them) and positional ones. */
  const argsOf = (node: { name: string; args: Arg[]; line: number }, valued: readonly string[], known: readonly string[]) => {
    const tags = new Map<string, Arg | undefined>()
    const pos: Arg[] = []
    for (let i = 0; i < node.args.length; i++) {
      const a = node.args[i]!
      if (a.kind !== 'tag') {
        pos.push(a)
        continue
      }
      if (!valued.includes(a.v) && !known.includes(a.v)) throw new SieveError(`line ${node.line}: ${node.name}: unknown tag :${a.v}`)
      if (tags.has(a.v)) throw new SieveError(`line ${node.line}: ${node.name}: :${a.v} twice`)
      tags.set(a.v, valued.includes(a.v) ? node.args[++i] : undefined)
    }
    return { tags, pos }
  }
  const strings = (a: Arg | undefined, node: { name: string; line: number }, what: string): string[] => {
    if (a?.kind !== 'strings') throw new SieveError(`line ${node.line}: ${node.name}: ${what} must be a string or a string list`)
    return a.v
  }
  const oneString = (a: Arg | undefined, node: { name: string; line: number }, what: string): string => {
    const s = strings(a, node, what)
    if (s.length !== 1) throw new SieveError(`line ${node.line}: ${node.name}: ${what} must be one string`)
    return s[0]!
  }

  const test = (t: Test): boolean => {
    const noTests = (): void => {
      if (t.tests.length) throw new SieveError(`line ${t.line}: ${t.name} takes no test`)
    }
    switch (t.name) {
      case 'true':
      case 'false':
        noTests()
        if (t.args.length) throw new SieveError(`line ${t.line}: ${t.name} takes no argument`)
        return t.name === 'true'
      case 'not':
        if (t.tests.length !== 1 || t.args.length) throw new SieveError(`line ${t.line}: not takes one test`)
        return !test(t.tests[0]!)
      case 'allof':
      case 'anyof':
        if (!t.tests.length || t.args.length) throw new SieveError(`line ${t.line}: ${t.name} takes a test list`)
        return t.name === 'allof' ? t.tests.every(test) : t.tests.some(test)
      case 'exists': {
        noTests()
        const { pos } = argsOf(t, [], [])
        if (pos.length !== 1) throw new SieveError(`line ${t.line}: exists takes a header list`)
        return strings(pos[0], t, 'the header list').every((h) => msg.header(h).length > 0)
      }
      case 'size': {
        noTests()
        const { tags, pos } = argsOf(t, [], ['over', 'under'])
        const n = pos[0]
        if (tags.size !== 1 || pos.length !== 1 || n?.kind !== 'num') throw new SieveError(`line ${t.line}: size :over|:under <number>`)
        return tags.has('over') ? msg.size > n.v : msg.size < n.v
      }
      case 'header': {
        noTests()
        const { tags, pos } = argsOf(t, ['comparator'], ['is', 'contains', 'matches'])
        const types = ['is', 'contains', 'matches'].filter((x) => tags.has(x))
        if (types.length > 1) throw new SieveError(`line ${t.line}: header: one match type`)
        if (pos.length !== 2) throw new SieveError(`line ${t.line}: header takes a header list and a key list`)
        const comparator = tags.has('comparator') ? oneString(tags.get('comparator'), t, ':comparator') : 'i;ascii-casemap'
        if (comparator !== 'i;ascii-casemap' && comparator !== 'i;octet') throw new SieveError(`line ${t.line}: unknown comparator ${comparator}`)
        // these two need no require (RFC 5228 §2.7.3); others are not supported here
        // i;ascii-casemap folds ASCII letters only (RFC 4790 §9.2)
        const fold = comparator === 'i;octet' ? (s: string) => s : (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase())
        const type = types[0] ?? 'is'
        const names = strings(pos[0], t, 'the header list')
        const keys = strings(pos[1], t, 'the key list')
        return names.some((n) =>
          msg.header(n).some((v) =>
            keys.some((k) => (type === 'is' ? fold(v) === fold(k) : type === 'contains' ? fold(v).includes(fold(k)) : matches(v, k, fold))),
          ),
        )
      }
      default:
        throw new SieveError(`line ${t.line}: unknown test ${t.name}`)
    }
  }

  const run = (cmds: Command[], top: boolean): void => {
    let lastWasIf = false
    let others = false
    let taken = false
    for (const c of cmds) {
      const isIfChain = c.name === 'elsif' || c.name === 'else'
      if (isIfChain && !lastWasIf) throw new SieveError(`line ${c.line}: ${c.name} without if`)
      const block = (): Command[] => {
        if (!c.block) throw new SieveError(`line ${c.line}: ${c.name} needs a block`)
        return c.block
      }
      const simple = (): void => {
        if (c.block || c.tests.length) throw new SieveError(`line ${c.line}: ${c.name} takes no test and no block`)
      }
      switch (c.name) {
        case 'require': {
          if (!top || c.tests.length || c.block) throw new SieveError(`line ${c.line}: require only at the top`)
          if (others) throw new SieveError(`line ${c.line}: require must come first (RFC 5228 §3.2)`)
          for (const cap of strings(c.args[0], c, 'the capability list')) {
            if (!CAPABILITIES.has(cap)) throw new SieveError(`line ${c.line}: unsupported capability "${cap}"`)
            required.add(cap)
          }
          break
        }
        case 'if':
        case 'elsif':
          if (c.tests.length !== 1) throw new SieveError(`line ${c.line}: ${c.name} takes one test`)
          if (c.name === 'if') taken = false
          if (!taken && test(c.tests[0]!)) {
            taken = true
            run(block(), false)
          }
          break
        case 'else':
          if (c.tests.length || c.args.length) throw new SieveError(`line ${c.line}: else takes no test`)
          if (!taken) run(block(), false)
          taken = true
          break
        case 'stop':
          simple()
          throw new Stop()
        case 'keep':
        case 'fileinto': {
          simple()
          if (c.name === 'fileinto') need('fileinto', 'fileinto', c.line)
          const { tags, pos } = argsOf(c, ['flags'], c.name === 'fileinto' ? ['create'] : [])
          if (tags.has('flags')) need('imap4flags', ':flags', c.line)
          // :create (RFC 5490 §3.2) makes the mailbox when missing: here every mailbox exists
          if (tags.has('create')) need('mailbox', ':create', c.line)
          const f = tags.has('flags') ? addFlags([], strings(tags.get('flags'), c, ':flags')) : [...flags]
          if (c.name === 'keep') {
            if (pos.length) throw new SieveError(`line ${c.line}: keep takes no mailbox`)
            deliver('INBOX', f)
          } else {
            if (pos.length !== 1) throw new SieveError(`line ${c.line}: fileinto takes one mailbox`)
            deliver(oneString(pos[0], c, 'the mailbox'), f)
          }
          implicitKeep = false
          break
        }
        case 'discard':
          simple()
          if (c.args.length) throw new SieveError(`line ${c.line}: discard takes no argument`)
          discarded = true
          implicitKeep = false
          break
        case 'setflag':
        case 'addflag':
        case 'removeflag': {
          simple()
          need('imap4flags', c.name, c.line)
          if (c.args.length !== 1) throw new SieveError(`line ${c.line}: ${c.name} takes one flag list (variables are not supported here)`)
          const list = strings(c.args[0], c, 'the flag list')
          if (c.name === 'setflag') flags = addFlags([], list)
          else if (c.name === 'addflag') flags = addFlags(flags, list)
          else {
            const gone = new Set(splitFlags(list).map((f) => f.toLowerCase()))
            flags = flags.filter((f) => !gone.has(f.toLowerCase()))
          }
          break
        }
        default:
          throw new SieveError(`line ${c.line}: unknown command ${c.name}`)
      }
      lastWasIf = c.name === 'if' || c.name === 'elsif'
      if (c.name !== 'require') others = true
    }
  }

  try {
    run(script, true)
  } catch (err) {
    if (!(err instanceof Stop)) throw err
  }
  // the implicit keep files into the inbox with the flags as they are now (RFC 5232 §3)
  if (implicitKeep) deliver('INBOX', [...flags])
  return { deliveries, discarded: discarded && deliveries.length === 0 }
}
