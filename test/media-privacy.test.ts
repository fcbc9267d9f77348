/**
 * Private media stays private (issue 12, item 2), on both transports and in S3 redirect mode: a
 * private account's post media are served only through short-lived URLs signed for one viewer who
 * may see the post now; plain URLs follow the post's audience at once; unfollowing and blocking
 * revoke within the URL lifetime; public posts and avatars keep their immutable public caching.
 */
import { assert, describe, layer, type Vitest } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { AppConfigShape } from "../src/config/AppConfig.ts"
import { type Account, baseUrl, openSocketAs, publishPost, request, signup, TestApp } from "./support/app.ts"
import { multipart, plainPng } from "./support/images.ts"
import { s3Server as withS3 } from "./support/servers.ts"

const TTL = 5
const settings: Partial<AppConfigShape> = {
  mediaUrls: { secret: Redacted.make("a-test-secret-of-at-least-32-characters"), ttlSeconds: TTL, audienceCacheMillis: 2000 }
}

const IMMUTABLE = "public, max-age=31536000, immutable"

const media = (url: string, headers: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const base = yield* baseUrl
    return yield* Effect.promise(async () => {
      const res = await fetch(base + url, { headers, redirect: "manual" })
      await res.arrayBuffer()
      return { status: res.status, cacheControl: res.headers.get("cache-control"), location: res.headers.get("location") }
    })
  })

const plain = (url: string) => url.split("?")[0]!
const expiresOf = (url: string) => Number(new URL(url, "http://x").searchParams.get("expires"))

/** Real time (the server checks expiry against the wall clock), until `url` has expired. */
const untilExpired = (url: string) =>
  Effect.promise(() => new Promise((r) => setTimeout(r, Math.max(0, expiresOf(url) * 1000 - Date.now()) + 50)))

const getPost = (viewer: Account | null, postId: string) =>
  request(`/api/v1/posts/${postId}`, viewer === null ? {} : { headers: viewer.bearer })

const follow = (viewer: Account, target: Account) =>
  request(`/api/v1/users/${target.username}/follow`, { method: "POST", headers: viewer.bearer })

const approveAll = (owner: Account) =>
  Effect.gen(function*() {
    const pending = yield* request("/api/v1/follow-requests", { headers: owner.bearer })
    for (const r of pending.json.items) yield* request(`/api/v1/follow-requests/${r.id}/approve`, { method: "POST", headers: owner.bearer })
  })

const setPrivate = (account: Account, isPrivate: boolean) =>
  request("/api/v1/users/me", {
    method: "PATCH",
    headers: { ...account.bearer, "content-type": "application/json" },
    body: JSON.stringify({ isPrivate })
  })

/** A private account with one published post and an approved follower. */
const privateScene = Effect.gen(function*() {
  const owner = yield* signup({ isPrivate: true })
  const fan = yield* signup()
  yield* follow(fan, owner)
  yield* approveAll(owner)
  const postId = yield* publishPost(owner, "for friends")
  return { owner, fan, postId }
})

/** The post's large variant URL as `viewer` is given it. */
const largeUrl = (viewer: Account, postId: string) =>
  Effect.map(getPost(viewer, postId), (r) => {
    assert.strictEqual(r.status, 200, r.text)
    return r.json.variants.large as string
  })

const assertPrivateServe = (r: { status: number; cacheControl: string | null }) => {
  assert.strictEqual(r.status, 200)
  const m = /^private, max-age=(\d+)$/.exec(r.cacheControl ?? "")
  assert.isNotNull(m, `cache-control was ${r.cacheControl}`)
  assert.isAtMost(Number(m![1]), TTL)
}

const wait = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

