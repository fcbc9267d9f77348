/**
 * Shared links: `/p/:id` and `/u/:username` answer the app's page with preview tags for what the
 * public may see — nothing of a private author's post, nor whether it exists; dotted usernames
 * work on reload; captions cannot break out of the tags; `/oembed` answers rich embeds for the
 * same URLs and 404s for the rest; the favicon and manifest are served.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { baseUrl, publishPost, request, signup, TestApp } from "./support/app.ts"

const metaOf = (html: string, property: string) => {
  const m = new RegExp(`<meta (?:property|name)="${property.replace(/[.:]/g, "\\$&")}" content="([^"]*)"`).exec(html)
  return m?.[1]
}

describe("shared links: pages, oEmbed, site files", () => {
  layer(TestApp({
    rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 100_000, dmThreadsPerUserPerHour: 10_000 }
  }), { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.scoped("a public post and a dotted profile preview; private, unknown and garbage links give the plain page", () =>
      Effect.gen(function*() {
        const base = yield* baseUrl
        const dotted = `bob.builder${Date.now().toString(36).slice(-4)}`
        const author = yield* signup({ username: dotted })
        const caption = `Sunset "at" <the> pier & more #golden`
        const postId = yield* publishPost(author, caption)

        const page = yield* request(`/p/${postId}`)
        assert.strictEqual(page.status, 200)
        assert.match(page.headers.get("content-type") ?? "", /^text\/html/)
        assert.strictEqual(page.headers.get("cache-control"), "no-cache")
        assert.match(page.text, /<title>@bob\.builder\w* on Aperture: “Sunset &quot;at&quot; &lt;the&gt; pier &amp; more #golden”<\/title>/)
        assert.notInclude(page.text, "<the>")
        assert.strictEqual(metaOf(page.text, "og:type"), "article")
        assert.strictEqual(metaOf(page.text, "og:url"), `${base}/p/${postId}`)
        assert.match(metaOf(page.text, "og:image") ?? "", /^http:\/\/127\.0\.0\.1:\d+\//)
        assert.strictEqual(metaOf(page.text, "twitter:card"), "summary_large_image")
        assert.include(page.text, `type="application/json+oembed" href="${base}/oembed?url=${encodeURIComponent(`${base}/p/${postId}`)}"`)

        // a dotted username is a profile page on reload, not a file
        const profile = yield* request(`/u/${dotted}`)
        assert.strictEqual(profile.status, 200, profile.text)
        assert.match(profile.text, new RegExp(`<title>@${dotted.replace(".", "\\.")} · Aperture</title>`))
        assert.strictEqual(metaOf(profile.text, "og:type"), "profile")
        assert.strictEqual(metaOf(profile.text, "og:url"), `${base}/u/${dotted}`)
        const upper = yield* request(`/u/${dotted.toUpperCase()}`)
        assert.strictEqual(upper.status, 200)
        assert.strictEqual(metaOf(upper.text, "og:url"), `${base}/u/${dotted}`)

        // a private author's post: the plain page, the same as for a post that does not exist
        const secret = yield* signup({ isPrivate: true })
        const hidden = yield* publishPost(secret, "nobody else should read this caption")
        const plain = (yield* request(`/p/${crypto.randomUUID()}`)).text
        const privatePage = yield* request(`/p/${hidden}`)
        assert.strictEqual(privatePage.status, 200)
        assert.notInclude(privatePage.text, "nobody else")
        assert.notInclude(privatePage.text, secret.username)
        assert.strictEqual(privatePage.text, plain)
        assert.isUndefined(metaOf(plain, "og:image"))
        for (const junk of ["/p/not-a-uuid", "/p/x.y", "/u/no_such_user_here", "/u/%E2%80%AE", "/u/a.b.c.d"]) {
          const r = yield* request(junk)
          assert.strictEqual(r.status, 200, `${junk}: ${r.text}`)
          assert.match(r.text, /<title>Aperture<\/title>/, junk)
        }
      }))

    it.scoped("oEmbed for posts and profiles; 404 for private or unknown, 400 for a bad URL; favicon and manifest", () =>
      Effect.gen(function*() {
        const base = yield* baseUrl
        const author = yield* signup()
        const postId = yield* publishPost(author, "oembed me")
        const q = (url: string, extra = "") => request(`/oembed?url=${encodeURIComponent(url)}${extra}`)

        const post = yield* q(`${base}/p/${postId}`, "&format=json&maxwidth=400")
        assert.strictEqual(post.status, 200, post.text)
        assert.strictEqual(post.json.version, "1.0")
        assert.strictEqual(post.json.type, "rich")
        assert.strictEqual(post.json.width, 400)
        assert.strictEqual(post.json.author_url, `${base}/u/${author.username}`)
        assert.include(post.json.html, `post-id="${postId}"`)
        assert.include(post.json.html, `${base}/widgets/post.js`)
        assert.match(post.json.thumbnail_url, /^http:\/\//)

        const profile = yield* q(`${base}/u/${author.username}`)
        assert.strictEqual(profile.status, 200, profile.text)
        assert.include(profile.json.html, `username="${author.username}"`)

        const secret = yield* signup({ isPrivate: true })
        const hidden = yield* publishPost(secret, "private")
        assert.strictEqual((yield* q(`${base}/p/${hidden}`)).status, 404)
        assert.strictEqual((yield* q(`${base}/p/${crypto.randomUUID()}`)).status, 404)
        assert.strictEqual((yield* q(`${base}/explore`)).status, 404)
        assert.strictEqual((yield* q("not a url")).status, 400)
        assert.strictEqual((yield* q(`${base}/p/${postId}`, "&format=xml")).status, 400)
        assert.strictEqual((yield* request("/oembed")).status, 400)

        const icon = yield* request("/favicon.svg")
        assert.strictEqual(icon.status, 200)
        assert.match(icon.headers.get("content-type") ?? "", /image\/svg\+xml/)
        const manifest = yield* request("/manifest.webmanifest")
        assert.strictEqual(manifest.status, 200)
        assert.strictEqual(manifest.json.start_url, "/")
        assert.isNotEmpty(manifest.json.icons)
      }))
  })
})
