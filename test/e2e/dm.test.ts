/**
 * Direct messages end to end in real headless Chromium: two people who follow each other chat in
 * the app at `/messages` from two browser contexts — typing shown live, messages delivered live,
 * "Seen" receipts — and then one of them writes while offline, reloads, comes back online, and
 * the message reaches the other exactly once. Screenshots go to test/e2e/artifacts/.
 */
import { afterAll, assert, beforeAll, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type * as http from "node:http"
import type { Browser, BrowserContext, Page } from "playwright-core"
import sharp from "sharp"
import { build } from "../../web-components/build.ts"
import { type Account, baseUrl, request, signup, TestApp } from "../support/app.ts"
import { freePort } from "../support/servers.ts"
import { launchChromium, screenshot, servePage, watch } from "./support/browser.ts"

let widgetPort = 0
/** The app, with a page on another origin (its own port) on the CORS allowlist to embed the widgets. */
const App = Layer.unwrapEffect(
  Effect.map(freePort, (port) => {
    widgetPort = port
    return TestApp({ corsOrigins: [`http://127.0.0.1:${port}`] })
  })
)
let widgetServer: http.Server | undefined

let browser: Browser
const problems: Array<string> = []
let a: Account
let b: Account
let contextA: BrowserContext
let pageA: Page
let pageB: Page
let conversationId = ""

beforeAll(async () => {
  await build()
  browser = await launchChromium()
}, 120_000)

afterAll(async () => {
  if (problems.length > 0) console.log(problems.join("\n"))
  widgetServer?.close()
  await browser?.close()
})

const run = <A>(f: (base: string) => Promise<A>) => Effect.flatMap(baseUrl, (base) => Effect.promise(() => f(base)))

/** A browser context signed in as `account` through its session cookie. */
const open = async (base: string, account: Account, label: string) => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } })
  const [name, ...value] = account.cookie.split("=")
  await context.addCookies([{ name: name!, value: value.join("="), url: base }])
  const page = await context.newPage()
  problems.push(...watch(page, label))
  return { context, page }
}

const thread = (page: Page) => page.locator("ap-dm-thread")
const bubble = (page: Page, text: string) => thread(page).locator(".msg").filter({ has: page.locator(".text", { hasText: text }) })

const messagesVia = (account: Account) =>
  Effect.map(
    request(`/api/v1/conversations/${conversationId}/messages?limit=50`, { headers: account.bearer }),
    (r) => (r.json as { items: Array<{ text: string | null; seq: number }> }).items
  )

