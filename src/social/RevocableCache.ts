/**
 * A node's cache of credentials (sessions, embed tokens) by their token hash in hex, each entry
 * trusted for `cacheMillis`, and dropped on every node at once when it is revoked: the revoking
 * node publishes the key on core NATS `<subject>` and every node's subscription drops it. The last
 * keys revoked are remembered, so a lookup that was already in flight when a revocation arrived
 * cannot put the revoked credential back (a revoked credential never becomes valid again).
 */
import { Effect } from "effect"
import { Nats } from "../streams/Nats.ts"

const CACHE_MAX = 50_000

export const makeRevocableCache = <V>(subject: string, cacheMillis: number) =>
  Effect.gen(function*() {
    const nats = yield* Nats
    const entries = new Map<string, { readonly value: V; readonly at: number }>()
    const revoked = new Set<string>()
    const drop = (key: string) => {
      entries.delete(key)
      if (revoked.size >= CACHE_MAX) revoked.delete(revoked.values().next().value!)
      revoked.add(key)
    }
    const revokedSubject = nats.subject(subject)
    const subscription = nats.connection.subscribe(revokedSubject, { callback: (_err, msg) => drop(msg.string()) })
    yield* Effect.addFinalizer(() => Effect.sync(() => subscription.unsubscribe()))
    return {
      /** The cached value while it is fresh. */
      get: (key: string): V | undefined => {
        const cached = entries.get(key)
        return cached !== undefined && Date.now() - cached.at < cacheMillis ? cached.value : undefined
      },
      /** Caches what a lookup found, unless the key was revoked meanwhile. */
      set: (key: string, value: V) => {
        if (revoked.has(key)) return
        if (entries.size >= CACHE_MAX) entries.delete(entries.keys().next().value!)
        entries.set(key, { value, at: Date.now() })
      },
      /** A lookup found nothing: nothing is kept for the key. */
      delete: (key: string) => void entries.delete(key),
      /** Revoked: dropped here at once and, through NATS, on every other node. */
      revoke: (key: string) => {
        drop(key)
        nats.connection.publish(revokedSubject, key)
      },
      /** Waits (up to 1 s) until NATS has the revocations published so far. */
      flush: Effect.promise(() => nats.connection.flush()).pipe(Effect.timeout("1 second"), Effect.ignore)
    }
  })
