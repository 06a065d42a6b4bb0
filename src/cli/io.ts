/**
 * The command line's output and its usage errors, shared by every command.
 */
export interface Io {
  out(line: string): void
  err(line: string): void
}

let stdoutGone = false

/**
 * A reader that goes away (`shop-notice quarantine show ID | head`) ends the output,
 * not the command: a release or purge under way still finishes and records what it
 * did, and its exit status stands. Without this, node throws EPIPE out of the write.
 * Returns the listener, for tests.
 */
export function guardStdout(stream: NodeJS.EventEmitter = process.stdout): (err: NodeJS.ErrnoException) => void {
  const onError = (err: NodeJS.ErrnoException): void => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
      stdoutGone = true
      return
    }
    throw err
  }
  stream.on('error', onError)
  return onError
}

export const stdio: Io = {
  out: (line) => {
    if (!stdoutGone) process.stdout.write(`${line}\n`)
  },
  err: (line) => process.stderr.write(`${line}\n`),
}

/** A mistake in the command's arguments: exit status 2 with the usage text. */
export class UsageError extends Error {}
