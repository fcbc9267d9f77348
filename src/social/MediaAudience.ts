/**
 * Whose eyes a post's media are for, as the plain-URL path of `/media` needs to know on every
 * request: a published post of a public author is for everyone; one of a private author is
 * restricted (served only through signed URLs). The answer is cached per post for
 * MEDIA_AUDIENCE_CACHE_MS; an account that changes its privacy moves every node to a new cache
 * generation at once (over core NATS, as session revocations do), so what was cached before — and
 * any lookup still under way — is never read again. The TTL only bounds staleness on a node that
 * missed the broadcast (core NATS delivers at most once).
 */
import { Cache, Context, Duration, Effect, Layer, Option } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { PostsRepo } from "../db/Posts.ts"
import { Nats } from "../streams/Nats.ts"

export type Audience = "public" | "restricted" | "none"

export class MediaAudience extends Context.Tag("MediaAudience")<MediaAudience, {
  /** The post's audience now (`none`: no such published post). */
  readonly of: (postId: string) => Effect.Effect<Audience>
  /** An account's privacy changed: every node forgets what it cached. */
  readonly changed: (userId: string) => Effect.Effect<void>
}>() {}

const CAPACITY = 100_000

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const posts = yield* PostsRepo
  const nats = yield* Nats
  // entries are keyed by generation: bumping it (synchronously, from the NATS callback) retires them all
  let generation = 0
  const lookup = (key: string) =>
    Effect.map(posts.audience(key.slice(key.indexOf(":") + 1)), Option.match({
      onNone: (): Audience => "none",
      onSome: (a): Audience => (a.restricted ? "restricted" : "public")
    }))
  const ttl = config.mediaUrls.audienceCacheMillis
  const cache = ttl === 0 ? undefined : yield* Cache.make({ capacity: CAPACITY, timeToLive: Duration.millis(ttl), lookup })
  const subject = nats.subject("audience.changed") // core NATS only: no stream captures it
  const subscription = nats.connection.subscribe(subject, {
    callback: () => void generation++
  })
  yield* Effect.addFinalizer(() => Effect.sync(() => subscription.unsubscribe()))

  return MediaAudience.of({
    of: (postId) => {
      const key = `${generation}:${postId}`
      return cache === undefined ? lookup(key) : cache.get(key)
    },
    changed: (userId) =>
      Effect.sync(() => {
        generation++
        nats.connection.publish(subject, userId)
      })
  })
})

export const layer = Layer.scoped(MediaAudience, make)
