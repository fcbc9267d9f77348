/**
 * A lease on a singleton job (one holder across nodes), in Redis: `SET key token NX PX ttl` takes
 * it, a compare-and-extend renews it, a compare-and-delete gives it up. The holder renews at a third
 * of the TTL and stops the job by itself as soon as a renewal fails or is late, so a paused holder
 * stops before its lease can pass to another node.
 *
 * Used for work that is idempotent at its store anyway (the story sweeper deletes with `SKIP LOCKED`
 * and `RETURNING`): the lease keeps two nodes from doing it at once, it is not what makes it safe.
 */
import { Duration, Effect, Fiber } from "effect"
import { Redis } from "./Redis.ts"

const RENEW_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`

/**
 * Runs `job` while this node holds the lease `name`, if it can take it now: `"held"` when the job
 * ran to its end under the lease, `"busy"` when another node holds it, `"lost"` when the lease was
 * lost midway (the job was interrupted).
 */
export const withLease = <A, E, R>(name: string, ttlMillis: number, job: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const { call } = yield* Redis
    const key = `lease:${name}`
    const token = crypto.randomUUID()
    const taken = yield* call("lease take", (c) => c.set(key, token, "PX", ttlMillis, "NX")).pipe(Effect.orElseSucceed(() => null))
    if (taken !== "OK") return "busy" as const
    const renewEvery = Math.max(10, Math.floor(ttlMillis / 3))
    const worker = yield* Effect.fork(job)
    const keeper = yield* Effect.fork(Effect.gen(function*() {
      while (true) {
        yield* Effect.sleep(Duration.millis(renewEvery))
        const started = Date.now()
        const renewed = yield* call("lease renew", (c) => c.eval(RENEW_LUA, 1, key, token, String(ttlMillis))).pipe(Effect.orElseSucceed(() => 0))
        // a renewal that did not land, or landed too late to be sure of, ends the job here
        if (renewed !== 1 || Date.now() - started > renewEvery) return
      }
    }))
    const winner = yield* Effect.raceFirst(Fiber.join(worker).pipe(Effect.map(() => "held" as const)), Fiber.join(keeper).pipe(Effect.as("lost" as const)))
    yield* Fiber.interrupt(worker)
    yield* Fiber.interrupt(keeper)
    yield* call("lease release", (c) => c.eval(RELEASE_LUA, 1, key, token)).pipe(Effect.ignore)
    return winner
  })
