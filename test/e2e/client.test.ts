/**
 * The client end to end in real headless Chromium: two people in two browser contexts use the
 * app at `/` on a test server, and a page on another origin embeds a widget. Each step saves a
 * screenshot under test/e2e/artifacts/.
 */
import { afterAll, assert, beforeAll, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import type * as http from "node:http"
import type { Browser, BrowserContext, Page } from "playwright-core"
import sharp from "sharp"
import { build } from "../../web-components/build.ts"
import { baseUrl, signup, TestApp } from "../support/app.ts"
import { freePort } from "../support/servers.ts"
import { launchChromium, screenshot, servePage, signUp, watch } from "./support/browser.ts"

let widgetPort = 0
/** The app, with the widget page's origin on the CORS allowlist. */
const App = Layer.unwrapEffect(
  Effect.map(freePort, (port) => {
    widgetPort = port
    return TestApp({ corsOrigins: [`http://127.0.0.1:${port}`] })
  })
)

let browser: Browser
const contexts: Array<BrowserContext> = []
const problems: Array<string> = []
let widgetServer: http.Server | undefined

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

/** A photo large enough (~1.5 MB of noise) for the upload to report progress on its way. */
const photo = async () => {
  const width = 1400
  const height = 1000
  const raw = Buffer.alloc(width * height * 3)
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer()
}

const stamp = Date.now().toString(36)
const userA = `alice_${stamp}`
const userB = `bob_${stamp}`
let pageA: Page
let pageB: Page

const likeButton = (page: Page) => page.locator("ap-feed ap-post").first().locator("button.like")

describe("the client in Chromium", () => {
  layer(App, { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.effect("two people sign up in two browsers, and A follows B", () =>
      run(async (base) => {
        for (const [name, user] of [["A", userA], ["B", userB]] as const) {
          const context = await browser.newContext({ viewport: { width: 900, height: 1000 } })
          contexts.push(context)
          const page = await context.newPage()
          problems.push(...watch(page, name))
          await signUp(page, base, user)
          if (name === "A") pageA = page
          else pageB = page
        }
        await screenshot(pageA, "01-a-signed-up-home")
        await pageA.getByRole("link", { name: "Search" }).click()
        await pageA.getByRole("heading", { name: "Search" }).waitFor()
        assert.strictEqual(await pageA.evaluate(() => new URL(location.href).pathname), "/search")
        await pageA.getByRole("combobox").fill(userB)
        await pageA.getByRole("option").filter({ hasText: userB }).first().waitFor()
        await pageA.getByRole("combobox").press("Enter")
        await pageA.locator("ap-profile h2").filter({ hasText: userB }).waitFor()
        assert.strictEqual(await pageA.evaluate(() => location.pathname), `/u/${userB}`)
        await pageA.getByRole("button", { name: "Follow", exact: true }).click()
        await pageA.getByRole("button", { name: "Following" }).waitFor()
        await screenshot(pageA, "02-a-follows-b")
        // back and forward go through the client-side routes
        await pageA.goBack()
        await pageA.getByRole("heading", { name: "Search" }).waitFor()
        await pageA.goForward()
        await pageA.locator("ap-profile h2").filter({ hasText: userB }).waitFor()
        await pageA.getByRole("link", { name: "Home" }).click()
        await pageA.getByRole("heading", { name: "Home" }).waitFor()
      }), 120_000)

    it.effect("B uploads through ap-composer, sees the progress, then the published post", () =>
      run(async (base) => {
        await pageB.goto(`${base}/new`)
        await pageB.getByRole("heading", { name: "New post" }).waitFor()
        await pageB.evaluate(() => {
          const w = window as unknown as { progress: Array<[number, number]>; phases: Array<string> }
          w.progress = []
          w.phases = []
          document.addEventListener("ap-upload-progress", (e) => w.progress.push([e.detail.loaded, e.detail.total]))
          document.addEventListener("ap-post-created", () => w.phases.push("created"))
          document.addEventListener("ap-post-published", () => w.phases.push("published"))
        })
        await pageB.locator("ap-composer input[type=file]").setInputFiles({ name: "noise.jpg", mimeType: "image/jpeg", buffer: await photo() })
        await pageB.locator("ap-composer .frame img").waitFor()
        await pageB.getByLabel("Caption").fill(`Hello from ${userB}`)
        await pageB.getByLabel(/Alt text/).fill("coloured static noise")
        await screenshot(pageB, "03-b-composer-preview")
        await pageB.getByRole("button", { name: "Share" }).click()
        await pageB.getByText(/Processing…|Published!/).first().waitFor()
        await screenshot(pageB, "04-b-uploaded-processing")
        await pageB.getByText("Published!").waitFor({ timeout: 60_000 })
        await pageB.locator("ap-composer ap-post img[part=image]").waitFor()
        await screenshot(pageB, "05-b-published")
        const { progress, phases } = await pageB.evaluate(() => {
          const w = window as unknown as { progress: Array<[number, number]>; phases: Array<string> }
          return { progress: w.progress, phases: w.phases }
        })
        assert.isAbove(progress.length, 0, "the upload reported progress")
        const [loaded, total] = progress[progress.length - 1]!
        assert.strictEqual(loaded, total)
        assert.isAbove(total, 1_000_000)
        assert.deepStrictEqual(phases, ["created", "published"])
        const alt = await pageB.locator("ap-composer ap-post img[part=image]").getAttribute("alt")
        assert.strictEqual(alt, "coloured static noise")
      }), 120_000)

    it.effect("a widget on another origin renders B's public profile, styles kept apart", () =>
      run(async (base) => {
        widgetServer = await servePage(widgetPort, `<!doctype html>
<html><head><meta charset="utf-8"><title>Someone's blog</title>
<style>body { font-family: serif; background: #fafafa } h2 { color: rgb(255, 0, 0) } img { border: 9px solid lime }</style>
<script type="module" src="${base}/widgets/aperture.js"></script>
<script type="module" src="${base}/widgets/aperture.js?twice"></script>
</head><body>
<h2>My blog</h2>
<ap-profile username="${userB}" api="${base}" theme="dark" style="--ap-accent: rgb(0, 128, 0)"></ap-profile>
</body></html>`)
        const context = await browser.newContext({ viewport: { width: 800, height: 900 } })
        contexts.push(context)
        const page = await context.newPage()
        const errors: Array<string> = []
        page.on("pageerror", (e) => errors.push(e.message))
        page.on("console", (m) => {
          if (m.type() === "error") errors.push(m.text())
        })
        await page.goto(`http://127.0.0.1:${widgetPort}/`)
        await page.locator("ap-profile h2").filter({ hasText: userB }).waitFor()
        await page.locator("ap-profile .grid img").first().waitFor()
        await page.waitForFunction(() => {
          const img = document.querySelector("ap-profile")?.shadowRoot?.querySelector<HTMLImageElement>(".grid img")
          return img !== null && img !== undefined && img.complete && img.naturalWidth > 0
        })
        await screenshot(page, "06-widget-on-another-origin")
        const looks = await page.evaluate(() => {
          const root = document.querySelector("ap-profile")!.shadowRoot!
          return {
            heading: getComputedStyle(root.querySelector("h2")!).color,
            imgBorder: getComputedStyle(root.querySelector(".grid img")!).borderTopWidth,
            pageHeading: getComputedStyle(document.querySelector("h2")!).color,
            origin: location.origin
          }
        })
        assert.notStrictEqual(looks.heading, "rgb(255, 0, 0)", "the page's styles do not leak in")
        assert.strictEqual(looks.imgBorder, "0px")
        assert.strictEqual(looks.pageHeading, "rgb(255, 0, 0)", "nor do the widget's leak out")
        assert.notStrictEqual(looks.origin, new URL(base).origin)
        assert.deepStrictEqual(errors, [], "loading the bundle twice is harmless, and an anonymous widget makes no failing calls")
      }), 120_000)

    it.effect("A's feed shows B's post live, without a reload", () =>
      run(async () => {
        const pill = pageA.locator("ap-feed button.pill")
        const post = pageA.locator("ap-feed ap-post").filter({ hasText: `Hello from ${userB}` })
        assert.strictEqual(await pageA.evaluate(() => location.pathname), "/")
        // the pill is what a reader sees; were the frame to land while the feed was (re)loading, the post itself shows
        await pill.or(post).first().waitFor({ timeout: 60_000 })
        await screenshot(pageA, "07-a-new-posts-pill")
        if (await pill.isVisible()) await pill.click()
        await post.waitFor()
        await pageA.waitForFunction(() => {
          const feed = document.querySelector("ap-app")?.shadowRoot?.querySelector("ap-feed")
          const img = feed?.shadowRoot?.querySelector("ap-post")?.shadowRoot?.querySelector<HTMLImageElement>("img[part=image]")
          return img !== null && img !== undefined && img.complete && img.naturalWidth > 0
        })
        await screenshot(pageA, "08-a-feed-shows-post")
      }), 120_000)

    it.effect("A likes it and B's notification badge updates live", () =>
      run(async (base) => {
        await pageB.goto(`${base}/`)
        await pageB.getByRole("heading", { name: "Home" }).waitFor()
        await pageB.waitForFunction(() => {
          const bell = document.querySelector("ap-app")?.shadowRoot?.querySelector("ap-notifications") as { loaded?: boolean } | null
          return bell?.loaded === true
        })
        const badge = pageB.locator("ap-notifications[variant=badge] [part=badge]")
        // A's follow already left B one notification
        const before = (await badge.count()) === 0 ? 0 : Number((await badge.textContent())?.trim())
        await screenshot(pageB, "09-b-badge-before")
        await likeButton(pageA).click()
        await pageA.locator("ap-feed ap-post button.like[aria-pressed=true]").waitFor()
        await screenshot(pageA, "10-a-liked")
        await badge.filter({ hasText: String(before + 1) }).waitFor({ timeout: 30_000 })
        await screenshot(pageB, "11-b-badge-live")
      }), 120_000)

    it.effect("the like survives a reload", () =>
      run(async () => {
        await pageA.reload()
        await pageA.locator("ap-feed ap-post").first().waitFor()
        assert.strictEqual(await likeButton(pageA).getAttribute("aria-pressed"), "true")
        assert.strictEqual((await likeButton(pageA).locator(".count").textContent())?.trim(), "1")
        await screenshot(pageA, "12-a-like-after-reload")
      }), 120_000)

    it.effect("someone else's like, comment and unlike show on A's card live", () =>
      Effect.gen(function*() {
        const carol = yield* signup()
        yield* run(async (base) => {
          const posts = await (await fetch(`${base}/api/v1/users/${userB}/posts`)).json() as { items: Array<{ id: string }> }
          const postId = posts.items[0]!.id
          const card = pageA.locator("ap-feed ap-post").first()
          const count = (button: string) => card.locator(`button.${button} .count`)
          const reaches = (button: string, n: number) =>
            pageA.waitForFunction(({ button, n }) => {
              const feed = document.querySelector("ap-app")?.shadowRoot?.querySelector("ap-feed")
              const text = feed?.shadowRoot?.querySelector("ap-post")?.shadowRoot?.querySelector(`button.${button} .count`)?.textContent
              return text?.trim() === String(n)
            }, { button, n }, { timeout: 30_000 })
          assert.strictEqual((await count("like").textContent())?.trim(), "1")
          const as = { authorization: `Bearer ${carol.token}` }
          assert.strictEqual((await fetch(`${base}/api/v1/posts/${postId}/like`, { method: "POST", headers: as })).status, 200)
          await reaches("like", 2)
          const c = await fetch(`${base}/api/v1/posts/${postId}/comments`, { method: "POST", headers: { ...as, "content-type": "application/json" }, body: JSON.stringify({ text: "lovely" }) })
          assert.strictEqual(c.status, 201)
          await reaches("comment", 1)
          await screenshot(pageA, "12b-a-counts-live")
          assert.strictEqual((await fetch(`${base}/api/v1/posts/${postId}/like`, { method: "DELETE", headers: as })).status, 200)
          await reaches("like", 1)
          // A's own like is still A's
          assert.strictEqual(await likeButton(pageA).getAttribute("aria-pressed"), "true")
        })
      }), 120_000)

    it.effect("a like that fails on the network rolls back with a message", () =>
      run(async () => {
        await likeButton(pageA).click()
        await pageA.locator("ap-feed ap-post button.like[aria-pressed=false]").waitFor()
        await pageA.route("**/api/v1/posts/*/like", (route) => route.abort("internetdisconnected"))
        await likeButton(pageA).click()
        await pageA.locator("ap-feed ap-post [role=alert]").filter({ hasText: "Couldn't like this post" }).waitFor()
        assert.strictEqual(await likeButton(pageA).getAttribute("aria-pressed"), "false")
        assert.strictEqual((await likeButton(pageA).locator(".count").textContent())?.trim(), "0")
        await screenshot(pageA, "13-a-like-rolled-back")
        await pageA.unroute("**/api/v1/posts/*/like")
      }), 120_000)

    it.effect("the app follows the reader's dark colour scheme", () =>
      run(async () => {
        await pageA.emulateMedia({ colorScheme: "dark" })
        const background = await pageA.evaluate(() => getComputedStyle(document.querySelector("ap-app")!).backgroundColor)
        assert.strictEqual(background, "rgb(18, 19, 22)")
        await screenshot(pageA, "14-a-dark-theme")
        await pageA.emulateMedia({ colorScheme: "light" })
        assert.strictEqual(await pageA.evaluate(() => getComputedStyle(document.querySelector("ap-app")!).backgroundColor), "rgb(255, 255, 255)")
        // theme="dark" on the app reaches every element inside it, whatever the system prefers
        const nested = await pageA.evaluate(async () => {
          const app = document.querySelector("ap-app") as HTMLElement & { updateComplete: Promise<unknown> }
          app.setAttribute("theme", "dark")
          await app.updateComplete
          const feed = app.shadowRoot!.querySelector("ap-feed") as HTMLElement & { updateComplete: Promise<unknown> }
          await feed.updateComplete
          const post = feed.shadowRoot!.querySelector("ap-post")!
          return [getComputedStyle(feed).backgroundColor, getComputedStyle(post).backgroundColor]
        })
        assert.deepStrictEqual(nested, ["rgb(18, 19, 22)", "rgb(18, 19, 22)"])
      }), 60_000)
  })
})
