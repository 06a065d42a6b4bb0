/**
 * A real redis-server for tests (Debian package `redis-server`): started on a free port of
 * 127.0.0.1 in a temporary folder, without persistence, and stopped by the test.
 *
 * redis-server cannot be told to pick a port itself (`--port 0` turns TCP off), so a free
 * port is found by binding 127.0.0.1:0 and closing it; should another process take it in
 * between, the start is retried on a new port.
 *
 *   const skip = redisSkipReason()   // false, or why the tests are skipped (throws in CI)
 *   const redis = await startRedis()
 *   ... redis.port ...; await redis.stop()
 *
 * With `tls` (PEM file paths, e.g. from tls-certs.ts): TLS only (`--port 0 --tls-port <free port>`),
 * `authClients` asking clients for a certificate signed by `ca`; the helper's own commands then
 * go over TLS, with `client` when given.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'

export interface RedisServer {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly dir: string
  readonly pid: number
  /** sends a command over a fresh connection and returns the raw reply (RESP), for checks */
  command(...args: string[]): Promise<string>
  /** SIGKILL: the server vanishes mid-test, as a crash would (its folder is removed too) */
  kill(): Promise<void>
  /** SIGSTOP / SIGCONT: the server hangs (accepts nothing, answers nothing) and comes back */
  pause(): void
  resume(): void
  /** graceful stop, folder removed */
  stop(): Promise<void>
}

/** the redis-server binary, or undefined */
export function findRedisServer(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' })
  const bin = r.stdout.trim()
  return r.status === 0 && bin ? bin : undefined
}

/**
 * false when redis-server is installed; else the reason to skip. In CI (CI=true) a missing
 * redis-server is an error, not a skip: `.ci/run` installs it.
 */
export function redisSkipReason(): false | string {
  if (findRedisServer()) return false
  const why = 'redis-server is not installed (Debian: apt-get install redis-server): the Redis tests were skipped'
  if (process.env.CI === 'true' || process.env.CI === '1') {
    throw new Error(`CI: ${why.replace('were skipped', 'cannot run')}; .ci/run must install it`)
  }
  return why
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

export interface RedisTls {
  readonly cert: string
  readonly key: string
  readonly ca: string
  /** the server asks for a client certificate (`--tls-auth-clients yes`) */
  readonly authClients: boolean
  /** the helper's own client certificate (needed with authClients) */
  readonly client?: { readonly cert: string; readonly key: string }
}

/** One RESP command over a new connection; resolves with the first reply (enough for PING, GET, DBSIZE, KEYS). */
function command(port: number, args: string[], timeoutMs = 2000, tlsOpts?: RedisTls): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = tlsOpts
      ? tls.connect({
          host: '127.0.0.1',
          port,
          ca: fs.readFileSync(tlsOpts.ca),
          ...(tlsOpts.client ? { cert: fs.readFileSync(tlsOpts.client.cert), key: fs.readFileSync(tlsOpts.client.key) } : {}),
        })
      : net.connect({ host: '127.0.0.1', port })
    let buf = ''
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new Error(`redis on ${port}: no reply to ${args[0]} within ${timeoutMs} ms`))
    }, timeoutMs)
    sock.on(tlsOpts ? 'secureConnect' : 'connect', () => {
      sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
    })
    sock.on('data', (d) => {
      buf += d.toString('utf8')
      if (complete(buf)) {
        clearTimeout(timer)
        sock.end()
        resolve(buf)
      }
    })
    sock.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
  })
}

/** whether a RESP2 reply is whole (simple, error, integer, bulk, or an array of bulks/integers) */
function complete(s: string): boolean {
  const parse = (i: number): number => {
    const eol = s.indexOf('\r\n', i)
    if (eol < 0) return -1
    const type = s[i]
    const n = Number(s.slice(i + 1, eol))
    if (type === '$') {
      if (n < 0) return eol + 2
      const end = eol + 2 + n + 2
      return Buffer.byteLength(s) >= end ? end : -1 // bulk bodies here are ASCII
    }
    if (type === '*') {
      let at = eol + 2
      for (let k = 0; k < n; k++) {
        at = parse(at)
        if (at < 0) return -1
      }
      return at
    }
    return eol + 2
  }
  return parse(0) >= 0
}

/** `port`: start on this one (to bring a killed server back where its clients look for it); default a free one */
export async function startRedis(opts: { port?: number; tls?: RedisTls } = {}): Promise<RedisServer> {
  const bin = findRedisServer()
  if (!bin) throw new Error('redis-server is not installed')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-redis-'))
  let lastError = ''
  for (let attempt = 0; attempt < (opts.port ? 1 : 5); attempt++) {
    const port = opts.port ?? (await freePort())
    const t = opts.tls
    const ports = t
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', t.cert, '--tls-key-file', t.key, '--tls-ca-cert-file', t.ca, '--tls-auth-clients', t.authClients ? 'yes' : 'no']
      : ['--port', String(port)]
    const child: ChildProcess = spawn(
      bin,
      ['--bind', '127.0.0.1', ...ports, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
    let exited = false
    const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())))
    const deadline = Date.now() + 5000
    let up = false
    while (!exited && Date.now() < deadline) {
      try {
        if ((await command(port, ['PING'], 500, opts.tls)).startsWith('+PONG')) {
          up = true
          break
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 30))
    }
    if (!up) {
      lastError = out.trim() || 'no PONG within 5 s'
      if (!exited) child.kill('SIGKILL')
      await exit
      continue
    }
    const pid = child.pid as number
    const server: RedisServer = {
      host: '127.0.0.1',
      port,
      dir,
      pid,
      command: (...args) => command(port, args, 2000, opts.tls),
      kill: async () => {
        if (!exited) child.kill('SIGKILL')
        await exit
        fs.rmSync(dir, { recursive: true, force: true })
      },
      pause: () => {
        if (!exited) child.kill('SIGSTOP')
      },
      resume: () => {
        if (!exited) child.kill('SIGCONT')
      },
      stop: async () => {
        if (!exited) {
          child.kill('SIGCONT')
          child.kill('SIGTERM')
          const t = setTimeout(() => child.kill('SIGKILL'), 3000)
          await exit
          clearTimeout(t)
        }
        fs.rmSync(dir, { recursive: true, force: true })
      },
    }
    return server
  }
  fs.rmSync(dir, { recursive: true, force: true })
  throw new Error(`redis-server did not start: ${lastError}`)
}
