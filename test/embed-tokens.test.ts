/**
 * Embed tokens: created, listed and revoked with a session only; the secret is shown once and
 * stored as its SHA-256; a token reads (and with `read_like` likes) and every other request is a
 * 403 naming its scope; a revoked token is refused at once on another node whose cache held it;
 * bad input is a 4xx at its field; the SDK's `token` attribute never takes a session token.
 */
import { HttpApi } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { assert, describe, it as plain, layer } from "@effect/vitest"
import { Effect } from "effect"
import { createHash, randomUUID } from "node:crypto"
import { AppConfig } from "../src/config/AppConfig.ts"
import { Api } from "../src/domain/Api.ts"
import { embedTokenOf } from "../web-components/sdk/embed.ts"
import { type Account, publishPost, request, signup, TestApp } from "./support/app.ts"
import { secondNode } from "./support/servers.ts"

const settings = {
  rateLimits: {
    signupsPerIpPerHour: 10_000,
    loginFailuresPerAccountPer15Min: 50,
    loginFailuresPerIpPer15Min: 500,
    followsPerUserPerHour: 10_000,
    writesPerUserPerMinute: 10_000,
    dmSendsPerUserPerMinute: 100_000,
    dmThreadsPerUserPerHour: 10_000
  }
}

const jsonHeaders = (auth: { readonly authorization: string }) => ({ ...auth, "content-type": "application/json" })
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

const createToken = (owner: Account, body: unknown) =>
  request("/api/v1/users/me/embed-tokens", { method: "POST", headers: jsonHeaders(owner.bearer), body: JSON.stringify(body) })

const mint = (owner: Account, scope: "read" | "read_like", extra: Record<string, unknown> = {}) =>
  Effect.map(createToken(owner, { name: `${scope} widget`, scope, ...extra }), (r) => {
    assert.strictEqual(r.status, 201, r.text)
    return { id: r.json.token.id as string, secret: r.json.secret as string }
  })

