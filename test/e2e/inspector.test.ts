/**
 * The actor inspector end to end in real headless Chromium: two people follow each other, one
 * posts and they exchange direct messages, so timeline and conversation actors live. An admin
 * (ADMIN_USERNAMES) opens `/admin` from the nav: the partition map shows every partition with its
 * owner, the hot actors list those actors, a row opens the actor's page, and the live tail shows a
 * command that the HTTP API causes while the page is open, first tailing everything and then just
 * that actor. Someone who is no admin sees no link and, at `/admin`, "admins only". axe-core
 * checks the page. Screenshots go to test/e2e/artifacts/.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import type { Page } from "playwright-core"
import { type Account, publishPost, request, signup, TestApp } from "../support/app.ts"
import * as path from "node:path"
import { ARTIFACTS, axe, watch } from "./support/browser.ts"
import { run, useChromium } from "./support/chromium.ts"

const ADMIN = `adm${Date.now().toString(36)}`

const chrome = useChromium()
const { problems } = chrome
let admin: Account
let a: Account
let b: Account
let conversationId = ""
let page: Page

const call = (who: Account, method: string, path: string, body?: unknown) =>
  request(`/api/v1${path}`, { method, headers: { ...who.bearer, "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })

const sendMessage = (text: string) =>
  Effect.gen(function*() {
    const r = yield* call(a, "POST", `/conversations/${conversationId}/messages`, { clientId: crypto.randomUUID(), text })
    assert.strictEqual(r.status, 201, r.text)
  })

/** The whole page: the inspector is taller than a screen. */
const screenshot = async (p: Page, name: string) => {
  fs.mkdirSync(ARTIFACTS, { recursive: true })
  await p.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true })
}

/** A browser page signed in as `account` through its session cookie. */
const open = async (base: string, account: Account, label: string) => {
  const context = await chrome.browser.newContext({ viewport: { width: 1200, height: 1000 } })
  const [name, ...value] = account.cookie.split("=")
  await context.addCookies([{ name: name!, value: value.join("="), url: base }])
  const p = await context.newPage()
  problems.push(...watch(p, label))
  return p
}

const inspector = (p: Page) => p.locator("ap-actor-inspector")
/** The tail's rows whose key column is `key`. */
const tailRowsOf = (p: Page, key: string) => inspector(p).locator("[part=tail-rows] tbody tr.tap").filter({ has: p.locator("td:nth-child(3)", { hasText: key }) })

