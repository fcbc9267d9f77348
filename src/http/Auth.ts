/**
 * Who is calling. The web app authenticates with the `ap_session` cookie (HttpOnly, SameSite=Lax,
 * Secure behind https); widgets on other origins send `Authorization: Bearer`. A cookie-
 * authenticated unsafe request whose Origin is neither this server nor on the allowlist is refused
 * (CSRF); a bearer token cannot be sent by a browser on its own, so it needs no such check.
 *
 * An embed token (`ape_…`, see social/EmbedTokens.ts) is a bearer token with a scope: a request
 * outside it (EmbedScopes.ts) is a 403 that names the scope, and a token restricted to some
 * origins is refused on a request from any other page (or from no page at all).
 */
import { Context, Effect, Layer, Option } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { Forbidden, type ServiceUnavailable, Unauthorized } from "../domain/ApiError.ts"
import { RequestContext, type RequestContextShape } from "../observability/RequestContext.ts"
import { sessionKeyOf, Sessions, type SocketOwner } from "../social/Sessions.ts"
import { EMBED_TOKEN_PREFIX, type EmbedScope } from "../domain/EmbedTokens.ts"
import { EmbedTokens } from "../social/EmbedTokens.ts"
import { embedScopeAllows, embedScopeRefusal } from "./EmbedScopes.ts"

export const SESSION_COOKIE = "ap_session"
/**
 * Set and cleared with the session cookie, readable by the page (not HttpOnly) and holding no
 * secret: it only tells the app's inline boot script that someone is probably signed in, so it
 * asks for the first feed page at once instead of after the session's answer (one round trip
 * less before the first photo). A stale one costs one 401; the SDK clears it then.
 */
export const SIGNED_IN_COOKIE = "ap_signed_in"

export interface Viewer {
  readonly userId: string
  readonly tokenHash: Uint8Array
  readonly via: "cookie" | "bearer" | "embed"
  /** Set for an embed token: what it may do (the request has been checked against it). */
  readonly scope?: EmbedScope
}

