/**
 * Accounts and sessions end to end through the HTTP API: sign-up validation, log-in, log-out,
 * session expiry and revocation, ws-tickets, and cross-origin rules (CORS and CSRF).
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { baseUrl, openSocket, openSocketAs, request, signup, TestApp, UpgradeRefused } from "./support/app.ts"

const WIDGET_ORIGIN = "http://widgets.example"

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  request(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) })

describe("accounts", () => {
  // sessions are resolved from the database on every request here: the tests expire them in place
  layer(TestApp({ corsOrigins: [WIDGET_ORIGIN], sessions: { ttlSeconds: 30 * 24 * 60 * 60, cookieSecure: "auto", cacheMillis: 0 } }), { timeout: "60 seconds", excludeTestServices: true })((it) => {
    it.effect("sign-up answers 201 with the user and a token, and sets an HttpOnly SameSite=Lax cookie", () =>
      Effect.gen(function*() {
        const r = yield* post("/api/v1/auth/signup", {
          username: "  Ada.Lovelace ",
          email: "Ada@Example.com",
          password: "analytical engine 1843",
          displayName: "Ada"
        })
        assert.strictEqual(r.status, 201)
        assert.strictEqual(r.json.user.username, "ada.lovelace")
        assert.strictEqual(r.json.user.email, "ada@example.com")
        assert.notProperty(r.json.user, "passwordHash")
        assert.match(r.json.token, /^[A-Za-z0-9_-]{43}$/)
        const [cookie = "", hint] = r.headers.getSetCookie()
        assert.match(cookie, /^ap_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/)
        // the page-readable hint for the boot script: no secret in it, not HttpOnly
        assert.match(hint ?? "", /^ap_signed_in=1; Path=\/; SameSite=Lax; Max-Age=\d+$/)
        assert.strictEqual(r.headers.get("cache-control"), "no-store")
        const me = yield* request("/api/v1/auth/me", { headers: { cookie: cookie.split(";")[0]! } })
        assert.strictEqual(me.json.username, "ada.lovelace")
        const viaBearer = yield* request("/api/v1/auth/me", { headers: { authorization: `Bearer ${r.json.token}` } })
        assert.strictEqual(viaBearer.json.id, r.json.user.id)
      }))

    it.effect("usernames and emails are unique case-insensitively (409 naming the field)", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const sameName = yield* post("/api/v1/auth/signup", {
          username: a.username.toUpperCase(),
          email: "other@example.com",
          password: "a long enough passphrase"
        })
        assert.strictEqual(sameName.status, 409)
        assert.deepStrictEqual(sameName.json.error.details, { field: "username" })
        const sameEmail = yield* post("/api/v1/auth/signup", {
          username: "someone_else",
          email: `${a.username.toUpperCase()}@EXAMPLE.COM`,
          password: "a long enough passphrase"
        })
        assert.strictEqual(sameEmail.status, 409)
        assert.deepStrictEqual(sameEmail.json.error.details, { field: "email" })
      }))

    it.effect("every validation error is a readable 4xx naming the field, and creates nothing", () =>
      Effect.gen(function*() {
        const cases: Array<[unknown, number, string]> = [
          [{ username: "bad name!", email: "x@example.com", password: "long enough pass" }, 400, "username"],
          [{ username: "x".repeat(31), email: "x@example.com", password: "long enough pass" }, 400, "username"],
          [{ username: "okname", email: "not-an-email", password: "long enough pass" }, 400, "email"],
          [{ username: "okname", email: "x@example.com", password: "short" }, 400, "password"],
          [{ username: "okname", email: "x@example.com", password: "p".repeat(129) }, 400, "password"],
          [{ username: "okname", email: "x@example.com" }, 400, "password"],
          [{ username: "okname", email: "x@example.com", password: "password123" }, 422, "password"],
          [{ username: "okname", email: "x@example.com", password: "okname-is-my-password" }, 422, "password"]
        ]
        for (const [body, status, field] of cases) {
          const r = yield* post("/api/v1/auth/signup", body)
          assert.strictEqual(r.status, status, JSON.stringify(body))
          assert.isString(r.json.error.message)
          const fields = r.json.error.details?.field ?? r.json.error.details?.map((d: { path: Array<string> }) => d.path[0])
          assert.include([fields].flat(), field, JSON.stringify(r.json))
        }
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM users WHERE username = 'okname'`
        assert.strictEqual(rows[0]!.n, 0)
        const a = yield* signup()
        const bio = yield* request("/api/v1/users/me", {
          method: "PATCH",
          headers: { ...a.bearer, "content-type": "application/json" },
          body: JSON.stringify({ bio: "b".repeat(151) })
        })
        assert.strictEqual(bio.status, 400)
        const name = yield* request("/api/v1/users/me", {
          method: "PATCH",
          headers: { ...a.bearer, "content-type": "application/json" },
          body: JSON.stringify({ displayName: "d".repeat(65) })
        })
        assert.strictEqual(name.status, 400)
      }))

    it.effect("log-in by username or email; unknown account and wrong password give the same 401", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const byName = yield* post("/api/v1/auth/login", { login: a.username, password: "correct horse battery staple" })
        assert.strictEqual(byName.status, 200)
        assert.strictEqual(byName.json.user.id, a.id)
        const byEmail = yield* post("/api/v1/auth/login", { login: `${a.username.toUpperCase()}@example.com`, password: "correct horse battery staple" })
        assert.strictEqual(byEmail.status, 200)
        const wrong = yield* post("/api/v1/auth/login", { login: a.username, password: "incorrect horse" })
        const unknown = yield* post("/api/v1/auth/login", { login: "nobody_here", password: "incorrect horse" })
        assert.strictEqual(wrong.status, 401)
        assert.strictEqual(unknown.status, 401)
        assert.deepStrictEqual(wrong.json, unknown.json)
      }))

    it.effect("log-out revokes the session and clears the cookie; other sessions live on", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const second = yield* post("/api/v1/auth/login", { login: a.username, password: "correct horse battery staple" })
        const out = yield* request("/api/v1/auth/logout", { method: "POST", headers: a.bearer })
        assert.strictEqual(out.status, 204)
        assert.match(out.headers.getSetCookie()[0] ?? "", /^ap_session=; .*Max-Age=0/)
        assert.match(out.headers.getSetCookie()[1] ?? "", /^ap_signed_in=; .*Max-Age=0/)
        assert.strictEqual((yield* request("/api/v1/auth/me", { headers: a.bearer })).status, 401)
        assert.strictEqual((yield* request("/api/v1/auth/me", { headers: { cookie: a.cookie } })).status, 401)
        const other = yield* request("/api/v1/auth/me", { headers: { authorization: `Bearer ${second.json.token}` } })
        assert.strictEqual(other.status, 200)
      }))

    it.effect("an expired session is refused; a used one slides forward", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const a = yield* signup()
        yield* sql`UPDATE sessions SET refreshed_at = now() - interval '2 hours', expires_at = now() + interval '1 hour'
                   WHERE user_id = ${a.id}`
        assert.strictEqual((yield* request("/api/v1/auth/me", { headers: a.bearer })).status, 200)
        const [slid] = yield* sql<{ days: number }>`
          SELECT extract(epoch FROM expires_at - now()) / 86400 AS days FROM sessions WHERE user_id = ${a.id}`
        assert.isAbove(Number(slid!.days), 29)
        yield* sql`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = ${a.id}`
        const expired = yield* request("/api/v1/auth/me", { headers: a.bearer })
        assert.strictEqual(expired.status, 401)
        assert.strictEqual(expired.json.error.code, "Unauthorized")
        const garbage = yield* request("/api/v1/auth/me", { headers: { authorization: "Bearer not-a-token" } })
        assert.strictEqual(garbage.status, 401)
      }))

    it.scoped("a ws-ticket opens one socket once; without a session or ticket the upgrade is refused", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const t = yield* request("/api/v1/auth/ws-ticket", { method: "POST", headers: a.bearer })
        assert.strictEqual(t.status, 200)
        assert.isAbove(Date.parse(t.json.expiresAt) - Date.now(), 50_000)
        const socket = yield* openSocket(`/ws?ticket=${t.json.ticket}`)
        assert.strictEqual((yield* socket.next("hello")).payload.userId, a.id)
        const reuse = yield* openSocket(`/ws?ticket=${t.json.ticket}`).pipe(Effect.flip)
        assert.deepStrictEqual(reuse, new UpgradeRefused({ status: 401 }))
        const none = yield* openSocket("/ws").pipe(Effect.flip)
        assert.deepStrictEqual(none, new UpgradeRefused({ status: 401 }))
        const bogus = yield* openSocket("/ws?ticket=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").pipe(Effect.flip)
        assert.deepStrictEqual(bogus, new UpgradeRefused({ status: 401 }))
        const anonymous = yield* request("/api/v1/auth/ws-ticket", { method: "POST" })
        assert.strictEqual(anonymous.status, 401)
      }))

    it.scoped("a cookie opens /ws from this origin or an allowed one, never from a foreign origin", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const own = yield* openSocketAs(a, "cookie")
        assert.strictEqual((yield* own.next("hello")).payload.userId, a.id)
        const self = (yield* baseUrl)
        const sameOrigin = yield* openSocket("/ws", { cookie: a.cookie, origin: self })
        yield* sameOrigin.next("hello")
        const widget = yield* openSocket("/ws", { cookie: a.cookie, origin: WIDGET_ORIGIN })
        yield* widget.next("hello")
        const foreign = yield* openSocket("/ws", { cookie: a.cookie, origin: "http://evil.example" }).pipe(Effect.flip)
        assert.deepStrictEqual(foreign, new UpgradeRefused({ status: 401 }))
      }))

    it.effect("CORS: allowlisted origins get full grants; any origin may make anonymous reads", () =>
      Effect.gen(function*() {
        const ok = yield* request("/api/v1/users/me", {
          method: "OPTIONS",
          headers: { origin: WIDGET_ORIGIN, "access-control-request-method": "PATCH" }
        })
        assert.strictEqual(ok.status, 204)
        assert.strictEqual(ok.headers.get("access-control-allow-origin"), WIDGET_ORIGIN)
        assert.include(ok.headers.get("access-control-allow-headers") ?? "", "authorization")
        const denied = yield* request("/api/v1/users/me", {
          method: "OPTIONS",
          headers: { origin: "http://evil.example", "access-control-request-method": "PATCH" }
        })
        assert.strictEqual(denied.status, 403)
        assert.isNull(denied.headers.get("access-control-allow-origin"))
        const a = yield* signup()
        const get = yield* request(`/api/v1/users/${a.username}`, { headers: { origin: WIDGET_ORIGIN } })
        assert.strictEqual(get.headers.get("access-control-allow-origin"), WIDGET_ORIGIN)
        // any other origin may read what anyone may read: an anonymous GET, never with credentials
        const foreign = yield* request(`/api/v1/users/${a.username}`, { headers: { origin: "http://evil.example" } })
        assert.strictEqual(foreign.headers.get("access-control-allow-origin"), "*")
        assert.isNull(foreign.headers.get("access-control-allow-credentials"))
        // but not an answer to a request that carries a session, nor a write
        const withCookie = yield* request(`/api/v1/users/${a.username}`, { headers: { origin: "http://evil.example", cookie: a.cookie } })
        assert.isNull(withCookie.headers.get("access-control-allow-origin"))
        const withToken = yield* request(`/api/v1/users/${a.username}`, { headers: { origin: "http://evil.example", ...a.bearer } })
        assert.isNull(withToken.headers.get("access-control-allow-origin"))
        const write = yield* request("/api/v1/auth/logout", { method: "POST", headers: { origin: "http://evil.example" } })
        assert.isNull(write.headers.get("access-control-allow-origin"))
      }))

    it.effect("CSRF: a cookie-authenticated write from a foreign origin is refused; bearer and allowed origins pass", () =>
      Effect.gen(function*() {
        const a = yield* signup()
        const b = yield* signup()
        const follow = (headers: Record<string, string>) =>
          request(`/api/v1/users/${b.username}/follow`, { method: "POST", headers })
        const forged = yield* follow({ cookie: a.cookie, origin: "http://evil.example" })
        assert.strictEqual(forged.status, 403)
        assert.strictEqual(forged.json.error.code, "Forbidden")
        const forgedReferer = yield* follow({ cookie: a.cookie, referer: "http://evil.example/page" })
        assert.strictEqual(forgedReferer.status, 403)
        const profile = yield* request(`/api/v1/users/${b.username}`, { headers: a.bearer })
        assert.isFalse(profile.json.viewer.isFollowing, "the forged requests changed nothing")
        assert.strictEqual((yield* follow({ ...a.bearer, origin: "http://evil.example" })).status, 200)
        assert.strictEqual((yield* follow({ cookie: a.cookie, origin: WIDGET_ORIGIN })).status, 200)
        assert.strictEqual((yield* follow({ cookie: a.cookie, origin: yield* baseUrl })).status, 200)
      }))
  })
})
