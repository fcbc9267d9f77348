/**
 * Stories end to end in real headless Chromium: A posts a story from the tray above the home feed
 * (a 9:16 preview, then Share); B, who follows A, sees A's ring appear live, unseen, opens the
 * full-screen viewer, and the view reaches A's open viewer live as "Seen by 1"; B replies and the
 * reply lands in A's messages quoting the story; B's ring turns seen; A deletes the story and B's
 * ring goes without a reload. The viewer is checked with axe. Screenshots go to test/e2e/artifacts/.
 */
import { afterAll, assert, beforeAll, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import type { Browser, Page } from "playwright-core"
import { build } from "../../web-components/build.ts"
import { type Account, baseUrl, request, signup, TestApp } from "../support/app.ts"
import { plainPng } from "../support/images.ts"
import { axe, launchChromium, screenshot, watch } from "./support/browser.ts"

let browser: Browser
const problems: Array<string> = []
let a: Account
let b: Account
let pageA: Page
let pageB: Page
let photo = ""

beforeAll(async () => {
  await build()
  browser = await launchChromium()
  photo = `/tmp/ap-story-${process.pid}.png`
  fs.writeFileSync(photo, await plainPng(900, 1400))
}, 120_000)

afterAll(async () => {
  if (problems.length > 0) console.log(problems.join("\n"))
  await browser?.close()
  if (photo) fs.rmSync(photo, { force: true })
})

const run = <A>(f: (base: string) => Promise<A>) => Effect.flatMap(baseUrl, (base) => Effect.promise(() => f(base)))

const open = async (base: string, account: Account, label: string) => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } })
  const [name, ...value] = account.cookie.split("=")
  await context.addCookies([{ name: name!, value: value.join("="), url: base }])
  const page = await context.newPage()
  problems.push(...watch(page, label))
  return page
}

const tray = (page: Page) => page.locator("ap-story-tray").first()
const ring = (page: Page, username: string) => tray(page).locator(`[part~=ring][data-username="${username}"]`)
const viewer = (page: Page) => page.locator("ap-story-viewer [part=dialog]")


describe("stories in Chromium", () => {
  layer(TestApp({}), { timeout: "240 seconds", excludeTestServices: true })((it) => {
    it.effect("A posts a story from the tray; B's tray shows it live, unseen", () =>
      Effect.gen(function*() {
        a = yield* signup()
        b = yield* signup()
        const r = yield* request(`/api/v1/users/${a.username}/follow`, { method: "POST", headers: b.bearer })
        assert.strictEqual(r.status, 200, r.text)
        yield* run(async (base) => {
          pageA = await open(base, a, "A")
          pageB = await open(base, b, "B")
          await pageB.goto(`${base}/`)
          await tray(pageB).locator("[part~=add]").waitFor()
          await pageA.goto(`${base}/`)
          await tray(pageA).getByRole("button", { name: "Add to your story" }).waitFor()
          await tray(pageA).locator("input[type=file]").setInputFiles(photo)
          const composer = tray(pageA).locator("[part~=composer]")
          await composer.waitFor()
          // the preview is framed 9:16, as the server crops it
          const box = await composer.locator(".frame").boundingBox()
          assert.closeTo(box!.width / box!.height, 9 / 16, 0.02)
          await screenshot(pageA, "stories-01-a-preview")
          await composer.getByRole("button", { name: "Share to story" }).click()
          await ring(pageA, a.username).waitFor({ timeout: 60_000 })
          assert.match((await ring(pageA, a.username).getAttribute("aria-label")) ?? "", /^Your story/)
          // B did not reload: the ring came on the socket
          await ring(pageB, a.username).waitFor({ timeout: 30_000 })
          assert.include(await ring(pageB, a.username).getAttribute("class"), "unseen")
          await screenshot(pageB, "stories-02-b-tray-live")
        })
      }), 240_000)

    it.effect("A watches their own story; B opens it full screen and A sees 'Seen by 1' live; B replies", () =>
      run(async () => {
        await ring(pageA, a.username).click()
        await viewer(pageA).waitFor()
        const seenBy = pageA.locator("ap-story-viewer [part=seen-by]")
        await seenBy.waitFor()
        assert.strictEqual((await seenBy.textContent())?.trim(), "Seen by 0")
        // A pauses, so the viewer stays on the story while B looks
        await pageA.locator("ap-story-viewer").getByRole("button", { name: "Pause" }).click()

        await ring(pageB, a.username).click()
        await viewer(pageB).waitFor()
        const size = await viewer(pageB).boundingBox()
        assert.strictEqual(Math.round(size!.width), 1000, "full screen")
        assert.strictEqual(await pageB.locator("ap-story-viewer .bar").count(), 1)
        await pageB.locator("ap-story-viewer img[part=media]").evaluate((img: HTMLImageElement) => img.decode())
        await screenshot(pageB, "stories-03-b-viewer")

        await seenBy.filter({ hasText: "Seen by 1" }).waitFor({ timeout: 30_000 })
        await screenshot(pageA, "stories-04-a-seen-by-live")
        await seenBy.click()
        await pageA.locator("ap-story-viewer [part=sheet]").getByText(b.username).first().waitFor()

        const reply = pageB.locator("ap-story-viewer").getByRole("textbox", { name: /^Reply to / })
        await reply.fill("what a view")
        await reply.press("Enter")
        await pageB.locator("ap-story-viewer .toast").filter({ hasText: "Reply sent" }).waitFor({ timeout: 15_000 })
        const violations = await axe(pageB, ["ap-app", "ap-story-tray", "ap-story-viewer"])
        assert.deepStrictEqual(violations, [], "axe: no serious or critical problems in the viewer")
      }), 120_000)

    it.effect("the reply is a direct message to A quoting the story; B's ring turns seen after Esc", () =>
      Effect.gen(function*() {
        // A does not follow B: the reply arrives as a message request
        const list = yield* request("/api/v1/conversations/requests", { headers: a.bearer })
        const thread = (list.json.items as Array<{ id: string }>)[0]
        assert.isDefined(thread, list.text)
        const messages = yield* request(`/api/v1/conversations/${thread!.id}/messages`, { headers: a.bearer })
        const m = (messages.json.items as Array<{ text: string; story: { kind: string; available: boolean } | null }>).find((x) => x.text === "what a view")
        assert.isDefined(m, messages.text)
        assert.strictEqual(m!.story?.kind, "reply")
        assert.isTrue(m!.story?.available)
        yield* run(async () => {
          await viewer(pageB).press("Escape")
          await viewer(pageB).waitFor({ state: "detached" })
          assert.include(await ring(pageB, a.username).getAttribute("class"), "seen")
          assert.match((await ring(pageB, a.username).getAttribute("aria-label")) ?? "", /, seen$/)
        })
      }), 60_000)

    it.effect("A deletes the story from the viewer and B's ring goes without a reload", () =>
      run(async () => {
        // Esc closes the viewers sheet first, not the viewer
        await pageA.keyboard.press("Escape")
        await pageA.locator("ap-story-viewer [part=sheet]").waitFor({ state: "detached" })
        await viewer(pageA).waitFor()
        pageA.once("dialog", (d) => void d.accept())
        await pageA.locator("ap-story-viewer").getByRole("button", { name: "Delete" }).click()
        await ring(pageB, a.username).waitFor({ state: "detached", timeout: 30_000 })
        await screenshot(pageB, "stories-05-b-ring-gone")
        assert.deepStrictEqual(problems.filter((p) => p.includes("pageerror")), [])
      }), 60_000)
  })
})
