/** The whole application on an isolated configuration, plus small HTTP/WS helpers for tests. */
import { Effect, Layer, Logger, LogLevel } from "effect"
import WebSocket from "ws"
import { ApiNodeLive } from "../../src/App.ts"
import type { AppConfigShape } from "../../src/config/AppConfig.ts"
import { HttpListening } from "../../src/http/Transport.ts"
import { TestConfig } from "./harness.ts"

export const TestApp = (overrides: Partial<AppConfigShape> = {}) =>
  ApiNodeLive.pipe(
    Layer.provideMerge(TestConfig(overrides)),
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

/** A WebSocket client that records frames, for asserting on the protocol. */
export const openSocket = (path = "/ws") =>
  Effect.gen(function*() {
    const base = (yield* baseUrl).replace("http", "ws")
    return yield* Effect.acquireRelease(
      Effect.async<TestSocket, Error>((resume) => {
        const ws = new WebSocket(base + path)
        const socket = new TestSocket(ws)
        ws.once("open", () => resume(Effect.succeed(socket)))
        ws.once("error", (e) => resume(Effect.fail(e)))
        ws.once("unexpected-response", (_req, res) => resume(Effect.fail(new Error(`upgrade refused: ${res.statusCode}`))))
      }),
      (s) => Effect.sync(() => s.ws.terminate())
    )
  })

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
  next(type: string, timeoutMs = 5000) {
    return Effect.async<any, Error>((resume) => {
      const check = () => {
        const i = this.frames.findIndex((f) => f.type === type)
        if (i >= 0) {
          const [frame] = this.frames.splice(i, 1)
          clearTimeout(timer)
          resume(Effect.succeed(frame))
        } else this.waiters.push(check)
      }
      const timer = setTimeout(() => resume(Effect.fail(new Error(`no ${type} frame within ${timeoutMs} ms`))), timeoutMs)
      check()
    })
  }
  waitClosed(timeoutMs = 5000) {
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
