/** Feeding a message into a haraka-test-fixtures transaction, as Haraka's DATA phase would. */
export interface FixtureTxn {
  add_data(line: Buffer): void
  end_data(cb: () => void): void
}

/** Splits raw bytes into CRLF lines (dot-stuffing undone by the transaction) and ends DATA. */
export async function loadMessage(txn: FixtureTxn, raw: Buffer): Promise<void> {
  let start = 0
  while (start < raw.length) {
    const lf = raw.indexOf(0x0a, start)
    const end = lf < 0 ? raw.length : lf + 1
    let line = raw.subarray(start, end)
    if (lf < 0) line = Buffer.concat([line, Buffer.from('\r\n')])
    else if (line.length < 2 || line[line.length - 2] !== 0x0d) line = Buffer.concat([line.subarray(0, -1), Buffer.from('\r\n')])
    // SMTP dot-stuffing as a client would send it
    txn.add_data(line[0] === 0x2e ? Buffer.concat([Buffer.from('.'), line]) : line)
    start = end
  }
  await new Promise<void>((resolve) => txn.end_data(resolve))
}
