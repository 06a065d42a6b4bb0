/**
 * The cluster's figures: each worker answers the master's request over node:cluster's
 * IPC channel with its registry as JSON; the master sums them (prom-client's
 * AggregatorRegistry) for one scrape of the whole server.
 */
import { AggregatorRegistry, Gauge, type MetricObjectWithValues, type MetricValue, Registry } from 'prom-client'

import { PREFIX, type ShopNoticeMetrics } from './metrics.js'

/** The IPC messages between the master and its workers (node:cluster's channel). */
export const IPC_REQUEST = 'shop-notice.metrics.request'
export const IPC_REPLY = 'shop-notice.metrics.reply'

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[]
interface Request {
  event: typeof IPC_REQUEST
  id: number
}
interface Reply {
  event: typeof IPC_REPLY
  id: number
  metrics?: MetricsJson
  error?: string
}
const isRequest = (m: unknown): m is Request => (m as Request | null)?.event === IPC_REQUEST && typeof (m as Request).id === 'number'
const isReply = (m: unknown): m is Reply => (m as Reply | null)?.event === IPC_REPLY && typeof (m as Reply).id === 'number'

/** A worker's side of the channel: the part of `process` used. */
export interface WorkerChannel {
  on(ev: 'message', f: (m: unknown) => void): unknown
  off(ev: 'message', f: (m: unknown) => void): unknown
  send?(m: unknown): unknown
  connected?: boolean
}

/** In a worker: answers the master's requests with this process's figures. Returns the function that stops it. */
export function answerMaster(metrics: ShopNoticeMetrics, channel: WorkerChannel = process as WorkerChannel): () => void {
  const onMessage = (m: unknown): void => {
    if (!isRequest(m)) return
    const send = (reply: Reply): void => {
      // the master may be gone (shutdown): there is no one to answer
      if (channel.connected === false || !channel.send) return
      try {
        channel.send(reply)
      } catch {}
    }
    metrics.registry.getMetricsAsJSON().then(
      (json) => send({ event: IPC_REPLY, id: m.id, metrics: json }),
      (err: unknown) => send({ event: IPC_REPLY, id: m.id, error: err instanceof Error ? err.message : String(err) }),
    )
  }
  channel.on('message', onMessage)
  return () => channel.off('message', onMessage)
}

/** The master's side: the part of node:cluster used. */
export interface ClusterLike {
  readonly workers?: Record<string, { isConnected(): boolean; send(m: unknown): boolean } | undefined>
  on(ev: 'message', f: (worker: unknown, m: unknown) => void): unknown
  off(ev: 'message', f: (worker: unknown, m: unknown) => void): unknown
}

/** In the master: gathers the workers' figures for one scrape. */
export class ClusterCollector {
  #seq = 0
  readonly #pending = new Map<number, { replies: MetricsJson[]; left: number; done: () => void }>()
  readonly #onMessage = (_worker: unknown, m: unknown): void => {
    if (!isReply(m)) return
    const p = this.#pending.get(m.id)
    if (!p) return // a late answer to a scrape already served
    if (m.metrics) p.replies.push(m.metrics)
    if (--p.left === 0) p.done()
  }

  constructor(
    private readonly cluster: ClusterLike,
    private readonly timeoutMs = 2000,
  ) {
    cluster.on('message', this.#onMessage)
  }

  /** Asks every connected worker; resolves with the sum of those that answered within the timeout. */
  async collect(): Promise<Registry> {
    const id = ++this.#seq
    const workers = Object.values(this.cluster.workers ?? {}).filter((w) => w?.isConnected())
    const replies: MetricsJson[] = []
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), this.timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        this.#pending.delete(id)
        resolve()
      }
      const entry = { replies, left: 0, done }
      this.#pending.set(id, entry)
      // the answers come over IPC, in later turns of the event loop: counting first is safe
      for (const w of workers) {
        try {
          // send() may return false under backpressure, yet the message still goes
          w?.send({ event: IPC_REQUEST, id } satisfies Request)
          entry.left++
        } catch {} // a worker going away
      }
      if (entry.left === 0) done()
    })
    const unanswered = workers.length - replies.length
    const own = new Registry()
    new Gauge({
      name: `${PREFIX}cluster_workers_unanswered`,
      help: 'Workers that did not answer this scrape in time (their figures are missing from it)',
      registers: [own],
    }).set(unanswered)
    return Registry.merge([AggregatorRegistry.aggregate(replies), own])
  }

  close(): void {
    this.cluster.off('message', this.#onMessage)
  }
}
