/**
 * Client benchmark, three figures:
 *
 * 1. Bundle sizes (`bench/client/bundle.ts`, which also runs alone): every entry — the whole
 *    bundle `aperture.js`, the app's first load `app.js`, each widget such as `post.js` — with the
 *    chunks it imports, gzipped (level 9) and brotli (quality 11) as served, against the budgets
 *    (post ≤ 15 KB, aperture and app ≤ 60 KB gzipped).
 * 2. Time to the first 20 feed posts: a viewer following BENCH_AUTHORS people with BENCH_POSTS
 *    posts between them (real uploads of small generated images through the media worker, fanned
 *    out by the server) opens `/` in headless Chromium; measured from navigation start to the
 *    moment 20 `<ap-post>` cards are in the DOM with their images decoded. The feed is virtualized,
 *    so only what is near the viewport renders: this step uses a tall window (1280 × 12,000 px)
 *    that holds 20 cards. Also reported, in an ordinary 1280 × 900 window: navigation to the first
 *    post's image on screen. Medians over BENCH_ROUNDS cold loads (a new browser context each).
 * 2b. The same first image on a throttled phone: a 390 × 844 mobile viewport (DPR 3, touch), 150 ms
 *    round trips, 1.6 Mbit/s down and 750 kbit/s up (Chrome DevTools' "Slow 4G"-like numbers the
 *    issue names) and a 4× CPU slowdown, through the DevTools protocol; median of BENCH_ROUNDS
 *    cold loads, with the requests the image waited for (a waterfall of the median round).
 * 3. Scrolling 500 posts in the ordinary window: scrolls down in 600 px steps (one per animation
 *    frame pair) until the 500th post has rendered, the feed fetching page after page; samples the
 *    page's element count (every shadow root included) and the `<ap-post>` count at every step.
 *    "Bounded" means the maximum stays flat instead of growing with the posts passed.
 *
 * Env: BENCH_AUTHORS (10), BENCH_POSTS (520), BENCH_ROUNDS (5), CHROMIUM_PATH (/usr/bin/chromium).
 * Run: `npm run bench:client`. Writes bench/client/results.json. Needs PostgreSQL, Redis and NATS
 * on loopback, and Debian's chromium. Everything it creates (a database, Redis keys, streams)
 * lives under a random prefix and is removed at the end.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import pg from "pg"
import sharp from "sharp"
import { launchChromium } from "../../test/e2e/support/browser.ts"
import { REPO_ROOT, type Server, sleep, startServer, stopServer } from "../accounts/server.ts"
import { deleteNatsPrefix, deleteRedisPrefix } from "../http/cleanup.ts"
import { envInt } from "../support/env.ts"
import { bundleSizes } from "./bundle.ts"

const AUTHORS = envInt("BENCH_AUTHORS", 10)
const POSTS = envInt("BENCH_POSTS", 520)
const ROUNDS = envInt("BENCH_ROUNDS", 5)
/** How far the scroll step goes (500; fewer when a quick run seeds fewer posts). */
const SCROLL_TO = Math.max(1, Math.min(500, POSTS - 20))
/** BENCH_PROFILE=1: a CPU profile of the first throttled load, top functions printed. */
const PROFILE = process.env["BENCH_PROFILE"] === "1"
/** BENCH_TRACE=1: who asked for each API call of the first throttled load (the JS stack). */
const TRACE = process.env["BENCH_TRACE"] === "1"
/** BENCH_SCROLL=0 skips the scrolling step (a quick run). */
const SCROLL = process.env["BENCH_SCROLL"] !== "0"
const RESULTS_PATH = fileURLToPath(new URL("./results.json", import.meta.url))

