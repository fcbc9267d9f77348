/**
 * The home feed for keyboard and assistive-technology users, in real headless Chromium: a reader
 * who follows an author with a dozen posts tabs from the feed into the first post's Like, Comment
 * and Save and on into the next post; PageDown moves between articles; the focus ring has 3:1
 * contrast in both schemes and survives forced colours; Back from a post restores the scroll
 * position, within the app and into a reloaded document; the "new posts" pill shows below the
 * sticky header, politely live; axe finds nothing serious or critical on the feed, a post page, a
 * profile, search results and the other routes at desktop and phone sizes. Screenshots go to
 * test/e2e/artifacts/.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import type { Page } from "playwright-core"
import { type Account, publishPost, request, signup, TestApp } from "../support/app.ts"
import { axe, screenshot, watch } from "./support/browser.ts"
import { run, useChromium } from "./support/chromium.ts"

const settings = {
  rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 10_000, dmThreadsPerUserPerHour: 10_000 }
}

const chrome = useChromium()
const { problems } = chrome
let reader: Account
let author: Account
let page: Page
let postIds: Array<string> = []

/** What has focus, down through the shadow roots: its part or tag, and the post it belongs to. */
const focused = (p: Page) =>
  p.evaluate(() => {
    let el = document.activeElement
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement
    if (!el) return { what: "none", post: null as string | null }
    let host: Node | null = el
    while (host && !(host instanceof HTMLElement && host.localName === "ap-post")) {
      const root = host.getRootNode()
      host = root instanceof ShadowRoot ? root.host : null
    }
    const post = host ? ((host as unknown as { post?: { id: string } }).post?.id ?? null) : null
    return { what: el.getAttribute("part") ?? el.localName, post }
  })

const feedPosts = (p: Page) => p.locator("ap-feed ap-post")
const feedOrder = (p: Page) =>
  p.evaluate(() => {
    const feed = document.querySelector("ap-app")!.shadowRoot!.querySelector("ap-feed") as unknown as { items: Array<{ id: string }> }
    return feed.items.map((i) => i.id)
  })

const contrast = (a: [number, number, number], b: [number, number, number]) => {
  const lum = ([r, g, bl]: [number, number, number]) => {
    const c = [r, g, bl].map((v) => {
      const s = v / 255
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4
    })
    return 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!
  }
  const [x, y] = [lum(a), lum(b)].sort((m, n) => n - m)
  return (x! + 0.05) / (y! + 0.05)
}

/** The focused element's outline, and the first opaque background behind it (through shadow hosts). */
const ring = (p: Page) =>
  p.evaluate(() => {
    let el = document.activeElement
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement
    const style = getComputedStyle(el!)
    let bg = "rgba(0, 0, 0, 0)"
    let node: Element | null = el!.parentElement ?? ((el!.getRootNode() as ShadowRoot).host ?? null)
    while (node) {
      const b = getComputedStyle(node).backgroundColor
      if (!/rgba\(.*, 0\)$/.test(b) && b !== "transparent") {
        bg = b
        break
      }
      const root = node.getRootNode()
      node = node.parentElement ?? (root instanceof ShadowRoot ? root.host : null)
    }
    return { color: style.outlineColor, style: style.outlineStyle, width: parseFloat(style.outlineWidth), bg }
  })
const rgb = (s: string): [number, number, number] => {
  const [r, g, b] = s.match(/[\d.]+/g)!.map(Number)
  return [r!, g!, b!]
}

/**
 * Scrolls the page to `y` and waits until it stays there: just after a Back the app may still be
 * restoring the previous offset (for up to ~90 frames), and would scroll a single scrollTo away.
 */
const scrollTo = (y: number) =>
  page.waitForFunction((to) => {
    if (Math.abs(window.scrollY - to) >= 2) window.scrollTo(0, to)
    return Math.abs(window.scrollY - to) < 2
  }, y, { polling: 100 })

