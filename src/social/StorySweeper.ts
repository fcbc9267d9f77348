/**
 * The story sweeper: removes, in batches of 100, what no query shows any more — deleted stories
 * (rows and any media left), stories expired longer than STORY_ARCHIVE_DAYS (their archive time is
 * over) or never published, and the viewer lists of stories expired more than
 * STORY_VIEWERS_RETENTION_HOURS ago. Nothing depends on it running: expiry is a query condition.
 *
 * One node sweeps at a time (a Redis lease, redis/Lease.ts); a batch's rows are locked `SKIP
 * LOCKED` and deleted in the transaction that removed their media, so even two sweepers at once
 * would remove each story once. Runs on `media` nodes, which hold the blob store.
 */
import { Effect, Layer, Schedule } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { StoriesRepo, type Swept } from "../db/Stories.ts"
import { BlobStore } from "../media/BlobStore.ts"
import { keyOfUrl } from "../media/Keys.ts"
import { withLease } from "../redis/Lease.ts"

const BATCH = 100
const LEASE_MS = 30_000

export interface SweepCounts {
  readonly deleted: number
  readonly expired: number
  readonly viewerLists: number
}

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const repo = yield* StoriesRepo
  const store = yield* BlobStore
  const { archiveDays, viewersRetentionHours } = config.stories

  const purge = (rows: ReadonlyArray<Swept>) =>
    store.remove(rows.flatMap((r) => [r.originalKey, ...(r.media === null ? [] : [keyOfUrl(r.media.url), keyOfUrl(r.media.thumbnail)])]))

  /** Every batch there is now, until none is left. */
  const drain = (batch: Effect.Effect<number, unknown>) =>
    Effect.gen(function*() {
      let total = 0
      while (true) {
        const n = yield* batch
        total += n
        if (n < BATCH) return total
      }
    })

  const sweepAll = Effect.gen(function*() {
    const deleted = yield* drain(repo.sweepDeleted(BATCH, purge))
    const expired = yield* drain(repo.sweepExpired(archiveDays, BATCH, purge))
    const viewerLists = yield* drain(repo.purgeViewers(viewersRetentionHours, BATCH))
    if (deleted + expired + viewerLists > 0) {
      yield* Effect.logInfo("stories swept").pipe(Effect.annotateLogs({ deleted, expired, viewerLists }))
    }
    return { deleted, expired, viewerLists } satisfies SweepCounts
  })

  /** One sweep under the lease: the counts, or `busy` when another node holds it. */
  const sweep = Effect.gen(function*() {
    let counts: SweepCounts = { deleted: 0, expired: 0, viewerLists: 0 }
    const outcome = yield* withLease("story-sweeper", LEASE_MS, Effect.map(sweepAll, (c) => void (counts = c)))
    return outcome === "held" ? counts : outcome
  })

  return { sweep }
})

export const layer = Layer.scopedDiscard(
  Effect.gen(function*() {
    const config = yield* AppConfig
    const { sweep } = yield* make
    yield* sweep.pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("story sweep failed", cause)),
      Effect.repeat(Schedule.spaced(config.stories.sweepIntervalMillis)),
      Effect.forkScoped
    )
  })
)
