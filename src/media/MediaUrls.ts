/**
 * Signed media URLs for restricted posts: `/media/<key>?viewer=<id>&expires=<unix s>&sig=<mac>`,
 * the MAC an HMAC-SHA256 over (key, viewer, expiry) with MEDIA_URL_SECRET. A URL names the viewer
 * it was issued to and dies at its expiry, so access a viewer loses (unfollowed, blocked, the
 * author went private) outlives the loss by at most MEDIA_URL_TTL_SECONDS.
 *
 * Expiries are rounded to half the lifetime, so a viewer gets the same URL for a while (their
 * browser cache keeps working across page loads) and every URL lives between half and all of it.
 */
import { Context, Layer, Effect, Option, Redacted } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"
import { AppConfig } from "../config/AppConfig.ts"

export interface Signature {
  readonly viewer?: string | undefined
  readonly expires?: string | undefined
  readonly sig?: string | undefined
}

export interface MediaUrlsShape {
  /** `url` (a plain `/media/<key>` URL) signed for `viewerId`. */
  readonly sign: (url: string, viewerId: string) => string
  /** Each URL of a variants object signed for `viewerId`. */
  readonly signAll: <A extends Record<string, string>>(urls: A, viewerId: string) => A
  /** The viewer and remaining seconds of a valid, unexpired signature for `key`. */
  readonly verify: (key: string, signature: Signature) => Option.Option<{ readonly viewerId: string; readonly remainingSeconds: number }>
}

export class MediaUrls extends Context.Tag("MediaUrls")<MediaUrls, MediaUrlsShape>() {}

const EXPIRES = /^\d{1,12}$/
const SIG = /^[A-Za-z0-9_-]{43}$/
const VIEWER = /^[0-9a-f-]{36}$/

export const make = (secret: Redacted.Redacted, ttlSeconds: number, now: () => number = Date.now): MediaUrlsShape => {
  const key = Buffer.from(Redacted.value(secret), "utf8")
  const mac = (mediaKey: string, viewerId: string, expires: number) =>
    createHmac("sha256", key).update(`${mediaKey}\n${viewerId}\n${expires}`).digest()
  const step = Math.max(1, Math.floor(ttlSeconds / 2))
  const expiry = () => (Math.floor(now() / 1000 / step) + 1) * step + (ttlSeconds - step)

  const sign = (url: string, viewerId: string) => {
    const mediaKey = url.replace(/^\/media\//, "")
    const expires = expiry()
    return `/media/${mediaKey}?viewer=${viewerId}&expires=${expires}&sig=${mac(mediaKey, viewerId, expires).toString("base64url")}`
  }

  return {
    sign,
    signAll: (urls, viewerId) => Object.fromEntries(Object.entries(urls).map(([k, v]) => [k, sign(v, viewerId)])) as typeof urls,
    verify: (mediaKey, s) => {
      if (s.viewer === undefined || s.expires === undefined || s.sig === undefined) return Option.none()
      if (!VIEWER.test(s.viewer) || !EXPIRES.test(s.expires) || !SIG.test(s.sig)) return Option.none()
      const expires = Number(s.expires)
      const remainingSeconds = Math.floor(expires - now() / 1000)
      if (remainingSeconds < 1 || remainingSeconds > ttlSeconds) return Option.none()
      const ok = timingSafeEqual(mac(mediaKey, s.viewer, expires), Buffer.from(s.sig, "base64url"))
      return ok ? Option.some({ viewerId: s.viewer, remainingSeconds }) : Option.none()
    }
  }
}

export const layer = Layer.effect(MediaUrls, Effect.map(AppConfig, (c) => make(c.mediaUrls.secret, c.mediaUrls.ttlSeconds)))
