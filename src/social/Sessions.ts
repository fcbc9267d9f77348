/**
 * Sessions and WebSocket tickets. A session token is 256 random bits, handed to the client once
 * and stored only as its SHA-256; it slides forward on use (at most once an hour, to keep reads
 * cheap). A ws-ticket is single-use and lives 60 s in Redis (GETDEL makes the use atomic); it is
 * bound to the session that asked for it, and redeeming it asks the database whether that session
 * still stands (not the cache: a ticket minted before a log-out on another node must not open a socket).
 *
 * Resolved sessions are kept in process for SESSION_CACHE_MS (30 s), so an authenticated read costs no database
 * round trip; a log-out removes the session here and, over core NATS `sessions.revoked`, from
 * every other node's cache at once (`RevocableCache.ts`, shared with embed tokens).
 *
 * Tickets have no fallback: while Redis does not answer (within REDIS_COMMAND_TIMEOUT_MS) issuing
 * and redeeming one fail with ServiceUnavailable — "cannot tell" is not "no such ticket".
 */
import { Context, Effect, Layer, Option } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { AppConfig } from "../config/AppConfig.ts"
import { ServiceUnavailable } from "../domain/ApiError.ts"
import { SessionsRepo } from "../db/Sessions.ts"
import { Redis, type RedisError } from "../redis/Redis.ts"
import { makeRevocableCache } from "./RevocableCache.ts"

export const TICKET_TTL_SECONDS = 60
const REFRESH_AFTER_SECONDS = 60 * 60

export const hashToken = (token: string): Uint8Array => createHash("sha256").update(token).digest()

/**
 * The handle of a session that sockets remember (so a log-out can close them, and a recheck can ask
 * whether it still stands): the hex of the token's SHA-256, which is never a usable token.
 */
export const sessionKeyOf = (tokenHash: Uint8Array) => Buffer.from(tokenHash).toString("hex")

/** Who a WebSocket belongs to: the user and the session that opened it. */
export interface SocketOwner {
  readonly userId: string
  readonly sessionKey: string
}

export interface SessionInfo {
  readonly userId: string
  readonly tokenHash: Uint8Array
  readonly expiresAt: Date
}

export class Sessions extends Context.Tag("Sessions")<Sessions, {
  readonly create: (userId: string, meta: { readonly userAgent: string; readonly ip: string }) => Effect.Effect<string>
  readonly resolve: (token: string) => Effect.Effect<Option.Option<SessionInfo>>
  readonly revoke: (tokenHash: Uint8Array) => Effect.Effect<void>
  /** Ends every other session of the account, on every node's cache at once; the token hashes ended. */
  readonly revokeOthers: (userId: string, keep: Uint8Array) => Effect.Effect<ReadonlyArray<Uint8Array>>
  readonly issueTicket: (owner: SocketOwner) => Effect.Effect<{ readonly ticket: string; readonly expiresAt: Date }, ServiceUnavailable>
  /** The user and session a ticket was issued to; none when unknown, expired, already used, or its session is gone. */
  readonly redeemTicket: (ticket: string) => Effect.Effect<Option.Option<SocketOwner>, ServiceUnavailable>
}>() {}

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const repo = yield* SessionsRepo
  const redis = yield* Redis
  // revoked on every node at once; a lookup in flight during a revocation cannot cache it again
  const cache = yield* makeRevocableCache<SessionInfo>("sessions.revoked", config.sessions.cacheMillis)
  const ttl = config.sessions.ttlSeconds
  const ticketKey = (ticket: string) => `wsticket:${createHash("sha256").update(ticket).digest("hex")}`
  const ticketsUnavailable = (e: RedisError) =>
    Effect.logWarning("ws-tickets unavailable", e.message).pipe(
      Effect.zipRight(new ServiceUnavailable({ message: "tickets are unavailable right now; try again shortly" }))
    )

  return Sessions.of({
    create: Effect.fn("Sessions.create")(function*(userId, meta) {
      const token = randomBytes(32).toString("base64url")
      yield* repo.insert({ tokenHash: hashToken(token), userId, ttlSeconds: ttl, userAgent: meta.userAgent.slice(0, 256), ip: meta.ip })
      return token
    }),
    resolve: (token) => {
      // a token is 43 base64url characters; anything else cannot be one, and costs no query
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return Effect.succeed(Option.none())
      const tokenHash = hashToken(token)
      const key = Buffer.from(tokenHash).toString("hex")
      const cached = cache.get(key)
      if (cached !== undefined && cached.expiresAt.getTime() > Date.now()) return Effect.succeed(Option.some(cached))
      return repo.touch(tokenHash, ttl, REFRESH_AFTER_SECONDS).pipe(
        Effect.map(Option.map((row) => ({ userId: row.userId, tokenHash, expiresAt: row.expiresAt }))),
        Effect.tap(Option.match({ onNone: () => cache.delete(key), onSome: (info) => cache.set(key, info) }))
      )
    },
    revoke: (tokenHash) =>
      Effect.gen(function*() {
        yield* repo.revoke(tokenHash)
        cache.revoke(Buffer.from(tokenHash).toString("hex"))
      }),
    revokeOthers: (userId, keep) =>
      Effect.gen(function*() {
        const ended = yield* repo.revokeOthers(userId, keep)
        for (const tokenHash of ended) cache.revoke(Buffer.from(tokenHash).toString("hex"))
        return ended
      }),
    issueTicket: Effect.fn("Sessions.issueTicket")(function*(owner) {
      const ticket = randomBytes(32).toString("base64url")
      const value = `${owner.userId} ${owner.sessionKey}`
      yield* redis.call("ws-ticket set", (c) => c.set(ticketKey(ticket), value, "EX", TICKET_TTL_SECONDS)).pipe(
        Effect.catchTag("RedisError", ticketsUnavailable)
      )
      return { ticket, expiresAt: new Date(Date.now() + TICKET_TTL_SECONDS * 1000) }
    }),
    redeemTicket: (ticket) =>
      /^[A-Za-z0-9_-]{43}$/.test(ticket)
        ? redis.call("ws-ticket getdel", (c) => c.getdel(ticketKey(ticket))).pipe(
          Effect.map((value) => {
            const [userId, sessionKey] = (value ?? "").split(" ")
            return userId && sessionKey && /^[0-9a-f]{64}$/.test(sessionKey) ? Option.some({ userId, sessionKey }) : Option.none()
          }),
          Effect.catchTag("RedisError", ticketsUnavailable),
          Effect.flatMap(Option.match({
            onNone: () => Effect.succeedNone,
            onSome: (owner) =>
              Effect.map(repo.live([Buffer.from(owner.sessionKey, "hex")]), (live) =>
                live.includes(owner.sessionKey) ? Option.some(owner) : Option.none())
          }))
        )
        : Effect.succeed(Option.none())
  })
})

export const layer = Layer.scoped(Sessions, make)