const runId = randomBytes(4).toString("hex")
const prefix = `benchcli${runId}`
const natsUrl = process.env["NATS_URL"] ?? "nats://127.0.0.1:4222"
const redisUrl = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"
const adminUrl = process.env["BENCH_DATABASE_ADMIN_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres"
const dbName = `aperture_${prefix}`
const databaseUrl = (() => {
  const u = new URL(adminUrl)
  u.pathname = `/${dbName}`
  return u.toString()
})()
const UNLIMITED = "100000000"

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

interface Account {
  readonly username: string
  readonly token: string
  readonly cookie: string
}

const api = async (server: Server, path: string, init: RequestInit & { token?: string } = {}) => {
  const headers = new Headers(init.headers)
  if (init.token) headers.set("authorization", `Bearer ${init.token}`)
  const res = await fetch(server.baseUrl + path, { ...init, headers })
  const text = await res.text()
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text.slice(0, 200)}`)
  return { res, json: text ? (JSON.parse(text) as any) : undefined }
}

const signup = async (server: Server, username: string): Promise<Account> => {
  const { res, json } = await api(server, "/api/v1/auth/signup", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, email: `${username}@example.com`, password: "correct horse battery staple" })
  })
  return { username, token: json.token, cookie: (res.headers.get("set-cookie") ?? "").split(";")[0]! }
}

/** A small landscape photo (1.91:1), different for every post so nothing is deduplicated. */
const image = (i: number) =>
  sharp({ create: { width: 382, height: 200, channels: 3, background: { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 53) % 256 } } })
    .jpeg({ quality: 80 })
    .toBuffer()

const seed = async (server: Server) => {
  const viewer = await signup(server, `viewer_${runId}`)
  const authors = await Promise.all(Array.from({ length: AUTHORS }, (_, i) => signup(server, `author${i}_${runId}`)))
  for (const a of authors) await api(server, `/api/v1/users/${a.username}/follow`, { method: "POST", token: viewer.token })
  let next = 0
  let done = 0
  const worker = async () => {
    for (;;) {
      const i = next++
      if (i >= POSTS) return
      const author = authors[i % AUTHORS]!
      const form = new FormData()
      form.append("caption", `Post ${i} by ${author.username}`)
      form.append("altText", `a flat colour, number ${i}`)
      form.append("image", new Blob([new Uint8Array(await image(i))], { type: "image/jpeg" }), `p${i}.jpg`)
      await api(server, "/api/v1/posts", { method: "POST", token: author.token, body: form })
      if (++done % 100 === 0) console.log(`  uploaded ${done}/${POSTS}`)
    }
  }
  await Promise.all(Array.from({ length: 6 }, worker))
  // wait until the viewer's feed holds them all (processed, published, fanned out)
  const deadline = Date.now() + 10 * 60_000
  for (;;) {
    let count = 0
    let cursor: string | null = null
    do {
      const q: string = cursor ? `?limit=50&cursor=${encodeURIComponent(cursor)}` : "?limit=50"
      const { json } = await api(server, `/api/v1/feed${q}`, { token: viewer.token })
      count += json.items.filter((p: { status: string }) => p.status === "published").length
      cursor = json.hasMore ? json.nextCursor : null
    } while (cursor)
    console.log(`  feed holds ${count}/${POSTS} published posts`)
    if (count >= POSTS) break
    if (Date.now() > deadline) throw new Error(`the feed holds only ${count} of ${POSTS} posts after 10 minutes`)
    await sleep(3000)
  }
  return viewer
}

/** Page-side: elements in the document and in every shadow root; the number of cards. */
const COUNT_NODES = `(() => {
  let elements = 0, posts = 0
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      elements++
      if (el.localName === "ap-post") posts++
      if (el.shadowRoot) walk(el.shadowRoot)
    }
  }
  walk(document)
  return { elements, posts }
})()`

/** Page-side: how many cards are rendered with their image decoded. */
const LOADED_POSTS = `(() => {
  const feed = document.querySelector("ap-app")?.shadowRoot?.querySelector("ap-feed")
  if (!feed) return 0
  let n = 0
  for (const p of feed.shadowRoot.querySelectorAll("ap-post")) {
    const img = p.shadowRoot?.querySelector("img[part=image]")
    if (img && img.complete && img.naturalWidth > 0) n++
  }
  return n
})()`

const main = async () => {
  console.log("bundle")
  const bundle = await bundleSizes()
  for (const line of bundle.table) console.log(line)
  console.log(`server (prefix ${prefix})`)
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE "${dbName}"`)
  await admin.end()
  const server = await startServer(REPO_ROOT, {
    HTTP_TRANSPORT: "uws",
    LOG_LEVEL: "warning",
    DATABASE_URL: databaseUrl,
    NATS_PREFIX: prefix,
    REDIS_KEY_PREFIX: `${prefix}:`,
    PASSWORD_SCRYPT_LOG_N: "10",
    MEDIA_CONCURRENCY: "2",
    RATE_SIGNUPS_PER_IP_PER_HOUR: UNLIMITED,
    RATE_FOLLOWS_PER_HOUR: UNLIMITED,
    RATE_WRITES_PER_MINUTE: UNLIMITED
  })
  const browser = await launchChromium()
  try {
    console.log(`seeding ${AUTHORS} authors, ${POSTS} posts`)
    const viewer = await seed(server)
    const cookie = { name: viewer.cookie.split("=")[0]!, value: viewer.cookie.slice(viewer.cookie.indexOf("=") + 1), url: server.baseUrl }
    // what a browser keeps after signing in: the session and the page-readable signed-in hint
    const cookies = [cookie, { name: "ap_signed_in", value: "1", url: server.baseUrl }]

    const first20: Array<number> = []
    const firstImage: Array<number> = []
    for (let round = 0; round < ROUNDS; round++) {
      for (const [height, sink, wanted] of [[12_000, first20, 20], [900, firstImage, 1]] as const) {
        const context = await browser.newContext({ viewport: { width: 1280, height } })
        await context.addCookies(cookies)
        const page = await context.newPage()
        const started = Date.now()
        await page.goto(`${server.baseUrl}/`)
        await page.waitForFunction(`${LOADED_POSTS} >= ${wanted}`, undefined, { timeout: 60_000, polling: "raf" })
        // navigation start as the browser saw it, not as our process did
        const elapsed = await page.evaluate(() => performance.now())
        sink.push(Math.min(elapsed, Date.now() - started))
        await context.close()
      }
      console.log(`  round ${round + 1}: 20 posts ${first20.at(-1)!.toFixed(0)} ms, first image ${firstImage.at(-1)!.toFixed(0)} ms`)
    }

    console.log("throttled phone: 150 ms RTT, 1.6 Mbit/s, 4x CPU")
    const phone: Array<number> = []
    const waterfalls: Array<ReadonlyArray<string>> = []
    for (let round = 0; round < ROUNDS; round++) {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true })
      await context.addCookies(cookies)
      const page = await context.newPage()
      const cdp = await context.newCDPSession(page)
      await cdp.send("Network.enable")
      await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 })
      await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 })
      if (TRACE && round === 0) {
        cdp.on("Network.requestWillBeSent", (e) => {
          if (!e.request.url.includes("/api/v1/")) return
          const frames = (e.initiator.stack?.callFrames ?? []).slice(0, 8).map((f) => `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber}`)
          console.log(`  ${e.request.url.replace(server.baseUrl, "")} ← ${frames.join(" ← ") || e.initiator.type}`)
        })
      }
      const profiling = PROFILE && round === 0
      if (profiling) {
        await cdp.send("Profiler.enable")
        await cdp.send("Profiler.setSamplingInterval", { interval: 200 })
        await cdp.send("Profiler.start")
      }
      await page.goto(`${server.baseUrl}/`)
      await page.waitForFunction(`${LOADED_POSTS} >= 1`, undefined, { timeout: 60_000, polling: "raf" })
      const at = (await page.evaluate(() => performance.now())) as number
      if (profiling) {
        const { profile } = await cdp.send("Profiler.stop")
        const self = new Map<string, number>()
        const dt = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples?.length ?? 1)
        const byId = new Map(profile.nodes.map((n) => [n.id, n]))
        for (const id of profile.samples ?? []) {
          const f = byId.get(id)!.callFrame
          const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber}`
          self.set(key, (self.get(key) ?? 0) + dt)
        }
        console.log("  main-thread self time by function (throttled ms), top 25:")
        for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`    ${v.toFixed(0).padStart(6)} ${k}`)
      }
      phone.push(at)
      waterfalls.push(await page.evaluate(() =>
        performance.getEntriesByType("resource").map((e) => {
          const r = e as PerformanceResourceTiming
          return `${r.startTime.toFixed(0).padStart(5)}–${r.responseEnd.toFixed(0).padStart(5)} ms ${(r.encodedBodySize / 1024).toFixed(1).padStart(6)} KB ${new URL(r.name).pathname.slice(0, 60)}`
        })
      ))
      console.log(`  round ${round + 1}: first image ${at.toFixed(0)} ms`)
      await context.close()
    }
    const medianRound = phone.indexOf([...phone].sort((a, b) => a - b)[Math.floor(phone.length / 2)]!)
    console.log("  requests of the median round:")
    for (const line of waterfalls[medianRound] ?? []) console.log(`    ${line}`)

    console.log(SCROLL ? `scrolling ${SCROLL_TO} posts` : "scrolling skipped (BENCH_SCROLL=0)")
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    await context.addCookies(cookies)
    const page = await context.newPage()
    await page.goto(`${server.baseUrl}/`)
    await page.waitForFunction(`${LOADED_POSTS} >= 1`, undefined, { timeout: 60_000 })
    const samples: Array<{ elements: number; posts: number; passed: number }> = []
    const scrollStarted = Date.now()
    let passed = 0
    while (SCROLL && passed < SCROLL_TO) {
      await page.mouse.wheel(0, 600)
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))))
      passed = await page.evaluate(`(() => {
        const feed = document.querySelector("ap-app").shadowRoot.querySelector("ap-feed")
        let max = 0
        for (const p of feed.shadowRoot.querySelectorAll("ap-post")) max = Math.max(max, Number(p.posinset) || 0)
        return max
      })()`)
      samples.push({ ...(await page.evaluate(COUNT_NODES)) as { elements: number; posts: number }, passed })
      if (Date.now() - scrollStarted > 5 * 60_000) throw new Error(`scrolling stalled at post ${passed}`)
    }
    const scrollMs = Date.now() - scrollStarted
    await context.close()
    const early = samples.filter((s) => s.passed <= 50)
    const late = samples.filter((s) => s.passed >= 450)
    const result = {
      date: new Date().toISOString(),
      authors: AUTHORS,
      posts: POSTS,
      rounds: ROUNDS,
      bundle: { entries: bundle.entries, budgetsGzipBytes: bundle.budgetsGzipBytes, overBudget: bundle.overBudget },
      first20PostsMs: { median: median(first20), all: first20 },
      firstImageMs: { median: median(firstImage), all: firstImage },
      throttledPhoneFirstImageMs: { median: median(phone), all: phone, profile: "390x844 DPR3, 150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up, 4x CPU", waterfall: waterfalls[medianRound] ?? [] },
      scroll: {
        posts: passed,
        ms: scrollMs,
        steps: samples.length,
        maxElements: Math.max(...samples.map((s) => s.elements)),
        maxPostsInDom: Math.max(...samples.map((s) => s.posts)),
        maxElementsFirst50: Math.max(...early.map((s) => s.elements)),
        maxElementsLast50: Math.max(...late.map((s) => s.elements))
      }
    }
    fs.writeFileSync(RESULTS_PATH, JSON.stringify(result, null, 2) + "\n")
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`
    console.log("")
    console.log("| metric | value | goal |")
    console.log("| --- | ---: | --- |")
    for (const name of ["aperture", "app", "post"] as const) {
      const e = bundle.entries[name]
      const budget = bundle.budgetsGzipBytes[name]!
      console.log(`| \`${e.file}\` with its chunks, gzip / brotli (minified) | ${kb(e.gzipBytes)} / ${kb(e.brotliBytes)} (${kb(e.bytes)}) | ≤ ${kb(budget)} gzip — ${e.gzipBytes <= budget ? "met" : "NOT met"} |`)
    }
    console.log(`| navigation → 20 feed posts with images (median of ${ROUNDS}) | ${median(first20).toFixed(0)} ms | — |`)
    console.log(`| navigation → first post image (1280×900, median) | ${median(firstImage).toFixed(0)} ms | — |`)
    console.log(`| throttled phone (150 ms RTT, 1.6 Mbit/s, 4× CPU): navigation → first photo (median) | ${median(phone).toFixed(0)} ms (${Math.min(...phone).toFixed(0)}–${Math.max(...phone).toFixed(0)}) | < 1,000 ms — ${median(phone) < 1000 ? "met" : "NOT met"} |`)
    for (const [name, e] of Object.entries(bundle.entries)) {
      if (name === "aperture" || name === "app" || name === "post") continue
      console.log(`| \`${e.file}\` with its chunks, gzip / brotli | ${kb(e.gzipBytes)} / ${kb(e.brotliBytes)} | — |`)
    }
    console.log(`| scroll through ${passed} posts | ${(scrollMs / 1000).toFixed(1)} s, ${samples.length} steps | — |`)
    console.log(`| max <ap-post> in the DOM while scrolling | ${result.scroll.maxPostsInDom} | bounded |`)
    console.log(`| max elements (incl. shadow roots): posts 1–50 / 450–500 / overall | ${result.scroll.maxElementsFirst50} / ${result.scroll.maxElementsLast50} / ${result.scroll.maxElements} | flat |`)
    console.log(`\nwrote ${RESULTS_PATH}`)
  } finally {
    await browser.close()
    await stopServer(server)
    const admin2 = new pg.Client({ connectionString: adminUrl })
    await admin2.connect()
    await admin2.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch((e: Error) => console.warn(`cleanup: ${e.message}`))
    await admin2.end()
    await deleteNatsPrefix(natsUrl, prefix).catch((e: Error) => console.warn(`cleanup: ${e.message}`))
    await deleteRedisPrefix(redisUrl, `${prefix}:`).catch((e: Error) => console.warn(`cleanup: ${e.message}`))
  }
}

await main()
