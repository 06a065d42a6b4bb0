/**
 * A measurement, never production code: what two fixes inside the libraries would
 * give, applied to the benchmark's own process only (`npm run bench` prints the scan
 * figures both ways). Each keeps the library's answers exactly; the benchmark's test
 * checks that the parsed facts and authentication results stay the same.
 *
 * 1. postal-mime joins every decoded MIME part through a Blob and reads it back with
 *    `blob.arrayBuffer()` (an asynchronous round trip through node's stream machinery),
 *    and its quoted-printable decoder allocates 100 KB per part: here the chunks are
 *    joined into one ArrayBuffer directly.
 * 2. mailauth's MessageParser looks for the end of the header block one byte at a time,
 *    keeping the last four bytes in an array it copies on every byte: here each LF is
 *    found with indexOf and the same rule is applied to it.
 */
import path from 'node:path'

type Chunk = ArrayBuffer | ArrayBufferView | string

const encoder = new TextEncoder()

/** The chunks of a decoder, joined as `new Blob(chunks).arrayBuffer()` would join them. */
export function joinChunks(chunks: readonly Chunk[]): ArrayBuffer {
  const parts = chunks.map((c) =>
    typeof c === 'string' ? encoder.encode(c) : c instanceof ArrayBuffer ? new Uint8Array(c) : new Uint8Array(c.buffer, c.byteOffset, c.byteLength),
  )
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out.buffer
}

interface Decoder {
  chunks: Chunk[]
  flushRemainder?(): void
  flushBuffer?(): void
  finalize(): Promise<ArrayBuffer>
}

interface HeaderParser {
  state: string
  headerBytes: number
  headerChunks: Buffer[]
  /** the last bytes of the header seen so far (what the original keeps in stateBytes) */
  whatIfTail?: number[]
  emitHeaders(chunk?: Buffer): Promise<void>
  nextChunk(chunk: Buffer): Promise<void>
}

let applied = false

export function applyLibraryFixes(): void {
  if (applied) return
  applied = true
  const pm = path.dirname(require.resolve('postal-mime'))
  const decoder = (file: string): { prototype: Decoder } => require(path.join(pm, file)) as { prototype: Decoder }
  decoder('base64-decoder.js').prototype.finalize = function (this: Decoder) {
    this.flushRemainder!()
    return Promise.resolve(joinChunks(this.chunks))
  }
  decoder('pass-through-decoder.js').prototype.finalize = function (this: Decoder) {
    return Promise.resolve(joinChunks(this.chunks))
  }
  decoder('qp-decoder.js').prototype.finalize = function (this: Decoder) {
    this.flushBuffer!()
    return Promise.resolve(joinChunks(this.chunks))
  }

  const ma = path.dirname(require.resolve('mailauth'))
  const { MessageParser } = require(path.join(ma, 'dkim', 'message-parser.js')) as { MessageParser: { prototype: HeaderParser & { processChunk(chunk: Buffer): Promise<void> } } }
  MessageParser.prototype.processChunk = async function (this: HeaderParser, input: Buffer): Promise<void> {
    let chunk = input
    if (!chunk || !chunk.length) return
    if (this.state === 'header') {
      const tail = this.whatIfTail ?? []
      // the byte `back` places before chunk[i], from this chunk or the ones before it
      const before = (i: number, back: number): number | undefined => (i - back >= 0 ? chunk[i - back] : tail[tail.length - (back - i)])
      let end = -1
      for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) {
        const seen = this.headerBytes + i + 1
        const b1 = before(i, 1)
        const b2 = before(i, 2)
        if (b1 === 0x0a || (b1 === 0x0d && b2 === 0x0a) || seen === 1 || (seen === 2 && b1 === 0x0d)) {
          end = i + 1
          break
        }
      }
      if (end < 0) {
        this.headerBytes += chunk.length
        this.whatIfTail = [...tail, ...chunk.subarray(-3)].slice(-3)
        this.headerChunks.push(chunk)
        return
      }
      this.headerBytes += end
      if (end === chunk.length) {
        await this.emitHeaders(chunk)
        return
      }
      await this.emitHeaders(chunk.subarray(0, end))
      chunk = chunk.subarray(end)
    }
    if (this.state !== 'body') {
      this.headerChunks.push(chunk)
      return
    }
    await this.nextChunk(chunk)
  }
}
