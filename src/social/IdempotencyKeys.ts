/**
 * The store of `Idempotency-Key`s as the HTTP layer uses it: the repository with the TTL and the
 * lease of the configuration applied, and the hourly sweep of keys past their TTL (rows past it
 * are taken over on use anyway; the sweep only keeps the table small).
 */
import { Context, Effect, Layer, type Option, Schedule } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import * as Repo from "../db/Idempotency.ts"

export type IdempotencyRecord = Repo.IdempotencyRow
export type KeyHold = Repo.Reservation

export class IdempotencyKeys extends Context.Tag("IdempotencyKeys")<IdempotencyKeys, {
  readonly leaseSeconds: number
  /** Holds the key (None), or answers the live row another request holds or completed. */
  readonly reserve: (hold: KeyHold, request: {
    readonly method: string
    readonly path: string
    readonly fingerprint: Uint8Array | null
  }) => Effect.Effect<Option.Option<IdempotencyRecord>>
  readonly renew: (hold: KeyHold) => Effect.Effect<boolean>
  readonly complete: Repo.IdempotencyRepo["Type"]["complete"]
  readonly release: (hold: KeyHold) => Effect.Effect<void>
}>() {}

export const make = Effect.gen(function*() {
  const repo = yield* Repo.IdempotencyRepo
  const config = yield* AppConfig
  const ttlSeconds = config.idempotency.ttlHours * 3600
  const leaseSeconds = config.idempotency.leaseSeconds

  yield* repo.purgeExpired(ttlSeconds).pipe(
    Effect.repeat(Schedule.spaced("1 hour")),
    Effect.catchAllCause((cause) => Effect.logWarning("idempotency key purge failed", cause)),
    Effect.forkScoped
  )

  return IdempotencyKeys.of({
    leaseSeconds,
    reserve: (hold, request) => repo.reserve({ ...hold, ...request, leaseSeconds, ttlSeconds }),
    renew: (hold) => repo.renew(hold, leaseSeconds),
    complete: repo.complete,
    release: repo.release
  })
})

export const layer = Layer.scoped(IdempotencyKeys, make).pipe(Layer.provide(Repo.layer))
