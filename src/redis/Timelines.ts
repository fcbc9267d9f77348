/**
 * The feed's derived state in Redis, all rebuildable from PostgreSQL:
 * - `tl:<userId>`  home timeline, a sorted set of post ids scored by publication time (ms), capped;
 * - `ob:<authorId>` a celebrity's author outbox (their recent posts), merged into readers' feeds;
 * - `cf:<userId>`  the celebrities a user follows (cached; dropped on every follow change);
 * - `card:<postId>` a post card (the post without counts or viewer flags), JSON, expiring.
 *
 * Timelines and outboxes carry a sentinel member `~` scored -1 once they are complete (built from
 * PostgreSQL): a key without it is missing or partial, and readers fall back and ask for a rebuild.
 * Fan-out inserts into partial timelines too, so a rebuild (which adds, never replaces) cannot miss
 * a post published while it read PostgreSQL.
 */
import { Context, Effect, Layer } from "effect"
import type { Redis as IORedis } from "ioredis"
import { AppConfig } from "../config/AppConfig.ts"
import { Redis } from "./Redis.ts"
import { FENCE_LUA, type Fenced, fenceKey, fencedReply } from "./Fencing.ts"

/** Which partition epoch a write is made under (an actor's envelope has both). */
export interface FenceToken {
  readonly partition: number
  readonly epoch: number
}

export const Sentinel = "~"

export interface Entry {
  readonly id: string
  readonly score: number
}

export class RedisUnavailable extends Error {
  readonly _tag = "RedisUnavailable"
}

