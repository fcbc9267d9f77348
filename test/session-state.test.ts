/**
 * `GET /auth/session` answers anyone: the signed-in account (with `isAdmin` from ADMIN_USERNAMES)
 * or `user: null` — never a 401, so an anonymous page load logs nothing in the console — and a
 * logged-out or garbage token is nobody, not an error.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { request, signup, TestApp } from "./support/app.ts"

const ADMIN = `sess_admin_${Date.now().toString(36)}`

describe("GET /auth/session", () => {
  layer(TestApp({ adminUsernames: [ADMIN] }), { timeout: "60 seconds", excludeTestServices: true })((it) => {
    it.scoped("nobody, someone, an admin, a logged-out token", () =>
      Effect.gen(function*() {
        const anonymous = yield* request("/api/v1/auth/session")
        assert.strictEqual(anonymous.status, 200, anonymous.text)
        assert.deepStrictEqual(anonymous.json, { user: null })
        assert.strictEqual(anonymous.headers.get("cache-control"), "no-store")

        const user = yield* signup()
        const byBearer = yield* request("/api/v1/auth/session", { headers: user.bearer })
        assert.strictEqual(byBearer.json.user.id, user.id)
        assert.strictEqual(byBearer.json.user.isAdmin, false)
        const byCookie = yield* request("/api/v1/auth/session", { headers: { cookie: user.cookie } })
        assert.strictEqual(byCookie.json.user.username, user.username)
        const me = yield* request("/api/v1/auth/me", { headers: user.bearer })
        assert.strictEqual(me.json.isAdmin, false)

        const admin = yield* signup({ username: ADMIN })
        assert.strictEqual((yield* request("/api/v1/auth/session", { headers: admin.bearer })).json.user.isAdmin, true)
        assert.strictEqual((yield* request("/api/v1/auth/me", { headers: admin.bearer })).json.isAdmin, true)

        const garbage = yield* request("/api/v1/auth/session", { headers: { authorization: "Bearer not-a-token" } })
        assert.strictEqual(garbage.status, 200, garbage.text)
        assert.isNull(garbage.json.user)
        const out = yield* request("/api/v1/auth/logout", { method: "POST", headers: user.bearer })
        assert.isBelow(out.status, 300)
        const after = yield* request("/api/v1/auth/session", { headers: user.bearer })
        assert.strictEqual(after.status, 200)
        assert.isNull(after.json.user)
      }))
  })
})