const suite = (label: string) => (it: Vitest.MethodsNonLive<any, true>) => {
  it.effect(`[${label}] a private account's post media: owner and follower by their signed URLs; anonymous, strangers and the blocked get nothing`, () =>
    Effect.gen(function*() {
      const { fan, owner, postId } = yield* privateScene
      const stranger = yield* signup()
      const blocked = yield* signup()
      yield* follow(blocked, owner)
      yield* approveAll(owner)
      yield* request(`/api/v1/users/${blocked.username}/block`, { method: "POST", headers: owner.bearer })

      const mine = yield* largeUrl(owner, postId)
      const theirs = yield* largeUrl(fan, postId)
      assert.match(mine, /\?viewer=[0-9a-f-]{36}&expires=\d+&sig=[A-Za-z0-9_-]{43}$/)
      assert.notStrictEqual(mine, theirs, "each viewer has URLs of their own")
      assertPrivateServe(yield* media(mine, owner.bearer))
      assertPrivateServe(yield* media(theirs, fan.bearer))
      assertPrivateServe(yield* media(theirs, { cookie: fan.cookie }))
      // a capability for its lifetime, like an S3 presigned URL: an <img> on another origin sends no cookie
      assertPrivateServe(yield* media(theirs))

      // the plain URL serves nobody, whoever asks
      for (const who of [{}, stranger.bearer, blocked.bearer, fan.bearer, owner.bearer]) {
        assert.strictEqual((yield* media(plain(theirs), who)).status, 404)
      }
      assert.strictEqual((yield* getPost(null, postId)).status, 404)
      assert.strictEqual((yield* getPost(stranger, postId)).status, 404)
      assert.strictEqual((yield* getPost(blocked, postId)).status, 404)

      // bound to its viewer: refused to anyone signed in as somebody else
      assert.strictEqual((yield* media(theirs, stranger.bearer)).status, 404)
      assert.strictEqual((yield* media(theirs, { cookie: stranger.cookie })).status, 404)
      assert.strictEqual((yield* media(theirs, blocked.bearer)).status, 404)
      assert.strictEqual((yield* media(mine, fan.bearer)).status, 404)

      // tampered: another viewer, a later expiry, a changed signature, another size of the same post
      const u = new URL(theirs, "http://x")
      const swap = (name: string, value: string) => {
        const copy = new URL(u)
        copy.searchParams.set(name, value)
        return copy.pathname + copy.search
      }
      const sig = u.searchParams.get("sig")!
      for (
        const bad of [
          swap("viewer", stranger.id),
          swap("expires", String(expiresOf(theirs) + 60)),
          swap("sig", (sig[0] === "A" ? "B" : "A") + sig.slice(1)),
          swap("sig", "x"),
          swap("expires", "soon"),
          theirs.replace("-w1080.webp", "-w640.webp")
        ]
      ) {
        assert.strictEqual((yield* media(bad)).status, 404, bad)
      }
    }))

  it.scoped(`[${label}] every place a restricted post's media appear carries the viewer's signed URLs: post, grid, feed, notification, post_ready`, () =>
    Effect.gen(function*() {
      const owner = yield* signup({ isPrivate: true })
      const fan = yield* signup()
      yield* follow(fan, owner)
      yield* approveAll(owner)
      const socket = yield* openSocketAs(owner)
      yield* socket.next("hello")
      const postId = yield* publishPost(owner, "for friends")
      const ready = yield* socket.next("post_ready")
      const readyUrl: string = ready.payload.variants.large
      assert.include(readyUrl, `viewer=${owner.id}`)
      // minted by the worker before the frame travelled: on a slow machine it may have run out since
      const served = yield* media(readyUrl, owner.bearer)
      if (served.status !== 200) assert.isAtMost(expiresOf(readyUrl) - Date.now() / 1000, 1, "refused while still valid")
      else assertPrivateServe(served)
      assert.strictEqual((yield* media(plain(ready.payload.variants.large))).status, 404)

      const grid = yield* request(`/api/v1/users/${owner.username}/posts`, { headers: fan.bearer })
      assert.strictEqual(grid.json.items[0].id, postId)
      assertPrivateServe(yield* media(grid.json.items[0].variants.small, fan.bearer))

      let item: any
      for (let i = 0; i < 200 && item === undefined; i++) {
        const feed = yield* request("/api/v1/feed", { headers: fan.bearer })
        item = feed.json.items.find((p: { id: string }) => p.id === postId)
        if (item === undefined) yield* wait(50)
      }
      assert.isDefined(item, "the post reached the follower's feed")
      for (const size of ["thumbnail", "small", "medium", "large"]) {
        assertPrivateServe(yield* media(item.variants[size], fan.bearer))
      }
      assert.include(item.variants.large, `viewer=${fan.id}`)

      yield* request(`/api/v1/posts/${postId}/like`, { method: "POST", headers: fan.bearer })
      let thumbnail: string | undefined
      for (let i = 0; i < 200 && thumbnail === undefined; i++) {
        const page = yield* request("/api/v1/notifications", { headers: owner.bearer })
        thumbnail = page.json.items.find((n: any) => n.post?.id === postId)?.post.thumbnail
        if (thumbnail === undefined) yield* wait(50)
      }
      assert.include(thumbnail, `viewer=${owner.id}`)
      assertPrivateServe(yield* media(thumbnail!, owner.bearer))
    }))

  it.effect(`[${label}] signed URLs expire; unfollowing and blocking revoke the post at once and its media within the URL lifetime`, () =>
    Effect.gen(function*() {
      const { fan, owner, postId } = yield* privateScene
      const other = yield* signup()
      yield* follow(other, owner)
      yield* approveAll(owner)
      const fanUrl = yield* largeUrl(fan, postId)
      const otherUrl = yield* largeUrl(other, postId)
      assertPrivateServe(yield* media(fanUrl, fan.bearer))
      assertPrivateServe(yield* media(otherUrl, other.bearer))

      yield* request(`/api/v1/users/${owner.username}/follow`, { method: "DELETE", headers: fan.bearer })
      yield* request(`/api/v1/users/${other.username}/block`, { method: "POST", headers: owner.bearer })
      assert.strictEqual((yield* getPost(fan, postId)).status, 404, "an ex-follower no longer sees the post")
      assert.strictEqual((yield* getPost(other, postId)).status, 404, "nor does the blocked")

      yield* untilExpired(fanUrl)
      yield* untilExpired(otherUrl)
      assert.strictEqual((yield* media(fanUrl, fan.bearer)).status, 404, "the ex-follower's URL has expired")
      assert.strictEqual((yield* media(fanUrl)).status, 404)
      assert.strictEqual((yield* media(otherUrl, other.bearer)).status, 404, "the blocked one's too")
      // the owner's expired URL is refused too; a fresh one from the post serves
      const old = yield* largeUrl(owner, postId)
      yield* untilExpired(old)
      assert.strictEqual((yield* media(old, owner.bearer)).status, 404)
      assertPrivateServe(yield* media(yield* largeUrl(owner, postId), owner.bearer))
    }))

  it.effect(`[${label}] a public post keeps immutable public caching until its owner goes private: then its plain URL is refused at once`, () =>
    Effect.gen(function*() {
      const owner = yield* signup()
      const fan = yield* signup()
      yield* follow(fan, owner)
      const postId = yield* publishPost(owner, "public for now")
      const url = yield* largeUrl(owner, postId)
      assert.notInclude(url, "?", "a public post's URLs are plain")
      for (const who of [{}, fan.bearer, owner.bearer]) {
        const r = yield* media(url, who)
        assert.strictEqual(r.status, 200)
        assert.strictEqual(r.cacheControl, IMMUTABLE)
      }

      assert.strictEqual((yield* setPrivate(owner, true)).status, 200)
      assert.strictEqual((yield* media(url)).status, 404, "the old plain URL stops at once")
      assert.strictEqual((yield* media(url, fan.bearer)).status, 404)
      const signed = yield* largeUrl(fan, postId)
      assertPrivateServe(yield* media(signed, fan.bearer))

      assert.strictEqual((yield* setPrivate(owner, false)).status, 200)
      const again = yield* media(url)
      assert.strictEqual(again.status, 200, "public again: the plain URL serves again")
      assert.strictEqual(again.cacheControl, IMMUTABLE)
    }))

  it.effect(`[${label}] a private account's avatar stays public`, () =>
    Effect.gen(function*() {
      const owner = yield* signup({ isPrivate: true })
      const r = yield* request("/api/v1/users/me/avatar", {
        method: "PUT",
        headers: owner.bearer,
        body: multipart(yield* Effect.promise(() => plainPng(200, 200)), {}, "a.png", "image/png")
      })
      assert.strictEqual(r.status, 202, r.text)
      let avatar: Record<string, string> | null = null
      for (let i = 0; i < 200 && avatar === null; i++) {
        avatar = (yield* request(`/api/v1/users/${owner.username}`)).json.avatar
        if (avatar === null) yield* wait(50)
      }
      assert.isNotNull(avatar)
      assert.notInclude(avatar!.thumbnail, "?")
      const served = yield* media(avatar!.thumbnail!)
      assert.strictEqual(served.status, 200)
      assert.strictEqual(served.cacheControl, IMMUTABLE)
    }))
}