export interface TimelinesShape {
  /**
   * The timeline actor's writes, each one fenced script (see `Fence.ts`): refused with `Fenced`
   * when the partition has a newer owner than `fence.epoch`.
   * Adds one post to many timelines (one round trip); returns how many were touched.
   */
  /**
   * Inserts each post into its users' timelines, in one call; replies, per post, its users who are
   * online (for `feedNewTargets`).
   */
  readonly insertMany: (
    fence: FenceToken,
    posts: ReadonlyArray<{ readonly entry: Entry; readonly userIds: ReadonlyArray<string> }>
  ) => Effect.Effect<ReadonlyArray<ReadonlyArray<string>>, RedisUnavailable | Fenced>
  readonly removeMany: (fence: FenceToken, userIds: ReadonlyArray<string>, postId: string) => Effect.Effect<void, RedisUnavailable | Fenced>
  readonly removeFrom: (fence: FenceToken, userId: string, postIds: ReadonlyArray<string>) => Effect.Effect<void, RedisUnavailable | Fenced>
  /** Adds entries and marks the timeline complete; `replace` clears it first. */
  readonly fill: (fence: FenceToken, userId: string, entries: ReadonlyArray<Entry>, replace: boolean) => Effect.Effect<void, RedisUnavailable | Fenced>
  readonly isComplete: (userId: string) => Effect.Effect<boolean, RedisUnavailable>
  readonly outboxInsert: (authorId: string, entry: Entry) => Effect.Effect<void, RedisUnavailable>
  readonly outboxRemove: (authorId: string, postId: string) => Effect.Effect<void, RedisUnavailable>
  readonly outboxFill: (authorId: string, entries: ReadonlyArray<Entry>) => Effect.Effect<void, RedisUnavailable>
  /**
   * One page of the feed in one round trip (a Lua script): the timeline's and the followed
   * celebrities' outbox entries after `before`, merged newest first, and the cached cards of the
   * `count` first. Or what is missing first: the timeline (incomplete), the celebrity list (not
   * cached), or some outboxes (not built).
   */
  readonly readFeed: (userId: string, before: Entry | null, count: number) => Effect.Effect<FeedRead, RedisUnavailable>
  readonly cacheCelebrities: (userId: string, ids: ReadonlyArray<string>) => Effect.Effect<void, RedisUnavailable>
  readonly forgetCelebrities: (userIds: ReadonlyArray<string>) => Effect.Effect<void, RedisUnavailable>
  readonly cards: (postIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<string | null>, RedisUnavailable>
  readonly putCards: (cards: ReadonlyArray<readonly [string, string]>) => Effect.Effect<void, RedisUnavailable>
  readonly dropCard: (postId: string) => Effect.Effect<void, RedisUnavailable>
  /** Marks users present (a gateway holds a socket for them). */
  readonly touchPresence: (userIds: ReadonlyArray<string>) => Effect.Effect<void, RedisUnavailable>
  /**
   * Of `userIds` (who got `postId`), the present ones: a `feed_new` due now (how many posts it
   * announces, the newest), or held back by the one-per-second limit — then `feedNewFlush` must be
   * called for them after `afterMillis` (once per user and window: a held-back post is never lost).
   */
  readonly feedNewTargets: (userIds: ReadonlyArray<string>, postId: string) => Effect.Effect<ReadonlyArray<FeedNewDue>, RedisUnavailable>
  /** The held-back `feed_new` of `userIds`, due now (or held back again). */
  readonly feedNewFlush: (userIds: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<FeedNewDue>, RedisUnavailable>
}

export type FeedNewDue =
  | { readonly _tag: "Now"; readonly userId: string; readonly count: number; readonly newestPostId: string }
  | { readonly _tag: "Later"; readonly userId: string; readonly afterMillis: number }

export type FeedRead =
  | { readonly _tag: "TimelineMissing" }
  | { readonly _tag: "CelebritiesMissing" }
  | { readonly _tag: "OutboxesMissing"; readonly authorIds: ReadonlyArray<string> }
  | { readonly _tag: "Page"; readonly entries: ReadonlyArray<Entry>; readonly cards: ReadonlyArray<string | null> }

export class Timelines extends Context.Tag("Timelines")<Timelines, TimelinesShape>() {}

/**
 * Fenced (KEYS[1], ARGV[1]); KEYS[2] presence; ARGV[2..4] the cap, the key prefix, the presence
 * cutoff; then per post its score, its id, how many users, and the users. Replies, per post, how
 * many of its users are online (present since the cutoff) and who they are.
 *
 * A timeline is trimmed back to the cap once it holds a sixteenth more (one trim per ~50 inserts
 * instead of one each: the entries past the cap are still correct ones, and reads page by score).
 * The timelines' keys are built here from the prefix (one Redis, as for FEED_READ_LUA): fan-out
 * is the hot path, and 80 keys per batch prefixed and sent twice — once here, once more to ask who
 * is online — cost the node more than Redis spends on the inserts.
 */
const INSERT_LUA = `${FENCE_LUA}
local cap = tonumber(ARGV[2])
local slack = cap + 1 + math.max(16, math.floor(cap / 16))
local tl = ARGV[3] .. 'tl:'
local cutoff = tonumber(ARGV[4])
local out = {}
local i = 5
while i <= #ARGV do
  local score, id, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local present = {}
  for j = i + 3, i + 2 + n do
    local key = tl .. ARGV[j]
    redis.call('ZADD', key, score, id)
    if redis.call('ZCARD', key) > slack then redis.call('ZREMRANGEBYRANK', key, 1, -(cap + 1)) end
    local seen = redis.call('ZSCORE', KEYS[2], ARGV[j])
    if seen and tonumber(seen) >= cutoff then present[#present + 1] = ARGV[j] end
  end
  out[#out + 1] = #present
  for _, u in ipairs(present) do out[#out + 1] = u end
  i = i + 3 + n
end
return out`

/** Fenced; KEYS[2] the timeline; ARGV[2] replace (1/0), ARGV[3] the cap, then score/id pairs. */
const FILL_LUA = `${FENCE_LUA}
if ARGV[2] == '1' then redis.call('DEL', KEYS[2]) end
redis.call('ZADD', KEYS[2], -1, '~')
for i = 4, #ARGV, 2 do redis.call('ZADD', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('ZREMRANGEBYRANK', KEYS[2], 1, -(tonumber(ARGV[3]) + 1))
return 1`

/** Fenced; KEYS[2] the timeline; ARGV[2..] the post ids. */
const REMOVE_FROM_LUA = `${FENCE_LUA}
for i = 2, #ARGV do redis.call('ZREM', KEYS[2], ARGV[i]) end
return 1`

/**
 * `feed_new` at most once per user per second, and never lost to that limit. KEYS[1] is presence;
 * per user, KEYS[3i-1] their gate (closed for a second after a frame), KEYS[3i] what their next
 * frame announces (a hash: `n` new posts, the newest `post`), KEYS[3i+1] whether a held-back frame
 * is already scheduled. ARGV: the window, the presence cutoff, the mode, the post, then the users.
 *
 * Mode `post`: a present user's count goes up; if their gate opens the frame is due now, else one
 * flush is scheduled for when it opens (one per user and window). Mode `flush`: the scheduled frame
 * is due now if anything is waiting and the gate opens (else it is scheduled again).
 * Replies (user, n, newest post) for a frame due now and (user, -ms, "") for one to flush in ms.
 */
const FEED_NEW_LUA = `
local out = {}
local window = tonumber(ARGV[1])
for i = 5, #ARGV do
  local user = ARGV[i]
  local k = 1 + 3 * (i - 5)
  local gate, counter, pending = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]
  local go = true
  if ARGV[3] == 'post' then
    local seen = redis.call('ZSCORE', KEYS[1], user)
    if seen and tonumber(seen) >= tonumber(ARGV[2]) then
      redis.call('HINCRBY', counter, 'n', 1)
      redis.call('HSET', counter, 'post', ARGV[4])
      redis.call('PEXPIRE', counter, 60000)
    else
      go = false
    end
  else
    redis.call('DEL', pending)
  end
  if go then
    local n = tonumber(redis.call('HGET', counter, 'n') or '0')
    if n > 0 then
      if redis.call('SET', gate, '1', 'NX', 'PX', window) then
        local post = redis.call('HGET', counter, 'post')
        redis.call('DEL', counter)
        table.insert(out, user)
        table.insert(out, n)
        table.insert(out, post)
      else
        local wait = redis.call('PTTL', gate)
        if wait < 1 then wait = 1 end
        if redis.call('SET', pending, '1', 'NX', 'PX', wait + 1000) then
          table.insert(out, user)
          table.insert(out, -wait)
          table.insert(out, '')
        end
      end
    end
  end
end
return out`

/**
 * KEYS[1] the viewer's timeline, KEYS[2] their cached celebrity list; ARGV: the cursor's score
 * ("+inf" for the first page) and id ("" for none), how many, and the key prefix (outboxes and
 * cards are found from the celebrity list and the page, so their keys are built here: fine on a
 * single Redis, not on a cluster). Replies {0} / {1} / {2, authorIds…} for what is missing, or
 * {3, n, id1, score1, …, idn, scoren, card1, …, cardn}.
 */
const FEED_READ_LUA = `
local want = tonumber(ARGV[3])
if not redis.call('ZSCORE', KEYS[1], '~') then return {0} end
local celebs = redis.call('SMEMBERS', KEYS[2])
if #celebs == 0 then return {1} end
local maxScore = tonumber(ARGV[1])
local cursorId = ARGV[2]
local cand = {}
local function collect(key)
  local r = redis.call('ZRANGE', key, ARGV[1], '0', 'BYSCORE', 'REV', 'LIMIT', 0, want + 8, 'WITHSCORES')
  for i = 1, #r, 2 do
    local id = r[i]
    local score = tonumber(r[i + 1])
    if id ~= '~' and (maxScore == nil or score < maxScore or (score == maxScore and id < cursorId)) then
      cand[#cand + 1] = {id, score, r[i + 1]}
    end
  end
end
collect(KEYS[1])
local missing = {2}
for _, c in ipairs(celebs) do
  if c ~= '~' then
    local key = ARGV[4] .. 'ob:' .. c
    if redis.call('ZSCORE', key, '~') then collect(key) else missing[#missing + 1] = c end
  end
end
if #missing > 1 then return missing end
table.sort(cand, function(a, b)
  if a[2] ~= b[2] then return a[2] > b[2] end
  return a[1] > b[1]
end)
local out = {3, 0}
local ids = {}
local seen = {}
for _, e in ipairs(cand) do
  if not seen[e[1]] then
    seen[e[1]] = true
    out[#out + 1] = e[1]
    out[#out + 1] = e[3]
    ids[#ids + 1] = ARGV[4] .. 'card:' .. e[1]
    if #ids == want then break end
  end
end
out[2] = #ids
if #ids > 0 then
  local cards = redis.call('MGET', unpack(ids))
  for i = 1, #ids do out[#out + 1] = cards[i] end
end
return out`

/** Fenced; the timelines KEYS[2..]; ARGV[2] the post id. */
const REMOVE_LUA = `${FENCE_LUA}
for i = 2, #KEYS do redis.call('ZREM', KEYS[i], ARGV[2]) end
return #KEYS - 1`

type Commands = IORedis & {
  tlInsert(numKeys: number, ...args: Array<string | number>): Promise<Array<string | number>>
  tlRemove(numKeys: number, ...args: Array<string | number>): Promise<number>
  tlFill(numKeys: number, ...args: Array<string | number>): Promise<number>
  tlRemoveFrom(numKeys: number, ...args: Array<string | number>): Promise<number>
  feedNew(numKeys: number, ...args: Array<string | number>): Promise<Array<string | number>>
  feedRead(numKeys: number, ...args: Array<string | number>): Promise<Array<string | number | null>>
}

export const tlKey = (userId: string) => `tl:${userId}`
const obKey = (authorId: string) => `ob:${authorId}`
const cfKey = (userId: string) => `cf:${userId}`
/** Cards without counts and viewer flags (spliced in per read). */
const cardKey = (postId: string) => `card:${postId}`

const CARD_TTL_SECONDS = 3600
const PRESENCE_KEY = "presence"
/** Gateways refresh presence every 30 s; a user unseen for this long is offline. */
export const PRESENCE_TTL_MS = 90_000
export const PRESENCE_REFRESH_MS = 30_000
const FEED_NEW_WINDOW_MS = 1000
const CELEBRITIES_TTL_SECONDS = 3600

export const make = Effect.gen(function*() {
  const { client } = yield* Redis
  const config = yield* AppConfig
  const cap = config.feed.timelineCap
  const outboxCap = config.feed.authorOutboxCap
  // defineCommand prefixes KEYS and uses EVALSHA (EVAL once per connection)
  client.defineCommand("tlInsert", { lua: INSERT_LUA })
  client.defineCommand("tlRemove", { lua: REMOVE_LUA })
  client.defineCommand("tlFill", { lua: FILL_LUA })
  client.defineCommand("tlRemoveFrom", { lua: REMOVE_FROM_LUA })
  client.defineCommand("feedNew", { lua: FEED_NEW_LUA })
  client.defineCommand("feedRead", { lua: FEED_READ_LUA })
  const prefix = yield* Effect.map(Redis, (r) => r.prefix)
  const commands = client as Commands

  const run = <A>(f: () => Promise<A>) =>
    Effect.tryPromise({ try: f, catch: (e) => new RedisUnavailable(e instanceof Error ? e.message : String(e)) })

  const feedNew = (mode: "post" | "flush", userIds: ReadonlyArray<string>, postId: string) =>
    userIds.length === 0
      ? Effect.succeed([] as ReadonlyArray<FeedNewDue>)
      : run(() =>
        commands.feedNew(
          1 + 3 * userIds.length,
          PRESENCE_KEY,
          ...userIds.flatMap((id) => [`fn:${id}`, `fq:${id}`, `fp:${id}`]),
          FEED_NEW_WINDOW_MS,
          Date.now() - PRESENCE_TTL_MS,
          mode,
          postId,
          ...userIds
        )
      ).pipe(
        Effect.map((flat) => {
          const out: Array<FeedNewDue> = []
          for (let i = 0; i + 2 < flat.length; i += 3) {
            const userId = String(flat[i])
            const n = Number(flat[i + 1])
            out.push(n > 0 ? { _tag: "Now", userId, count: n, newestPostId: String(flat[i + 2]) } : { _tag: "Later", userId, afterMillis: -n })
          }
          return out
        })
      )

  /** A fenced script: its FENCED reply as `Fenced`, anything else as `RedisUnavailable`. */
  const fenced = <A>(f: FenceToken, call: () => Promise<A>): Effect.Effect<A, RedisUnavailable | Fenced> =>
    Effect.tryPromise({
      try: call,
      catch: (e) => fencedReply(f.partition, f.epoch, e) ?? new RedisUnavailable(e instanceof Error ? e.message : String(e))
    })

  const exec = (build: (m: ReturnType<IORedis["multi"]>) => unknown) =>
    run(async () => {
      const m = client.multi()
      build(m)
      const results = await m.exec()
      const failed = results?.find(([err]) => err !== null)
      if (failed) throw failed[0]
      return results ?? []
    })

  return Timelines.of({
    insertMany: (f, posts) =>
      posts.every((p) => p.userIds.length === 0)
        ? Effect.succeed(posts.map(() => []))
        : fenced(f, () =>
          commands.tlInsert(
            2,
            fenceKey(f.partition),
            PRESENCE_KEY,
            f.epoch,
            cap,
            prefix,
            Date.now() - PRESENCE_TTL_MS,
            ...posts.flatMap((p) => [p.entry.score, p.entry.id, p.userIds.length, ...p.userIds])
          )
        ).pipe(Effect.map((flat) => {
          const present: Array<ReadonlyArray<string>> = []
          for (let i = 0; i < flat.length;) {
            const n = Number(flat[i])
            present.push(flat.slice(i + 1, i + 1 + n).map(String))
            i += 1 + n
          }
          return present
        })),
    removeMany: (f, userIds, postId) =>
      userIds.length === 0
        ? Effect.void
        : fenced(f, () => commands.tlRemove(1 + userIds.length, fenceKey(f.partition), ...userIds.map(tlKey), f.epoch, postId)).pipe(Effect.asVoid),
    removeFrom: (f, userId, postIds) =>
      postIds.length === 0
        ? Effect.void
        : fenced(f, () => commands.tlRemoveFrom(2, fenceKey(f.partition), tlKey(userId), f.epoch, ...postIds)).pipe(Effect.asVoid),
    fill: (f, userId, entries, replace) =>
      fenced(f, () =>
        commands.tlFill(2, fenceKey(f.partition), tlKey(userId), f.epoch, replace ? 1 : 0, cap, ...entries.flatMap((e) => [e.score, e.id]))
      ).pipe(Effect.asVoid),
    isComplete: (userId) => run(() => client.zscore(tlKey(userId), Sentinel)).pipe(Effect.map((s) => s !== null)),
    outboxInsert: (authorId, entry) =>
      exec((m) => {
        m.zadd(obKey(authorId), entry.score, entry.id)
        m.zremrangebyrank(obKey(authorId), 1, -(outboxCap + 1))
      }).pipe(Effect.asVoid),
    outboxRemove: (authorId, postId) => run(() => client.zrem(obKey(authorId), postId)).pipe(Effect.asVoid),
    outboxFill: (authorId, entries) =>
      exec((m) => {
        m.zadd(obKey(authorId), -1, Sentinel, ...entries.flatMap((e) => [e.score, e.id]))
        m.zremrangebyrank(obKey(authorId), 1, -(outboxCap + 1))
      }).pipe(Effect.asVoid),
    readFeed: (userId, before, count) =>
      run(() =>
        commands.feedRead(2, tlKey(userId), cfKey(userId), before === null ? "+inf" : String(before.score), before?.id ?? "", count, prefix)
      ).pipe(
        Effect.map((reply): FeedRead => {
          switch (Number(reply[0])) {
            case 0:
              return { _tag: "TimelineMissing" }
            case 1:
              return { _tag: "CelebritiesMissing" }
            case 2:
              return { _tag: "OutboxesMissing", authorIds: reply.slice(1) as Array<string> }
            default: {
              const n = Number(reply[1])
              const entries: Array<Entry> = []
              const cards: Array<string | null> = []
              for (let i = 0; i < n; i++) {
                entries.push({ id: reply[2 + 2 * i] as string, score: Number(reply[3 + 2 * i]) })
                cards.push((reply[2 + 2 * n + i] as string | null) ?? null)
              }
              return { _tag: "Page", entries, cards }
            }
          }
        })
      ),
    cacheCelebrities: (userId, ids) =>
      exec((m) => {
        m.sadd(cfKey(userId), Sentinel, ...ids)
        m.expire(cfKey(userId), CELEBRITIES_TTL_SECONDS)
      }).pipe(Effect.asVoid),
    forgetCelebrities: (userIds) => userIds.length === 0 ? Effect.void : run(() => client.del(...userIds.map(cfKey))).pipe(Effect.asVoid),
    cards: (postIds) => postIds.length === 0 ? Effect.succeed([]) : run(() => client.mget(...postIds.map(cardKey))),
    putCards: (cards) =>
      cards.length === 0 ? Effect.void : exec((m) => {
        for (const [id, json] of cards) m.set(cardKey(id), json, "EX", CARD_TTL_SECONDS)
      }).pipe(Effect.asVoid),
    dropCard: (postId) => run(() => client.del(cardKey(postId))).pipe(Effect.asVoid),
    touchPresence: (userIds) =>
      userIds.length === 0 ? Effect.void : run(() => client.zadd(PRESENCE_KEY, ...userIds.flatMap((id) => [Date.now(), id]))).pipe(Effect.asVoid),
    feedNewTargets: (userIds, postId) => feedNew("post", userIds, postId),
    feedNewFlush: (userIds) => feedNew("flush", userIds, "")
  })
})

export const layer = Layer.effect(Timelines, make)
