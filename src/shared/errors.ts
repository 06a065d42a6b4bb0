/** A configuration problem: which file, which key, what is wrong. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly key: string,
    problem: string,
  ) {
    super(`${file}: ${key}: ${problem}`)
    this.name = 'ConfigError'
  }
}
