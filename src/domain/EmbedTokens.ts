/**
 * Embed tokens on the wire: scoped, revocable bearer tokens a person creates in settings for
 * widgets that act for them on another site. Never a session: they read (and, with `read_like`,
 * like) and nothing else, and they cannot create, list or revoke tokens.
 */
import { Schema } from "effect"
import { StorableString } from "./Text.ts"

/** What every embed token starts with, so it is told from a session token (43 base64url characters) at a glance. */
export const EMBED_TOKEN_PREFIX = "ape_"

/** `ape_` and 43 base64url characters (256 random bits). */
export const isEmbedTokenShape = (token: string) => /^ape_[A-Za-z0-9_-]{43}$/.test(token)

/** At most this many live (not revoked) tokens per account. */
export const MAX_LIVE_EMBED_TOKENS = 20

export const EmbedScope = Schema.Literal("read", "read_like").annotations({
  description: "`read`: the feed, posts, comments, profiles, search and notifications (GET only). `read_like`: also like and unlike posts."
})
export type EmbedScope = typeof EmbedScope.Type

export const EmbedTokenName = Schema.transform(StorableString, Schema.String, {
  strict: true,
  decode: (s) => s.trim(),
  encode: (s) => s
}).pipe(
  Schema.filter((s) => [...s].length >= 1 && [...s].length <= 64, { message: () => "a token's name is 1–64 characters" })
)

/** An origin as a browser writes it: `https://blog.example` or `http://localhost:3000`, no path. */
export const EmbedOrigin = StorableString.pipe(
  Schema.filter((s) => s.length <= 200 && /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(s), {
    message: () => "an allowed origin looks like https://blog.example (scheme, host and optional port, no path)"
  }),
  // random text is almost never an origin: the fuzzer's valid requests would search for one forever
  Schema.annotations({
    arbitrary: () => (fc) =>
      fc.tuple(fc.constantFrom("https", "http"), fc.constantFrom("blog.example", "localhost", "a-b.example.org"), fc.option(fc.integer({ min: 1, max: 65535 })))
        .map(([scheme, host, port]) => `${scheme}://${host}${port === null ? "" : `:${port}`}`)
  })
)

export class EmbedTokenCreate extends Schema.Class<EmbedTokenCreate>("EmbedTokenCreate")({
  name: EmbedTokenName,
  scope: EmbedScope,
  allowedOrigins: Schema.optional(Schema.Array(EmbedOrigin).pipe(Schema.maxItems(10))).annotations({
    description: "When given, the token is refused on requests from any other page origin (at most 10)."
  })
}) {}

export class EmbedToken extends Schema.Class<EmbedToken>("EmbedToken")({
  id: Schema.String,
  name: Schema.String,
  scope: EmbedScope,
  allowedOrigins: Schema.Array(Schema.String),
  /** The first characters of the secret (`ape_` and four more), to tell tokens apart. */
  hint: Schema.String,
  createdAt: Schema.String,
  lastUsedAt: Schema.NullOr(Schema.String)
}) {}

/** A new token: the secret is in this answer only; the server keeps its SHA-256. */
export class EmbedTokenCreated extends Schema.Class<EmbedTokenCreated>("EmbedTokenCreated")({
  token: EmbedToken,
  secret: Schema.String
}) {}

export class EmbedTokenList extends Schema.Class<EmbedTokenList>("EmbedTokenList")({
  items: Schema.Array(EmbedToken)
}) {}

export const EmbedTokenIdPath = Schema.Struct({ id: Schema.UUID })
