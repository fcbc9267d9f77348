/**
 * Embedding in real headless Chromium, from a page on ANOTHER origin (its own port) and with no
 * server configuration (no CORS_ORIGINS): public `<ap-post>` and `<ap-profile>` render; a person's
 * `<ap-feed>` with a read + like embed token likes a post (the API agrees), with a read token the
 * like is refused and undone; a session token in the attribute is refused with a console error and
 * the widget acts for nobody. Then `/embed` (axe clean) and the settings screens (avatar crop,
 * muted, embed tokens: create, copy once, revoke) at 1280×800 and 390×844 (axe clean, nothing
 * wider than the phone). Screenshots go to test/e2e/artifacts/.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import type * as http from "node:http"
import { type Account, publishPost, request, signup, TestApp } from "../support/app.ts"
import { plainPng } from "../support/images.ts"
import { freePort } from "../support/servers.ts"
import { axe, screenshot, servePage, watch } from "./support/browser.ts"
import { run, useChromium } from "./support/chromium.ts"

const chrome = useChromium()
const { problems } = chrome
let a: Account
let b: Account
let postId: string
const caption = `embedded ${Date.now().toString(36)}`

const mint = (scope: "read" | "read_like") =>
  Effect.map(
    request("/api/v1/users/me/embed-tokens", {
      method: "POST",
      headers: { ...a.bearer, "content-type": "application/json" },
      body: JSON.stringify({ name: `${scope} e2e`, scope })
    }),
    (r) => {
      assert.strictEqual(r.status, 201, r.text)
      return r.json.secret as string
    }
  )

const liked = () => Effect.map(request(`/api/v1/posts/${postId}`, { headers: a.bearer }), (r) => r.json.viewer.isLiked as boolean)

const hostPage = (base: string, token: string, extra = "") => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Someone's blog</title>
<script type="module" src="${base}/widgets/post.js"></script>
<script type="module" src="${base}/widgets/profile.js"></script>
<script type="module" src="${base}/widgets/feed.js"></script>
<style>body { font-family: sans-serif; margin: 1rem } ap-post, ap-feed { --ap-font: Georgia, serif; max-width: 480px }</style>
</head><body><main><h1>My blog</h1>
<h2>A post</h2><ap-post api="${base}" post-id="${postId}"></ap-post>
<h2>A profile</h2><ap-profile api="${base}" username="${b.username}"></ap-profile>
<h2>My feed</h2><ap-feed id="feed" api="${base}" token="${token}"></ap-feed>
${extra}
</main></body></html>`

describe("embedding on another origin, /embed and the settings screens in Chromium", () => {
  // no corsOrigins: public widgets and embed tokens need no server configuration
  layer(TestApp({}), { timeout: "240 seconds", excludeTestServices: true })((it) => {
    it.effect("public widgets and a person's feed with an embed token on another origin; likes only with read_like", () =>
      Effect.gen(function*() {
        ;[a, b] = yield* Effect.all([signup(), signup()])
        assert.strictEqual((yield* request(`/api/v1/users/${b.username}/follow`, { method: "POST", headers: a.bearer })).status, 200)
        postId = yield* publishPost(b, caption)
        const readLike = yield* mint("read_like")
        const readOnly = yield* mint("read")
        const port = yield* freePort
        const other = yield* freePort
        let servers: Array<http.Server> = []
        yield* run(async (base) => {
          servers = [await servePage(port, hostPage(base, readLike)), await servePage(other, hostPage(base, readOnly, `<h2>Pasted wrongly</h2><ap-post id="wrong" api="${base}" post-id="${postId}" token="${a.token}"></ap-post>`))]
          const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } })
          const page = await context.newPage()
          problems.push(...watch(page, "embed-host"))
          await page.goto(`http://localhost:${port}/`)
          assert.notStrictEqual(new URL(page.url()).origin, new URL(base).origin, "the host page is another origin")
          await page.locator("ap-post").first().getByText(caption).waitFor({ timeout: 30_000 })
          await page.locator("ap-profile").getByText(b.username).first().waitFor({ timeout: 30_000 })
          // the feed is virtualized: its posts render once it is in view
          await page.locator("#feed").scrollIntoViewIfNeeded()
          const like = page.locator("ap-feed ap-post [part=like-button]").first()
          await like.waitFor({ timeout: 30_000 })
          assert.strictEqual(await like.getAttribute("aria-pressed"), "false")
          await screenshot(page, "embed-01-host-page")
          const [answer] = await Promise.all([
            page.waitForResponse((r) => r.url().endsWith(`/posts/${postId}/like`) && r.request().method() === "POST"),
            like.click()
          ])
          assert.strictEqual(answer.status(), 200, await answer.text())
          assert.strictEqual(await like.getAttribute("aria-pressed"), "true")
          await context.close()
        })
        assert.isTrue(yield* liked(), "the like went through with read_like")

        yield* run(async (base) => {
          const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } })
          const page = await context.newPage()
          problems.push(...watch(page, "embed-host-read"))
          const consoleErrors: Array<string> = []
          page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()))
          await page.goto(`http://127.0.0.1:${other}/`)
          await page.locator("#feed").scrollIntoViewIfNeeded()
          const like = page.locator("ap-feed ap-post [part=like-button]").first()
          await like.waitFor({ timeout: 30_000 })
          assert.strictEqual(await like.getAttribute("aria-pressed"), "true", "the read token sees the owner's like")
          const [refused] = await Promise.all([
            page.waitForResponse((r) => r.url().endsWith(`/posts/${postId}/like`) && r.request().method() === "DELETE"),
            like.click()
          ])
          assert.strictEqual(refused.status(), 403)
          await page.locator("ap-feed ap-post").first().getByText(/scope/).first().waitFor({ timeout: 15_000 })
          assert.strictEqual(await like.getAttribute("aria-pressed"), "true", "the refused unlike is undone")
          // the session token pasted into an attribute: refused, said so once, and the widget acts for nobody
          assert.isTrue(consoleErrors.some((t) => t.includes("not a session token")), consoleErrors.join("\n"))
          const wrongLike = page.locator("#wrong [part=like-button]")
          await wrongLike.waitFor()
          assert.isTrue(await wrongLike.isDisabled(), "signed in as nobody: Like is off")
          await screenshot(page, "embed-02-read-token-refuses-like")
          await context.close()
        })
        assert.isTrue(yield* liked(), "the read token changed nothing")
        for (const s of servers) s.close()
      }), 180_000)

    it.effect("/embed shows a snippet per widget with this server's origin; axe is clean", () =>
      run(async (base) => {
        const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } })
        const page = await context.newPage()
        problems.push(...watch(page, "embed-page"))
        await page.goto(`${base}/embed`)
        await page.getByRole("heading", { name: "Embed Aperture on your site", level: 1 }).waitFor()
        const text = (await page.locator("main").textContent()) ?? ""
        for (const w of ["post", "profile", "feed"]) assert.include(text, `${base}/widgets/${w}.js`)
        assert.include(text, `<ap-post api="${base}" post-id=`)
        assert.include(text, "--ap-font")
        assert.deepStrictEqual(await axe(page), [], "axe on /embed at 1280×900")
        await screenshot(page, "embed-03-embed-page")
        await page.setViewportSize({ width: 390, height: 844 })
        assert.deepStrictEqual(await axe(page), [], "axe on /embed at 390×844")
        await screenshot(page, "embed-04-embed-page-phone")
        await context.close()
      }), 60_000)

    it.effect("settings: avatar crop, muted accounts and embed tokens at desktop and phone sizes", () =>
      Effect.gen(function*() {
        assert.strictEqual((yield* request(`/api/v1/users/${b.username}/mute`, { method: "POST", headers: a.bearer })).status, 204)
        const png = Buffer.from(yield* Effect.promise(() => plainPng(600, 400)))
        yield* run(async (base) => {
          const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 } })
          await context.addCookies([{ name: "ap_session", value: a.token, url: base }])
          const page = await context.newPage()
          problems.push(...watch(page, "settings-embed"))
          await page.goto(`${base}/settings`)
          const settings = page.locator("ap-settings")
          await settings.getByRole("heading", { name: "Embed tokens" }).waitFor({ timeout: 30_000 })

          await settings.getByRole("button", { name: `Unmute ${b.username}` }).click()
          await settings.getByRole("button", { name: `Undo: mute ${b.username} again` }).waitFor()

          await settings.getByLabel("Name", { exact: true }).fill("My blog")
          await settings.getByLabel("Read and like").check()
          await settings.getByRole("button", { name: "Create token" }).click()
          const secret = settings.locator("#token-secret")
          await secret.waitFor()
          const value = await secret.inputValue()
          assert.match(value, /^ape_[A-Za-z0-9_-]{43}$/)
          assert.include(await settings.locator("#token-snippet").inputValue(), `token="${value}"`)

          await settings.locator("#avatar-file").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: png })
          const crop = settings.locator("#avatar-crop")
          await crop.waitFor()
          await settings.getByLabel("Zoom").fill("1.5")
          await crop.focus()
          await page.keyboard.press("ArrowLeft")
          await screenshot(page, "embed-05-settings-desktop")
          assert.deepStrictEqual(await axe(page), [], "axe on settings at 1280×800")
          await page.setViewportSize({ width: 390, height: 844 })
          assert.deepStrictEqual(await axe(page), [], "axe on settings at 390×844")
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
          assert.isAtMost(overflow, 0, "nothing wider than the phone")
          await settings.getByRole("heading", { name: "Embed tokens" }).scrollIntoViewIfNeeded()
          await screenshot(page, "embed-06-settings-phone")
          await settings.getByRole("button", { name: "Save avatar" }).click()
          await settings.getByText("Avatar saved.").waitFor({ timeout: 15_000 })

          await settings.getByRole("button", { name: "Revoke My blog" }).click()
          await settings.getByRole("button", { name: "Yes, revoke" }).click()
          await settings.locator("[part=token-list]").getByText("My blog").waitFor({ state: "detached" })
          const after = await fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${value}` } })
          assert.strictEqual(after.status, 401, "the revoked token is refused at once")
          await context.close()
        })
        const muted = yield* request("/api/v1/users/me/muted", { headers: a.bearer })
        assert.deepStrictEqual(muted.json.items, [], "unmuted")
      }), 120_000)
  })
})
