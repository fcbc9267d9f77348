/**
 * Carousels and the crop in real headless Chromium: one person composes a post of three photos
 * (a 2:3 portrait the frame crops to 4:5, a landscape and a square), reorders them, gives each its
 * alt text, publishes, and then reads it as a carousel (dots, arrows, arrow keys), edits an alt
 * text with the "…" editor and deletes the post. Desktop and phone sizes; axe on the post page.
 * Screenshots under test/e2e/artifacts/.
 */
import { assert, describe, layer } from "@effect/vitest"
import type { Page } from "playwright-core"
import sharp from "sharp"
import { TestApp } from "../support/app.ts"
import { axe, screenshot, signUp, watch } from "./support/browser.ts"
import { run, useChromium } from "./support/chromium.ts"

const chromium = useChromium()
const problems = chromium.problems

/** A flat-coloured JPEG with a band across its middle (so a crop shows). */
const photo = (width: number, height: number, rgb: [number, number, number]) =>
  sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .composite([{ input: { create: { width, height: Math.round(height / 5), channels: 3, background: "#ffffff" } }, top: Math.round(height * 0.4), left: 0 }])
    .jpeg({ quality: 85 })
    .toBuffer()

const username = `carol_${Date.now().toString(36)}`
let page: Page
let postId = ""

const apiGet = (path: string) =>
  page.evaluate(async (p) => {
    const r = await fetch(`/api/v1${p}`, { credentials: "include" })
    return { status: r.status, body: await r.json().catch(() => null) }
  }, path)

