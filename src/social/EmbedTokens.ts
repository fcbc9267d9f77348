/**
 * Embed tokens: `ape_` and 256 random bits, shown to their owner once and stored as their SHA-256.
 * They are resolved like sessions — kept in process for SESSION_CACHE_MS so a widget's read costs
 * no database round trip — and revoked like them: the revoking node drops its entry and publishes
 * the hash on core NATS `embed-tokens.revoked`, which every other node's cache drops at once.
 *
 * Creating is limited twice: 30 creates per account per hour (a 429), and at most
 * MAX_LIVE_EMBED_TOKENS live tokens per account (a 422 at `name`: revoke one first).
 */
import { Context, Effect, Layer, Option } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { AppConfig } from "../config/AppConfig.ts"
import { NotFound, Unprocessable } from "../domain/ApiError.ts"
import {
  EMBED_TOKEN_PREFIX,
  EmbedToken,
  EmbedTokenCreated,
  type EmbedTokenCreate,
  EmbedTokenList,
  type EmbedScope,
  isEmbedTokenShape,
  MAX_LIVE_EMBED_TOKENS
} from "../domain/EmbedTokens.ts"
import { type EmbedTokenRow, EmbedTokensRepo } from "../db/EmbedTokens.ts"
import type { RateRule } from "../redis/RateLimiter.ts"
import { type Limited, limited, Limits, type RateLimitRefused } from "./Limits.ts"
import { makeRevocableCache } from "./RevocableCache.ts"

/** What a resolved embed token grants. */
export interface EmbedGrant {
  readonly tokenId: string
  readonly userId: string
  readonly scope: EmbedScope
  readonly allowedOrigins: ReadonlyArray<string>
  readonly tokenHash: Uint8Array
}

const CREATE_RULE: RateRule = { name: "embed-token-create", limit: 30, windowSeconds: 3600 }

export const hashEmbedToken = (token: string): Uint8Array => createHash("sha256").update(token).digest()

const toWire = (row: EmbedTokenRow) =>
  new EmbedToken({
    id: row.id,
    name: row.name,
    scope: row.scope,
    allowedOrigins: row.allowedOrigins,
    hint: row.hint,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt === null ? null : row.lastUsedAt.toISOString()
  })

export class EmbedTokens extends Context.Tag("EmbedTokens")<EmbedTokens, {
  readonly create: (userId: string, input: EmbedTokenCreate) => Effect.Effect<Limited<EmbedTokenCreated>, RateLimitRefused | Unprocessable>
  readonly list: (userId: string) => Effect.Effect<EmbedTokenList>
  readonly revoke: (userId: string, id: string) => Effect.Effect<void, NotFound>
  /** The grant of a live token; none for anything else (costs no query unless it has the shape of one). */
  readonly resolve: (token: string) => Effect.Effect<Option.Option<EmbedGrant>>
}>() {}

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const repo = yield* EmbedTokensRepo
  const limits = yield* Limits
  const cache = yield* makeRevocableCache<EmbedGrant>("embed-tokens.revoked", config.sessions.cacheMillis)
  const keyOf = (tokenHash: Uint8Array) => Buffer.from(tokenHash).toString("hex")

  return EmbedTokens.of({
    create: Effect.fn("EmbedTokens.create")(function*(userId, input) {
      const rateLimit = yield* limits.enforce(CREATE_RULE, userId)
      const secret = EMBED_TOKEN_PREFIX + randomBytes(32).toString("base64url")
      const row = yield* repo.insert({
        tokenHash: hashEmbedToken(secret),
        userId,
        name: input.name,
        scope: input.scope,
        allowedOrigins: input.allowedOrigins ?? [],
        hint: secret.slice(0, EMBED_TOKEN_PREFIX.length + 4),
        maxLive: MAX_LIVE_EMBED_TOKENS
      })
      if (Option.isNone(row)) {
        return yield* new Unprocessable({
          message: `you already have ${MAX_LIVE_EMBED_TOKENS} embed tokens; revoke one you no longer use first`,
          details: { field: "name" }
        })
      }
      return limited<EmbedTokenCreated>(rateLimit)(new EmbedTokenCreated({ token: toWire(row.value), secret }))
    }),
    list: Effect.fn("EmbedTokens.list")(function*(userId) {
      return new EmbedTokenList({ items: (yield* repo.list(userId)).map(toWire) })
    }),
    revoke: Effect.fn("EmbedTokens.revoke")(function*(userId, id) {
      const gone = yield* repo.revoke(userId, id)
      if (Option.isNone(gone)) return yield* new NotFound({ message: "no such embed token (it may have been revoked already)" })
      cache.revoke(keyOf(gone.value))
      // answered once NATS has the message, so the next request to another node finds it dropped
      yield* cache.flush
    }),
    resolve: (token) => {
      if (!isEmbedTokenShape(token)) return Effect.succeed(Option.none())
      const tokenHash = hashEmbedToken(token)
      const key = keyOf(tokenHash)
      const cached = cache.get(key)
      if (cached !== undefined) return Effect.succeed(Option.some(cached))
      return repo.find(tokenHash).pipe(
        Effect.map(Option.map((row): EmbedGrant => ({
          tokenId: row.id,
          userId: row.userId,
          scope: row.scope,
          allowedOrigins: row.allowedOrigins,
          tokenHash
        }))),
        Effect.tap(Option.match({
          onNone: () => void cache.delete(key),
          onSome: (grant) => repo.touch(tokenHash).pipe(Effect.zipRight(Effect.sync(() => cache.set(key, grant))))
        }))
      )
    }
  })
})

export const layer = Layer.scoped(EmbedTokens, make)
