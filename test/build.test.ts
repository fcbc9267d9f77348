/**
 * The production build as the image runs it: `dist/main.js`, compiled by `scripts/build.ts`,
 * started with NODE_ENV=production on this machine's Node (20, uWS) and on the LTS the image uses
 * (Node 24, fetched from the npm registry into .services/). Each serves the web client and the
 * docs from dist/, signs up, publishes a photo through the Sharp worker, reads it back from
 * PostgreSQL, keeps /metrics behind OPS_TOKEN, and exits 0 on SIGTERM.
 *
 * On a glibc older than 2.38 (Debian 12) uWS's binary for Node 24 does not load, so that start
 * uses the standard transport, explicitly (HTTP_TRANSPORT=node); on Debian 13 it runs uWS.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Layer, Redacted } from "effect"
import { AppConfig } from "../src/config/AppConfig.ts"
import { buildServer, SERVER_OUT } from "../scripts/build.ts"
import { ensureLtsNode, LTS_NODE_VERSION, uwsLoadsOnLts } from "../scripts/lts-node.ts"
import { ensureBuilt as ensureWebBuilt } from "../web-components/build.ts"
import { TestConfig } from "./support/harness.ts"
import { multipart, plainPng } from "./support/images.ts"
import { freePort } from "./support/servers.ts"

const TOKEN = "build-test-ops-token-0123456789"

interface Started {
  readonly code: number | null
  readonly output: string
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const waitReady = async (base: string, exited: () => boolean) => {
  for (let i = 0; i < 600 && !exited(); i++) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return
    } catch {
      // not listening yet
    }
    await sleep(100)
  }
  throw new Error("the compiled server did not become ready")
}

/** What a person does on a fresh server: sign up, post a photo, see it published. */
const exercise = async (base: string, transport: string) => {
  const health = await fetch(`${base}/healthz`)
  assert.strictEqual(health.status, 200)
  // paths the bundle resolves from dist/: the web client and the docs script inside @effect/platform
  const page = await fetch(`${base}/`)
  assert.strictEqual(page.status, 200)
  assert.include(await page.text(), "/widgets/app.")
  // the widget entries the compiled server knows by name (web-components/entries.ts, bundled in), brotli when asked
  for (const p of ["/widgets/aperture.js", "/widgets/post.js"]) {
    const widget = await fetch(`${base}${p}`, { headers: { "accept-encoding": "br" } })
    assert.strictEqual(widget.status, 200, p)
    assert.strictEqual(widget.headers.get("content-encoding"), "br", p)
    assert.include(await widget.text(), "./chunk-", p)
  }
  assert.strictEqual((await fetch(`${base}/docs/scalar.js`)).status, 200)

  const username = `b${Date.now().toString(36)}`
  const signup = await fetch(`${base}/api/v1/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, email: `${username}@example.com`, password: "correct horse battery staple" })
  })
  assert.strictEqual(signup.status, 201, await signup.clone().text())
  const auth = { authorization: `Bearer ${(await signup.json()).token}` }
  const me = await (await fetch(`${base}/api/v1/auth/me`, { headers: auth })).json()
  assert.strictEqual(me.username, username)

  const upload = await fetch(`${base}/api/v1/posts`, {
    method: "POST",
    headers: auth,
    body: multipart(await plainPng(48, 48), { caption: "from dist" }, "p.png", "image/png")
  })
  assert.strictEqual(upload.status, 202, await upload.clone().text())
  const { postId } = await upload.json()
  let status = "processing"
  for (let i = 0; i < 600 && status === "processing"; i++) {
    status = (await (await fetch(`${base}/api/v1/posts/${postId}`, { headers: auth })).json()).status
    if (status === "processing") await sleep(50)
  }
  assert.strictEqual(status, "published")

  assert.strictEqual((await fetch(`${base}/metrics`)).status, 401)
  const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
  assert.strictEqual(metrics.status, 200)
  const info = await (await fetch(`${base}/api/v1/system/info`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()
  assert.strictEqual(info.transport, transport)
  return info.runtime as string
}

const startCompiled = (node: string, transport: "uws" | "node") =>
  Effect.gen(function*() {
    const c = yield* AppConfig
    const port = yield* freePort
    const base = `http://127.0.0.1:${port}`
    const dataDir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "aperture-build-test-"))),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    )
    let runtime = ""
    const result = yield* Effect.async<Started>((resume) => {
      const child = spawn(node, ["dist/main.js"], {
        env: {
          ...process.env,
          NODE_ENV: "production",
          PORT: String(port),
          HOST: "127.0.0.1",
          HTTP_TRANSPORT: transport,
          OPS_TOKEN: TOKEN,
          MEDIA_URL_SECRET: "build-test-media-url-secret-0123456789abcdef",
          DATABASE_URL: Redacted.value(c.databaseUrl),
          REDIS_KEY_PREFIX: c.redisKeyPrefix,
          NATS_PREFIX: c.natsPrefix,
          ACTOR_PARTITIONS: "4",
          PASSWORD_SCRYPT_LOG_N: "10",
          DATA_DIR: dataDir,
          LOG_LEVEL: "info"
        },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let output = ""
      let exited = false
      child.stdout.on("data", (d) => (output += d))
      child.stderr.on("data", (d) => (output += d))
      child.on("exit", (code) => {
        exited = true
        resume(Effect.succeed({ code, output }))
      })
      waitReady(base, () => exited)
        .then(() => exercise(base, transport))
        .then((r) => (runtime = r), (e) => (output += `\nTEST FAILURE: ${e instanceof Error ? e.stack : String(e)}\n`))
        .finally(() => child.kill("SIGTERM"))
    })
    assert.notInclude(result.output, "TEST FAILURE", result.output)
    assert.strictEqual(result.code, 0, result.output)
    const messages = result.output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l).message as string)
    assert.include(messages, `listening on ${base} (${transport})`)
    return runtime
  }).pipe(Effect.scoped, Effect.provide(Layer.fresh(TestConfig())))

describe("the compiled server (dist/main.js)", () => {
  it.live("builds, and starts on this machine's Node with uWS", () =>
    Effect.gen(function*() {
      yield* Effect.promise(() => Promise.all([buildServer(), ensureWebBuilt()]))
      assert.isTrue(fs.existsSync(SERVER_OUT))
      const runtime = yield* startCompiled(process.execPath, "uws")
      assert.strictEqual(runtime, `node ${process.versions.node}`)
    }), { timeout: 180_000 })

  it.live(`starts on Node ${LTS_NODE_VERSION}, the image's LTS (from the npm registry)`, () =>
    Effect.gen(function*() {
      if (!fs.existsSync(SERVER_OUT)) yield* Effect.promise(() => Promise.all([buildServer(), ensureWebBuilt()]))
      const node = ensureLtsNode()
      const runtime = yield* startCompiled(node, uwsLoadsOnLts() ? "uws" : "node")
      assert.strictEqual(runtime, `node ${LTS_NODE_VERSION}`)
    }), { timeout: 180_000 })
})
