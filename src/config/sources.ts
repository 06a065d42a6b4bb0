/**
 * Where the configuration comes from, by one rule for the plugin and the command line:
 * the package's config/ gives the defaults and the admin's Haraka folder's config/
 * overrides them key by key, as haraka-config does for the plugin; the default
 * authserv-id is Haraka's `me`.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import harakaConfig from 'haraka-config'

import { CachedResolver } from '../auth/resolver.js'

import type { HarakaConfig, Settings } from './settings.js'

/** The package's folder (its config/ holds the defaults): dist/src/config/ is three levels below it. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..')

const moduleConfig = (defaults: string, overrides?: string): HarakaConfig =>
  (harakaConfig as unknown as { module_config(d: string, o?: string): HarakaConfig }).module_config(defaults, overrides)

/**
 * The admin's Haraka folder, as Haraka finds it: the folder given (`--config DIR`),
 * else $HARAKA, else the current folder.
 */
export const adminFolder = (given?: string): string => path.resolve(given ?? (process.env.HARAKA || process.cwd()))

/** haraka-config rooted at the package's config/, overridden by DIR/config/ when DIR has one. */
export function configFor(dir: string | undefined): HarakaConfig {
  const overrides = dir !== undefined && fs.existsSync(path.join(dir, 'config')) ? path.resolve(dir) : undefined
  return moduleConfig(PACKAGE_ROOT, overrides)
}

/** haraka-config of the Haraka folder alone (core's own files: me, quarantine.ini). */
export const harakaFolderConfig = (dir: string): HarakaConfig => moduleConfig(dir)

/** Haraka's `me`: the first line of DIR/config/me, else the host name (as Haraka core decides it). */
export function harakaMe(dir: string): string {
  const me = harakaFolderConfig(dir).get('me')
  return (typeof me === 'string' && me.trim()) || os.hostname()
}

/** Our authserv-id: `[main] authserv_id`, else Haraka's `me`. */
export const authservIdFor = (settings: Pick<Settings, 'main'>, me: string): string => settings.main.authserv_id || me

/** The caching resolver `[dns]` and `[cache]` describe (`servers` overrides `[dns] servers`, as `scan --dns` does). */
export const resolverFor = (s: Pick<Settings, 'dns' | 'cache'>, servers: readonly string[] = s.dns.servers): CachedResolver =>
  new CachedResolver({
    servers,
    timeoutMs: s.dns.timeout_ms,
    cacheSize: s.cache.size,
    maxTtlMs: s.cache.max_ttl_s * 1000,
    negativeTtlMs: s.cache.negative_ttl_s * 1000,
  })
