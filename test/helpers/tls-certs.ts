/**
 * Throwaway certificates for the TLS tests, made with the `openssl` command in a temporary
 * folder: a CA, a server certificate it signed (for 127.0.0.1 and localhost) and a client
 * certificate it signed; and a second, unrelated CA (one the server's certificate does not
 * chain to). EC P-256 keys: quick to make.
 *
 *   const certs = makeCerts()   // throws when openssl is missing (see opensslSkipReason)
 *   ... certs.ca, certs.serverCert, certs.serverKey, certs.clientCert, certs.clientKey, certs.otherCa ...
 *   certs.remove()
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface TestCerts {
  readonly dir: string
  /** PEM file paths */
  readonly ca: string
  readonly serverCert: string
  readonly serverKey: string
  readonly clientCert: string
  readonly clientKey: string
  /** a CA that signed none of the above */
  readonly otherCa: string
  remove(): void
}

/** false when openssl is installed; else the reason to skip (throws in CI, like redisSkipReason) */
export function opensslSkipReason(): false | string {
  const r = spawnSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' })
  if (r.status === 0 && r.stdout.trim()) return false
  const why = 'openssl is not installed (Debian: apt-get install openssl): the Redis TLS tests were skipped'
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${why.replace('were skipped', 'cannot run')}; .ci/run must install it`)
  return why
}

function openssl(dir: string, ...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr || r.error?.message}`)
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

function makeCa(dir: string, name: string): void {
  openssl(dir, 'req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=shop-notice test ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
}

function makeLeaf(dir: string, name: string, ca: string, ext: string): void {
  openssl(dir, 'req', '-new', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=shop-notice test ${name}`)
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext)
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`)
}

export function makeCerts(): TestCerts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-tls-'))
  try {
    makeCa(dir, 'ca')
    makeCa(dir, 'other-ca')
    makeLeaf(dir, 'server', 'ca', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n')
    makeLeaf(dir, 'client', 'ca', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n')
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const at = (f: string): string => path.join(dir, f)
  return {
    dir,
    ca: at('ca.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server.key'),
    clientCert: at('client.pem'),
    clientKey: at('client.key'),
    otherCa: at('other-ca.pem'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  }
}
