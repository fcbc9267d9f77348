/**
 * The transport-independent side of `/ws`.
 *
 * Delivery: while this node holds a socket for a user it keeps one core subscription to the
 * user's republished inbox (`rp.inbox.<userId>`), shared by reference count across the user's
 * tabs. JetStream republishes each frame after storing it, with its sequence and the sequence of
 * the user's previous frame: a socket whose cursor is at that previous frame sends it at once;
 * any other socket (behind, replaying, or after a lost message) reads the INBOX stream itself from
 * its cursor with `next_by_subj`, in stream order. So a lost or reordered republish costs a read,
 * never a frame.
 * Resume is the same loop started from `sinceSeq` — replay and live delivery cannot overlap, gap
 * or repeat, whatever arrives meanwhile. A frame's `id` is its stream sequence. A new socket sends
 * nothing live until the client's first frame (or a short window passes), so a `resume` sent
 * first is answered before any live frame; a later `resume` rewinds the same cursor.
 *
 * Hygiene: `hello` carries the user's latest inbox sequence; heartbeats and the idle timeout are
 * the transports'; frames over the size limit close with 1009; client frames are rate limited;
 * malformed or excess frames get an `error` frame and the fifth closes with 1008; a socket whose
 * send buffer passes WS_MAX_BUFFERED_BYTES is closed with 1013 (it reconnects and resumes) and no
 * other socket waits for it. Logging out closes that session's sockets on every node at once
 * (4401), and every WS_SESSION_RECHECK_SECONDS each node asks the database which of its sockets'
 * sessions still stand and closes the rest with 4401 (expired, revoked, deleted — a signal can be
 * missed, the record cannot). Optional caps per user and per client address, counted across the
 * cluster (`social/Delivery.ts`), close the socket over them with 4429.
 *
 * Blocks: each user's entry keeps a copy of who is on the other side of a block with them, renewed
 * on the `blocks_changed` signal that block and unblock send at once. A frame caused by someone in
 * the copy is not sent from the copy alone: it goes through the ordered read, which asks the
 * database — so a stale copy after an unblock holds back nothing, and a block holds back the
 * blocked person's frames from the moment it is recorded.
 *
 * The inbox, the signals, blocks and presence come through `social/Delivery.ts`; this file owns
 * the sockets, their cursors and their hygiene.
 *
 * An admin's socket may also carry a live tail of actor and event traffic: `observe {kinds?, keys?,
 * events?, sample?}` starts or changes it (answered `observing`, then `observed` and once a second
 * `observe_stats` frames), `unobserve` or the socket's end stops it; anyone else gets an `error`
 * frame with code Forbidden. The taps themselves are `streams/Taps.ts`, reached through the inspector.
 *
 * Live counts: `watch {postIds}` (at most MAX_WATCHED_POSTS, replacing the last set) keeps the
 * posts the reader may see — checked against the database when asked, and again when their blocks
 * change — answered `watching` with the counts as they stand. This node subscribes to a post's
 * `counts.<postId>` ring while any of its sockets watches it; rings within COUNTS_COALESCE_MS are
 * coalesced into one read of the counts from the database, sent as `post_counts` to each watcher.
 * A ring carries nothing, so a late or repeated one can only cause a read of the newest counts.
 */
import { Context, Deferred, Duration, Effect, Exit, FiberId, Layer, Option, Runtime, Schedule, Schema, Scope } from "effect"
import { AppConfig } from "../../config/AppConfig.ts"
import { ClientFrame, CloseCode, type ServerFrame } from "../../domain/Ws.ts"
import { Metrics } from "../../observability/Metrics.ts"
import { Tracing } from "../../observability/Tracing.ts"
import { Delivery, frameText, type InboxFrame, type LiveFrame, type SocketSignal, TYPING_SHOWN_MS } from "../../social/Delivery.ts"
import type { SendResult, WsConnection } from "./Connection.ts"
import { Inspector, type InspectorShape } from "../../actors/runtime/Inspector.ts"
import type { ObserveFilter } from "../../domain/Inspector.ts"

