/**
 * The web client as the server serves it, on both transports: the app at `/` and at client
 * routes, each entry (the whole bundle, the app, every widget) under its stable and its hashed
 * name and the chunks they share with the right caching, brotli or gzip as the client accepts,
 * and every API path still answered by the API.
 */
import { assert, beforeAll, describe, it as plain, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as zlib from "node:zlib"
import { accepts, resolveStatic, webAsset } from "../../src/http/Static.ts"
import { build, OUT_DIR } from "../../web-components/build.ts"
import { request, TestApp } from "../support/app.ts"

let hashed = ""
let appHashed = ""
let chunk = ""
beforeAll(async () => {
  const built = await build()
  hashed = built.hashedFile
  appHashed = built.entries.app.hashedFile
  chunk = built.entries.post.chunks[0]!
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
    for (const name of ["post", "feed", "profile", "story-tray", "app"]) {
      assert.strictEqual(resolveStatic(`/widgets/${name}.js`)?.cacheControl, "public, max-age=300", name)
      assert.strictEqual(resolveStatic(`/widgets/${name}.0123456789.js`)?.cacheControl, "public, max-age=31536000, immutable", name)
      assert.isTrue(resolveStatic(`/widgets/${name}.js`)?.crossOrigin, name)
    }
    assert.strictEqual(resolveStatic("/widgets/chunk-AB12CD34.js")?.file, "chunk-AB12CD34.js")
    assert.strictEqual(resolveStatic("/widgets/chunk-AB12CD34.js")?.cacheControl, "public, max-age=31536000, immutable")
  })

  plain("reads Accept-Encoding as RFC 9110 does: listed or *, and q=0 refuses", () => {
    assert.isTrue(accepts("gzip, deflate, br, zstd", "br"))
    assert.isTrue(accepts("gzip;q=1.0, br;q=0.8", "br"))
    assert.isFalse(accepts("gzip, br;q=0", "br"))
    assert.isFalse(accepts("gzip", "br"))
    assert.isFalse(accepts("", "gzip"))
    assert.isTrue(accepts("*", "br"))
    assert.isFalse(accepts("*, br;q=0", "br"))
    assert.isTrue(accepts("identity, *;q=0.5", "gzip"))
  })

  plain("picks brotli over gzip when both are accepted, gzip when only it is, and names the encoding", () => {
    const source = fs.readFileSync(`${OUT_DIR}/post.js`)
    for (const [accept, encoding, suffix] of [["gzip, deflate, br", "br", ".br"], ["br;q=0.5, gzip", "br", ".br"], ["gzip", "gzip", ".gz"], ["gzip, br;q=0", "gzip", ".gz"]] as const) {
      const r = webAsset("/widgets/post.js", accept)!
      assert.strictEqual(r.headers["content-encoding"], encoding, accept)
      assert.strictEqual(r.headers["vary"], "accept-encoding")
      assert.deepStrictEqual(Buffer.from(r.body), fs.readFileSync(`${OUT_DIR}/post.js${suffix}`), accept)
    }
    const plainBody = webAsset("/widgets/post.js", "identity")!
    assert.isUndefined(plainBody.headers["content-encoding"])
    assert.deepStrictEqual(Buffer.from(plainBody.body), source)
    assert.deepStrictEqual(zlib.brotliDecompressSync(webAsset("/widgets/post.js", "br")!.body), source)
  })

  plain("answers / with a readable 503 page while the client is not built, and 404s a missing bundle", () => {
    const page = webAsset("/", "gzip", "/nonexistent-dist-web")
    assert.strictEqual(page?.status, 503)
    assert.include(new TextDecoder().decode(page!.body), "npm run build:web")
    assert.isUndefined(webAsset("/widgets/aperture.js", "", "/nonexistent-dist-web"))
  })

  plain("never shadows the server's own paths", () => {
    for (const p of ["/api/v1/feed", "/api", "/media/x.webp", "/healthz", "/readyz", "/metrics", "/docs", "/docs/scalar.js", "/ws", "/widgets/other.js", "/widgets/other.0123456789.js", "/widgets/chunk-lower123.js", "/widgets/index.html", "/widgets/", "/favicon.ico", "/widgets/../api"]) {
      assert.isUndefined(resolveStatic(p), p)
    }
  })
})

for (const transport of ["uws", "node"] as const) {
  describe(`web client on ${transport}`, () => {
    layer(TestApp({ transport }), { timeout: "60 seconds", excludeTestServices: true })((it) => {
      it.effect("serves the app at / and at client routes, uncached, pointing at the app's hashed entry", () =>
        Effect.gen(function*() {
          for (const p of ["/", "/u/someone", "/p/abc", "/notifications"]) {
            const r = yield* request(p)
            assert.strictEqual(r.status, 200, p)
            assert.match(r.headers.get("content-type") ?? "", /^text\/html/)
            assert.strictEqual(r.headers.get("cache-control"), "no-cache")
            assert.include(r.text, "<ap-app>")
            assert.include(r.text, `/widgets/${appHashed}`)
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
          // fetch asks for gzip over plain http, and decodes it: same script either way
          assert.strictEqual(s.headers.get("content-encoding"), "gzip")
          assert.strictEqual(s.text, source)
          const b = yield* request("/widgets/aperture.js", { headers: { "accept-encoding": "gzip, deflate, br" } })
          assert.strictEqual(b.headers.get("content-encoding"), "br")
          assert.strictEqual(b.text, source)
          // on the wire too: a shared cache keeps one copy per encoding (and per origin, for CORS)
          assert.match(b.headers.get("vary") ?? "", /accept-encoding/i)
          assert.match(b.headers.get("vary") ?? "", /origin/i)
          const stale = yield* request("/widgets/aperture.0000000000.js")
          assert.strictEqual(stale.status, 404)
          for (const p of ["/widgets/post.js", `/widgets/${chunk}`]) {
            const w = yield* request(p, { headers: { "accept-encoding": "br, gzip" } })
            assert.strictEqual(w.status, 200, p)
            assert.match(w.headers.get("content-type") ?? "", /^text\/javascript/)
            assert.strictEqual(w.headers.get("content-encoding"), "br", p)
            assert.strictEqual(w.headers.get("access-control-allow-origin"), "*", p)
            assert.strictEqual(w.text, fs.readFileSync(`${OUT_DIR}${p.slice("/widgets".length)}`, "utf8"), p)
          }
          assert.strictEqual((yield* request(`/widgets/${chunk}`)).headers.get("cache-control"), "public, max-age=31536000, immutable")
          assert.strictEqual((yield* request("/widgets/chunk-ZZZZZZZZ.js")).status, 404)
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
          // the site's icon is served (src/http/Site.ts); other top-level files are the API's 404
          assert.strictEqual((yield* request("/favicon.ico")).status, 200)
          assert.strictEqual((yield* request("/robots-unknown.txt")).status, 404)
          const me = yield* request("/api/v1/auth/me")
          assert.strictEqual(me.status, 401)
        }))
    })
  })
}