describe("direct messages in Chromium", () => {
  layer(App, { timeout: "180 seconds", excludeTestServices: true })((it) => {
    it.effect("two people who follow each other open /messages; A starts the thread from B's profile", () =>
      Effect.gen(function*() {
        a = yield* signup()
        b = yield* signup()
        for (const [who, whom] of [[a, b], [b, a]] as const) {
          const r = yield* request(`/api/v1/users/${whom.username}/follow`, { method: "POST", headers: who.bearer })
          assert.strictEqual(r.status, 200, r.text)
        }
        yield* run(async (base) => {
          const sideA = await open(base, a, "A")
          contextA = sideA.context
          pageA = sideA.page
          pageB = (await open(base, b, "B")).page
          await pageB.goto(`${base}/messages`)
          await pageB.getByRole("heading", { name: "Messages", exact: true }).waitFor()
          await pageA.goto(`${base}/u/${b.username}`)
          await pageA.getByRole("button", { name: "Message", exact: true }).click()
          await pageA.waitForURL(/\/messages\/[0-9a-f-]{36}$/)
          conversationId = new URL(pageA.url()).pathname.split("/").pop()!
          await thread(pageA).getByRole("log").waitFor()
          await screenshot(pageA, "dm-01-a-opens-thread")
        })
      }), 180_000)

    it.effect("A's first message reaches B's inbox live; B opens it; typing and replies are live both ways", () =>
      run(async () => {
        const inputA = thread(pageA).getByRole("textbox", { name: "Message" })
        await inputA.fill(`hello ${b.username}`)
        await inputA.press("Enter")
        await bubble(pageA, `hello ${b.username}`).waitFor()
        await bubble(pageA, `hello ${b.username}`).locator(".state").waitFor({ state: "detached", timeout: 30_000 })
        const link = pageB.locator("ap-dm-inbox [part=thread]").filter({ hasText: a.username })
        await link.waitFor({ timeout: 30_000 })
        assert.include(await link.textContent(), `hello ${b.username}`)
        assert.strictEqual((await link.locator("[part=badge]").textContent())?.trim(), "1", "the thread shows one unread")
        await screenshot(pageB, "dm-02-b-inbox-live")
        await link.click()
        await pageB.waitForURL(`**/messages/${conversationId}`)
        await bubble(pageB, `hello ${b.username}`).waitFor()
        // B has it open: A sees "Seen" under the message
        await bubble(pageA, `hello ${b.username}`).locator("[part=seen]").waitFor({ timeout: 30_000 })

        const inputB = thread(pageB).getByRole("textbox", { name: "Message" })
        await inputB.pressSequentially("typing a rep", { delay: 40 })
        await thread(pageA).getByText(`${b.username} is typing…`).waitFor({ timeout: 15_000 })
        await screenshot(pageA, "dm-03-a-sees-typing")
        await inputB.fill("a reply from B")
        await inputB.press("Enter")
        await bubble(pageA, "a reply from B").waitFor({ timeout: 30_000 })
        // the indicator goes when the message comes (or expires), without a refresh
        await thread(pageA).getByText(`${b.username} is typing…`).waitFor({ state: "detached", timeout: 10_000 })
        await bubble(pageB, "a reply from B").locator("[part=seen]").waitFor({ timeout: 30_000 })
        await screenshot(pageB, "dm-04-b-reply-seen")
        assert.strictEqual(await bubble(pageB, "a reply from B").count(), 1)
      }), 180_000)

    it.effect("the thread view is labelled for screen readers and works from the keyboard", () =>
      run(async () => {
        const log = thread(pageA).getByRole("log")
        assert.strictEqual(await log.getAttribute("aria-live"), "polite")
        assert.match((await log.getAttribute("aria-label")) ?? "", new RegExp(`Messages with ${b.username}`))
        await thread(pageA).getByRole("button", { name: "Send" }).waitFor()
        await thread(pageA).getByRole("button", { name: `Reply to ${b.username}` }).first().click()
        assert.isTrue(await thread(pageA).getByRole("textbox", { name: "Message" }).evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement))
        await pageA.keyboard.press("Escape")
        await thread(pageA).locator("[part=reply-preview]").waitFor({ state: "detached" })
        // Shift+Enter is a new line, not a send
        const input = thread(pageA).getByRole("textbox", { name: "Message" })
        await input.fill("line one")
        await input.press("Shift+Enter")
        await input.pressSequentially("line two")
        assert.strictEqual(await input.inputValue(), "line one\nline two")
        await input.press("Enter")
        await bubble(pageB, "line one").waitFor({ timeout: 30_000 })
        // every button in the thread has a name
        const unnamed = await thread(pageA).locator("button").evaluateAll((buttons) =>
          buttons.filter((b) => !(b.getAttribute("aria-label") || b.textContent?.trim())).length
        )
        assert.strictEqual(unnamed, 0)
      }), 120_000)

    it.effect("A sends a photo: upload progress, then B sees it processing and then rendered", () =>
      run(async () => {
        const width = 900
        const height = 600
        const raw = Buffer.alloc(width * height * 3)
        for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24
        const jpeg = await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer()
        await pageA.evaluate(() => {
          const w = window as unknown as { progress: Array<number> }
          w.progress = []
          document.addEventListener("ap-upload-progress", (e) => w.progress.push(e.detail.loaded))
        })
        await thread(pageA).locator("input[type=file]").setInputFiles({ name: "noise.jpg", mimeType: "image/jpeg", buffer: jpeg })
        await thread(pageB).locator(".msg img[part=photo]").last().waitFor({ timeout: 60_000 })
        await pageB.waitForFunction(() => {
          const t = document.querySelector("ap-app")?.shadowRoot?.querySelector("ap-dm-thread")
          const imgs = t?.shadowRoot?.querySelectorAll<HTMLImageElement>("img[part=photo]")
          const img = imgs?.[imgs.length - 1]
          return img !== undefined && img.complete && img.naturalWidth > 0
        })
        const progress = await pageA.evaluate(() => (window as unknown as { progress: Array<number> }).progress)
        assert.isAbove(progress.length, 0, "the upload reported progress")
        assert.strictEqual(progress[progress.length - 1], jpeg.length)
        await screenshot(pageB, "dm-05-b-sees-photo")
      }), 120_000)

    it.effect("a message written offline survives a reload and is delivered exactly once after reconnecting", () =>
      Effect.gen(function*() {
        const text = "written while offline"
        yield* run(async () => {
          await contextA.setOffline(true)
          const input = thread(pageA).getByRole("textbox", { name: "Message" })
          await input.fill(text)
          await input.press("Enter")
          await bubble(pageA, text).getByText(/Waiting for a connection|Sending/).waitFor()
          await screenshot(pageA, "dm-06-a-offline-pending")
          // the reload fails while offline (no page at all), and then works once back online
          const reloaded = await pageA.reload().then(() => true, () => false)
          assert.isFalse(reloaded, "offline, the page itself does not load")
        })
        assert.strictEqual((yield* messagesVia(b)).filter((m) => m.text === text).length, 0, "nothing reached the server while offline")
        yield* run(async (base) => {
          await contextA.setOffline(false)
          await pageA.goto(`${base}/messages/${conversationId}`)
          await bubble(pageA, text).waitFor()
          await bubble(pageA, text).locator(".state").waitFor({ state: "detached", timeout: 30_000 })
          await bubble(pageB, text).waitFor({ timeout: 30_000 })
          // time for a duplicate to show, were there one
          await pageB.waitForTimeout(1_500)
          assert.strictEqual(await bubble(pageB, text).count(), 1, "shown once to the other")
          assert.strictEqual(await bubble(pageA, text).count(), 1, "shown once to the writer")
          await screenshot(pageB, "dm-07-b-offline-message-once")
        })
        const items = yield* messagesVia(b)
        assert.strictEqual(items.filter((m) => m.text === text).length, 1, "stored once")
        const seqs = items.map((m) => m.seq)
        assert.deepStrictEqual(seqs, [...seqs].sort((x, y) => x - y))
        assert.deepStrictEqual(problems.filter((p) => p.includes("pageerror")), [])
      }), 180_000)

    it.effect("the two widgets embed on another origin, given a client in script, and stay live", () =>
      run(async (base) => {
        widgetServer = await servePage(widgetPort, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Someone's site</title>
</head><body><main></main>
<script type="module">
// messages are never within an embed token's scope, and a session token in the markup is refused:
// a site that signs its people in creates the widgets in script and hands them a client
import { clientFor } from "${base}/widgets/aperture.js"
const client = clientFor(${JSON.stringify(base)}, ${JSON.stringify(b.token)})
const inbox = Object.assign(document.createElement("ap-dm-inbox"), { client })
inbox.setAttribute("href", ${JSON.stringify(`${base}/messages`)})
const thread = Object.assign(document.createElement("ap-dm-thread"), { client })
thread.setAttribute("conversation-id", ${JSON.stringify(conversationId)})
thread.style.setProperty("--ap-dm-height", "420px")
document.querySelector("main").append(inbox, thread)
</script>
</body></html>`)
        const context = await browser.newContext({ viewport: { width: 800, height: 1000 } })
        const page = await context.newPage()
        const errors: Array<string> = []
        page.on("pageerror", (e) => errors.push(e.message))
        await page.goto(`http://127.0.0.1:${widgetPort}/`)
        await page.locator("ap-dm-inbox [part=thread]").filter({ hasText: a.username }).waitFor({ timeout: 30_000 })
        await bubble(page, "written while offline").waitFor()
        const input = pageA.locator("ap-dm-thread").getByRole("textbox", { name: "Message" })
        await input.fill("to the embedded widget")
        await input.press("Enter")
        await bubble(page, "to the embedded widget").waitFor({ timeout: 30_000 })
        assert.strictEqual((await page.locator("ap-dm-inbox [part=preview]").first().textContent())?.trim(), "to the embedded widget")
        assert.notStrictEqual(new URL(page.url()).origin, new URL(base).origin)
        await screenshot(page, "dm-08-widgets-on-another-origin")
        assert.deepStrictEqual(errors, [])
        await context.close()
      }), 120_000)
  })
})
