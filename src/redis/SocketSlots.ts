/**
 * Socket caps across the cluster: one sorted set per capped key (`wsslots:user:<id>`,
 * `wsslots:addr:<address>`) whose members are socket ids, scored by when their place lapses. A node
 * renews its sockets' places every RENEW_MS and gives them up when they close; the places of a node
 * that died without doing so lapse within PLACE_TTL_MS. Taking places is one Lua script over every
 * key: all or none, so two nodes cannot both take the last place.
 */
import { Context, Effect, Layer } from "effect"
import { Redis, type RedisError } from "./Redis.ts"

export const RENEW_MS = 20_000
const PLACE_TTL_MS = 3 * RENEW_MS

const TAKE_LUA = `
local now = tonumber(ARGV[1])
local id = ARGV[3]
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if not redis.call('ZSCORE', key, id) and redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then return i end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[2], id)
  redis.call('PEXPIRE', key, ARGV[4 + #KEYS])
end
return 0`

export interface SocketPlace {
  readonly key: string
  readonly cap: number
}

export class SocketSlots extends Context.Tag("SocketSlots")<SocketSlots, {
  /** Takes a place under every key for socket `id`: 0 when taken, else the (1-based) index of a full key, and none is taken. */
  readonly take: (id: string, places: ReadonlyArray<SocketPlace>) => Effect.Effect<number, RedisError>
  readonly release: (id: string, keys: ReadonlyArray<string>) => Effect.Effect<void, RedisError>
  /** Keeps the places of sockets still open from lapsing. */
  readonly renew: (held: ReadonlyArray<{ readonly id: string; readonly keys: ReadonlyArray<string> }>) => Effect.Effect<void, RedisError>
}>() {}

export const slotKey = (kind: "user" | "addr", value: string) => `wsslots:${kind}:${value}`

export const make = Effect.gen(function*() {
  const redis = yield* Redis
  const client = redis.client as typeof redis.client & {
    wsTakeSlots: (numberOfKeys: number, ...args: ReadonlyArray<string | number>) => Promise<number>
  }
  // defineCommand prefixes KEYS and uses EVALSHA (EVAL once per connection)
  client.defineCommand("wsTakeSlots", { lua: TAKE_LUA })
  return SocketSlots.of({
    take: (id, places) =>
      redis.call("ws-slots take", (c) => {
        const now = Date.now()
        return (c as typeof client).wsTakeSlots(
          places.length,
          ...places.map((p) => p.key),
          now,
          now + PLACE_TTL_MS,
          id,
          ...places.map((p) => p.cap),
          PLACE_TTL_MS
        )
      }),
    release: (id, keys) =>
      keys.length === 0 ? Effect.void : redis.call("ws-slots release", (c) => {
        const batch = c.pipeline()
        for (const key of keys) batch.zrem(key, id)
        return batch.exec()
      }).pipe(Effect.asVoid),
    renew: (held) =>
      held.length === 0 ? Effect.void : redis.call("ws-slots renew", (c) => {
        const until = Date.now() + PLACE_TTL_MS
        const batch = c.pipeline()
        for (const socket of held) {
          for (const key of socket.keys) batch.zadd(key, "XX", until, socket.id).pexpire(key, PLACE_TTL_MS)
        }
        return batch.exec()
      }).pipe(Effect.asVoid)
  })
})

export const layer = Layer.effect(SocketSlots, make)
