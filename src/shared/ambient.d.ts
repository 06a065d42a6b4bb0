// Types for the untyped CommonJS modules this plugin uses.
declare module 'haraka-constants' {
  const constants: {
    readonly CONT: number
    readonly STOP: number
    readonly DENY: number
    readonly DENYSOFT: number
    readonly DENYDISCONNECT: number
    readonly OK: number
  }
  export default constants
}

declare module 'libmime' {
  // a CommonJS instance whose methods use `this`: call them on it (libmime.decodeWords), never detached
  const libmime: { decodeWords(str: string): string }
  export default libmime
}

declare module 'haraka-config' {
  const config: unknown
  export default config
}

declare module 'haraka-dsn' {
  /** An SMTP reply with an enhanced status code (RFC 3463); Haraka's respond() takes it as msg. */
  interface Dsn {
    readonly code: number
    readonly msg: string
    readonly reply: string | string[]
  }
  const DSN: {
    sec_unauthorized(msg: string, code?: number): Dsn
    temp_resolver_failed(msg: string, code?: number): Dsn
    sys_msg_too_big(msg: string, code?: number): Dsn
    sys_disk_full(msg: string, code?: number): Dsn
  }
  export default DSN
}