const MAX_BAD_FRAMES = 5
/** Client frames: a burst of 20, refilled at 10 per second. */
const FRAME_BURST = 20
const FRAMES_PER_SECOND = 10
/**
 * Live delivery on a new socket starts at the client's first frame (so a `resume` sent right after
 * `hello` replays before anything live is sent), or after this long if the client sends nothing.
 */
const RESUME_WINDOW_MS = 750
/** Session keys asked about in one query of the periodic recheck. */
const RECHECK_BATCH = 1000
/** Rings of watched posts' counts within this long are read from the database together. */
const COUNTS_COALESCE_MS = 150

export interface GatewayShape {
  readonly open: (conn: WsConnection) => Effect.Effect<void>
  readonly message: (conn: WsConnection, text: string) => Effect.Effect<void>
  readonly close: (conn: WsConnection) => Effect.Effect<void>
  readonly openCount: () => number
}

export class Gateway extends Context.Tag("Gateway")<Gateway, GatewayShape>() {}

export const frame = (type: string, payload: unknown, id: number | null = null): string =>
  JSON.stringify({ type, id, ts: new Date().toISOString(), payload } satisfies ServerFrame)

type Observer = Effect.Effect.Success<ReturnType<InspectorShape["observe"]>>

interface Socket {
  readonly conn: WsConnection
  /** The last inbox sequence sent (or skipped) on this socket. */
  cursor: number
  /** Bumped by `resume`: a read started before it is discarded. */
  generation: number
  ready: boolean
  pumping: boolean
  again: boolean
  resume: { readonly sinceSeq: number; readonly complete: boolean; replayed: number } | undefined
  badFrames: number
  tokens: number
  refilledAt: number
  /** An admin's live tail (`observe`), until `unobserve` or the socket closes. */
  observer: { readonly observer: Observer; readonly scope: Scope.CloseableScope } | undefined
  /** The posts whose counts this socket is sent (`watch`). */
  watching: ReadonlySet<string>
  /** Bumped per `watch`: only the newest one asked for is kept. */
  watchAsked: number
}

interface UserEntry {
  readonly sockets: Set<Socket>
  unfollow: () => void
  blocked: ReadonlySet<string>
  /** Bumped per refresh of `blocked`: only the latest one asked for is kept. */
  blocksAsked: number
  /** Done once presence and blocks are loaded: a tab joining meanwhile waits for it. */
  readonly loaded: Deferred.Deferred<void>
}

/** The `by.id` of a frame that names who caused it (like, comment, follow, …). */
const actorOf = (json: string): string | undefined => {
  const at = json.indexOf(`"by":{"id":"`)
  return at < 0 ? undefined : json.slice(at + 12, at + 48)
}

