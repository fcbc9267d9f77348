/**
 * Removes what the Aperture targets declared under this run's random prefixes (JetStream streams,
 * KV buckets, Redis keys), so repeated benchmark runs do not pile up state in the shared servers.
 * Best effort: a failure here is reported but never fails the benchmark.
 */
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { Redis } from "ioredis"

/** Deletes every stream named `<prefix>_*` and every KV bucket `KV_<prefix>_*`; returns how many. */
export const deleteNatsPrefix = async (url: string, prefix: string): Promise<number> => {
  const nc = await connect({ servers: url, timeout: 3000 })
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5000 })
    const mine = (name: string) => name.startsWith(`${prefix}_`) || name.startsWith(`KV_${prefix}_`)
    let deleted = 0
    for await (const name of jsm.streams.names()) {
      if (mine(name)) {
        await jsm.streams.delete(name)
        deleted++
      }
    }
    return deleted
  } finally {
    await nc.close()
  }
}

/** Deletes every key starting with `prefix` (SCAN, not KEYS, so Redis is never blocked); returns how many. */
export const deleteRedisPrefix = async (url: string, prefix: string): Promise<number> => {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null })
  // connection errors already reject connect() below; without a listener ioredis also prints them
  redis.on("error", () => undefined)
  try {
    await redis.connect()
    let deleted = 0
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<Array<string>>) {
      if (keys.length > 0) deleted += await redis.del(...keys)
    }
    return deleted
  } finally {
    redis.disconnect()
  }
}
