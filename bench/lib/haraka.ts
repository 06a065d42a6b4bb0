/**
 * Haraka for the benchmark: a temporary Haraka folder laid out as the repository
 * itself (`npm start`: config/, plugins/, dist/), a plugin list of the caller's, the
 * message accepted and discarded by core `queue/discard` (no disk in the way), one
 * process or `nodes` workers on 127.0.0.1 with a port the kernel picks.
 *
 * Every node:dns resolver of Haraka (core's rDNS of the client included) is pinned
 * to the benchmark's loopback DNS server by test/helpers/dns-guard.cjs. Haraka's log
 * goes to a file in the folder, not through a pipe the benchmark would have to read.
 *
 * cpuMs() reads the CPU time of the master and its workers from /proc (Linux), so
 * that the cost per message can be had without trusting wall time on a busy machine.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** The repository (dist/bench/lib -> ../../..). */
export const PKG_ROOT = path.resolve(__dirname, '..', '..', '..')
const HARAKA_BIN = path.join(PKG_ROOT, 'node_modules', 'Haraka', 'bin', 'haraka')
const DNS_GUARD = path.join(PKG_ROOT, 'test', 'helpers', 'dns-guard.cjs')

export interface BenchHarakaOptions {
  /** the lines of config/plugins, in order */
  readonly plugins: readonly string[]
  /** the loopback DNS server every query goes to */
  readonly dnsPort: number
  /** smtp.ini `nodes`: 0 = one process, N = N cluster workers */
  readonly nodes?: number
  /** files written into config/ after the repository's own (e.g. shop-notice.ini) */
  readonly config?: Readonly<Record<string, string>>
  readonly startTimeoutMs?: number
  /** node options for the Haraka process, e.g. `--cpu-prof` */
  readonly execArgv?: readonly string[]
  /** stop() leaves the folder, so that what Haraka wrote can be read after it stopped; the caller removes `dir` */
  readonly keepDir?: boolean
}

export interface BenchHaraka {
  readonly dir: string
  readonly port: number
  readonly pid: number
  /** user + system CPU of the master and every worker so far, in milliseconds (undefined off Linux) */
  cpuMs(): number | undefined
  /** resident memory of the master and every worker, in bytes (undefined off Linux) */
  rssBytes(): number | undefined
  /** resident memory of each process (the master first, then its workers), by pid */
  rssByProcess(): Map<number, number | undefined>
  /** Haraka's log so far */
  log(): string
  stop(): Promise<void>
}

let clockTicks: number | undefined
const ticksPerSecond = (): number => {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

/** The process and its descendants (cluster workers), from /proc. */
function processTree(pid: number): number[] {
  const out = [pid]
  for (let i = 0; i < out.length; i++) {
    const p = out[i]!
    let tasks: string[] = []
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`)
    } catch {
      continue
    }
    for (const t of tasks) {
      try {
        for (const c of fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c))
      } catch {
        // the task ended meanwhile
      }
    }
  }
  return out
}

/** utime + stime of one process in milliseconds, from /proc/PID/stat. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) is in parentheses and may hold spaces: count from its end
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12]) // utime, stime (fields 14, 15)
    return (ticks * 1000) / ticksPerSecond()
  } catch {
    return undefined
  }
}

function processRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

const sum = (xs: (number | undefined)[]): number | undefined => (xs.some((x) => x === undefined) || !xs.length ? undefined : xs.reduce<number>((s, x) => s + x!, 0))

function copyFiles(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true })
  for (const name of fs.readdirSync(from)) {
    const src = path.join(from, name)
    if (fs.statSync(src).isFile()) fs.copyFileSync(src, path.join(to, name))
  }
}

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

const LISTENING = /\[server\] Listening on 127\.0\.0\.1:(\d+)/g

export async function startBenchHaraka(opts: BenchHarakaOptions): Promise<BenchHaraka> {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-bench-')))
  const logFile = path.join(dir, 'haraka.log')
  const nodes = opts.nodes ?? 0
  let child: ChildProcess | undefined
  let stopped = false
  const log = (): string => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '')

  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    if (child && child.exitCode === null && child.signalCode === null) {
      // Haraka shuts down on SIGINT (SIGTERM only as pid 1); exiting normally lets --cpu-prof write
      child.kill('SIGINT')
      if (!(await waitForExit(child, 8000))) {
        for (const p of processTree(child.pid!).reverse()) {
          try {
            process.kill(p, 'SIGKILL')
          } catch {
            // gone already
          }
        }
        await waitForExit(child, 2000)
      }
    }
    if (!opts.keepDir) fs.rmSync(dir, { recursive: true, force: true })
  }

  try {
    const configDir = path.join(dir, 'config')
    copyFiles(path.join(PKG_ROOT, 'config'), configDir)
    copyFiles(path.join(PKG_ROOT, 'plugins'), path.join(dir, 'plugins'))
    fs.symlinkSync(path.join(PKG_ROOT, 'dist'), path.join(dir, 'dist'), 'dir')
    const files: Record<string, string> = {
      plugins: `${opts.plugins.join('\n')}\n`,
      'smtp.ini': [`listen=127.0.0.1:0`, `nodes=${nodes}`, 'force_shutdown_timeout=3', ''].join('\n'),
      host_list: 'recipient.example\n',
      ...opts.config,
    }
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(configDir, name), content)

    const env: NodeJS.ProcessEnv = { ...process.env, SHOP_NOTICE_E2E_DNS: `127.0.0.1:${opts.dnsPort}`, YES_REALLY_DO_DISCARD: '1' }
    delete env.NODE_OPTIONS
    delete env.HARAKA
    delete env.NODE_PATH
    const out = fs.openSync(logFile, 'a')
    const spawned = spawn(process.execPath, [...(opts.execArgv ?? []), '--require', DNS_GUARD, HARAKA_BIN, '-c', dir], { cwd: dir, env, stdio: ['ignore', out, out] })
    fs.closeSync(out)
    child = spawned

    // every worker says it listens; wait for all of them
    const want = Math.max(1, nodes)
    const timeoutMs = opts.startTimeoutMs ?? 30_000
    const deadline = Date.now() + timeoutMs
    let port: number | undefined
    for (;;) {
      if (spawned.exitCode !== null || spawned.signalCode !== null) throw new Error(`Haraka exited before listening (code ${spawned.exitCode})`)
      const seen = [...log().matchAll(LISTENING)]
      if (seen.length >= want) {
        port = Number(seen[0]![1])
        break
      }
      if (Date.now() > deadline) throw new Error(`Haraka did not listen within ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 100))
    }

    const pid = spawned.pid!
    return {
      dir,
      port,
      pid,
      cpuMs: () => sum(processTree(pid).map(processCpuMs)),
      rssBytes: () => sum(processTree(pid).map(processRssBytes)),
      rssByProcess: () => new Map(processTree(pid).map((p) => [p, processRssBytes(p)])),
      log,
      stop,
    }
  } catch (err) {
    const out = log()
    await stop()
    fs.rmSync(dir, { recursive: true, force: true })
    throw new Error(`${(err as Error).message}\n--- Haraka log ---\n${out.slice(-4000)}`)
  }
}