/** The type of a stored frame (`{"type":…}`, or `{"ts":…,"type":…}` as PostgreSQL orders an outbox row's keys). */
const FRAME_TYPE = /"type":"([a-z_]+)"/

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const metrics = yield* Metrics
  const delivery = yield* Delivery
  const inspector = yield* Inspector
  const runFork = Runtime.runFork(yield* Effect.runtime<never>())
  const decode = Schema.decodeUnknownOption(Schema.parseJson(ClientFrame))
  const sockets = new Map<string, Socket>()
  const users = new Map<string, UserEntry>()
  const delivered = metrics.counter("aperture_ws_frames_delivered_total", "Inbox frames sent to sockets")
  const tracing = yield* Tracing
  const slowClosed = metrics.counter("aperture_ws_slow_consumers_total", "Sockets closed with 1013 for a full send buffer")
  metrics.gauge("aperture_ws_connections", "Open WebSocket connections on this node", Effect.sync(() => sockets.size))
  const unregister = inspector.register(config.nodeId, "sockets", () => Effect.sync(() => sockets.size))
  yield* Effect.addFinalizer(() => Effect.sync(unregister))
  metrics.gauge("aperture_ws_inbox_subscriptions", "Users whose inbox this node follows", Effect.sync(() => users.size))

  /** Per watched post: the sockets on this node watching it, and the ring's unsubscribe. */
  const watched = new Map<string, { readonly sockets: Set<Socket>; readonly stop: () => void }>()
  const rung = new Set<string>()
  /** A read of the rung posts is scheduled or running. */
  let readPending = false
  metrics.gauge("aperture_ws_watched_posts", "Posts whose counts sockets on this node watch", Effect.sync(() => watched.size))

  const send = (conn: WsConnection, text: string): SendResult => {
    const result = conn.send(text)
    if (result !== "closed" && conn.bufferedAmount() > config.limits.wsMaxBufferedBytes) {
      slowClosed.inc()
      conn.close(CloseCode.tryAgainLater, "slow consumer: reconnect and resume")
      return "closed"
    }
    return result
  }

  const refreshBlocks = (userId: string) =>
    Effect.suspend(() => {
      const entry = users.get(userId)
      if (entry === undefined) return Effect.void
      const asked = ++entry.blocksAsked
      return delivery.blocked(userId).pipe(
        Effect.tap((blocked) =>
          Effect.sync(() => {
            if (users.get(userId) === entry && entry.blocksAsked === asked) entry.blocked = blocked
          })
        )
      )
    }).pipe(Effect.catchAllCause((cause) => Effect.logWarning("could not refresh blocks for a socket owner", cause)))

  /** Who caused this frame, when the copy of the owner's blocks names them. */
  const suspect = (socket: Socket, m: InboxFrame) => {
    const actor = actorOf(m.json)
    return actor !== undefined && users.get(socket.conn.userId)?.blocked.has(actor) ? actor : undefined
  }

  /** Whether a frame is held back: its cause is on the other side of a block now (the copy may be stale). */
  const heldBack = (socket: Socket, m: InboxFrame) =>
    Effect.suspend(() => {
      const actor = suspect(socket, m)
      if (actor === undefined) return Effect.succeed(false)
      return delivery.blockedBetween(socket.conn.userId, actor).pipe(
        Effect.tap((blocked) => (blocked ? Effect.void : refreshBlocks(socket.conn.userId)))
      )
    })

  /** Sends this socket everything stored after its cursor, in order (a replay, or catching up). */
  const pump = (socket: Socket): Effect.Effect<void> =>
    Effect.gen(function*() {
      if (socket.pumping) {
        socket.again = true
        return
      }
      socket.pumping = true
      const userId = socket.conn.userId
      try {
        while (socket.conn.isOpen()) {
          const generation = socket.generation
          const next: InboxFrame | null = yield* delivery.next(userId, socket.cursor)
          const held = next !== null && (yield* heldBack(socket, next))
          if (generation !== socket.generation) continue // a resume moved the cursor meanwhile
          if (next === null) {
            if (socket.again) {
              socket.again = false
              continue
            }
            const resume = socket.resume
            if (resume !== undefined) {
              socket.resume = undefined
              send(socket.conn, frame("resumed", { sinceSeq: resume.sinceSeq, lastSeq: socket.cursor, replayed: resume.replayed, complete: resume.complete }))
            }
            return
          }
          if (socket.resume !== undefined) socket.resume.replayed++
          if (held) {
            socket.cursor = next.seq
            continue
          }
          if (!sendFrame(socket, next)) return
        }
      } finally {
        socket.pumping = false
      }
    }).pipe(
      Effect.catchAllCause((cause) =>
        Effect.logWarning("inbox read failed; the socket is asked to reconnect", cause).pipe(
          Effect.zipRight(Effect.sync(() => socket.conn.close(CloseCode.tryAgainLater, "inbox unavailable: reconnect and resume")))
        )
      )
    )

  /** Sends one frame (blocks were looked at by the caller); false once the socket is closed. */
  const sendFrame = (socket: Socket, m: InboxFrame) => {
    socket.cursor = m.seq
    if (send(socket.conn, frameText(m)) === "closed") return false
    delivered.inc()
    // a frame published inside a trace: its delivery, from this node reading it to the socket's send
    if (m.trace !== undefined) {
      tracing.record(`ws.deliver ${FRAME_TYPE.exec(m.json)?.[1] ?? "frame"}`, m.trace.parent, m.trace.receivedAt, {
        kind: "producer",
        attributes: { "ws.connection_id": socket.conn.id, "user.id": socket.conn.userId, "inbox.seq": m.seq }
      })
    }
    return true
  }

  /** A republished frame: sent at once when it follows the socket's cursor, else read in order. */
  const deliver = (socket: Socket, m: LiveFrame) => {
    if (m.seq <= socket.cursor) return // already sent (a replay got there first)
    if (!socket.pumping && socket.cursor >= m.previous && suspect(socket, m) === undefined) {
      sendFrame(socket, m)
      return
    }
    runFork(pump(socket))
  }

  const onSignal = (userId: string) => (signal: SocketSignal) => {
    const entry = users.get(userId)
    if (entry === undefined) return
    switch (signal._tag) {
      case "session_ended":
        for (const s of entry.sockets) if (s.conn.sessionKey === signal.sessionKey) s.conn.close(CloseCode.sessionEnded, "session ended")
        return
      case "blocks_changed":
        runFork(refreshBlocks(userId))
        runFork(rewatch(userId))
        return
      case "typing": {
        if (entry.blocked.has(signal.by)) return
        const text = frame("typing", { conversationId: signal.conversationId, user: { id: signal.by, username: signal.username }, expiresInMs: TYPING_SHOWN_MS })
        for (const s of entry.sockets) if (s.ready) send(s.conn, text)
        return
      }
    }
  }

  /**
   * Adds the socket to its user's entry at once (one synchronous step, before anything is awaited):
   * added after, a tab closing meanwhile emptied the entry, which unsubscribed it, and this socket
   * joined an entry that no longer received anything (hello, then no live frame ever).
   */
  const join = (socket: Socket) =>
    Effect.gen(function*() {
      const userId = socket.conn.userId
      const { created, entry } = yield* Effect.sync(() => {
        const existing = users.get(userId)
        if (existing !== undefined) {
          existing.sockets.add(socket)
          return { created: false, entry: existing }
        }
        const fresh: UserEntry = { sockets: new Set([socket]), unfollow: () => undefined, blocked: new Set(), loaded: Deferred.unsafeMake<void>(FiberId.none), blocksAsked: 0 }
        users.set(userId, fresh)
        return { created: true, entry: fresh }
      })
      if (!created) return yield* Deferred.await(entry.loaded)
      const onFrame = (m: LiveFrame) => {
        const e = users.get(userId)
        if (e === undefined) return
        for (const s of e.sockets) if (s.ready) deliver(s, m)
      }
      yield* Effect.gen(function*() {
        const unfollow = yield* delivery.follow(userId, { frame: onFrame, signal: onSignal(userId) })
        // every tab left before the subscription was made: nobody to follow for
        if (users.get(userId) !== entry) unfollow()
        else entry.unfollow = unfollow
        yield* Effect.ignore(delivery.touchPresence([userId]))
        yield* refreshBlocks(userId)
      }).pipe(
        // the tabs waiting on this entry share its fate: a failed or interrupted set-up must not
        // leave them waiting for ever (no hello); the next tab starts a fresh entry
        Effect.onExit((exit) =>
          Effect.suspend(() => {
            if (Exit.isFailure(exit) && users.get(userId) === entry) users.delete(userId)
            return Deferred.done(entry.loaded, Exit.asVoid(exit))
          })
        )
      )
    })

  const leave = (socket: Socket) =>
    Effect.sync(() => {
      const entry = users.get(socket.conn.userId)
      if (entry === undefined) return
      entry.sockets.delete(socket)
      if (entry.sockets.size === 0) {
        users.delete(socket.conn.userId)
        entry.unfollow()
      }
    })

  /** Live delivery begins (once): at the client's first frame or when the resume window ends. */
  const start = (socket: Socket) =>
    Effect.suspend(() => {
      if (socket.ready || !socket.conn.isOpen()) return Effect.void
      socket.ready = true
      return pump(socket)
    })

  const badFrame = (socket: Socket, code: string, message: string) =>
    Effect.sync(() => {
      socket.badFrames++
      send(socket.conn, frame("error", { code, message }))
      if (socket.badFrames >= MAX_BAD_FRAMES) socket.conn.close(CloseCode.policyViolation, "too many bad frames")
    })

  /** Token bucket per socket: false when the client is sending faster than allowed. */
  const admit = (socket: Socket) => {
    const now = Date.now()
    socket.tokens = Math.min(FRAME_BURST, socket.tokens + ((now - socket.refilledAt) / 1000) * FRAMES_PER_SECOND)
    socket.refilledAt = now
    if (socket.tokens < 1) return false
    socket.tokens--
    return true
  }

  /** Closes the sockets whose session no longer stands; "cannot tell" (database down) closes none. */
  const recheckSessions = Effect.suspend(() => {
    const keys = [...new Set(Array.from(sockets.values(), (s) => s.conn.sessionKey))]
    const batches = Array.from({ length: Math.ceil(keys.length / RECHECK_BATCH) }, (_, i) => keys.slice(i * RECHECK_BATCH, (i + 1) * RECHECK_BATCH))
    return Effect.forEach(batches, (batch) =>
      delivery.liveSessions(batch).pipe(
        Effect.tap((live) =>
          Effect.sync(() => {
            const asked = new Set(batch)
            // only sockets whose session was asked about: one opened meanwhile is not in `live`
            for (const s of sockets.values()) {
              if (asked.has(s.conn.sessionKey) && !live.has(s.conn.sessionKey)) s.conn.close(CloseCode.sessionEnded, "session ended")
            }
          })
        )
      ), { discard: true })
  }).pipe(Effect.catchAllCause((cause) => Effect.logWarning("could not recheck the sessions of open sockets", cause)))

  yield* recheckSessions.pipe(
    Effect.repeat(Schedule.spaced(Duration.seconds(config.sockets.sessionRecheckSeconds))),
    Effect.delay(Duration.seconds(config.sockets.sessionRecheckSeconds)),
    Effect.forkScoped
  )

  const capped = (conn: WsConnection) => ({ id: conn.id, userId: conn.userId, address: conn.remoteAddress })
  yield* Effect.suspend(() => delivery.renewSockets(Array.from(sockets.values(), (s) => capped(s.conn)))).pipe(
    Effect.repeat(Schedule.spaced(delivery.socketPlacesRenewMillis)),
    Effect.forkScoped
  )

  // presence (who may be sent feed_new) is refreshed for every user with a socket here
  yield* Effect.suspend(() => Effect.ignore(delivery.touchPresence([...users.keys()]))).pipe(
    Effect.repeat(Schedule.spaced(delivery.presenceRefreshMillis)),
    Effect.forkScoped
  )

  /** Starts or changes an admin's live tail; anyone else gets an `error` frame (not a bad frame). */
  const observe = (socket: Socket, filter: ObserveFilter) =>
    Effect.gen(function*() {
      const conn = socket.conn
      const allowed = yield* inspector.requireAdmin(conn.userId).pipe(Effect.as(true), Effect.orElseSucceed(() => false))
      if (!allowed) {
        send(conn, frame("error", { code: "Forbidden", message: "observe is for admins only (ADMIN_USERNAMES)" }))
        return
      }
      if (!sockets.has(conn.id)) return
      if (socket.observer !== undefined) socket.observer.observer.update(filter)
      else {
        const scope = yield* Scope.make()
        const observer = yield* inspector.observe(
          filter,
          (tap, droppedBefore) => {
            send(conn, frame("observed", droppedBefore > 0 ? { ...tap, droppedBefore } : tap))
          },
          (stats) => {
            send(conn, frame("observe_stats", stats))
          }
        ).pipe(Scope.extend(scope))
        socket.observer = { observer, scope }
      }
      send(conn, frame("observing", { filter, maxPerSecond: config.observe.maxPerSecond }))
    })

  const unobserve = (socket: Socket) =>
    Effect.suspend(() => {
      const o = socket.observer
      if (o === undefined) return Effect.void
      socket.observer = undefined
      o.observer.stop()
      return Scope.close(o.scope, Exit.void)
    })

  /** One read for every post rung since the last one, sent to each socket watching it. */
  const readCounts: Effect.Effect<void> = Effect.suspend(() => {
    const ids = [...rung].filter((id) => watched.has(id))
    rung.clear()
    return delivery.counts(ids).pipe(
      Effect.tap((rows) =>
        Effect.sync(() => {
          for (const row of rows) {
            const text = frame("post_counts", row)
            for (const s of watched.get(row.postId)?.sockets ?? []) send(s.conn, text)
          }
        })
      ),
      Effect.catchAllCause((cause) => Effect.logWarning("could not read the counts of watched posts", cause)),
      Effect.ensuring(Effect.sync(() => {
        readPending = false
        // rung while reading: read again
        if (rung.size > 0) scheduleRead()
      }))
    )
  })

  /** One read COUNTS_COALESCE_MS from now, unless one is already coming. */
  const scheduleRead = () => {
    if (readPending) return
    readPending = true
    runFork(readCounts.pipe(Effect.delay(COUNTS_COALESCE_MS)))
  }

  const onRing = (postId: string) => () => {
    rung.add(postId)
    scheduleRead()
  }

  /** Sets what the socket watches; a post nobody here watches any more is unsubscribed. */
  const setWatching = (socket: Socket, postIds: ReadonlySet<string>) => {
    for (const id of socket.watching) {
      if (postIds.has(id)) continue
      const w = watched.get(id)
      if (w === undefined) continue
      w.sockets.delete(socket)
      if (w.sockets.size === 0) {
        watched.delete(id)
        w.stop()
      }
    }
    for (const id of postIds) {
      if (socket.watching.has(id)) continue
      const w = watched.get(id)
      if (w !== undefined) w.sockets.add(socket)
      else watched.set(id, { sockets: new Set([socket]), stop: delivery.onPostChanged(id, onRing(id)) })
    }
    socket.watching = postIds
  }

  /** `watch`: keeps the posts the reader may see, and answers with their counts now. */
  const watch = (socket: Socket, postIds: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const asked = ++socket.watchAsked
      const rows = postIds.length === 0 ? [] : yield* delivery.watchable(socket.conn.userId, [...new Set(postIds)])
      if (asked !== socket.watchAsked || !sockets.has(socket.conn.id)) return
      setWatching(socket, new Set(rows.map((r) => r.postId)))
      send(socket.conn, frame("watching", { posts: rows }))
    }).pipe(Effect.catchAllCause((cause) => Effect.logWarning("could not set the posts a socket watches", cause)))

  /** After a block or unblock: what each of the user's sockets watches is asked about again. */
  const rewatch = (userId: string) =>
    Effect.suspend(() =>
      Effect.forEach(users.get(userId)?.sockets ?? [], (s) => (s.watching.size === 0 ? Effect.void : watch(s, [...s.watching])), { discard: true })
    )

  return Gateway.of({
    open: (conn) =>
      Effect.gen(function*() {
        const over = yield* delivery.admitSocket(capped(conn))
        if (over !== undefined) {
          const cap = over === "user" ? config.sockets.maxPerUser : config.sockets.maxPerAddress
          return conn.close(CloseCode.tooManySockets, `at most ${cap} sockets per ${over}`)
        }
        // it closed while its place was taken: `close` found nothing to release
        if (!conn.isOpen()) return yield* delivery.releaseSocket(capped(conn))
        const socket: Socket = {
          conn,
          cursor: 0,
          generation: 0,
          ready: false,
          pumping: false,
          again: false,
          resume: undefined,
          badFrames: 0,
          tokens: FRAME_BURST,
          refilledAt: Date.now(),
          observer: undefined,
          watching: new Set(),
          watchAsked: 0
        }
        sockets.set(conn.id, socket)
        // subscribe first, then read the latest sequence: anything stored after it rings
        yield* join(socket)
        // a direct get that times out on a busy server is asked again before the socket is given up
        const inboxSeq = yield* delivery.lastSeq(conn.userId).pipe(Effect.retry(Schedule.recurs(2)))
        socket.cursor = inboxSeq
        send(conn, frame("hello", { userId: conn.userId, inboxSeq, connectionId: conn.id }))
        yield* start(socket).pipe(Effect.delay(RESUME_WINDOW_MS), Effect.forkDaemon)
      }).pipe(
        Effect.catchAllCause((cause) =>
          Effect.logWarning("socket could not be set up", cause).pipe(
            Effect.zipRight(Effect.sync(() => conn.close(CloseCode.tryAgainLater, "try again shortly")))
          )
        )
      ),
    message: (conn, text) =>
      Effect.gen(function*() {
        const socket = sockets.get(conn.id)
        if (socket === undefined) return
        const first = !socket.ready
        if (!admit(socket)) return yield* badFrame(socket, "RateLimited", `at most ${FRAMES_PER_SECOND} frames per second`)
        const parsed = decode(text)
        if (Option.isNone(parsed)) {
          if (first) yield* start(socket)
          return yield* badFrame(socket, "BadFrame", "frames are JSON {type, payload}; see the WebSocket section of the API")
        }
        switch (parsed.value.type) {
          case "ping":
            send(conn, frame("pong", {}))
            if (first) yield* start(socket)
            return
          case "resume": {
            const sinceSeq = parsed.value.payload.sinceSeq
            // complete when the client's last frame is still stored: limits drop oldest first
            const complete = sinceSeq === 0 || (yield* delivery.holds(conn.userId, sinceSeq).pipe(Effect.orElseSucceed(() => false)))
            socket.generation++
            socket.cursor = sinceSeq
            socket.resume = { sinceSeq, complete, replayed: 0 }
            socket.again = true
            if (first) yield* start(socket)
            else yield* pump(socket)
            return
          }
          case "observe": {
            if (first) yield* start(socket)
            return yield* observe(socket, parsed.value.payload)
          }
          case "unobserve": {
            if (first) yield* start(socket)
            yield* unobserve(socket)
            send(conn, frame("observing", { filter: null, maxPerSecond: config.observe.maxPerSecond }))
            return
          }
          case "watch": {
            if (first) yield* start(socket)
            return yield* watch(socket, parsed.value.payload.postIds)
          }
          case "typing": {
            if (first) yield* start(socket)
            const outcome = yield* delivery.typing(conn.userId, parsed.value.payload.conversationId)
            if (outcome === "not-member") send(conn, frame("error", { code: "NotFound", message: "no such conversation" }))
            return
          }
        }
      }),
    close: (conn) =>
      Effect.suspend(() => {
        const socket = sockets.get(conn.id)
        if (socket === undefined) return Effect.void
        sockets.delete(conn.id)
        socket.watchAsked++
        setWatching(socket, new Set())
        return unobserve(socket).pipe(Effect.zipRight(leave(socket)), Effect.zipRight(delivery.releaseSocket(capped(conn))))
      }),
    openCount: () => sockets.size
  })
})

export const layer = Layer.scoped(Gateway, make)
