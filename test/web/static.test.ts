/**
 * The web client as the server serves it, on both transports: the app at `/` and at client
 * routes, the widget bundle under its stable and its hashed name with the right caching, and
 * every API path still answered by the API.
 */
import { assert, beforeAll, describe, it as plain, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import { resolveStatic, webAsset } from "../../src/http/Static.ts"
import { build, OUT_DIR } from "../../web-components/build.ts"
import { request, TestApp } from "../support/app.ts"

let hashed = ""
beforeAll(async () => {
  hashed = (await build()).hashedFile
}, 60_000)

describe("resolveStatic", () => {
  plain("maps the app's routes to index.html and the bundle to its two names", () => {
    for (const p of ["/", "/login", "/u/alice", "/p/0b7f1f6e-1111-4c1c-9a1a-2b2b2b2b2b2b", "/notifications"]) {
      assert.strictEqual(resolveStatic(p)?.file, "index.html", p)
      assert.strictEqual(resolveStatic(p)?.cacheControl, "no-cache")
    }
    assert.strictEqual(resolveStatic("/widgets/aperture.js")?.file, "aperture.js")
    assert.notInclude(resolveStatic("/widgets/aperture.js")!.cacheControl, "immutable")
    assert.strictEqual(resolveStatic("/widgets/aperture.0123456789.js")?.cacheControl, "public, max-age=31536000, immutable")
  })

  plain("answers / with a readable 503 page while the client is not built, and 404s a missing bundle", () => {
    const page = webAsset("/", "gzip", "/nonexistent-dist-web")
    assert.strictEqual(page?.status, 503)
    assert.include(new TextDecoder().decode(page!.body), "npm run build:web")
    assert.isUndefined(webAsset("/widgets/aperture.js", "", "/nonexistent-dist-web"))
  })

  plain("never shadows the server's own paths", () => {
    for (const p of ["/api/v1/feed", "/api", "/media/x.webp", "/healthz", "/readyz", "/metrics", "/docs", "/docs/scalar.js", "/ws", "/widgets/other.js", "/widgets/", "/favicon.ico", "/widgets/../api"]) {
      assert.isUndefined(resolveStatic(p), p)
    }
  })
})

for (const transport of ["uws", "node"] as const) {
  describe(`web client on ${transport}`, () => {
    layer(TestApp({ transport }), { timeout: "60 seconds" })((it) => {
      it.effect("serves the app at / and at client routes, uncached, pointing at the hashed bundle", () =>
        Effect.gen(function*() {
          for (const p of ["/", "/u/someone", "/p/abc", "/notifications"]) {
            const r = yield* request(p)
            assert.strictEqual(r.status, 200, p)
            assert.match(r.headers.get("content-type") ?? "", /^text\/html/)
            assert.strictEqual(r.headers.get("cache-control"), "no-cache")
            assert.include(r.text, "<ap-app>")
            assert.include(r.text, `/widgets/${hashed}`)
          }
        }))

      it.effect("serves the bundle: hashed immutable, stable short-lived, gzipped when asked, loadable cross-origin", () =>
        Effect.gen(function*() {
          const source = fs.readFileSync(`${OUT_DIR}/aperture.js`, "utf8")
          const h = yield* request(`/widgets/${hashed}`, { headers: { "accept-encoding": "identity" } })
          assert.strictEqual(h.status, 200)
          assert.match(h.headers.get("content-type") ?? "", /^text\/javascript/)
          assert.strictEqual(h.headers.get("cache-control"), "public, max-age=31536000, immutable")
          assert.strictEqual(h.headers.get("access-control-allow-origin"), "*")
          assert.strictEqual(h.text, source)
          const s = yield* request("/widgets/aperture.js")
          assert.strictEqual(s.status, 200)
          assert.strictEqual(s.headers.get("cache-control"), "public, max-age=300")
          // fetch asks for gzip and decodes it: same script either way
          assert.strictEqual(s.headers.get("content-encoding"), "gzip")
          assert.strictEqual(s.text, source)
          const stale = yield* request("/widgets/aperture.0000000000.js")
          assert.strictEqual(stale.status, 404)
        }))

      it.effect("leaves API, media, docs and operations paths to the API", () =>
        Effect.gen(function*() {
          const unknown = yield* request("/api/v1/nothing-here")
          assert.strictEqual(unknown.status, 404)
          assert.strictEqual(unknown.json.error.code, "NotFound")
          const wrongMethod = yield* request("/api/v1/auth/login")
          assert.strictEqual(wrongMethod.status, 405)
          assert.strictEqual((yield* request("/healthz")).json.status, "ok")
          assert.match((yield* request("/metrics")).text, /# HELP/)
          assert.match((yield* request("/docs")).text, /api-reference/)
          const media = yield* request("/media/nothing.webp")
          assert.strictEqual(media.status, 404)
          assert.strictEqual((yield* request("/favicon.ico")).status, 404)
          const me = yield* request("/api/v1/auth/me")
          assert.strictEqual(me.status, 401)
        }))
    })
  })
}
