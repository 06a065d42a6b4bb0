/**
 * The plugin's quarantine writer: a message is stored whole under its name, or not at all;
 * a short write, a source that breaks off, a day folder that cannot be made leave nothing
 * that `list` or `release` would take for a held message.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'

import { QuarantineStore } from '../../dist/src/quarantine/store.js'
import { dayFolderOf, holdMessage } from '../../dist/src/quarantine/writer.js'

const NOW = new Date(2026, 4, 21, 10, 0, 0) // local time, as core names its day folders
const MESSAGE = 'From: a@shop.example\nSubject: held\n\nbody\n'

function folder(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shop-notice-writer-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

const whole = (text: string) => (out: NodeJS.WritableStream) => out.end(text)

t.test('stored whole, in core\'s layout, listed', async (t) => {
  const dir = folder(t)
  const file = await holdMessage({ dir, id: 'ABCD-1234.1', pipeTo: whole(MESSAGE), now: NOW })
  t.equal(file, path.join(dir, '20260521', 'ABCD-1234.1'))
  t.equal(dayFolderOf(NOW), '20260521')
  t.equal(fs.readFileSync(file, 'utf8'), MESSAGE)
  t.same(fs.readdirSync(path.dirname(file)), ['ABCD-1234.1'], 'no temporary file left')
  t.match(await new QuarantineStore(dir).list(), [{ id: 'ABCD-1234.1', size: MESSAGE.length, status: 'held' }])
  const sub = await holdMessage({ dir, id: 'sub-1', pipeTo: whole(MESSAGE), now: NOW, sub: 'shop' })
  t.equal(sub, path.join(dir, 'shop', '20260521', 'sub-1'), 'below a sub-folder, as core')
})

t.test('a held message is never replaced; ids that could leave the folder are refused', async (t) => {
  const dir = folder(t)
  await holdMessage({ dir, id: 'same', pipeTo: whole(MESSAGE), now: NOW })
  await t.rejects(holdMessage({ dir, id: 'same', pipeTo: whole('other'), now: NOW }), { code: 'EEXIST' })
  t.equal(fs.readFileSync(path.join(dir, '20260521', 'same'), 'utf8'), MESSAGE, 'the first stays')
  t.same(fs.readdirSync(path.join(dir, '20260521')), ['same'], 'the second left nothing')
  for (const id of ['../x', 'a/b', '.hidden', 'x.json', '']) await t.rejects(holdMessage({ dir, id, pipeTo: whole(MESSAGE), now: NOW }), /not a message id/, JSON.stringify(id))
  await t.rejects(holdMessage({ dir, id: 'ok', pipeTo: whole(MESSAGE), now: NOW, sub: '../up' }), /not a quarantine sub-folder/)
})

t.test('a short write (the disk fills, the source breaks off) leaves nothing listed', async (t) => {
  const dir = folder(t)
  const cases: [string, (out: NodeJS.WritableStream) => void][] = [
    ['the write fails part way (ENOSPC)', (out) => {
      out.write('From: a@shop.example\nSubj')
      setImmediate(() => (out as NodeJS.WritableStream & { destroy(e: Error): void }).destroy(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })))
    }],
    ['the source throws', (out) => {
      out.write('From: a@shop.example\n')
      throw new Error('spool file gone')
    }],
    ['the source writes on after a failure', (out) => {
      ;(out as NodeJS.WritableStream & { destroy(e: Error): void }).destroy(new Error('EIO'))
      out.write('more')
    }],
    ['the stream closes before it ends', (out) => {
      out.write('From: a@shop.example\n')
      setImmediate(() => (out as NodeJS.WritableStream & { destroy(): void }).destroy())
    }],
  ]
  for (const [name, pipeTo] of cases) {
    await t.rejects(holdMessage({ dir, id: 'short', pipeTo, now: NOW }), name)
    t.same(fs.readdirSync(path.join(dir, '20260521')), [], `${name}: no file, no temporary file`)
  }
  // a writer killed in the middle leaves only its temporary name, which list never reads
  fs.writeFileSync(path.join(dir, '20260521', '.killed.abc.tmp'), 'From: a@shop.example\nSubj')
  t.same(await new QuarantineStore(dir).list(), [], 'nothing listed')
})

t.test('a day folder that cannot be made (a regular file in its path: ENOTDIR, as root too)', async (t) => {
  const dir = folder(t)
  fs.writeFileSync(path.join(dir, 'file'), 'x')
  await t.rejects(holdMessage({ dir: path.join(dir, 'file', 'quarantine'), id: 'x', pipeTo: whole(MESSAGE), now: NOW }), { code: 'ENOTDIR' })
})
