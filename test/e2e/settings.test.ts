/**
 * The settings page in real headless Chromium against a real server: a person signs up, opens
 * /settings from the header, makes the account private (the API agrees), changes the password
 * (first with a wrong current one: the error shows at that field; then rightly: the new password
 * logs in), signs out every other session (another session's token is refused), and unblocks an
 * account. axe finds nothing serious or critical at desktop and phone sizes, and every button is at
 * least 44 px tall at 390 px wide. Screenshots go to test/e2e/artifacts/.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import type { Page } from "playwright-core"
import { type Account, request, signup, TestApp } from "../support/app.ts"
import { axe, screenshot, signUp, watch } from "./support/browser.ts"
import { run, useChromium } from "./support/chromium.ts"

const chrome = useChromium()
const { problems } = chrome
let page: Page
let blocked: Account
const username = `set_${Date.now().toString(36)}`
const firstPassword = "plum otter window 41"
const secondPassword = "violet tapir orbit 77"

const login = (password: string) =>
  request("/api/v1/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ login: username, password }) })

const settings = () => page.locator("ap-settings")
const errorAt = (id: string) => settings().locator(`#${id}-error`)

describe("the settings page in Chromium", () => {
  layer(TestApp({}), { timeout: "240 seconds", excludeTestServices: true })((it) => {
    it.effect("sign up, open Settings from the header, and make the account private", () =>
      Effect.gen(function*() {
        blocked = yield* signup()
        yield* run(async (base) => {
          const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 } })
          page = await context.newPage()
          problems.push(...watch(page, "settings"))
          await signUp(page, base, username, firstPassword)
          await page.getByRole("navigation", { name: "Main" }).getByRole("button", { name: "More" }).click()
          await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click()
          await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor()
          assert.strictEqual(new URL(page.url()).pathname, "/settings")
          await settings().getByLabel("Display name").fill("Settings Person")
          await settings().getByRole("button", { name: "Save" }).click()
          await settings().getByRole("status").filter({ hasText: "Saved" }).waitFor()
          const toggle = settings().getByRole("switch", { name: "Private account" })
          assert.isFalse(await toggle.isChecked())
          await toggle.click()
          await page.waitForFunction(() => (document.querySelector("ap-app")!.shadowRoot!.querySelector("ap-settings") as unknown as { me?: { isPrivate: boolean } }).me?.isPrivate === true)
          await screenshot(page, "settings-01-private")
        })
        const profile = yield* request(`/api/v1/users/${username}`)
        assert.strictEqual(profile.status, 200, profile.text)
        assert.isTrue(profile.json.isPrivate, "the API says the account is private")
        assert.strictEqual(profile.json.displayName, "Settings Person")
      }), 120_000)

    it.effect("a wrong current password shows at that field; the right one changes it", () =>
      Effect.gen(function*() {
        const other = yield* login(firstPassword)
        assert.strictEqual(other.status, 200, other.text)
        yield* run(async () => {
          const current = settings().getByLabel("Current password")
          await current.fill("not my password")
          await settings().getByLabel("New password").fill(secondPassword)
          await settings().getByRole("button", { name: "Change password" }).click()
          await errorAt("currentPassword").filter({ hasText: "current password is not right" }).waitFor()
          assert.strictEqual(await current.getAttribute("aria-invalid"), "true")
          assert.include(await current.getAttribute("aria-describedby"), "currentPassword-error")
          assert.isTrue(await current.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement), "focus is on the field in error")
          await screenshot(page, "settings-02-wrong-current")
          await current.fill(firstPassword)
          await settings().getByLabel("New password").fill(secondPassword)
          await settings().getByRole("button", { name: "Change password" }).click()
          await settings().getByText("Password changed; 1 other session was signed out.").waitFor()
          assert.isFalse(await errorAt("currentPassword").isVisible())
        })
        const stale = yield* request("/api/v1/auth/me", { headers: { authorization: `Bearer ${other.json.token}` } })
        assert.strictEqual(stale.status, 401, "the session from before the change ended")
        assert.strictEqual((yield* login(firstPassword)).status, 401, "the old password no longer works")
        const fresh = yield* login(secondPassword)
        assert.strictEqual(fresh.status, 200, fresh.text)
        const me = yield* request("/api/v1/auth/me", { headers: { authorization: `Bearer ${fresh.json.token}` } })
        assert.strictEqual(me.json.username, username)
      }), 120_000)

    it.effect("Sign out of all other sessions (after the confirm step) ends another session's token", () =>
      Effect.gen(function*() {
        const other = yield* login(secondPassword)
        assert.strictEqual(other.status, 200, other.text)
        const bearer = { authorization: `Bearer ${other.json.token}` }
        const b = yield* request(`/api/v1/users/${blocked.username}/block`, { method: "POST", headers: bearer })
        assert.strictEqual(b.status, 204, b.text)
        yield* run(async () => {
          await settings().getByRole("button", { name: "Sign out of all other sessions" }).click()
          await settings().getByRole("button", { name: "Yes, sign them out" }).click()
          await settings().getByText(/^Signed out of [1-9]\d* other sessions?\.$/).waitFor()
        })
        const after = yield* request("/api/v1/auth/me", { headers: bearer })
        assert.strictEqual(after.status, 401, "the other session is signed out")
      }), 120_000)

    it.effect("unblocks a blocked account; axe is clean and buttons are 44 px at 1280×800 and 390×844", () =>
      Effect.gen(function*() {
        yield* run(async () => {
          await page.reload()
          const unblock = settings().getByRole("button", { name: `Unblock ${blocked.username}` })
          await unblock.waitFor()
          assert.deepStrictEqual(await axe(page), [], "axe at 1280×800")
          await page.setViewportSize({ width: 390, height: 844 })
          assert.deepStrictEqual(await axe(page), [], "axe at 390×844")
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
          assert.isAtMost(overflow, 0, "nothing wider than the phone")
          const heights = await settings().locator("button").evaluateAll((buttons) => buttons.map((b) => Math.round(b.getBoundingClientRect().height)))
          assert.isNotEmpty(heights)
          for (const h of heights) assert.isAtLeast(h, 44, `button heights ${heights.join(", ")}`)
          await screenshot(page, "settings-03-phone")
          await unblock.click()
          await settings().getByRole("button", { name: `Undo: block ${blocked.username} again` }).waitFor()
          await screenshot(page, "settings-04-unblocked")
        })
        const seen = yield* request(`/api/v1/users/${username}`, { headers: blocked.bearer })
        assert.strictEqual(seen.status, 200, `the unblocked account can see the profile again: ${seen.text}`)
        assert.isFalse(seen.json.viewer?.blocked ?? false)
        const fresh = yield* login(secondPassword)
        const list = yield* request("/api/v1/users/me/blocks", { headers: { authorization: `Bearer ${fresh.json.token}` } })
        assert.deepStrictEqual(list.json.items, [], list.text)
      }), 120_000)
  })
})