describe("the feed for keyboard and screen-reader users, in Chromium", () => {
  layer(TestApp(settings), { timeout: "300 seconds", excludeTestServices: true })((it) => {
    it.effect("a reader follows an author with twelve posts", () =>
      Effect.gen(function*() {
        reader = yield* signup()
        author = yield* signup()
        const r = yield* request(`/api/v1/users/${author.username}/follow`, { method: "POST", headers: reader.bearer })
        assert.strictEqual(r.status, 200, r.text)
        for (let i = 1; i <= 12; i++) postIds.push(yield* publishPost(author, `photo number ${i}`))
        yield* run(async (base) => {
          const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 } })
          const [name, ...value] = reader.cookie.split("=")
          await context.addCookies([{ name: name!, value: value.join("="), url: base }])
          page = await context.newPage()
          problems.push(...watch(page, "reader"))
          await page.goto(`${base}/`)
          await page.getByRole("heading", { name: "Home" }).waitFor()
          await feedPosts(page).first().waitFor()
          await page.waitForFunction(() => (document.querySelector("ap-app")?.shadowRoot?.querySelector("ap-feed") as unknown as { items?: Array<unknown> } | null)?.items?.length === 12)
          await screenshot(page, "a11y-01-feed")
        })
      }), 300_000)

    it.effect("Tab reaches the first post's Like, Enter likes it, and Tab goes on through Comment and Save into the next post", () =>
      Effect.gen(function*() {
        const order = yield* run(() => feedOrder(page))
        const [first, second] = order
        const walk: Array<{ what: string; post: string | null }> = []
        yield* run(async () => {
          await page.locator("ap-app h1").first().focus()
          for (let i = 0; i < 60; i++) {
            await page.keyboard.press("Tab")
            const f = await focused(page)
            walk.push(f)
            if (f.post === first && f.what === "like-button") break
          }
          assert.deepStrictEqual(walk[walk.length - 1], { what: "like-button", post: first! }, JSON.stringify(walk))
          // the page scrolled the focused button clear of the sticky header (scroll-padding-top)
          const header = await page.locator("ap-app header").first().boundingBox()
          const like = await feedPosts(page).first().locator("button.like").boundingBox()
          assert.isAtLeast(like!.y, header!.y + header!.height, "the focused Like is not under the header")
          assert.isAtMost(like!.y + like!.height, 800)
          await screenshot(page, "a11y-02-like-focused")
          await page.keyboard.press("Enter")
          await feedPosts(page).first().locator("button.like[aria-pressed=true]").waitFor()
          assert.strictEqual((await feedPosts(page).first().locator("button.like .count").textContent())?.trim(), "1")
        })
        // the like reached the server
        let liked = false
        for (let i = 0; i < 50 && !liked; i++) {
          const p = yield* request(`/api/v1/posts/${first}`, { headers: reader.bearer })
          liked = p.json?.viewer?.isLiked === true && p.json?.counts?.likes === 1
          if (!liked) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 100)))
        }
        assert.isTrue(liked, "the server has the like")
        yield* run(async () => {
          const after: Array<{ what: string; post: string | null }> = []
          for (let i = 0; i < 20; i++) {
            await page.keyboard.press("Tab")
            const f = await focused(page)
            after.push(f)
            if (f.post === second && f.what === "like-button") break
          }
          const trail = JSON.stringify(after)
          assert.deepStrictEqual(after.slice(0, 2), [{ what: "comment-button", post: first! }, { what: "save-button", post: first! }], trail)
          assert.deepStrictEqual(after[after.length - 1], { what: "like-button", post: second! }, trail)
          // reading order: never back to an earlier post
          const seen = after.map((f) => order.indexOf(f.post ?? "")).filter((i) => i >= 0)
          assert.deepStrictEqual(seen, [...seen].sort((a, b) => a - b), trail)
          await screenshot(page, "a11y-03-next-post")
          // PageDown and PageUp move between the feed's articles
          await page.keyboard.press("PageDown")
          const down = await page.evaluate(() => {
            let el = document.activeElement
            while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement
            return el?.getAttribute("aria-posinset")
          })
          assert.strictEqual(down, "3")
          await page.keyboard.press("PageUp")
          const up = await page.evaluate(() => {
            let el = document.activeElement
            while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement
            return [el?.localName, el?.getAttribute("aria-posinset")]
          })
          assert.deepStrictEqual(up, ["article", "2"])
        })
      }), 120_000)

    it.effect("the focus ring has 3:1 contrast in light and dark, and stays under forced colours", () =>
      run(async () => {
        await feedPosts(page).first().locator("button.like").focus()
        await page.keyboard.press("Shift+Tab")
        await page.keyboard.press("Tab")
        for (const scheme of ["light", "dark"] as const) {
          await page.emulateMedia({ colorScheme: scheme })
          const r = await ring(page)
          assert.notStrictEqual(r.style, "none", scheme)
          assert.isAtLeast(r.width, 2, scheme)
          const ratio = contrast(rgb(r.color), rgb(r.bg))
          assert.isAtLeast(ratio, 3, `${scheme}: ${r.color} on ${r.bg} is ${ratio.toFixed(2)}:1`)
          await screenshot(page, `a11y-04-focus-ring-${scheme}`)
        }
        await page.emulateMedia({ colorScheme: "light", forcedColors: "active" })
        const forced = await ring(page)
        assert.notStrictEqual(forced.style, "none", "forced colours keep the outline")
        assert.isAtLeast(forced.width, 2)
        await screenshot(page, "a11y-05-focus-ring-forced-colors")
        await page.emulateMedia({ colorScheme: "light", forcedColors: "none" })
      }), 60_000)

    it.effect("Back from a post returns to the same place in the feed", () =>
      run(async () => {
        const target = 6000
        await scrollTo(target)
        await page.waitForTimeout(300)
        // the next post's date link below the sticky header, brought on screen if a tall photo
        // fills the view (the scroll then moves a little, and Back must return to where it ended)
        const below = () =>
          page.evaluateHandle(() => {
            const feed = document.querySelector("ap-app")!.shadowRoot!.querySelector("ap-feed")!
            for (const post of Array.from(feed.shadowRoot!.querySelectorAll("ap-post"))) {
              const a = post.shadowRoot!.querySelector<HTMLAnchorElement>("a[href^='/p/']")
              const box = a?.getBoundingClientRect()
              if (a && box && box.top > 120) return a
            }
            return null
          })
        const first = await below()
        assert.isNotNull(await first.evaluate((a) => a), "a post's link is below the header")
        await first.evaluate((a) => {
          const box = a!.getBoundingClientRect()
          if (box.bottom >= innerHeight) window.scrollBy(0, box.top - 200)
        })
        await page.waitForTimeout(300)
        const before = await page.evaluate(() => window.scrollY)
        await screenshot(page, "a11y-06-scrolled")
        const link = await below()
        assert.isNotNull(await link.evaluate((a) => a), "a post's link is on screen")
        await link.asElement()!.click()
        await page.waitForURL(/\/p\//)
        await page.locator("ap-post[post-id] button.like").first().waitFor()
        await screenshot(page, "a11y-07-post-page")
        await page.goBack()
        await page.getByRole("heading", { name: "Home" }).waitFor()
        await feedPosts(page).first().waitFor()
        await page.waitForTimeout(800)
        const after = await page.evaluate(() => window.scrollY)
        await screenshot(page, "a11y-08-back-to-feed")
        assert.closeTo(after, before, 40, `scrolled to ${before}, back at ${after}`)
      }), 60_000)

    it.effect("Back into a reloaded feed (a post opened by a full page load) also returns to the same place", () =>
      run(async (base) => {
        await scrollTo(4000)
        await page.waitForTimeout(300)
        const before = await page.evaluate(() => window.scrollY)
        await page.goto(`${base}/p/${postIds[3]}`)
        await page.locator("ap-post[post-id] button.like").first().waitFor()
        await page.goBack()
        await page.getByRole("heading", { name: "Home" }).waitFor()
        await feedPosts(page).first().waitFor()
        await page.waitForTimeout(800)
        // a document loaded again through history, not one kept whole in the back/forward cache
        assert.strictEqual(await page.evaluate(() => (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).type), "back_forward")
        const after = await page.evaluate(() => window.scrollY)
        await screenshot(page, "a11y-08b-back-into-reloaded-feed")
        assert.closeTo(after, before, 40, `scrolled to ${before}, back at ${after}`)
      }), 60_000)

    it.effect("a new post while scrolled shows the pill below the sticky header, politely live; it scrolls to the post clear of the header", () =>
      Effect.gen(function*() {
        yield* run(async () => {
          await page.evaluate(() => window.scrollTo(0, 3000))
          await page.waitForTimeout(300)
        })
        const id = yield* publishPost(author, "a brand new photo")
        yield* run(async () => {
          const pill = page.locator("ap-feed button.pill")
          await pill.waitFor({ timeout: 60_000 })
          await page.waitForTimeout(200)
          const header = await page.locator("ap-app header").first().boundingBox()
          const box = await pill.boundingBox()
          assert.isAtLeast(box!.y, header!.y + header!.height, "below the header")
          assert.isAtMost(box!.y + box!.height, 800, "on screen")
          const live = await pill.evaluate((el) => el.closest("[aria-live]")?.getAttribute("aria-live"))
          assert.strictEqual(live, "polite")
          await screenshot(page, "a11y-09-pill")
          await pill.click()
          await page.waitForFunction((newest) => {
            const feed = document.querySelector("ap-app")?.shadowRoot?.querySelector("ap-feed") as unknown as { items: Array<{ id: string }> }
            return feed.items[0]?.id === newest
          }, id)
          await page.waitForTimeout(500)
          const top = await page.locator("ap-feed ap-post article[aria-posinset='1']").boundingBox()
          const headerNow = await page.locator("ap-app header").first().boundingBox()
          assert.isAtLeast(top!.y, headerNow!.y + headerNow!.height - 1, "the new post is not under the header")
          await screenshot(page, "a11y-10-after-pill")
        })
      }), 120_000)

    it.effect("axe finds nothing serious on the feed, a post page, a profile, search results and every other route, at desktop and phone sizes", () =>
      run(async (base) => {
        const found: Record<string, Array<string>> = {}
        for (const [label, size] of [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]] as const) {
          await page.setViewportSize(size)
          for (const [name, path] of [["feed", "/"], ["post", `/p/${postIds[0]}`], ["profile", `/u/${author.username}`], ["search", "/search"], ["notifications", "/notifications"], ["new", "/new"], ["messages", "/messages"], ["not-found", "/no/such/page"]] as const) {
            await page.goto(`${base}${path}`)
            await page.locator("ap-app main h1").first().waitFor({ state: "attached" })
            if (name === "feed") await feedPosts(page).first().waitFor()
            if (name === "post") await page.locator("ap-post button.like").first().waitFor()
            if (name === "profile") await page.locator("ap-profile h2").first().waitFor()
            if (name === "search") {
              await page.getByRole("combobox").fill(author.username)
              await page.getByRole("option").first().waitFor()
            }
            await page.waitForTimeout(300)
            await screenshot(page, `a11y-11-axe-${name}-${label}`)
            found[`${name} ${label}`] = await axe(page)
          }
        }
        // and the pages someone signed out sees
        const anonymous = await chrome.browser.newContext({ viewport: { width: 390, height: 844 } })
        const visitor = await anonymous.newPage()
        for (const path of ["/login", "/signup"]) {
          await visitor.goto(`${base}${path}`)
          await visitor.getByRole("button", { name: path === "/login" ? "Log in" : "Sign up" }).waitFor()
          found[`${path.slice(1)} phone`] = await axe(visitor)
        }
        await anonymous.close()
        console.log("axe (serious and critical):", JSON.stringify(found))
        assert.deepStrictEqual(Object.values(found).flat(), [], JSON.stringify(found))
      }), 120_000)
  })
})
