/**
 * A real Haraka for end-to-end tests: a temporary Haraka folder under os.tmpdir(),
 * laid out the way an admin (installed mode) or the repository itself (`npm start`)
 * lays it out, one Haraka process listening on 127.0.0.1 with port 0, and readers
 * for what it delivered (var/maildir/new) and quarantined (var/quarantine).
 *
 * Every wait is bounded; stop() kills the process (SIGTERM, then SIGKILL) and
 * removes the folder, and is safe to call twice.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { headerBlock } from '../../dist/src/shared/domain.js'

/** The repository: the package under test. */
export const PKG_ROOT = path.resolve(__dirname, '..', '..')
const HARAKA_BIN = path.join(PKG_ROOT, 'node_modules', 'Haraka', 'bin', 'haraka')
const DNS_GUARD = path.join(__dirname, 'dns-guard.cjs')

export type Layout =
  /** an admin's Haraka folder with node_modules/haraka-plugin-shop-notice -> the repository */
  | 'installed'
  /** a copy of the repository's own Haraka folder (config/, plugins/, dist/), as `npm start` runs it */
  | 'repository'

export interface HarakaOptions {
  readonly layout: Layout
  /** the loopback DNS fixture every DNS query goes to */
  readonly dnsPort: number
  /**
   * Files written into <dir>/config after the layout's own: a string replaces the
   * file, a function gets the file as the layout left it ('' when absent).
   */
  readonly config?: Readonly<Record<string, string | ((current: string) => string)>>
  /** other files to write, relative to the Haraka folder (e.g. `plugins/x.js`) */
  readonly files?: Readonly<Record<string, string>>
  /** how long to wait for the `Listening on` line */
  readonly startTimeoutMs?: number
}

export interface StoredMessage {
  readonly file: string
  readonly raw: Buffer
  /** the header block, unfolded: one entry per field, in order */
  readonly headers: readonly { readonly name: string; readonly value: string }[]
  /** everything after the first empty line, bytes as stored */
  readonly body: Buffer
  /** all values of one field (case-insensitive), unfolded */
  get(name: string): string[]
}

export interface Haraka {
  readonly dir: string
  readonly port: number
  readonly pid: number
  /** stdout and stderr so far */
  output(): string
  /** messages written to var/maildir/new */
  delivered(): StoredMessage[]
  /** messages written to var/quarantine/<YYYYMMDD>/ */
  quarantined(): StoredMessage[]
  stop(): Promise<void>
}

/** Splits a stored message at the first empty line and unfolds its header fields. */
export function parseStored(file: string, raw: Buffer): StoredMessage {
  const block = headerBlock(raw)
  const head = block ? raw.subarray(0, block.head).toString('utf8') : raw.toString('utf8')
  const body = block ? raw.subarray(block.body) : Buffer.alloc(0)
  const headers: { name: string; value: string }[] = []
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length) {
      headers[headers.length - 1]!.value += ` ${line.trim()}`
      continue
    }
    const i = line.indexOf(':')
    if (i <= 0) continue
    headers.push({ name: line.slice(0, i), value: line.slice(i + 1).trim() })
  }
  return {
    file,
    raw,
    headers,
    body,
    get: (name) => headers.filter((h) => h.name.toLowerCase() === name.toLowerCase()).map((h) => h.value),
  }
}

/** shop-notice's own files next to a quarantined message (src/quarantine/store.ts), and temporary files */
const NOT_A_MESSAGE = /^\.|\.(json|release|release-used|tmp)$/

const readDir = (dir: string): StoredMessage[] => {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((f) => !NOT_A_MESSAGE.test(f))
    .sort()
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).isFile())
    .map((f) => parseStored(f, fs.readFileSync(f)))
}

function copyDir(from: string, to: string, skip: (name: string) => boolean = () => false): void {
  fs.mkdirSync(to, { recursive: true })
  for (const name of fs.readdirSync(from)) {
    if (skip(name)) continue
    const src = path.join(from, name)
    if (fs.statSync(src).isFile()) fs.copyFileSync(src, path.join(to, name))
  }
}

/** smtp.ini for a test: loopback, a port the kernel picks, one process, quick shutdown. */
export const TEST_SMTP_INI = ['listen=127.0.0.1:0', 'nodes=0', 'force_shutdown_timeout=2', ''].join('\n')

/** The maildir plugin of an installed-mode folder: the package's, by absolute path. */
const installedMaildirShim = (): string =>
  [
    "'use strict'",
    '// e2e test: the package\'s maildir delivery (src/plugin/maildir.ts), as the repository\'s plugins/maildir.js loads it',
    `const impl = require(${JSON.stringify(path.join(PKG_ROOT, 'dist', 'src', 'plugin', 'maildir.js'))})`,
    'for (const [key, value] of Object.entries(impl)) exports[key] = value',
    '',
  ].join('\n')