describe("the actor inspector in Chromium", () => {
  layer(TestApp({ adminUsernames: [ADMIN] }), { timeout: "240 seconds", excludeTestServices: true })((it) => {
    it.effect("activity makes actors; the admin opens /admin from the nav and sees partitions with owners and the hot actors", () =>
      Effect.gen(function*() {
        admin = yield* signup({ username: ADMIN })
        a = yield* signup()
        b = yield* signup()
        for (const [who, whom] of [[a, b], [b, a]] as const) {
          const r = yield* call(who, "POST", `/users/${whom.username}/follow`)
          assert.strictEqual(r.status, 200, r.text)
        }
        // a post fans out to a's timeline; a message wakes the conversation's actor
        yield* publishPost(b, "for the inspector")
        const started = yield* call(a, "POST", "/conversations", { memberUsernames: [b.username] })
        assert.strictEqual(started.status, 201, started.text)
        conversationId = started.json.id
        yield* sendMessage("hello before the inspector opens")

        yield* run(async (base) => {
          page = await open(base, admin, "admin")
          await page.goto(`${base}/`)
          await page.locator("ap-app nav").getByRole("button", { name: "More" }).click()
          await page.locator("ap-app nav").getByRole("link", { name: "Admin", exact: true }).click()
          await page.waitForURL(`${base}/admin`)
          await page.getByRole("heading", { name: "Actor inspector" }).waitFor()

          const cells = inspector(page).locator("[part~=cell]")
          await cells.first().waitFor({ timeout: 30_000 })
          // the test server runs four partitions on one node, which leases them all
          await page.waitForFunction(() => {
            const root = document.querySelector("ap-app")?.shadowRoot?.querySelector("ap-actor-inspector")?.shadowRoot
            const all = Array.from(root?.querySelectorAll("[part~=cell]") ?? [])
            return all.length === 4 && all.every((c) => c.hasAttribute("data-owner"))
          }, undefined, { timeout: 30_000 })
          const owner = (await cells.first().getAttribute("data-owner"))!
          assert.match((await cells.first().getAttribute("title")) ?? "", new RegExp(`^Partition \\d+: ${owner}, epoch \\d+`))
          assert.include(await inspector(page).locator("[part=legend]").textContent(), owner)
          assert.include(await inspector(page).locator("[part=nodes] tbody").textContent(), owner)

          // the hot actors, by last activity: the conversation and a timeline are there
          await inspector(page).getByLabel("Hottest by").selectOption("lastActivity")
          await inspector(page).locator(`[part=open][data-actor="conversation/${conversationId}"]`).waitFor({ timeout: 30_000 })
          await inspector(page).locator(`[part=open][data-actor="timeline/${a.id}"]`).waitFor({ timeout: 30_000 })
          await screenshot(page, "inspector-01-overview")
        })
      }), 240_000)

    it.effect("the partition map and the hot actors work from the keyboard", () =>
      run(async () => {
        const cells = inspector(page).locator("[part~=cell]")
        await cells.first().focus()
        await page.keyboard.press("ArrowRight")
        assert.isTrue(await cells.nth(1).evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement))
        assert.match((await inspector(page).locator("[part=partition-detail]").textContent()) ?? "", /^Partition \d+:/)
        const unnamed = await inspector(page).locator("button").evaluateAll((buttons) =>
          buttons.filter((b) => !(b.getAttribute("aria-label") || b.textContent?.trim())).length
        )
        assert.strictEqual(unnamed, 0, "every button has a name")
      }), 60_000)

    it.effect("the live tail shows a command the HTTP API causes while the page is open", () =>
      Effect.gen(function*() {
        yield* run(async () => {
          await inspector(page).locator("[part=tail-status]").filter({ hasText: "Tailing everything" }).waitFor({ timeout: 30_000 })
        })
        const before = yield* run(() => tailRowsOf(page, conversationId).count())
        yield* sendMessage("hello while the inspector watches")
        yield* run(async () => {
          await page.waitForFunction(
            ([id, n]) => {
              const root = document.querySelector("ap-app")?.shadowRoot?.querySelector("ap-actor-inspector")?.shadowRoot
              const rows = Array.from(root?.querySelectorAll("[part=tail-rows] tbody tr.tap") ?? [])
              return rows.filter((r) => r.querySelector("td:nth-child(3)")?.textContent?.includes(id as string)).length > (n as number)
            },
            [conversationId, before] as const,
            { timeout: 30_000 }
          )
          const row = tailRowsOf(page, conversationId).first()
          assert.strictEqual((await row.locator("td:nth-child(2)").textContent())?.trim(), "conversation")
          await screenshot(page, "inspector-02-tail-live")
          const violations = await axe(page, ["ap-app", "ap-actor-inspector"])
          assert.deepStrictEqual(violations, [], "axe: no serious or critical problems on the overview with the tail")
        })
      }), 120_000)

    it.effect("a row opens the actor's page; 'Tail this actor' tails just it; Back returns", () =>
      Effect.gen(function*() {
        yield* run(async () => {
          await inspector(page).locator(`[part=open][data-actor="conversation/${conversationId}"]`).click()
          const heading = inspector(page).locator("#detail-h")
          await heading.waitFor()
          assert.strictEqual((await heading.textContent())?.replace(/\s+/g, " ").trim(), `conversation ${conversationId}`)
          await inspector(page).locator("[part=detail] dl").first().waitFor({ timeout: 30_000 })
          assert.include(await inspector(page).locator("[part=detail] dl").first().textContent(), "Owner")
          assert.isAbove(await inspector(page).locator("[part=recent] tbody tr").count(), 0, "the messages sent are among its recent commands")
          await screenshot(page, "inspector-03-detail")
          const violations = await axe(page, ["ap-app", "ap-actor-inspector"])
          assert.deepStrictEqual(violations, [], "axe: no serious or critical problems on an actor's page")
          await inspector(page).getByRole("button", { name: "Tail this actor" }).click()
          assert.strictEqual(await inspector(page).locator("input[name=kinds]").inputValue(), "conversation")
          assert.strictEqual(await inspector(page).locator("input[name=keys]").inputValue(), conversationId)
          await inspector(page).locator("[part=tail-status]").filter({ hasText: `Tailing kinds conversation; keys ${conversationId}` }).waitFor({ timeout: 30_000 })
        })
        // taps are best effort: one sent while the new filter's interest is still on its way to the
        // actor's node is not tapped, so the message is sent again until a row shows
        for (let attempt = 1; ; attempt++) {
          yield* sendMessage(`only this actor now (${attempt})`)
          const shown = yield* Effect.promise(() => tailRowsOf(page, conversationId).first().waitFor({ timeout: 5_000 }).then(() => true, () => false))
          if (shown || attempt >= 6) break
        }
        yield* run(async () => {
          await tailRowsOf(page, conversationId).first().waitFor({ timeout: 5_000 })
          const keys = await inspector(page).locator("[part=tail-rows] tbody tr.tap td:nth-child(3)").allTextContents()
          assert.isAbove(keys.length, 0)
          assert.deepStrictEqual([...new Set(keys.map((k) => k.trim()))], [conversationId], "only the tailed actor")
          await inspector(page).getByRole("button", { name: /Back/ }).click()
          await inspector(page).locator("[part~=cell]").first().waitFor()
          assert.deepStrictEqual(problems.filter((p) => p.includes("pageerror")), [])
        })
      }), 120_000)

    it.effect("stays responsive with 1,024 partitions on 8 nodes, 10,000 actors, 100-row hot lists and 500 taps a second", () =>
      run(async (base) => {
        const big = await open(base, admin, "big")
        const nodes = Array.from({ length: 8 }, (_, i) => `node-${i}`)
        const actor = (i: number) => ({
          kind: i % 2 ? "timeline" : "conversation", key: `k${i}`, node: nodes[i % 8], partition: i % 1024, epoch: 1, mailboxDepth: 100 - (i % 100),
          handled: i, restarts: 0, parked: false, spawnedAt: new Date().toISOString(), lastActivity: new Date().toISOString()
        })
        const top = Array.from({ length: 100 }, (_, i) => actor(i))
        let polls = 0
        // the overview a large cluster answers, served in place of the test server's
        await big.route(/\/api\/v1\/admin\/actors\?/, (route) => {
          polls++
          const at = new Date().toISOString()
          return route.fulfill({
            contentType: "application/json",
            body: JSON.stringify({
              at, askedBy: "node-0",
              nodes: nodes.map((node) => ({ node, roles: ["api", "actors"], version: "0.1.0", startedAt: at, heartbeatAgeMs: 500, answeredInMs: 3, partitions: 128, actors: 1250, mailboxDepth: polls, sockets: 100 })),
              missing: [],
              partitions: Array.from({ length: 1024 }, (_, p) => ({
                partition: p, owner: p % 97 === 0 ? null : nodes[p % 8], epoch: p % 97 === 0 ? null : polls, state: "active", leaseExpiresAt: at, actors: 10, pending: (p + polls) % 3, ackPending: 0, redelivered: 0
              })),
              kinds: [{ kind: "timeline", live: 8000, mailboxDepth: 10, handled: 1e6, restarts: 3 }, { kind: "conversation", live: 2000, mailboxDepth: 1, handled: 1e5, restarts: 0 }],
              top: { mailboxDepth: top, handled: top, restarts: top, lastActivity: top },
              streams: [], deadLetters: []
            })
          })
        })
        await big.goto(`${base}/admin`)
        await big.waitForFunction(() => document.querySelector("ap-app")?.shadowRoot?.querySelector("ap-actor-inspector")?.shadowRoot?.querySelectorAll("[part~=cell]").length === 1024, undefined, { timeout: 30_000 })
        await inspector(big).locator("[part=tail-status]").filter({ hasText: "Tailing everything" }).waitFor({ timeout: 30_000 })
        // taps as the socket delivers them, 5 every 10 ms for 3 s, while the overview polls every 2 s
        const figures = await big.evaluate(async () => {
          const el = document.querySelector("ap-app")!.shadowRoot!.querySelector("ap-actor-inspector")! as unknown as HTMLElement & {
            client: { socket: { emit: (type: string, frame: unknown) => void } }
            tail: { buffer: { rows: ReadonlyArray<unknown> } }
          }
          const longTasks: Array<number> = []
          new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration))).observe({ type: "longtask", buffered: false })
          let frames = 0
          let worstGap = 0
          let last = performance.now()
          let flooding = true
          const tick = (now: number) => {
            worstGap = Math.max(worstGap, now - last)
            last = now
            frames++
            if (flooding) requestAnimationFrame(tick)
          }
          requestAnimationFrame(tick)
          let seq = 0
          await new Promise<void>((resolve) => {
            const timer = setInterval(() => {
              for (let i = 0; i < 5; i++) {
                seq++
                el.client.socket.emit("frame", {
                  type: "observed", id: null, ts: new Date().toISOString(),
                  payload: { source: "actor", kind: "timeline", key: `k${seq % 10_000}`, tag: "Push", outcome: "ok", durationMs: 1.5, node: `node-${seq % 8}`, partition: seq % 1024, epoch: 1, seq, at: Date.now() }
                })
              }
              if (seq >= 1500) {
                clearInterval(timer)
                resolve()
              }
            }, 10)
          })
          await new Promise((r) => setTimeout(r, 200))
          flooding = false
          const root = el.shadowRoot!
          const rendered = () => root.querySelectorAll("[part=tail-rows] tbody tr.tap")
          const keyOf = (tr: Element | undefined) => tr?.querySelector("td:nth-child(3)")?.textContent?.trim()
          const newest = keyOf(rendered()[0])
          const inDom = rendered().length
          // scrolled to the end, the oldest row kept is rendered
          const scroller = root.querySelector<HTMLElement>(".rows")!
          scroller.scrollTop = scroller.scrollHeight
          scroller.dispatchEvent(new Event("scroll"))
          for (let i = 0; i < 3; i++) await new Promise((r) => requestAnimationFrame(r))
          const all = rendered()
          return {
            sent: seq, kept: el.tail.buffer.rows.length, rowcount: root.querySelector("[part=tail-rows]")!.getAttribute("aria-rowcount"), inDom, newest,
            oldest: keyOf(all[all.length - 1]), frames, worstGap, longest: Math.max(0, ...longTasks), longTasks: longTasks.length
          }
        })
        console.log(`inspector under load: ${polls} polls of 1,024 partitions; ${figures.sent} taps in 3 s → ${figures.kept} rows kept (${figures.inDom} in the DOM), ${figures.frames} frames, worst frame gap ${figures.worstGap.toFixed(0)} ms, ${figures.longTasks} long tasks (longest ${figures.longest.toFixed(0)} ms)`)
        assert.strictEqual(figures.kept, 500, "the tail keeps the newest 500 rows")
        assert.strictEqual(figures.rowcount, "501")
        assert.isBelow(figures.inDom, 80, "only the rows near the view are in the DOM")
        assert.strictEqual(figures.newest, "k1500")
        assert.strictEqual(figures.oldest, "k1001", "scrolled to the end: the oldest row kept")
        // frame gaps are printed, not asserted (timings belong in benchmarks; a busy CI machine varies):
        // windowed ~35 ms here, all 500 rows in the DOM took 280–580 ms — the DOM count above is the check
        assert.isAbove(polls, 1)
        await screenshot(big, "inspector-05-large-cluster")
        await big.context().close()
      }), 120_000)

    it.effect("someone who is no admin sees no link, and 'admins only' at /admin", () =>
      run(async (base) => {
        const other = await open(base, a, "a")
        await other.goto(`${base}/`)
        await other.getByRole("heading", { name: "Home" }).waitFor()
        await other.waitForLoadState("networkidle")
        await other.locator("ap-app nav").getByRole("button", { name: "More" }).click()
        await other.locator("ap-app nav").getByRole("link", { name: "Settings" }).waitFor()
        assert.strictEqual(await other.locator("ap-app nav").getByRole("link", { name: "Admin" }).count(), 0)
        await other.goto(`${base}/admin`)
        const refused = inspector(other).locator("[part=forbidden]")
        await refused.waitFor({ timeout: 30_000 })
        assert.match((await refused.textContent()) ?? "", /Admins only/)
        assert.strictEqual(await inspector(other).locator("[part~=cell]").count(), 0)
        await screenshot(other, "inspector-04-not-admin")
        await other.context().close()
      }), 60_000)
  })
})
