import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Option, Redacted } from "effect"
import { appConfig } from "../config/AppConfig.ts"
import { make } from "./MediaUrls.ts"

const KEY = "0b4a3f1e-8f43-4c59-9d59-1f3c2a7b6e10-w1080.webp"
const VIEWER = "5e0c9b8a-2b1f-4a53-8c6d-0f9e8d7c6b5a"
const OTHER = "6f1d0c9b-3c20-4b64-9d7e-1a0f9e8d7c6b"

const parts = (url: string) => {
  const u = new URL(url, "http://x")
  return { viewer: u.searchParams.get("viewer") ?? undefined, expires: u.searchParams.get("expires") ?? undefined, sig: u.searchParams.get("sig") ?? undefined }
}

describe("signed media URLs", () => {
  it("live between half and all of the lifetime, the same URL for a while, and are refused from their expiry on", () => {
    let now = 1_700_000_000_123
    const urls = make(Redacted.make("s".repeat(32)), 600, () => now)
    const first = urls.sign(`/media/${KEY}`, VIEWER)
    assert.strictEqual(urls.sign(`/media/${KEY}`, VIEWER), first)
    const expires = Number(parts(first).expires)
    assert.isAbove(expires - now / 1000, 300)
    assert.isAtMost(expires - now / 1000, 600)
    const ok = urls.verify(KEY, parts(first))
    assert.isTrue(Option.isSome(ok))
    assert.strictEqual(Option.getOrThrow(ok).viewerId, VIEWER)
    now = expires * 1000 - 1500
    assert.strictEqual(Option.getOrThrow(urls.verify(KEY, parts(first))).remainingSeconds, 1)
    now = expires * 1000
    assert.isTrue(Option.isNone(urls.verify(KEY, parts(first))))
  })

  it("bind the key, the viewer, the expiry and the secret", () => {
    const now = () => 1_700_000_000_000
    const urls = make(Redacted.make("s".repeat(32)), 600, now)
    const p = parts(urls.sign(`/media/${KEY}`, VIEWER))
    assert.isTrue(Option.isNone(urls.verify(KEY.replace("w1080", "w640"), p)))
    assert.isTrue(Option.isNone(urls.verify(KEY, { ...p, viewer: OTHER })))
    assert.isTrue(Option.isNone(urls.verify(KEY, { ...p, expires: String(Number(p.expires) - 1) })))
    assert.isTrue(Option.isNone(urls.verify(KEY, { ...p, sig: undefined })))
    assert.isTrue(Option.isNone(make(Redacted.make("t".repeat(32)), 600, now).verify(KEY, p)))
    // a URL promising more than the lifetime was not issued by this configuration
    const longer = make(Redacted.make("s".repeat(32)), 6000, now)
    assert.isTrue(Option.isNone(urls.verify(KEY, parts(longer.sign(`/media/${KEY}`, VIEWER)))))
  })

  it.effect("MEDIA_URL_SECRET is required in production and must be long enough", () =>
    Effect.gen(function*() {
      const load = (env: Record<string, string>) =>
        Effect.either(Effect.withConfigProvider(appConfig, ConfigProvider.fromMap(new Map(Object.entries(env)))))
      const missing = yield* load({ NODE_ENV: "production" })
      assert.isTrue(missing._tag === "Left" && String(missing.left).includes("MEDIA_URL_SECRET"))
      const short = yield* load({ MEDIA_URL_SECRET: "short" })
      assert.isTrue(short._tag === "Left" && String(short.left).includes("at least 32"))
      const set = yield* load({ NODE_ENV: "production", MEDIA_URL_SECRET: "x".repeat(40) })
      assert.strictEqual(set._tag === "Right" && Redacted.value(set.right.mediaUrls.secret), "x".repeat(40))
      const dev = yield* load({})
      assert.isTrue(dev._tag === "Right" && Redacted.value(dev.right.mediaUrls.secret).length >= 32, "a generated one outside production")
    }))
})
