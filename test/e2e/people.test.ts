/**
 * The account-management screens in real headless Chromium against a real server, at desktop and
 * phone sizes:
 * - a private account approves one follow request on its notification and denies another on the
 *   /requests page; the requester's open profile turns from "Requested" to "Following" live;
 * - followers and following lists with a cursor ("Show more") and follow buttons;
 * - the "…" menu: mute (with Undo), block (confirm) — the blocker's profile page keeps working with
 *   Unblock — and unblock from there;
 * - saved posts; the private note on one's own profile;
 * - the phone layout: a bottom tab bar (Home, Search, New post, Activity, Profile), nothing wider
 *   than 320 px, every tap target of the header, tab bar and these screens at least 44 px.
 * axe finds nothing serious or critical on each screen. Screenshots go to test/e2e/artifacts/.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import type { BrowserContext, Page } from "playwright-core"
import { type Account, publishPost, request, signup, TestApp } from "../support/app.ts"
import { axe, screenshot, watch } from "./support/browser.ts"
import { run, useChromium } from "./support/chromium.ts"

const chrome = useChromium()
const { problems } = chrome
let owner: Account
let asker: Account
let denied: Account
let fans: Array<Account> = []
let ownerPage: Page
let askerPage: Page

const open = async (base: string, account: Account, label: string, viewport = { width: 1200, height: 900 }): Promise<Page> => {
  const context: BrowserContext = await chrome.browser.newContext({ viewport })
  const [name, ...value] = account.cookie.split("=")
  await context.addCookies([{ name: name!, value: value.join("="), url: base }])
  const page = await context.newPage()
  problems.push(...watch(page, label))
  return page
}

const call = (method: string, path: string, who: Account, body?: unknown) =>
  request(`/api/v1${path}`, {
    method,
    headers: { ...who.bearer, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })

/** Heights of the visible buttons and links under `selector` (shadow roots included) smaller than 44 px. */
const smallTargets = (page: Page, hosts: ReadonlyArray<string>) =>
  page.evaluate((hosts) => {
    const small: Array<string> = []
    const visit = (root: Document | ShadowRoot) => {
      for (const el of Array.from(root.querySelectorAll<HTMLElement>("a[href], button"))) {
        const r = el.getBoundingClientRect()
        if (r.width === 0 || r.height === 0 || r.right <= 0) continue // hidden, or off-screen until focused (the skip link)
        if (el.closest("p, q, .text > a:first-of-type, .bio")) continue // links inside running text are exempt (WCAG 2.5.8 inline)
        if (Math.round(r.height) < 44) small.push(`${el.tagName.toLowerCase()} "${(el.textContent ?? "").trim().slice(0, 30)}" ${Math.round(r.height)}px`)
      }
      for (const el of Array.from(root.querySelectorAll("*"))) if (el.shadowRoot && hosts.includes(el.tagName.toLowerCase())) visit(el.shadowRoot)
    }
    visit(document)
    return small
  }, [...hosts])

