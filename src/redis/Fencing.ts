/**
 * The Redis half of actor fencing (see `src/actors/runtime/Fence.ts`): the fence key of a MAILBOX
 * partition, the Lua prelude every fenced script starts with, and the error a refused write is.
 * Here, in `redis`, because the timeline store's scripts use it and `redis` may not import actors.
 */
import { Data } from "effect"

/** The fence family of MAILBOX partitions (the `kind` of `fence:<kind>:<partition>`). */
export const FenceKind = "mbox"

/** A write refused because the partition has a newer owner. */
export class Fenced extends Data.TaggedError("Fenced")<{
  readonly partition: number
  readonly epoch: number
  readonly current: number
}> {
  override get message() {
    return `partition ${this.partition} is fenced: epoch ${this.epoch} is older than ${this.current}`
  }
}

export const isFenced = (u: unknown): u is Fenced => typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "Fenced"

/** The Redis key of a partition's fence (prefixed by the client like every key). */
export const fenceKey = (partition: number) => `fence:${FenceKind}:${partition}`

/**
 * The head of every fenced Lua script: KEYS[1] the fence key, ARGV[1] the writer's epoch. Raises
 * the stored epoch to the writer's when it is older (a Redis that lost its keys), refuses with a
 * `FENCED <current>` error when it is newer.
 */
export const FENCE_LUA = `
local fence_current = tonumber(redis.call('GET', KEYS[1]) or '0')
local fence_epoch = tonumber(ARGV[1])
if fence_current > fence_epoch then return redis.error_reply('FENCED ' .. fence_current) end
if fence_current < fence_epoch then redis.call('SET', KEYS[1], ARGV[1]) end
`

/** Turns a Redis `FENCED` reply into `Fenced`, leaving other failures as they are. */
export const fencedReply = (partition: number, epoch: number, error: unknown): Fenced | undefined => {
  const text = error instanceof Error ? error.message : String(error)
  const m = /FENCED (\d+)/.exec(text)
  return m === null ? undefined : new Fenced({ partition, epoch, current: Number(m[1]) })
}

