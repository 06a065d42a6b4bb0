/**
 * The lines of shop-notice.ini as text: haraka-config's ini reader skips a line it cannot
 * read (logging it under its own name), so a typo such as `mode: reject` would leave the
 * default in force without a word. These checks read the files themselves. Pure but for
 * reading the files.
 */
import fs from 'node:fs'

import { ConfigError } from '../shared/errors.js'

// the line shapes haraka-config's ini reader knows (haraka-config/lib/regex.js); it skips, with only a
// log line of its own, a line of none of them, so `mode: reject` would silently leave the default
const INI_SECTION = /^\s*\[([^\]]*)\]\s*$/
// (the reader's param pattern without its captures: `\s*(.*?)\s*` after `=` takes anything)
const INI_PARAM = /^\s*[\w@:._+\-/[\]]+\s*(?:=.*)?$/
const INI_COMMENT = /^\s*[;#].*$/
const INI_BLANK = /^\s*$/
const INI_CONTINUATION = /\\[ \t]*$/

/**
 * Reads the text of an ini file as haraka-config's reader does, and refuses a line that is
 * neither a section, `key=value`, a comment nor blank (`file: line N: …`). Returns how many
 * `key=value` lines it holds (0: empty, or comments only).
 */
export function lintIni(text: string, file: string): number {
  let settings = 0
  let pending = ''
  let startLine = 0
  for (const [i, line] of text.split(/\r\n|\r|\n/).entries()) {
    if (!pending && (INI_COMMENT.test(line) || INI_BLANK.test(line) || INI_SECTION.test(line))) continue
    if (!pending) startLine = i + 1
    if (INI_CONTINUATION.test(line)) {
      pending += line.replace(INI_CONTINUATION, '')
      continue
    }
    const whole = pending + line
    pending = ''
    if (!INI_PARAM.test(whole)) {
      const shownLine = whole.trim().length > 80 ? `${whole.trim().slice(0, 80)}…` : whole.trim()
      throw new ConfigError(file, `line ${startLine}`, `not a section, key=value, comment or blank line: ${JSON.stringify(shownLine)} (write key=value)`)
    }
    settings++
  }
  if (pending) settings++
  return settings
}

/** A config file's text; undefined when it does not exist (haraka-config reads the others); any other failure names the file. */
export function readConfigFile(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new ConfigError(file, '(file)', `cannot read: ${(err as Error).message}`)
  }
}

/**
 * Lints every copy of the ini that exists (see lintIni). Returns each file's count of
 * `key=value` lines, to tell a file emptied on a live reload (emptiedIniWarnings).
 */
export function lintIniFiles(paths: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const file of paths) {
    const text = readConfigFile(file)
    if (text === undefined) continue
    counts[file] = lintIni(text, file)
  }
  return counts
}

/**
 * An ini file that held settings at the last load and holds none now (emptied, truncated,
 * removed): its keys fall back to their defaults, which is legitimate, but rarely meant on
 * a live reload. One warning per such file.
 */
export function emptiedIniWarnings(before: Readonly<Record<string, number>>, now: Readonly<Record<string, number>>): string[] {
  return Object.entries(before)
    .filter(([file, n]) => n > 0 && !(now[file] ?? 0))
    .map(([file, n]) =>
      `${file}: ${file in now ? 'has no settings any more' : 'is gone'} (it had ${n}): every key it set now takes its default; restore it if that was not meant`,
    )
}