export const readCookie = (header: string | undefined, name: string): string | undefined => {
  if (!header) return undefined
  for (const part of header.split(";")) {
    const eq = part.indexOf("=")
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

const bearer = (header: string | undefined) => {
  const m = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header)
  return m ? m[1] : undefined
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"])

/** The client's address: the first X-Forwarded-For hop behind a trusted proxy, else the peer's. */
export const clientAddress = (headers: RequestContextShape["headers"], peer: string, trustProxy: boolean) =>
  (trustProxy ? headers["x-forwarded-for"]?.split(",")[0]?.trim() : undefined) || peer

/** The origin this request was addressed to, as a browser would write it. */
export const selfOrigin = (headers: RequestContextShape["headers"], trustProxy: boolean) => {
  const proto = trustProxy && headers["x-forwarded-proto"] === "https" ? "https" : "http"
  return headers.host ? `${proto}://${headers.host}` : undefined
}

/** A cross-site request may not ride on the cookie; the origin must be this server or allowlisted. */
export const originAllowed = (headers: RequestContextShape["headers"], allowlist: ReadonlyArray<string>, trustProxy: boolean) => {
  const origin = headers.origin ?? (headers.referer ? safeOrigin(headers.referer) : undefined)
  if (origin === undefined) return true // not a browser, or a same-origin GET-like navigation
  return origin === selfOrigin(headers, trustProxy) || allowlist.includes(origin)
}

const safeOrigin = (url: string) => {
  try {
    return new URL(url).origin
  } catch {
    return "invalid"
  }
}

export class Auth extends Context.Tag("Auth")<Auth, {
  /** The caller when signed in; fails with 403 for a cross-site cookie write. */
  readonly optional: Effect.Effect<Option.Option<Viewer>, Forbidden, RequestContext>
  readonly required: Effect.Effect<Viewer, Unauthorized | Forbidden, RequestContext>
  /** The client's address (X-Forwarded-For only when TRUST_PROXY is on). */
  readonly clientIp: Effect.Effect<string, never, RequestContext>
  /** The `Set-Cookie` values of a new session: the session itself, then the signed-in hint. */
  readonly sessionCookie: (token: string) => Effect.Effect<readonly [string, string], never, RequestContext>
  readonly clearedCookie: Effect.Effect<readonly [string, string], never, RequestContext>
  /**
   * Who is opening a WebSocket: a single-use `?ticket=` (widgets), or the session cookie from this
   * server's own origin or an allowlisted one. None means the upgrade is refused; ServiceUnavailable
   * that a ticket cannot be checked now (Redis does not answer).
   */
  readonly upgrade: (request: {
    readonly headers: RequestContextShape["headers"]
    readonly ticket: string | undefined
  }) => Effect.Effect<Option.Option<SocketOwner>, ServiceUnavailable>
}>() {}

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const sessions = yield* Sessions
  const embedTokens = yield* EmbedTokens

  // the pipeline checks the session of an `Authenticated` endpoint and the handler asks again:
  // one resolution per request
  const resolved = new WeakMap<RequestContextShape, Option.Option<Viewer>>()
  const optional = Effect.gen(function*() {
    const request = yield* RequestContext
    const known = resolved.get(request)
    if (known !== undefined) return known
    const fromHeader = bearer(request.headers.authorization)
    const fromCookie = fromHeader === undefined ? readCookie(request.headers.cookie, SESSION_COOKIE) : undefined
    const token = fromHeader ?? fromCookie
    if (token === undefined) return Option.none<Viewer>()
    if (fromHeader !== undefined && fromHeader.startsWith(EMBED_TOKEN_PREFIX)) {
      const grant = yield* embedTokens.resolve(fromHeader)
      if (Option.isNone(grant)) {
        resolved.set(request, Option.none())
        return Option.none<Viewer>()
      }
      const { allowedOrigins, scope, tokenHash, userId } = grant.value
      if (allowedOrigins.length > 0 && !allowedOrigins.includes(request.headers.origin ?? "")) {
        return yield* new Forbidden({ message: `this embed token only works on pages of ${allowedOrigins.join(", ")}` })
      }
      if (!embedScopeAllows(scope, request.method, request.path)) {
        return yield* new Forbidden({ message: embedScopeRefusal(scope), details: { scope } })
      }
      const viewer = Option.some<Viewer>({ userId, tokenHash, via: "embed", scope })
      resolved.set(request, viewer)
      return viewer
    }
    const via = fromHeader !== undefined ? "bearer" as const : "cookie" as const
    if (via === "cookie" && !SAFE.has(request.method) && !originAllowed(request.headers, config.corsOrigins, config.trustProxy)) {
      return yield* new Forbidden({ message: "cross-site requests cannot use the session cookie; send a bearer token" })
    }
    const session = yield* sessions.resolve(token)
    const viewer = Option.map(session, (s): Viewer => ({ userId: s.userId, tokenHash: s.tokenHash, via }))
    resolved.set(request, viewer)
    return viewer
  })

  const secure = (request: RequestContextShape) =>
    config.sessions.cookieSecure === "always" ||
    (config.sessions.cookieSecure === "auto" && config.trustProxy && request.headers["x-forwarded-proto"] === "https")

  return Auth.of({
    optional,
    required: Effect.flatMap(optional, Option.match({
      onNone: () => Effect.fail(new Unauthorized({ message: "sign in first: send the session cookie or a bearer token" })),
      onSome: Effect.succeed
    })),
    clientIp: Effect.map(RequestContext, (r) => clientAddress(r.headers, r.remoteAddress, config.trustProxy)),
    sessionCookie: (token) =>
      Effect.map(RequestContext, (r) => [
        `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${config.sessions.ttlSeconds}${secure(r) ? "; Secure" : ""}`,
        `${SIGNED_IN_COOKIE}=1; Path=/; SameSite=Lax; Max-Age=${config.sessions.ttlSeconds}${secure(r) ? "; Secure" : ""}`
      ] as const),
    clearedCookie: Effect.map(RequestContext, (r) => [
      `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure(r) ? "; Secure" : ""}`,
      `${SIGNED_IN_COOKIE}=; Path=/; SameSite=Lax; Max-Age=0${secure(r) ? "; Secure" : ""}`
    ] as const),
    upgrade: ({ headers, ticket }) => {
      if (ticket !== undefined && ticket !== "") return sessions.redeemTicket(ticket)
      const token = readCookie(headers.cookie, SESSION_COOKIE)
      if (token === undefined) return Effect.succeed(Option.none())
      // a page on another site could open a socket that carries our cookie: the Origin must be ours
      const origin = headers.origin
      if (origin !== undefined && origin !== selfOrigin(headers, config.trustProxy) && !config.corsOrigins.includes(origin)) {
        return Effect.succeed(Option.none())
      }
      return Effect.map(sessions.resolve(token), Option.map((s) => ({ userId: s.userId, sessionKey: sessionKeyOf(s.tokenHash) })))
    }
  })
})

export const layer = Layer.effect(Auth, make)