describe("embed tokens", () => {
  plain("the SDK's token attribute refuses a session token (once, loudly) and takes an embed token", () => {
    const errors: Array<unknown> = []
    const original = console.error
    console.error = (...args: Array<unknown>) => void errors.push(args.join(" "))
    try {
      const session = "k1Vb2XbG9w1m0mVh1n0yqvJH2y8o4Q6S0rW3oF7Zc5E" // the shape of a session token: 43 base64url characters
      assert.isUndefined(embedTokenOf(session))
      assert.isUndefined(embedTokenOf("anything-else"))
      assert.strictEqual(errors.length, 1, "logged once per page")
      assert.include(String(errors[0]), "not a session token")
      const embed = `ape_${"a".repeat(43)}`
      assert.strictEqual(embedTokenOf(embed), embed)
      assert.isUndefined(embedTokenOf(undefined))
      assert.isUndefined(embedTokenOf(""))
    } finally {
      console.error = original
    }
  })

  layer(TestApp(settings), { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.effect("created with a session, shown once, stored hashed, listed and revoked", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const created = yield* createToken(a, { name: "  My blog  ", scope: "read_like", allowedOrigins: ["https://blog.example"] })
        assert.strictEqual(created.status, 201, created.text)
        assert.strictEqual(created.headers.get("cache-control"), "no-store")
        const secret: string = created.json.secret
        assert.match(secret, /^ape_[A-Za-z0-9_-]{43}$/)
        assert.notStrictEqual(secret, a.token)
        assert.strictEqual(created.json.token.name, "My blog")
        assert.strictEqual(created.json.token.scope, "read_like")
        assert.deepStrictEqual(created.json.token.allowedOrigins, ["https://blog.example"])
        assert.strictEqual(created.json.token.hint, secret.slice(0, 8))

        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql<{ tokenHash: Uint8Array; hint: string }>`SELECT token_hash, hint FROM embed_tokens WHERE user_id = ${a.id}`
        assert.strictEqual(rows.length, 1)
        assert.strictEqual(Buffer.from(rows[0]!.tokenHash).toString("hex"), createHash("sha256").update(secret).digest("hex"))
        const dump = JSON.stringify(yield* sql`SELECT * FROM embed_tokens WHERE user_id = ${a.id}`)
        assert.notInclude(dump, secret.slice(8), "the secret is not stored")

        const list = yield* request("/api/v1/users/me/embed-tokens", { headers: a.bearer })
        assert.strictEqual(list.status, 200)
        assert.strictEqual(list.json.items.length, 1)
        assert.notInclude(list.text, secret, "the list never shows a secret")

        // someone else cannot revoke it
        const b = yield* signup()
        const foreign = yield* request(`/api/v1/users/me/embed-tokens/${created.json.token.id}`, { method: "DELETE", headers: b.bearer })
        assert.strictEqual(foreign.status, 404)
        const revoked = yield* request(`/api/v1/users/me/embed-tokens/${created.json.token.id}`, { method: "DELETE", headers: a.bearer })
        assert.strictEqual(revoked.status, 204, revoked.text)
        assert.strictEqual((yield* request(`/api/v1/users/me/embed-tokens/${created.json.token.id}`, { method: "DELETE", headers: a.bearer })).status, 404)
        assert.strictEqual((yield* request("/api/v1/users/me/embed-tokens", { headers: a.bearer })).json.items.length, 0)
        const me = yield* request("/api/v1/auth/me", { headers: { ...bearer(secret), origin: "https://blog.example" } })
        assert.strictEqual(me.status, 401, "a revoked token is nobody")
      }))

    it.effect("bad input is a 4xx at its field; at most 20 live tokens; creation is rate limited", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        for (const body of [{ name: "", scope: "read" }, { name: "x".repeat(65), scope: "read" }, { name: "w", scope: "write" }, { name: "w" }, {
          name: "w",
          scope: "read",
          allowedOrigins: ["https://blog.example/path"]
        }]) {
          const r = yield* createToken(a, body)
          assert.strictEqual(r.status, 400, `${JSON.stringify(body)}: ${r.text}`)
          assert.strictEqual(r.json.error.code, "BadRequest")
          assert.isString(r.json.error.message)
        }
        assert.strictEqual((yield* request("/api/v1/users/me/embed-tokens", { headers: a.bearer })).json.items.length, 0)
        assert.strictEqual((yield* request(`/api/v1/users/me/embed-tokens/not-a-uuid`, { method: "DELETE", headers: a.bearer })).status, 400)
        assert.strictEqual((yield* request(`/api/v1/users/me/embed-tokens/${randomUUID()}`, { method: "DELETE", headers: a.bearer })).status, 404)
        assert.strictEqual((yield* request("/api/v1/users/me/embed-tokens")).status, 401)

        const ids: Array<string> = []
        for (let i = 0; i < 20; i++) ids.push((yield* mint(a, "read")).id)
        const over = yield* createToken(a, { name: "one more", scope: "read" })
        assert.strictEqual(over.status, 422, over.text)
        assert.strictEqual(over.json.error.details.field, "name")
        assert.include(over.json.error.message, "revoke one")
        assert.strictEqual((yield* request(`/api/v1/users/me/embed-tokens/${ids[0]}`, { method: "DELETE", headers: a.bearer })).status, 204)
        yield* mint(a, "read")

        // 30 creates an hour: 22 so far
        for (let i = 1; i <= 8; i++) {
          assert.strictEqual((yield* request(`/api/v1/users/me/embed-tokens/${ids[i]}`, { method: "DELETE", headers: a.bearer })).status, 204)
          yield* mint(a, "read")
        }
        const limited = yield* createToken(a, { name: "too many", scope: "read" })
        assert.strictEqual(limited.status, 429, limited.text)
        assert.isNotNull(limited.headers.get("retry-after"))
      }))

    it.effect("a read token reads; read_like also likes; everything else is a 403 naming the scope", () =>
      Effect.gen(function*() {
        const [a, b] = yield* Effect.all([signup(), signup()])
        const follow = yield* request(`/api/v1/users/${b.username}/follow`, { method: "POST", headers: a.bearer })
        assert.strictEqual(follow.status, 200, follow.text)
        const postId = yield* publishPost(b, "embedded")
        const read = yield* mint(a, "read")
        const like = yield* mint(a, "read_like")

        for (const path of [
          "/api/v1/auth/session",
          "/api/v1/auth/me",
          "/api/v1/feed",
          `/api/v1/posts/${postId}`,
          `/api/v1/posts/${postId}/comments`,
          `/api/v1/users/${b.username}`,
          `/api/v1/users/${b.username}/posts`,
          `/api/v1/users/${b.username}/followers`,
          "/api/v1/notifications",
          `/api/v1/search/users?q=${b.username}`
        ]) {
          const r = yield* request(path, { headers: bearer(read.secret) })
          assert.strictEqual(r.status, 200, `${path}: ${r.text}`)
        }
        assert.strictEqual((yield* request("/api/v1/auth/session", { headers: bearer(read.secret) })).json.user.id, a.id)
        const post = yield* request(`/api/v1/posts/${postId}`, { headers: bearer(read.secret) })
        assert.isFalse(post.json.viewer.isLiked, "viewer flags are the token owner's")

        // a write with valid input, of every class: engagement, comments, graph, profile, posts, DMs, stories, sessions, tokens
        const writes: ReadonlyArray<readonly [string, string, unknown?]> = [
          ["POST", `/api/v1/posts/${postId}/comments`, { text: "hi" }],
          ["POST", `/api/v1/posts/${postId}/save`],
          ["DELETE", `/api/v1/posts/${postId}`],
          ["PATCH", `/api/v1/posts/${postId}`, { caption: "x" }],
          ["POST", `/api/v1/users/${b.username}/follow`],
          ["DELETE", `/api/v1/users/${b.username}/follow`],
          ["POST", `/api/v1/users/${b.username}/block`],
          ["POST", `/api/v1/users/${b.username}/mute`],
          ["PATCH", "/api/v1/users/me", { bio: "owned" }],
          ["PUT", "/api/v1/users/me/avatar"],
          ["POST", "/api/v1/notifications/read", {}],
          ["POST", "/api/v1/conversations", { memberUsernames: [b.username] }],
          ["POST", "/api/v1/auth/ws-ticket"],
          ["POST", "/api/v1/auth/logout"],
          ["POST", "/api/v1/auth/logout-others"],
          ["POST", "/api/v1/users/me/embed-tokens", { name: "escalate", scope: "read_like" }],
          ["DELETE", `/api/v1/users/me/embed-tokens/${read.id}`],
          ["GET", "/api/v1/users/me/embed-tokens"],
          ["GET", "/api/v1/conversations"],
          ["GET", "/api/v1/stories/feed"],
          ["GET", "/api/v1/users/me/blocks"],
          ["GET", "/api/v1/users/me/muted"],
          ["GET", "/api/v1/follow-requests"]
        ]
        for (const token of [read, like]) {
          const scope = token === read ? "read" : "read_like"
          for (const [method, path, body] of writes) {
            const r = yield* request(path, {
              method,
              headers: body === undefined ? bearer(token.secret) : jsonHeaders(bearer(token.secret)),
              ...(body === undefined ? {} : { body: JSON.stringify(body) })
            })
            assert.strictEqual(r.status, 403, `${scope} ${method} ${path}: ${r.text}`)
            assert.strictEqual(r.json.error.code, "Forbidden")
            assert.include(r.json.error.message, `"${scope}" scope`)
          }
        }
        // nothing of that happened
        assert.strictEqual((yield* request(`/api/v1/posts/${postId}`, { headers: b.bearer })).status, 200)
        assert.strictEqual((yield* request("/api/v1/users/me/embed-tokens", { headers: a.bearer })).json.items.length, 2)
        assert.strictEqual((yield* request(`/api/v1/users/${a.username}`)).json.bio, "")

        const refused = yield* request(`/api/v1/posts/${postId}/like`, { method: "POST", headers: bearer(read.secret) })
        assert.strictEqual(refused.status, 403)
        assert.include(refused.json.error.message, `"read" scope`)
        const liked = yield* request(`/api/v1/posts/${postId}/like`, { method: "POST", headers: bearer(like.secret) })
        assert.strictEqual(liked.status, 200, liked.text)
        assert.isTrue((yield* request(`/api/v1/posts/${postId}`, { headers: a.bearer })).json.viewer.isLiked)
        const unliked = yield* request(`/api/v1/posts/${postId}/like`, { method: "DELETE", headers: bearer(like.secret) })
        assert.strictEqual(unliked.status, 200, unliked.text)

        // every other non-GET route of the contract, whatever its input, never succeeds with an embed token
        const routes: Array<{ method: string; path: string }> = []
        HttpApi.reflect(Api, {
          onGroup: () => {},
          onEndpoint: ({ endpoint }) => void routes.push({ method: endpoint.method, path: endpoint.path })
        })
        const fill = (path: string) =>
          path.replace(/:username/g, b.username).replace(/:id/g, postId).replace(/:seq/g, "1").replace(/:[a-z]+/g, "x")
        for (const route of routes) {
          if (route.method === "GET" || /\/like$/.test(route.path) || route.path.startsWith("/api/v1/auth/sign") || route.path === "/api/v1/auth/login") continue
          const r = yield* request(fill(route.path), { method: route.method, headers: jsonHeaders(bearer(like.secret)), body: "{}" })
          assert.isFalse(r.status >= 200 && r.status < 300, `${route.method} ${route.path} answered ${r.status}`)
        }
      }))

    it.effect("allowed origins: refused from any other page; CORS works from any origin without CORS_ORIGINS", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const pinned = yield* mint(a, "read", { allowedOrigins: ["https://blog.example"] })
        const fromBlog = yield* request("/api/v1/feed", { headers: { ...bearer(pinned.secret), origin: "https://blog.example" } })
        assert.strictEqual(fromBlog.status, 200, fromBlog.text)
        assert.strictEqual(fromBlog.headers.get("access-control-allow-origin"), "*")
        assert.isNull(fromBlog.headers.get("access-control-allow-credentials"))
        const elsewhere = yield* request("/api/v1/feed", { headers: { ...bearer(pinned.secret), origin: "https://evil.example" } })
        assert.strictEqual(elsewhere.status, 403)
        assert.include(elsewhere.json.error.message, "https://blog.example")
        assert.strictEqual((yield* request("/api/v1/feed", { headers: bearer(pinned.secret) })).status, 403, "no page at all is not the blog")

        const preflight = yield* request("/api/v1/posts/x/like", {
          method: "OPTIONS",
          headers: { origin: "https://anyone.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization" }
        })
        assert.strictEqual(preflight.status, 204)
        assert.strictEqual(preflight.headers.get("access-control-allow-origin"), "*")
        assert.include(preflight.headers.get("access-control-allow-headers") ?? "", "authorization")
        // a session token's answer stays unreadable off the allowlist
        const session = yield* request("/api/v1/feed", { headers: { ...a.bearer, origin: "https://anyone.example" } })
        assert.isNull(session.headers.get("access-control-allow-origin"))
      }))

    it.scoped("revoking is instant on another node whose cache holds the token", () =>
      Effect.gen(function*() {
        const config = yield* AppConfig
        const { url: nodeB } = yield* secondNode(config, { SESSION_CACHE_MS: "120000" })
        const a = yield* signup()
        const token = yield* mint(a, "read")
        const onB = () => Effect.promise(() => fetch(`${nodeB}/api/v1/auth/me`, { headers: bearer(token.secret) }).then((r) => r.status))
        assert.strictEqual(yield* onB(), 200)
        assert.strictEqual(yield* onB(), 200, "now in node B's cache")
        const revoked = yield* request(`/api/v1/users/me/embed-tokens/${token.id}`, { method: "DELETE", headers: a.bearer })
        assert.strictEqual(revoked.status, 204)
        assert.strictEqual(yield* onB(), 401, "node B refuses it on the next request")
        assert.strictEqual((yield* request("/api/v1/auth/me", { headers: bearer(token.secret) })).status, 401)
      }), 120_000)
  })
})
