/**
 * Taps: actor activity and domain events published on core NATS for admins who observe them
 * (the inspector's live tail, `npm run observe`). Nothing is published while nobody observes.
 *
 * - **interest** — an observer announces its filter on `obs.interest` when it starts, every
 *   OBSERVE_INTEREST_MS/3 after, and with `filter: null` when it stops. Every node keeps the
 *   announcements it heard, each forgotten OBSERVE_INTEREST_MS after the last one (an observer that
 *   died stops costing anything within that). A node that starts asks on `obs.hello`; observers
 *   announce again at once, so a new node taps from its first command.
 * - **tapping** — `wantsActor` / `wantsEvent` are a map-size check when nobody observes, and a
 *   match against the union of the announced filters otherwise; only then is a tap built and
 *   published (fire and forget, no JetStream, no acknowledgement) on `tap.actor.<kind>` or
 *   `tap.event.<type>`.
 * - **observing** — `observe` subscribes to `tap.>` for one observer, filters (the node-side match
 *   is a union; each observer gets only its own), samples, and rate-limits to
 *   OBSERVE_MAX_PER_SECOND, counting what it dropped; `observe_stats` reports the traffic of each
 *   second before the limit.
 */
import { Context, Effect, Layer, Scope } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import {
  compileFilter,
  type CompiledFilter,
  type ObserveFilter,
  type ObserveStats,
  type Tap,
  wantsActor as filterWantsActor,
  wantsEvent as filterWantsEvent,
  wantsTap
} from "../domain/Inspector.ts"
import { Nats } from "./Nats.ts"

/** The most keys of a fan-out batch a tap names. */
export const TAP_MAX_KEYS = 32

export interface Observer {
  /** Replaces the filter (announced at once). */
  readonly update: (filter: ObserveFilter) => void
  readonly stop: () => void
}

export interface TapsShape {
  /** Whether anyone observes actor `kind:key` now (or, with `batchKeys`, any key a batch addresses). */
  readonly wantsActor: (kind: string, key: string, batchKeys?: () => ReadonlyArray<string>) => boolean
  readonly wantsEvent: (type: string) => boolean
  /** Whether anyone observes anything (a map-size check). */
  readonly anyone: () => boolean
  /**
   * The keys a batch tap names: every key when there are few, else those an observer asked for
   * (then the first ones), at most TAP_MAX_KEYS.
   */
  readonly tapKeys: (keys: ReadonlyArray<string>) => ReadonlyArray<string>
  readonly publish: (tap: Tap) => void
  /** Taps a domain event envelope `{id, type, payload}` just published, if anyone observes its type. */
  readonly publishEvent: (envelope: unknown) => void
  /** Starts one observer; it ends with `stop` or the scope. */
  readonly observe: (
    filter: ObserveFilter,
    onTap: (tap: Tap, droppedBefore: number) => void,
    onStats: (stats: ObserveStats) => void
  ) => Effect.Effect<Observer, never, Scope.Scope>
}

export class Taps extends Context.Tag("Taps")<Taps, TapsShape>() {}

