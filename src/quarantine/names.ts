/**
 * The quarantine folder's names: where core keeps it, which files are messages and which
 * are ours next to them, and the header a released copy carries.
 */
import path from 'node:path'

/** core queue/quarantine's folder when quarantine.ini names none */
const CORE_DEFAULT_QUARANTINE_PATH = '/var/spool/haraka/quarantine'
export { RELEASE_HEADER } from '../verdict/headers.js'
/** `<quarantine>/.releasing/<id>`: the message file (relative) of a release being sent, so the plugin finds it by id */
export const RELEASING_DIR = '.releasing'
export const SIDECAR_EXT = '.json'
export const CLAIM_EXT = '.release'
export const USED_EXT = '.release-used'
/** names that are ours (or temporary), never messages */
const OURS = /(\.json|\.release|\.release-used|\.tmp)$/

/** A message id as core names the file (Haraka's transaction uuid); nothing that could leave the folder. */
export const isMessageId = (id: string): boolean => /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(id) && !OURS.test(id)

/** The quarantine folder core uses for a parsed quarantine.ini; a relative path is taken from `base`. */
export function quarantineDirOf(ini: unknown, base: string): string {
  const main = (ini as { main?: { quarantine_path?: unknown } } | undefined)?.main
  const p = typeof main?.quarantine_path === 'string' && main.quarantine_path.trim() ? main.quarantine_path.trim() : CORE_DEFAULT_QUARANTINE_PATH
  return path.resolve(base, p)
}

