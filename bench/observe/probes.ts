/**
 * The parts of one `GET /admin/actors`, timed from this process alone, one after another, as
 * src/actors/runtime/Inspector.ts does them: the live heartbeats (the `nodes` KV bucket: list the
 * keys, get each), the scatter-gather on `inspect.nodes` until every node answered, JetStream's
 * figures (info and consumer list of each of the run's streams) and the dead-letter counts in
 * PostgreSQL. The inspector reads the last two at most once a second; the first two on every request.
 */
import { jetstreamManager, jetstream } from "@nats-io/jetstream"
import { Kvm } from "@nats-io/kv"
import { connect as connectNats } from "@nats-io/transport-node"
import { StreamNames } from "../../src/streams/Topology.ts"
import { natsUrl } from "../support/lifecycle.ts"
import { withClient } from "../support/pgdb.ts"
import { percentile } from "../fanout/run.ts"

export interface Latency {
  readonly count: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
}

export const latencyOf = (values: ReadonlyArray<number>): Latency => ({
  count: values.length,
  p50Ms: percentile(values, 50),
  p99Ms: percentile(values, 99),
  maxMs: values.length === 0 ? NaN : Math.max(...values)
})

export interface Probes {
  readonly rounds: number
  readonly heartbeats: Latency
  readonly gather: Latency & { readonly answerBytes: Readonly<Record<string, number>> }
  readonly figures: Latency & { readonly consumers: number }
  readonly deadLetters: Latency
}

const timed = async <A>(into: Array<number>, f: () => Promise<A>): Promise<A> => {
  const started = performance.now()
  const a = await f()
  into.push(performance.now() - started)
  return a
}

export const probeParts = async (prefix: string, databaseUrl: string, nodes: number, rounds: number): Promise<Probes> => {
  const nc = await connectNats({ servers: natsUrl, timeout: 3000 })
  const encoder = new TextEncoder()
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5000 })
    const kv = await new Kvm(jetstream(nc)).open(`${prefix}_nodes`)
    const times = { heartbeats: [] as Array<number>, gather: [] as Array<number>, figures: [] as Array<number>, deadLetters: [] as Array<number> }
    const answerBytes: Record<string, number> = {}
    let consumers = 0
    await withClient(databaseUrl, async (db) => {
      for (let i = 0; i < rounds; i++) {
        await timed(times.heartbeats, async () => {
          const keys: Array<string> = []
          for await (const k of await kv.keys()) keys.push(k)
          await Promise.all(keys.map((k) => kv.get(k)))
        })
        await timed(times.gather, async () => {
          const replies = await nc.requestMany(`${prefix}.inspect.nodes`, encoder.encode(JSON.stringify({ limit: 20 })), { strategy: "timer", maxWait: 1000 })
          let n = 0
          for await (const m of replies) {
            const node = (JSON.parse(new TextDecoder().decode(m.data)) as { node: string }).node
            answerBytes[node] = m.data.length
            if (++n >= nodes) break
          }
        })
        consumers = await timed(times.figures, async () => {
          const counts = await Promise.all(Object.values(StreamNames).map(async (logical) => {
            const name = `${prefix}_${logical}`
            try {
              await jsm.streams.info(name)
              let c = 0
              for await (const _ of jsm.consumers.list(name)) c++
              return c
            } catch {
              return 0
            }
          }))
          return counts.reduce((a, b) => a + b, 0)
        })
        await timed(times.deadLetters, () =>
          db.query("SELECT source, consumer, count(*)::int AS count FROM dead_letters WHERE replayed_at IS NULL GROUP BY source, consumer ORDER BY source, consumer"))
      }
    })
    return {
      rounds,
      heartbeats: latencyOf(times.heartbeats),
      gather: { ...latencyOf(times.gather), answerBytes },
      figures: { ...latencyOf(times.figures), consumers },
      deadLetters: latencyOf(times.deadLetters)
    }
  } finally {
    await nc.close()
  }
}
