/**
 * The store's key: 32 random bytes made on first start, and the keyed hashes made with it.
 * Addresses and names are never stored, only HMAC-SHA256(key, label ‖ 0 ‖ value) cut to
 * 128 bits: without the key a hash cannot be tested against a guessed address.
 */
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

export const SECRET_BYTES = 32
/** bytes of HMAC kept: 128 bits, far beyond any collision among a store's entries */
export const HASH_BYTES = 16

/** 64 lowercase hex digits */
export const isSecretHex = (s: string): boolean => /^[0-9a-f]{64}$/.test(s)

export const newSecretHex = (): string => crypto.randomBytes(SECRET_BYTES).toString('hex')

/** Keyed hashes of what the store remembers; one label per kind so that equal strings of different kinds differ. */
export class Hasher {
  readonly #key: Buffer
  constructor(secretHex: string) {
    if (!isSecretHex(secretHex)) throw new Error('the store secret is not 64 hex digits')
    this.#key = Buffer.from(secretHex, 'hex')
  }

  hash(label: 'rcpt' | 'sender' | 'name', value: string): Buffer {
    return crypto.createHmac('sha256', this.#key).update(`${label}\0${value}`, 'utf8').digest().subarray(0, HASH_BYTES)
  }
}

/**
 * Reads the secret kept in `file`, making it first when there is none. Several processes
 * starting together agree: each writes its own candidate to a temporary file (mode 0600) and
 * links it to `file`, which fails when another process got there first; everyone then reads
 * `file`. Where the file system cannot link, `open(O_EXCL)` decides instead.
 */
export function loadOrCreateSecretFile(file: string): string {
  const read = (): string | undefined => {
    try {
      return fs.readFileSync(file, 'utf8').trim()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }
  let found = read()
  if (found === undefined) {
    const candidate = `${newSecretHex()}\n`
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`)
    const fd = fs.openSync(tmp, 'wx', 0o600)
    try {
      fs.writeFileSync(fd, candidate)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    try {
      fs.linkSync(tmp, file)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP') {
        // no hard links here: create the file exclusively and write it in one call
        try {
          const fd2 = fs.openSync(file, 'wx', 0o600)
          try {
            fs.writeFileSync(fd2, candidate)
            fs.fsyncSync(fd2)
          } finally {
            fs.closeSync(fd2)
          }
        } catch (err2) {
          if ((err2 as NodeJS.ErrnoException).code !== 'EEXIST') throw err2
        }
      } else if (code !== 'EEXIST') {
        throw err
      }
    } finally {
      fs.rmSync(tmp, { force: true })
    }
    found = read()
    // the O_EXCL path can be read between its create and its write: wait for the writer
    for (let i = 0; i < 50 && found === ''; i++) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2)
      found = read()
    }
  }
  if (found === undefined || !isSecretHex(found)) {
    throw new Error(`${file}: not a store secret (64 hex digits); remove it to make a new one (everything remembered is then forgotten)`)
  }
  return found
}
