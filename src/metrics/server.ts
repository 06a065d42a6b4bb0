/**
 * The metrics' HTTP listener: GET /metrics in Prometheus' text format, nothing else.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

export interface MetricsServer {
  readonly address: AddressInfo
  /** `http://host:port/metrics` */
  readonly url: string
  close(): Promise<void>
}

/**
 * Serves `GET /metrics` (and HEAD) from `registry()`; any other path is 404, any
 * other method 405. Resolves once listening; rejects if the address cannot be bound.
 */
export function startMetricsServer(host: string, port: number, registry: () => Promise<Registry>): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?', 1)[0]
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found: the metrics are at /metrics\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method not allowed\n')
      return
    }
    registry()
      .then(async (r) => {
        const body = await r.metrics()
        res.writeHead(200, { 'content-type': r.contentType, 'cache-control': 'no-store' })
        res.end(req.method === 'HEAD' ? undefined : body)
      })
      .catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
        res.end(`metrics unavailable: ${err instanceof Error ? err.message : String(err)}\n`)
      })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port }, () => {
      server.off('error', reject)
      const address = server.address() as AddressInfo
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
      resolve({
        address,
        url: `http://${shown}:${address.port}/metrics`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          }),
      })
    })
  })
}