function layOut(dir: string, layout: Layout): void {
  const configDir = path.join(dir, 'config')
  if (layout === 'installed') {
    // Haraka's own files from the repository; shop-notice's come from the package itself
    copyDir(path.join(PKG_ROOT, 'config'), configDir, (name) => name.startsWith('shop-notice.'))
    fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true })
    fs.symlinkSync(PKG_ROOT, path.join(dir, 'node_modules', 'haraka-plugin-shop-notice'), 'dir')
    fs.mkdirSync(path.join(dir, 'plugins'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'plugins', 'maildir.js'), installedMaildirShim())
  } else {
    copyDir(path.join(PKG_ROOT, 'config'), configDir)
    copyDir(path.join(PKG_ROOT, 'plugins'), path.join(dir, 'plugins'))
    fs.symlinkSync(path.join(PKG_ROOT, 'dist'), path.join(dir, 'dist'), 'dir')
  }
  fs.writeFileSync(path.join(configDir, 'smtp.ini'), TEST_SMTP_INI)
}

const LISTENING = /\[server\] Listening on 127\.0\.0\.1:(\d+)/

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.removeListener('exit', onExit)
      resolve(false)
    }, ms)
    const onExit = (): void => {
      clearTimeout(timer)
      resolve(true)
    }
    child.once('exit', onExit)
  })
}

/** Starts Haraka in a fresh temporary folder; rejects (with Haraka's output) if it does not listen in time. */
export async function startHaraka(opts: HarakaOptions): Promise<Haraka> {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `shop-notice-e2e-${opts.layout}-`)))
  let child: ChildProcess | undefined
  let out = ''
  let stopped = false

  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      if (!(await waitForExit(child, 5000))) {
        child.kill('SIGKILL')
        await waitForExit(child, 2000)
      }
    }
    fs.rmSync(dir, { recursive: true, force: true })
  }

  try {
    layOut(dir, opts.layout)
    for (const [name, content] of Object.entries(opts.config ?? {})) {
      const file = path.join(dir, 'config', name)
      const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
      fs.writeFileSync(file, typeof content === 'function' ? content(current) : content)
    }
    for (const [name, content] of Object.entries(opts.files ?? {})) {
      const file = path.join(dir, name)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, content)
    }

    // tap's loaders and coverage hooks stay out of the server: it runs as `haraka -c dir` would
    const env: NodeJS.ProcessEnv = { ...process.env, SHOP_NOTICE_E2E_DNS: `127.0.0.1:${opts.dnsPort}` }
    delete env.NODE_OPTIONS
    delete env.HARAKA
    delete env.NODE_PATH
    const spawned = spawn(process.execPath, ['--require', DNS_GUARD, HARAKA_BIN, '-c', dir], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child = spawned
    spawned.stdout!.setEncoding('utf8')
    spawned.stderr!.setEncoding('utf8')

    const port = await new Promise<number>((resolve, reject) => {
      const timeoutMs = opts.startTimeoutMs ?? 60_000
      const timer = setTimeout(() => done(new Error(`Haraka did not listen within ${timeoutMs} ms`)), timeoutMs)
      const onData = (chunk: string): void => {
        out += chunk
        const m = LISTENING.exec(out)
        if (m) done(undefined, Number(m[1]))
      }
      const onExit = (code: number | null, signal: string | null): void =>
        done(new Error(`Haraka exited before listening (code ${code}, signal ${signal})`))
      const onError = (err: Error): void => done(err)
      function done(err?: Error, p?: number): void {
        clearTimeout(timer)
        spawned.removeListener('exit', onExit)
        spawned.removeListener('error', onError)
        if (err) reject(err)
        else resolve(p!)
      }
      spawned.stdout!.on('data', onData)
      spawned.stderr!.on('data', onData)
      spawned.once('exit', onExit)
      spawned.once('error', onError)
    })

    return {
      dir,
      port,
      pid: spawned.pid!,
      output: () => out,
      delivered: () => readDir(path.join(dir, 'var', 'maildir', 'new')),
      quarantined: () => {
        const base = path.join(dir, 'var', 'quarantine')
        if (!fs.existsSync(base)) return []
        return fs
          .readdirSync(base)
          .filter((d) => /^\d{8}$/.test(d))
          .flatMap((d) => readDir(path.join(base, d)))
      },
      stop,
    }
  } catch (err) {
    await stop()
    throw new Error(`${(err as Error).message}\n--- Haraka output ---\n${out}`)
  }
}
