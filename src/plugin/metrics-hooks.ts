/**
 * The metrics' hooks, registered only when `[metrics] enabled` (docs/metrics.md): the
 * listener starts in init_master and goes on shutdown.
 */
import cluster from 'node:cluster'

import { parseListen } from '../config/settings.js'
import { ShopNoticeMetrics } from '../metrics/metrics.js'
import { type ClusterLike, ClusterCollector, answerMaster } from '../metrics/cluster.js'
import { startMetricsServer } from '../metrics/server.js'
import type { Next, ShopNoticePlugin } from './haraka.js'

/** At register(): the metrics, when enabled, and their hook. */
export function registerMetrics(this: ShopNoticePlugin): void {
  const metrics = this.shopNotice?.settings.metrics
  if (metrics?.enabled) {
    this.shopNoticeMetrics = { metrics: new ShopNoticeMetrics(() => this.shopNotice?.resolver), started: JSON.stringify(metrics) }
    // a cluster worker answers the master's requests for its figures from the moment it is loaded;
    // init_master runs in the one process, or in the cluster master, which serves them
    if (cluster.isWorker) this.shopNoticeMetrics.stopAnswering = answerMaster(this.shopNoticeMetrics.metrics)
    this.register_hook('init_master', 'serve_metrics')
  }
}

/** Starts the metrics listener: of this process alone, or (cluster master) summing every worker's figures. */
export function serve_metrics(this: ShopNoticePlugin, next: Next, server?: { cluster?: ClusterLike }): void {
  const m = this.shopNoticeMetrics
  const spec = this.shopNotice?.settings.metrics.listen ?? ''
  const listen = parseListen(spec)
  if (!m || !listen) return next()
  const clustered = !!server?.cluster
  if (clustered) m.collector = new ClusterCollector(server.cluster!)
  const collector = m.collector
  const source = collector ? () => collector.collect() : () => Promise.resolve(m.metrics.registry)
  startMetricsServer(listen.host, listen.port, source).then(
    (s) => {
      m.server = s
      this.loginfo(`metrics at ${s.url}${clustered ? ' (the sum of every worker)' : ''}`)
      next()
    },
    // mail matters more than its figures: Haraka runs on without them
    (err: Error) => {
      this.logerror(`metrics not served: cannot listen on ${spec}: ${err.message}`)
      next()
    },
  )
}

/** Haraka calls this on shutdown: the metrics listener and the IPC handlers go. */
export function shutdown(this: ShopNoticePlugin): void {
  const m = this.shopNoticeMetrics
  if (!m) return
  m.stopAnswering?.()
  m.stopAnswering = undefined
  m.collector?.close()
  void m.server?.close()
  m.server = undefined
}
