/** The whole application on an isolated configuration, plus small HTTP/WS helpers for tests. */
import { Data, Effect, Layer, Logger, LogLevel } from "effect"
import WebSocket from "ws"
import { BlobStoreLive, FullNodeLive } from "../../src/App.ts"
import type { AppConfigShape } from "../../src/config/AppConfig.ts"
import { HttpListening } from "../../src/http/Transport.ts"
import { TestConfig } from "./harness.ts"
import { multipart, plainPng } from "./images.ts"

/** The whole application on an isolated configuration (cheap scrypt parameters to keep tests quick). */
export const TestApp = (overrides: Partial<AppConfigShape> = {}) =>
  FullNodeLive.pipe(
    // the tests look at stored objects directly, through a store of their own on the same data
    Layer.merge(BlobStoreLive),
    Layer.provideMerge(TestConfig({ scryptLogN: 10, ...overrides })),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
  )

export const baseUrl = Effect.map(HttpListening, ({ port }) => `http://127.0.0.1:${port}`)

export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: any
}

export const request = (path: string, init: RequestInit = {}) =>
  Effect.gen(function*() {
    const base = yield* baseUrl
    return yield* Effect.promise(async (): Promise<Reply> => {
      const res = await fetch(base + path, init)
      const text = await res.text()
      let json: unknown = undefined
      try {
        json = JSON.parse(text)
      } catch {
        // not JSON: tests look at text
      }
      return { status: res.status, headers: res.headers, text, json }
    })
  })

export interface Account {
  readonly id: string
  readonly username: string
  readonly token: string
  /** The `Cookie` header value of its session. */
  readonly cookie: string
  readonly bearer: { readonly authorization: string }
}

let accountCounter = 0
/** Signs up a fresh account (a distinct X-Forwarded-For per account keeps signup limits out of the way). */
export const signup = (options: { readonly username?: string; readonly isPrivate?: boolean; readonly ip?: string } = {}) =>
  Effect.gen(function*() {
    const username = options.username ?? `u${Date.now().toString(36)}${(accountCounter++).toString(36)}`
    const r = yield* request("/api/v1/auth/signup", {
      method: "POST",
      headers: { "content-type": "application/json", ...(options.ip ? { "x-forwarded-for": options.ip } : {}) },
      body: JSON.stringify({ username, email: `${username}@example.com`, password: "correct horse battery staple" })
    })
    if (r.status !== 201) return yield* Effect.dieMessage(`signup failed: ${r.status} ${r.text}`)
    const cookie = (r.headers.get("set-cookie") ?? "").split(";")[0]!
    const account: Account = {
      id: r.json.user.id,
      username,
      token: r.json.token,
      cookie,
      bearer: { authorization: `Bearer ${r.json.token}` }
    }
    if (options.isPrivate) {
      const p = yield* request("/api/v1/users/me", {
        method: "PATCH",
        headers: { ...account.bearer, "content-type": "application/json" },
        body: JSON.stringify({ isPrivate: true })
      })
      if (p.status !== 200) return yield* Effect.dieMessage(`making private failed: ${p.status} ${p.text}`)
    }
    return account
  })

/** A WebSocket client that records frames, for asserting on the protocol. */
export const openSocket = (path = "/ws", headers: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const base = (yield* baseUrl).replace("http", "ws")
    return yield* Effect.acquireRelease(
      Effect.async<TestSocket, Error>((resume) => {
        const ws = new WebSocket(base + path, { headers })
        const socket = new TestSocket(ws)
        ws.once("open", () => resume(Effect.succeed(socket)))
        ws.once("error", (e) => resume(Effect.fail(e)))
        ws.once("unexpected-response", (req, res) => {
          req.destroy()
          resume(Effect.fail(new UpgradeRefused({ status: res.statusCode ?? 0 })))
        })
      }),
      (s) => Effect.sync(() => s.ws.terminate())
    )
  })

export class UpgradeRefused extends Data.TaggedError("UpgradeRefused")<{ readonly status: number }> {}

/** Opens `/ws` as an account: with a fresh ticket by default, or with its cookie. */
export const openSocketAs = (account: Account, via: "ticket" | "cookie" = "ticket") =>
  via === "cookie"
    ? openSocket("/ws", { cookie: account.cookie })
    : Effect.flatMap(request("/api/v1/auth/ws-ticket", { method: "POST", headers: account.bearer }), (t) => openSocket(`/ws?ticket=${t.json.ticket}`))

export class TestSocket {
  readonly frames: Array<any> = []
  private waiters: Array<() => void> = []
  closed: { code: number; reason: string } | undefined
  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.frames.push(JSON.parse(data.toString()))
      this.wake()
    })
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() }
      this.wake()
    })
  }
  private wake() {
    const w = this.waiters
    this.waiters = []
    w.forEach((f) => f())
  }
  send(value: unknown) {
    this.ws.send(typeof value === "string" ? value : JSON.stringify(value))
  }
  /** Waits for the next frame of `type` (after those already consumed by earlier waits). */
  /** Generous by default: CI machines are small and busy, and a frame that never comes still fails. */
  next(type: string, timeoutMs = 15_000) {
    return Effect.async<any, Error>((resume) => {
      const check = () => {
        const i = this.frames.findIndex((f) => f.type === type)
        if (i >= 0) {
          const [frame] = this.frames.splice(i, 1)
          clearTimeout(timer)
          resume(Effect.succeed(frame))
        } else if (this.closed) {
          // a closed socket sends nothing more: say why now rather than time out later
          clearTimeout(timer)
          resume(Effect.fail(new Error(`no ${type} frame: the socket closed (${this.closed.code} ${this.closed.reason})`)))
        } else this.waiters.push(check)
      }
      const timer = setTimeout(() => resume(Effect.fail(new Error(`no ${type} frame within ${timeoutMs} ms`))), timeoutMs)
      check()
    })
  }
  waitClosed(timeoutMs = 15_000) {
    return Effect.async<{ code: number; reason: string }, Error>((resume) => {
      const check = () => {
        if (this.closed) {
          clearTimeout(timer)
          resume(Effect.succeed(this.closed))
        } else this.waiters.push(check)
      }
      const timer = setTimeout(() => resume(Effect.fail(new Error("socket not closed"))), timeoutMs)
      check()
    })
  }
}

let tinyPng: Uint8Array | undefined

/** Posts a small image as `author` and waits (up to `attempts` × 50 ms) until it is published; its id. */
export const publishPost = (author: Account, caption = "", attempts = 300) =>
  Effect.gen(function*() {
    tinyPng ??= yield* Effect.promise(() => plainPng(48, 48))
    const r = yield* request("/api/v1/posts", { method: "POST", headers: author.bearer, body: multipart(tinyPng, { caption }, "p.png", "image/png") })
    if (r.status !== 202) return yield* Effect.dieMessage(`POST /posts answered ${r.status}: ${r.text}`)
    for (let i = 0; i < attempts; i++) {
      const p = yield* request(`/api/v1/posts/${r.json.postId}`, { headers: author.bearer })
      if (p.json?.status === "published") return r.json.postId as string
      // real time, not Effect.sleep: under it.effect the TestClock would never move
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 50)))
    }
    return yield* Effect.dieMessage("post never published")
  })