describe("follow requests, lists, the … menu and the phone layout in Chromium", () => {
  const rateLimits = { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 10_000, dmThreadsPerUserPerHour: 10_000 }
  layer(TestApp({ rateLimits }), { timeout: "300 seconds", excludeTestServices: true })((it) => {
    it.effect("a private account approves a request on its notification; the requester sees Following live", () =>
      Effect.gen(function*() {
        owner = yield* signup({ isPrivate: true })
        asker = yield* signup()
        denied = yield* signup()
        yield* run(async (base) => {
          askerPage = await open(base, asker, "asker")
          await askerPage.goto(`${base}/u/${owner.username}`)
          await askerPage.locator("ap-profile").getByText("This account is private.").waitFor()
          await askerPage.locator("ap-profile").getByRole("button", { name: "Follow" }).click()
          await askerPage.locator("ap-profile").getByRole("button", { name: "Requested (cancel the request)" }).waitFor()
        })
        assert.strictEqual((yield* call("POST", `/users/${owner.username}/follow`, denied)).json.status, "requested")
        yield* run(async (base) => {
          ownerPage = await open(base, owner, "owner")
          await ownerPage.goto(`${base}/notifications`)
          const list = ownerPage.locator("ap-notifications:not([variant=badge])")
          await list.getByRole("button", { name: `Approve ${asker.username}` }).waitFor({ timeout: 30_000 })
          await screenshot(ownerPage, "people-01-request-notification")
          assert.deepStrictEqual(await axe(ownerPage), [], "axe on the notifications with requests")
          await list.getByRole("button", { name: `Approve ${asker.username}` }).click()
          await list.getByText(`Approved: ${asker.username} now follows you.`).waitFor()
          // the requester's open profile follows without a reload
          await askerPage.locator("ap-profile").getByRole("button", { name: "Following" }).waitFor({ timeout: 30_000 })
          await screenshot(askerPage, "people-02-following-live")
        })
        const relation = yield* call("GET", `/users/${owner.username}`, asker)
        assert.isTrue(relation.json.viewer.isFollowing, "the API agrees")
      }), 120_000)

    it.effect("the requests page denies the other request; the own profile says private", () =>
      Effect.gen(function*() {
        yield* run(async (base) => {
          await ownerPage.goto(`${base}/requests`)
          await ownerPage.getByRole("heading", { name: "Follow requests", level: 1 }).waitFor()
          const people = ownerPage.locator("ap-people")
          await people.getByRole("button", { name: `Deny ${denied.username}` }).click()
          await people.getByText("Denied.").waitFor()
          assert.deepStrictEqual(await axe(ownerPage), [], "axe on /requests")
          await screenshot(ownerPage, "people-03-requests")
          await ownerPage.goto(`${base}/u/${owner.username}`)
          await ownerPage.locator("ap-profile").getByText("Your account is private").waitFor()
        })
        assert.strictEqual((yield* call("GET", "/follow-requests", owner)).json.items.length, 0, "no request left")
        assert.isFalse((yield* call("GET", `/users/${owner.username}`, denied)).json.viewer.requested, "the denied one is not waiting")
      }), 120_000)

    it.effect("followers and following: pages with Show more, follow buttons that follow", () =>
      Effect.gen(function*() {
        fans = []
        for (let i = 0; i < 23; i++) {
          const fan = yield* signup()
          yield* call("POST", `/users/${asker.username}/follow`, fan)
          fans.push(fan)
        }
        yield* run(async (base) => {
          await ownerPage.goto(`${base}/u/${asker.username}`)
          await ownerPage.locator("ap-profile").getByRole("link", { name: /23 followers/ }).click()
          await ownerPage.getByRole("heading", { name: "Followers", level: 1 }).waitFor()
          assert.strictEqual(new URL(ownerPage.url()).pathname, `/u/${asker.username}/followers`)
          const people = ownerPage.locator("ap-people")
          await people.locator("[part=item]").nth(19).waitFor()
          assert.strictEqual(await people.locator("[part=item]").count(), 20)
          await people.getByRole("button", { name: "Show more" }).click()
          await people.locator("[part=item]").nth(22).waitFor()
          assert.strictEqual(await people.getByRole("button", { name: "Show more" }).count(), 0)
          const newest = fans[fans.length - 1]!
          await people.getByRole("button", { name: `Follow ${newest.username}` }).click()
          await people.getByRole("button", { name: `Following ${newest.username} (unfollow)` }).waitFor()
          assert.deepStrictEqual(await axe(ownerPage), [], "axe on a followers list")
          await screenshot(ownerPage, "people-04-followers")
          // reload keeps the route
          await ownerPage.reload()
          await ownerPage.getByRole("heading", { name: "Followers", level: 1 }).waitFor()
          await ownerPage.goto(`${base}/u/${asker.username}/following`)
          await ownerPage.locator("ap-people").getByRole("link", { name: new RegExp(owner.username) }).waitFor()
        })
        const following = yield* call("GET", `/users/${fans[fans.length - 1]!.username}`, owner)
        assert.isTrue(following.json.viewer.isFollowing)
      }), 120_000)

    it.effect("the … menu: mute with Undo, block after a confirm, and the blocker's profile offers Unblock", () =>
      Effect.gen(function*() {
        const postId = yield* publishPost(asker, "to be saved")
        assert.strictEqual((yield* call("POST", `/posts/${postId}/save`, owner)).status, 200)
        yield* run(async (base) => {
          await ownerPage.goto(`${base}/u/${asker.username}`)
          const profile = ownerPage.locator("ap-profile")
          await profile.getByRole("button", { name: `More options for ${asker.username}` }).click()
          await profile.getByRole("button", { name: "Mute" }).click()
          await profile.getByRole("status").getByText(`Muted ${asker.username}`).waitFor()
          assert.deepStrictEqual(await axe(ownerPage), [], "axe with the mute notice")
          await profile.getByRole("status").getByRole("button", { name: "Undo" }).click()
          await profile.getByRole("status").getByText(`Unmuted ${asker.username}.`).waitFor()
          ownerPage.once("dialog", (d) => void d.accept())
          await profile.getByRole("button", { name: `More options for ${asker.username}` }).click()
          await profile.getByRole("button", { name: "Block" }).click()
          await profile.getByRole("button", { name: "Unblock" }).waitFor()
          await ownerPage.reload()
          // after a reload the blocker still has the page, with Unblock and no posts
          await profile.getByRole("button", { name: "Unblock" }).waitFor()
          await profile.getByText("You blocked this account.").waitFor()
          await screenshot(ownerPage, "people-05-blocker-profile")
          assert.deepStrictEqual(await axe(ownerPage), [], "axe on the blocker's profile")
        })
        const muted = yield* call("GET", "/users/me/muted", owner)
        assert.lengthOf(muted.json.items, 0, "the mute was undone")
        const blocks = yield* call("GET", "/users/me/blocks", owner)
        assert.deepStrictEqual(blocks.json.items.map((u: { id: string }) => u.id), [asker.id])
        assert.strictEqual((yield* call("GET", `/users/${owner.username}`, asker)).status, 404, "the blocked one still cannot see the blocker")
        yield* run(async () => {
          await ownerPage.locator("ap-profile").getByRole("button", { name: "Unblock" }).click()
          await ownerPage.locator("ap-profile").getByRole("button", { name: "Follow" }).waitFor()
        })
      }), 120_000)

    it.effect("saved posts from the More menu, and the phone layout at 390 and 320 px", () =>
      Effect.gen(function*() {
        yield* run(async (base) => {
          await ownerPage.goto(`${base}/`)
          const nav = ownerPage.getByRole("navigation", { name: "Main" })
          await nav.getByRole("button", { name: "More" }).click()
          await nav.getByRole("link", { name: "Saved" }).click()
          await ownerPage.getByRole("heading", { name: "Saved", level: 1 }).waitFor()
          await ownerPage.locator("ap-saved .grid a").first().waitFor()
          assert.deepStrictEqual(await axe(ownerPage), [], "axe on /saved")
          for (const width of [390, 320]) {
            await ownerPage.setViewportSize({ width, height: 800 })
            for (const path of ["/", "/notifications", `/u/${asker.username}`, `/u/${asker.username}/followers`, "/saved"]) {
              await ownerPage.goto(`${base}${path}`)
              await ownerPage.locator("ap-app main h1").waitFor()
              await ownerPage.waitForLoadState("networkidle")
              const overflow = await ownerPage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
              assert.isAtMost(overflow, 0, `nothing wider than ${width} px at ${path}`)
              const tabs = ownerPage.locator("ap-app nav .tabs")
              const box = await tabs.boundingBox()
              assert.isNotNull(box)
              assert.approximately(box!.y + box!.height, 800, 1, "the tab bar sits at the bottom")
              const header = await ownerPage.locator("ap-app header").first().boundingBox()
              assert.isBelow(header!.height, 70, `the header is one row at ${width} px`)
              assert.deepStrictEqual(await smallTargets(ownerPage, ["ap-app", "ap-notifications", "ap-dm-inbox", "ap-people", "ap-profile"]), [], `44 px targets at ${width} px on ${path}`)
              if (width === 390) await screenshot(ownerPage, `people-06-phone${path.replaceAll("/", "_")}`)
            }
            assert.deepStrictEqual(await axe(ownerPage), [], `axe at ${width} px`)
          }
          // the tab bar's labels and destinations
          const tabs = ownerPage.locator("ap-app nav .tabs")
          assert.strictEqual(await tabs.locator("li").count(), 5)
          for (const label of ["Home", "Search", "New post", "Activity", "Profile"]) {
            assert.strictEqual(await tabs.getByRole("link", { name: new RegExp(`^${label}`) }).count(), 1, `a ${label} tab`)
          }
          await tabs.getByRole("link", { name: "Search" }).click()
          await ownerPage.getByRole("heading", { name: "Search", level: 1 }).waitFor()
          await screenshot(ownerPage, "people-07-phone-search")
          await ownerPage.context().close()
          await askerPage.context().close()
        })
      }), 180_000)
  })
})