interface Interest {
  readonly filter: CompiledFilter
  expiresAt: number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const make = Effect.gen(function*() {
  const nats = yield* Nats
  const config = yield* AppConfig
  const { interestMillis, maxPerSecond } = config.observe
  const nc = nats.connection
  const interestSubject = nats.subject("obs.interest")
  const helloSubject = nats.subject("obs.hello")
  const tapPrefix = nats.subject("tap")
  const interests = new Map<string, Interest>()

  const forget = () => {
    const now = Date.now()
    for (const [id, i] of interests) if (i.expiresAt <= now) interests.delete(id)
  }
  const interestSub = nc.subscribe(interestSubject, {
    callback: (_e, msg) => {
      try {
        const body = JSON.parse(decoder.decode(msg.data)) as { observer?: unknown; filter?: ObserveFilter | null }
        if (typeof body.observer !== "string") return
        if (body.filter === null || body.filter === undefined) interests.delete(body.observer)
        else interests.set(body.observer, { filter: compileFilter(body.filter), expiresAt: Date.now() + interestMillis })
      } catch {
        // not an announcement
      }
    }
  })
  yield* Effect.addFinalizer(() => Effect.sync(() => interestSub.unsubscribe()))
  const sweep = setInterval(forget, Math.max(100, Math.floor(interestMillis / 3)))
  sweep.unref?.()
  yield* Effect.addFinalizer(() => Effect.sync(() => clearInterval(sweep)))
  // observers that exist already announce themselves at once
  yield* Effect.sync(() => nc.publish(helloSubject, encoder.encode("{}"))).pipe(Effect.ignore)

  const anyone = () => interests.size > 0
  const wantsActor: TapsShape["wantsActor"] = (kind, key, batchKeys) => {
    if (interests.size === 0) return false
    let keys: ReadonlyArray<string> | undefined
    for (const i of interests.values()) {
      if (filterWantsActor(i.filter, kind, key)) return true
      if (batchKeys !== undefined && i.filter.actors && i.filter.keys !== undefined && (i.filter.kinds === undefined || i.filter.kinds.has(kind))) {
        keys ??= batchKeys()
        for (const k of keys) if (i.filter.keys.has(k)) return true
      }
    }
    return false
  }
  const wantsEvent: TapsShape["wantsEvent"] = (type) => {
    if (interests.size === 0) return false
    for (const i of interests.values()) if (filterWantsEvent(i.filter, type)) return true
    return false
  }
  const tapKeys: TapsShape["tapKeys"] = (keys) => {
    if (keys.length <= TAP_MAX_KEYS) return keys
    const asked = new Set<string>()
    for (const i of interests.values()) if (i.filter.keys !== undefined) for (const k of i.filter.keys) asked.add(k)
    const out = keys.filter((k) => asked.has(k)).slice(0, TAP_MAX_KEYS)
    for (const k of keys) {
      if (out.length >= TAP_MAX_KEYS) break
      if (!asked.has(k)) out.push(k)
    }
    return out
  }
  const publish: TapsShape["publish"] = (tap) => {
    try {
      nc.publish(`${tapPrefix}.${tap.source}.${tap.source === "actor" ? tap.kind : tap.type}`, encoder.encode(JSON.stringify(tap)))
    } catch {
      // a closed or reconnecting connection: a tap is best effort
    }
  }

  const publishEvent: TapsShape["publishEvent"] = (envelope) => {
    if (interests.size === 0 || typeof envelope !== "object" || envelope === null) return
    const { id, payload, type } = envelope as { id?: unknown; type?: unknown; payload?: unknown }
    if (typeof type !== "string" || !wantsEvent(type)) return
    const ids: Record<string, string> = {}
    if (typeof payload === "object" && payload !== null) {
      for (const [k, v] of Object.entries(payload)) if (typeof v === "string" && (k === "id" || k.endsWith("Id"))) ids[k] = v
    }
    publish({ source: "event", type, id: typeof id === "string" ? id : "", ids, node: config.nodeId, at: Date.now() })
  }

  const observe: TapsShape["observe"] = (initial, onTap, onStats) =>
    Effect.gen(function*() {
      const id = `${config.nodeId}:${crypto.randomUUID()}`
      let filter = initial
      let compiled = compileFilter(initial)
      let stopped = false
      let tokens = maxPerSecond
      let refilledAt = Date.now()
      let dropped = 0
      let droppedSinceSent = 0
      let sent = 0
      let perKind: Record<string, number> = {}
      let perEvent: Record<string, number> = {}
      const announce = () => {
        if (!stopped) nc.publish(interestSubject, encoder.encode(JSON.stringify({ observer: id, filter })))
      }
      const taps = nc.subscribe(`${tapPrefix}.>`, {
        callback: (_e, msg) => {
          if (stopped) return
          let tap: Tap
          try {
            tap = JSON.parse(decoder.decode(msg.data)) as Tap
          } catch {
            return
          }
          if (!wantsTap(compiled, tap)) return
          if (tap.source === "actor") perKind[tap.kind] = (perKind[tap.kind] ?? 0) + 1
          else perEvent[tap.type] = (perEvent[tap.type] ?? 0) + 1
          if (compiled.sample < 1 && Math.random() >= compiled.sample) {
            dropped++
            droppedSinceSent++
            return
          }
          const now = Date.now()
          tokens = Math.min(maxPerSecond, tokens + ((now - refilledAt) * maxPerSecond) / 1000)
          refilledAt = now
          if (tokens < 1) {
            dropped++
            droppedSinceSent++
            return
          }
          tokens -= 1
          sent++
          const before = droppedSinceSent
          droppedSinceSent = 0
          onTap(tap, before)
        }
      })
      const hello = nc.subscribe(helloSubject, { callback: () => announce() })
      announce()
      const timers = [
        setInterval(announce, Math.max(100, Math.floor(interestMillis / 3))),
        setInterval(() => {
          if (stopped) return
          const stats: ObserveStats = { perKind, perEvent, sent, dropped }
          perKind = {}
          perEvent = {}
          sent = 0
          dropped = 0
          onStats(stats)
        }, 1000)
      ]
      const stop = () => {
        if (stopped) return
        stopped = true
        for (const t of timers) clearInterval(t)
        taps.unsubscribe()
        hello.unsubscribe()
        try {
          nc.publish(interestSubject, encoder.encode(JSON.stringify({ observer: id, filter: null })))
        } catch {
          // the connection is closing: the interest expires on its own
        }
      }
      yield* Effect.addFinalizer(() => Effect.sync(stop))
      return {
        update: (next) => {
          filter = next
          compiled = compileFilter(next)
          announce()
        },
        stop
      }
    })

  return Taps.of({ wantsActor, wantsEvent, anyone, tapKeys, publish, publishEvent, observe })
})

export const layer = Layer.scoped(Taps, make)