describe("carousels and the crop in Chromium", () => {
  layer(TestApp(), { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.effect("composes three photos: the 2:3 one is shown cropped to 4:5, reordered, each with alt text, and published in that order", () =>
      run(async (base) => {
        const context = await chromium.browser.newContext({ viewport: { width: 1100, height: 1100 } })
        page = await context.newPage()
        problems.push(...watch(page, "carol"))
        await signUp(page, base, username)
        await page.goto(`${base}/new`)
        await page.getByRole("heading", { name: "New post" }).waitFor()
        await page.locator("ap-composer input[type=file]").setInputFiles([
          { name: "tall.jpg", mimeType: "image/jpeg", buffer: await photo(800, 1200, [200, 30, 30]) },
          { name: "wide.jpg", mimeType: "image/jpeg", buffer: await photo(1500, 1000, [30, 160, 40]) },
          { name: "square.jpg", mimeType: "image/jpeg", buffer: await photo(900, 900, [30, 60, 200]) }
        ])
        await page.locator("ap-composer .strip li").nth(2).waitFor()
        // the frame is the first photo's clamped ratio: 2:3 is taller than 4:5, so it is cropped
        const frame = page.locator("ap-composer .frame")
        assert.match((await frame.getAttribute("aria-label"))!, /Photo 1 of 3 .*cropped/)
        const box = (await frame.boundingBox())!
        assert.approximately(box.width / box.height, 0.8, 0.02, "the preview frame is 4:5")
        await screenshot(page, "carousel-01-composer-three-photos")
        // move "wide" (photo 2) later: the order becomes tall, square, wide
        await page.getByRole("button", { name: "Move photo 2 later" }).click()
        const names = await page.locator("ap-composer .strip .thumb").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")))
        assert.deepStrictEqual(names.map((n) => n!.replace(/^Photo \d+: /, "")), ["tall.jpg", "square.jpg", "wide.jpg"])
        for (const [i, alt] of ["a red wall with a white stripe", "a blue square", "a green field"].entries()) {
          await page.getByRole("button", { name: new RegExp(`^Photo ${i + 1}:`) }).click()
          await page.getByLabel(new RegExp(`Alt text for photo ${i + 1}`)).fill(alt)
        }
        // zoom the first photo a little: what is published is what the frame shows
        await page.getByRole("button", { name: /^Photo 1:/ }).click()
        await page.locator("ap-composer .frame").focus()
        await page.keyboard.press("+")
        await page.getByLabel("Caption").fill("three colours")
        await screenshot(page, "carousel-02-composer-ordered-with-alt")
        const created = page.evaluate(
          () => new Promise<string>((resolve) => document.addEventListener("ap-post-created", (e) => resolve(e.detail.postId), { once: true }))
        )
        await page.getByRole("button", { name: "Share" }).click()
        postId = await created
        await page.getByText("Published!").waitFor({ timeout: 60_000 })
        await screenshot(page, "carousel-03-published")
        const post = await apiGet(`/posts/${postId}`)
        assert.strictEqual(post.status, 200)
        const media = post.body.media as Array<{ altText: string; width: number; height: number; status: string }>
        assert.deepStrictEqual(media.map((m) => m.altText), ["a red wall with a white stripe", "a blue square", "a green field"])
        for (const m of media) {
          assert.strictEqual(m.status, "ready")
          const r = m.width / m.height
          assert.isTrue(r >= 0.8 - 0.01 && r <= 1.91 + 0.01, `every photo within 4:5 … 1.91:1 (got ${m.width}×${m.height})`)
        }
        assert.approximately(media[0]!.width / media[0]!.height, 0.8, 0.01, "the 2:3 photo was published as the 4:5 the preview showed")
        // the composer is clean for the next post
        assert.strictEqual(await page.locator("ap-composer .strip li").count(), 0)
        assert.strictEqual(await page.getByLabel("Caption").inputValue(), "")
      }), 120_000)

    it.effect("reads as a carousel on the post page: dots, next and previous, arrow keys, each photo's alt; axe finds nothing serious", () =>
      run(async (base) => {
        await page.goto(`${base}/p/${postId}`)
        const post = page.locator("main ap-post").first()
        await post.locator(".carousel").waitFor()
        assert.strictEqual(await post.locator(".dots i").count(), 3)
        assert.deepStrictEqual(
          await post.locator(".track img[part=image]").evaluateAll((els) => els.map((e) => e.getAttribute("alt"))),
          ["a red wall with a white stripe", "a blue square", "a green field"]
        )
        const on = () => post.locator(".dots i").evaluateAll((els) => els.findIndex((e) => e.classList.contains("on")))
        assert.strictEqual(await on(), 0)
        assert.isTrue(await post.locator("button.prev").isHidden(), "no Previous on the first photo")
        await post.getByRole("button", { name: "Next photo" }).click()
        await page.waitForFunction(() => {
          const el = document.querySelector("ap-app")?.shadowRoot?.querySelector("ap-post")
          return el?.shadowRoot?.querySelectorAll(".dots i")[1]?.classList.contains("on")
        })
        await screenshot(page, "carousel-04-second-photo")
        await post.locator(".track").focus()
        await page.keyboard.press("ArrowRight")
        await page.waitForFunction(() => {
          const el = document.querySelector("ap-app")?.shadowRoot?.querySelector("ap-post")
          return el?.shadowRoot?.querySelectorAll(".dots i")[2]?.classList.contains("on")
        })
        assert.isTrue(await post.locator("button.next").isHidden(), "no Next on the last photo")
        await page.keyboard.press("ArrowLeft")
        await page.waitForFunction(() => {
          const el = document.querySelector("ap-app")?.shadowRoot?.querySelector("ap-post")
          return el?.shadowRoot?.querySelectorAll(".dots i")[1]?.classList.contains("on")
        })
        assert.deepStrictEqual(await axe(page), [])
      }), 120_000)

    it.effect("on a phone the carousel fills the width without overflow; the author edits an alt text and deletes the post", () =>
      run(async (base) => {
        await page.setViewportSize({ width: 390, height: 844 })
        await page.goto(`${base}/p/${postId}`)
        const post = page.locator("main ap-post").first()
        await post.locator(".carousel").waitFor()
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
        assert.strictEqual(overflow, 0, "no horizontal overflow")
        const track = (await post.locator(".track").boundingBox())!
        assert.isAtMost(track.width, 390)
        await screenshot(page, "carousel-05-phone")
        await post.getByRole("button", { name: "Edit or delete this post" }).click()
        const editor = post.locator("ap-post-edit")
        await editor.waitFor()
        const alts = editor.locator("input[name=alt]")
        assert.strictEqual(await alts.count(), 3)
        await alts.nth(1).fill("a deep blue square")
        await screenshot(page, "carousel-06-editing")
        await editor.getByRole("button", { name: "Save" }).click()
        await editor.waitFor({ state: "detached" })
        await page.waitForFunction(() => {
          const el = document.querySelector("ap-app")?.shadowRoot?.querySelector("ap-post")
          return el?.shadowRoot?.querySelectorAll(".track img[part=image]")[1]?.getAttribute("alt") === "a deep blue square"
        })
        const after = await apiGet(`/posts/${postId}`)
        assert.deepStrictEqual(after.body.media.map((m: { altText: string }) => m.altText), ["a red wall with a white stripe", "a deep blue square", "a green field"])
        await post.getByRole("button", { name: "Edit or delete this post" }).click()
        await editor.getByRole("button", { name: "Delete post…" }).click()
        await editor.getByRole("button", { name: "Yes, delete" }).click()
        await page.waitForURL(`${base}/u/${username}`)
        await screenshot(page, "carousel-07-deleted-back-on-profile")
        assert.strictEqual((await apiGet(`/posts/${postId}`)).status, 404)
        assert.deepStrictEqual(problems.filter((p) => p.includes("pageerror")), [])
      }), 120_000)
  })
})
