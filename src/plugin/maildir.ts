/**
 * A minimal Maildir delivery for the repository's own Haraka folder (`npm start`),
 * so that a newcomer can read what was accepted: var/maildir/new/. Not part of the
 * plugin proper; a real relay uses queue/smtp_forward or queue/lmtp (docs/deploy.md).
 *
 * Maildir rules: write into tmp/, then rename into new/ (atomic on one filesystem).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import constants from 'haraka-constants'

type Next = (code?: number, msg?: string) => void

interface MaildirPlugin {
  config: { get(name: string, type: string, opts: object, cb?: () => void): unknown }
  register_hook(hook: string, method: string): void
  maildirPath?: string
  acceptAll?: boolean
  load_maildir_ini(): void
}

interface Connection {
  transaction?: {
    uuid: string
    message_stream: { pipe(dest: NodeJS.WritableStream, opts?: Record<string, unknown>): unknown }
  } | null
  logerror(plugin: unknown, msg: string): void
}

export function register(this: MaildirPlugin): void {
  this.load_maildir_ini()
  this.register_hook('rcpt', 'accept_recipient')
  this.register_hook('queue', 'deliver')
}

/** A catch-all mailbox: with `accept_all_recipients`, every recipient is accepted here. */
export function accept_recipient(this: MaildirPlugin, next: Next): void {
  if (this.acceptAll) return next(constants.OK)
  next()
}

export function load_maildir_ini(this: MaildirPlugin): void {
  const cfg = this.config.get('maildir.ini', 'ini', { booleans: ['+main.accept_all_recipients'] }, () => this.load_maildir_ini()) as {
    main?: { path?: unknown; accept_all_recipients?: boolean }
  }
  this.acceptAll = cfg.main?.accept_all_recipients !== false
  const p = typeof cfg.main?.path === 'string' && cfg.main.path ? cfg.main.path : 'var/maildir'
  this.maildirPath = path.resolve(p)
  for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(this.maildirPath, sub), { recursive: true })
}

let seq = 0

export function deliver(this: MaildirPlugin, next: Next, connection: Connection): void {
  const txn = connection.transaction
  if (!txn || !this.maildirPath) return next()
  const name = `${Date.now()}.P${process.pid}Q${++seq}.${txn.uuid}.${os.hostname()}`
  const tmp = path.join(this.maildirPath, 'tmp', name)
  const dest = path.join(this.maildirPath, 'new', name)
  const ws = fs.createWriteStream(tmp)
  let done = false
  const fail = (err: Error): void => {
    if (done) return
    done = true
    connection.logerror(this, `maildir: cannot write ${tmp}: ${err.message}`)
    fs.unlink(tmp, () => next(constants.DENYSOFT, 'Temporary failure storing the message'))
  }
  ws.on('error', fail)
  ws.on('finish', () => {
    fs.rename(tmp, dest, (err) => {
      if (err) return fail(err)
      if (done) return
      done = true
      next(constants.OK, `Queued as ${name}`)
    })
  })
  txn.message_stream.pipe(ws, { line_endings: '\n' })
}
