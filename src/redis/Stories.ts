/**
 * The Redis side of stories, all of it derived and rebuildable from PostgreSQL:
 *
 * - `sv:<storyId>`, a set of the viewers whose view is already on its way to PostgreSQL (in
 *   JetStream): a repeat is answered without publishing again. Added only after the PubAck, so a
 *   view that failed to publish is published on the next try; expires an hour after the story.
 * - `sp:<viewerId>`, a hash author → the highest story `seq` the viewer saw: the read pointer at
 *   once, before the batch reaches PostgreSQL (which keeps it for good); kept 25 hours.
 * - `svgate:<authorId>`: at most one `story_view` frame a second per author, across nodes.
 * Losing all of it costs a few repeated publishes (stored once) and pointers read from PostgreSQL.
 */
import { Context, Effect, Layer } from "effect"
import { Redis, type RedisError } from "./Redis.ts"
import { PRESENCE_TTL_MS } from "./Timelines.ts"

const POINTER_LUA = `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`
const POINTER_TTL_MS = 25 * 60 * 60 * 1000
/** The dedup set outlives its story by this much (a late retry still finds it). */
const SET_GRACE_MS = 60 * 60 * 1000

export interface SeenView {
  readonly storyId: string
  readonly viewerId: string
}

export class StorySets extends Context.Tag("StorySets")<StorySets, {
  /** For each view, whether it is already on its way to PostgreSQL. */
  readonly known: (views: ReadonlyArray<SeenView>) => Effect.Effect<ReadonlyArray<boolean>, RedisError>
  /** Marks views as published, each set expiring after its story. */
  readonly remember: (views: ReadonlyArray<SeenView & { readonly expiresAt: Date }>) => Effect.Effect<void, RedisError>
  /** Moves read pointers forward (never back). */
  readonly advance: (pointers: ReadonlyArray<{ readonly viewerId: string; readonly authorId: string; readonly seq: number }>) => Effect.Effect<void, RedisError>
  readonly pointers: (viewerId: string) => Effect.Effect<ReadonlyMap<string, number>, RedisError>
  /** Of `userIds`, those with a socket open somewhere now. */
  readonly present: (userIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<string>, RedisError>
  /** Takes the author's one-a-second `story_view` gate: 0 when taken, else the milliseconds until it opens. */
  readonly viewGate: (authorId: string) => Effect.Effect<number, RedisError>
}>() {}

const groupBy = <A>(items: ReadonlyArray<A>, key: (a: A) => string): Map<string, Array<A>> => {
  const groups = new Map<string, Array<A>>()
  for (const item of items) {
    const k = key(item)
    const g = groups.get(k)
    if (g === undefined) groups.set(k, [item])
    else g.push(item)
  }
  return groups
}

export const make = Effect.gen(function*() {
  const { call, client } = yield* Redis
  // defineCommand prefixes KEYS and sends EVALSHA (EVAL once per connection), in pipelines too
  client.defineCommand("storyPointer", { numberOfKeys: 1, lua: POINTER_LUA })
  return StorySets.of({
    known: (views) => {
      if (views.length === 0) return Effect.succeed([])
      // one SMISMEMBER per story, whatever the batch holds
      const byStory = groupBy(views, (v) => v.storyId)
      return call("story views known", (c) => {
        const p = c.pipeline()
        for (const [storyId, members] of byStory) p.smismember(`sv:${storyId}`, ...members.map((v) => v.viewerId))
        return p.exec()
      }).pipe(Effect.map((results) => {
        const known = new Set<string>()
        let i = 0
        for (const [storyId, members] of byStory) {
          const [e, r] = results?.[i++] ?? [new Error("no reply"), null]
          if (e !== null || !Array.isArray(r)) continue
          members.forEach((v, j) => r[j] === 1 && known.add(`${storyId}:${v.viewerId}`))
        }
        return views.map((v) => known.has(`${v.storyId}:${v.viewerId}`))
      }))
    },
    remember: (views) => {
      if (views.length === 0) return Effect.void
      const byStory = groupBy(views, (v) => v.storyId)
      return call("story views remember", (c) => {
        const p = c.pipeline()
        for (const [storyId, members] of byStory) {
          p.sadd(`sv:${storyId}`, ...members.map((v) => v.viewerId))
          p.pexpireat(`sv:${storyId}`, Math.max(...members.map((v) => v.expiresAt.getTime())) + SET_GRACE_MS)
        }
        return p.exec()
      }).pipe(Effect.asVoid)
    },
    advance: (pointers) => {
      if (pointers.length === 0) return Effect.void
      // one move per viewer and author (the highest seq of the batch)
      const highest = new Map<string, { viewerId: string; authorId: string; seq: number }>()
      for (const x of pointers) {
        const k = `${x.viewerId}:${x.authorId}`
        const held = highest.get(k)
        if (held === undefined || held.seq < x.seq) highest.set(k, x)
      }
      return call("story pointers", (c) => {
        const p = c.pipeline() as unknown as { storyPointer: (key: string, author: string, seq: string, ttl: string) => void; exec: () => Promise<unknown> }
        for (const x of highest.values()) p.storyPointer(`sp:${x.viewerId}`, x.authorId, String(x.seq), String(POINTER_TTL_MS))
        return p.exec()
      }).pipe(Effect.asVoid)
    },
    pointers: (viewerId) =>
      call("story pointers read", (c) => c.hgetall(`sp:${viewerId}`)).pipe(
        Effect.map((h) => new Map(Object.entries(h).map(([k, v]) => [k, Number(v)])))
      ),
    present: (userIds) =>
      userIds.length === 0 ? Effect.succeed([]) : call("presence", (c) => c.zmscore("presence", ...userIds)).pipe(
        Effect.map((scores) => {
          const cutoff = Date.now() - PRESENCE_TTL_MS
          return userIds.filter((_, i) => scores[i] !== null && Number(scores[i]) >= cutoff)
        })
      ),
    viewGate: (authorId) =>
      call("story view gate", async (c) => {
        const key = `svgate:${authorId}`
        if ((await c.set(key, "1", "PX", 1000, "NX")) === "OK") return 0
        return Math.max(1, await c.pttl(key))
      })
  })
})

export const layer = Layer.effect(StorySets, make)
