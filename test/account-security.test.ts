/**
 * Signing out everywhere else and changing the password: the other sessions end at once — their
 * tokens are refused on the next request (no node's session cache keeps them) and their sockets
 * close with 4401 — while the session that asked keeps working; a wrong current password or a
 * guessable new one is a 422 at its field and changes nothing.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { type Account, openSocketAs, request, signup, TestApp } from "./support/app.ts"

const PASSWORD = "correct horse battery staple"
const json = (a: { readonly bearer: { readonly authorization: string } }) => ({ ...a.bearer, "content-type": "application/json" })

const login = (username: string, password = PASSWORD) =>
  Effect.map(
    request("/api/v1/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ login: username, password }) }),
    (r) => ({ status: r.status, bearer: { authorization: `Bearer ${r.json?.token}` } })
  )

describe("sessions and passwords", () => {
  layer(TestApp({
    rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 50, loginFailuresPerIpPer15Min: 500, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 100_000, dmThreadsPerUserPerHour: 10_000 }
  }), { timeout: "90 seconds", excludeTestServices: true })((it) => {
    it.scoped("log out other sessions: their tokens and sockets end now, this one stays", () =>
      Effect.gen(function*() {
        const a: Account = yield* signup()
        const phone = yield* login(a.username)
        const laptop = yield* login(a.username)
        assert.strictEqual(phone.status, 200)
        // warm the session caches, and hold a socket on the other session
        assert.strictEqual((yield* request("/api/v1/auth/me", { headers: phone.bearer })).status, 200)
        const socket = yield* openSocketAs({ ...a, bearer: phone.bearer })
        yield* socket.next("hello")

        const r = yield* request("/api/v1/auth/logout-others", { method: "POST", headers: a.bearer })
        assert.strictEqual(r.status, 200, r.text)
        assert.strictEqual(r.json.endedSessions, 2)
        assert.strictEqual((yield* request("/api/v1/auth/me", { headers: phone.bearer })).status, 401)
        assert.strictEqual((yield* request("/api/v1/auth/me", { headers: laptop.bearer })).status, 401)
        assert.strictEqual((yield* request("/api/v1/auth/me", { headers: a.bearer })).status, 200)
        assert.strictEqual((yield* socket.waitClosed()).code, 4401)
        assert.strictEqual((yield* request("/api/v1/auth/logout-others", { method: "POST" })).status, 401)
      }))

    it.scoped("change password: checks the current one, refuses a guessable one, ends the other sessions", () =>
      Effect.gen(function*() {
        const a: Account = yield* signup()
        const other = yield* login(a.username)
        const change = (body: unknown) => request("/api/v1/auth/password", { method: "POST", headers: json(a), body: JSON.stringify(body) })

        const wrong = yield* change({ currentPassword: "not my password", newPassword: "a brand new long secret" })
        assert.strictEqual(wrong.status, 422, wrong.text)
        assert.strictEqual(wrong.json.error.details.field, "currentPassword")
        const easy = yield* change({ currentPassword: PASSWORD, newPassword: "password123" })
        assert.strictEqual(easy.status, 422, easy.text)
        assert.strictEqual(easy.json.error.details.field, "newPassword")
        const short = yield* change({ currentPassword: PASSWORD, newPassword: "short" })
        assert.strictEqual(short.status, 400, short.text)
        // nothing changed so far
        assert.strictEqual((yield* login(a.username)).status, 200)
        assert.strictEqual((yield* request("/api/v1/auth/me", { headers: other.bearer })).status, 200)

        const ok = yield* change({ currentPassword: PASSWORD, newPassword: "violet kettle under the stairs" })
        assert.strictEqual(ok.status, 200, ok.text)
        assert.strictEqual(ok.json.endedSessions, 2)
        assert.strictEqual((yield* login(a.username)).status, 401)
        assert.strictEqual((yield* login(a.username, "violet kettle under the stairs")).status, 200)
        assert.strictEqual((yield* request("/api/v1/auth/me", { headers: other.bearer })).status, 401)
        assert.strictEqual((yield* request("/api/v1/auth/me", { headers: a.bearer })).status, 200)
      }))
  })
})