for (const transport of ["uws", "node"] as const) {
  describe(`private media on ${transport}`, () => {
    layer(TestApp({ ...settings, transport, dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "aperture-priv-")) }), {
      timeout: "120 seconds",
      excludeTestServices: true
    })(suite(transport))
  })
}


describe("private media in S3 redirect mode", () => {
  layer(
    Layer.unwrapScoped(Effect.map(withS3, (endpoint) =>
      TestApp({
        ...settings,
        media: {
          concurrency: 2,
          maxPixels: 40_000_000,
          uploadTtlSeconds: 900,
          uploadSigningKey: Redacted.make("test-signing-key"),
          s3Delivery: "redirect",
          ackWaitSeconds: 30,
          retryDelaysMillis: [50, 50, 50, 50]
        },
        mediaStore: "s3",
        s3: { endpoint, accessKey: Redacted.make("S3RVER"), secretKey: Redacted.make("S3RVER"), bucket: `ap-priv-${Date.now().toString(36)}` }
      }))),
    { timeout: "120 seconds", excludeTestServices: true }
  )((it) => {
    it.effect("a restricted post's signed URL redirects to a presigned GET no longer-lived than itself; its plain URL is a 404", () =>
      Effect.gen(function*() {
        const { fan, postId } = yield* privateScene
        const url = yield* largeUrl(fan, postId)
        const r = yield* media(url, fan.bearer)
        assert.strictEqual(r.status, 302)
        const expires = Number(new URL(r.location!).searchParams.get("X-Amz-Expires"))
        assert.isAtLeast(expires, 1)
        assert.isAtMost(expires, TTL)
        assert.match(r.cacheControl ?? "", /^private, max-age=\d+$/)
        assert.strictEqual((yield* media(plain(url))).status, 404)
        assert.strictEqual((yield* media(url, { authorization: "Bearer " + "x".repeat(43) })).status, 302, "an unknown token is nobody")
        const bytes = yield* Effect.promise(() => fetch(r.location!).then((res) => res.status))
        assert.strictEqual(bytes, 200, "the presigned GET serves the bytes")

        const publicOwner = yield* signup()
        const publicPost = yield* publishPost(publicOwner)
        const publicUrl = (yield* getPost(null, publicPost)).json.variants.large as string
        assert.strictEqual((yield* media(publicUrl)).status, 302, "public posts redirect as before")
      }))
  })
})
