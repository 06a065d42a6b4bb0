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
  export function decodeWords(str: string): string
}

declare module 'haraka-config' {
  const config: unknown
  export default config
}
