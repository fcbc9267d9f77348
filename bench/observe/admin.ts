/**
 * The admin side of the observe benchmark: an account named in ADMIN_USERNAMES (signed up once
 * through the API), its live tail over `/ws` as `npm run observe` opens it (a ws-ticket, then
 * `observe {}`), counting what arrives, and timed keep-alive GETs of the inspector's routes.
 */
import { randomBytes } from "node:crypto"
import * as http from "node:http"
import WebSocket from "ws"
import { request, type Server, ServerError, sleep } from "../accounts/server.ts"

export interface Admin {
  readonly username: string
  readonly token: string
  readonly userId: string
}

/** Lower case: ADMIN_USERNAMES is compared with the lower-cased username. */
export const adminUsername = (runId: string) => `obs_admin_${runId}`

export const signUpAdmin = async (server: Server, username: string): Promise<Admin> => {
  const answer = await request(`${server.baseUrl}/api/v1/auth/signup`, {
    method: "POST",
    json: { username, email: `${username}@bench.aperture.test`, password: `Bench-${randomBytes(12).toString("hex")}` }
  })
  if (answer.status !== 201) throw new ServerError(server, `signup answered ${answer.status}: ${answer.body}`)
  const body = JSON.parse(answer.body) as { token: string; user: { id: string } }
  return { username, token: body.token, userId: body.user.id }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

// ---------------------------------------------------------------------------------------------
// The live tail

/** What one observer received between `observing` and its close. */
export interface Tail {
  /** `observed` frames. */
  readonly observed: number
  /** Sums over the `observe_stats` frames: taps sent, and matching taps the rate limit (or sampling) dropped. */
  readonly sent: number
  readonly dropped: number
  readonly statsFrames: number
  /** Matching actor taps per kind and events per type, before the limit (from the stats). */
  readonly perKind: Readonly<Record<string, number>>
  readonly perEvent: Readonly<Record<string, number>>
  /** The server's OBSERVE_MAX_PER_SECOND, as `observing` reported it. */
  readonly maxPerSecond: number
}

export interface Observer {
  /** Closes the socket (the server announces that the interest ended) and returns the counts. */
  readonly close: () => Promise<Tail>
}

const add = (into: Record<string, number>, from: Readonly<Record<string, number>> | undefined) => {
  for (const [k, n] of Object.entries(from ?? {})) into[k] = (into[k] ?? 0) + n
}

/** Opens a socket with a fresh ticket, sends `observe {}` (everything), resolves once `observing` arrived. */
export const observeEverything = async (server: Server, admin: Admin): Promise<Observer> => {
  const ticket = await request(`${server.baseUrl}/api/v1/auth/ws-ticket`, { method: "POST", headers: bearer(admin.token) })
  if (ticket.status < 200 || ticket.status > 299) throw new ServerError(server, `ws-ticket answered ${ticket.status}: ${ticket.body}`)
  const { ticket: t } = JSON.parse(ticket.body) as { ticket: string }
  const ws = new WebSocket(`${server.baseUrl.replace(/^http/, "ws")}/ws?ticket=${encodeURIComponent(t)}`)
  let observed = 0
  let sent = 0
  let dropped = 0
  let statsFrames = 0
  let maxPerSecond = NaN
  const perKind: Record<string, number> = {}
  const perEvent: Record<string, number> = {}
  const closed = new Promise<void>((resolve) => ws.once("close", () => resolve()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ServerError(server, "no `observing` frame within 10 s")), 10_000)
    ws.on("open", () => ws.send(JSON.stringify({ type: "observe", payload: {} })))
    ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as { type: string; payload: any }
      switch (frame.type) {
        case "observed":
          observed++
          return
        case "observe_stats":
          statsFrames++
          sent += frame.payload.sent
          dropped += frame.payload.dropped
          add(perKind, frame.payload.perKind)
          add(perEvent, frame.payload.perEvent)
          return
        case "observing":
          maxPerSecond = frame.payload.maxPerSecond
          clearTimeout(timer)
          resolve()
          return
        case "error":
          clearTimeout(timer)
          reject(new ServerError(server, `observe refused: ${JSON.stringify(frame.payload)}`))
      }
    })
    ws.on("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
  })
  return {
    close: async () => {
      ws.close(1000)
      await Promise.race([closed, sleep(5_000)])
      return { observed, sent, dropped, statsFrames, perKind, perEvent, maxPerSecond }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Timed GETs

export interface Timed {
  readonly status: number
  readonly ms: number
  readonly bytes: number
  readonly body: string
}

/** One keep-alive agent per benchmark: a measured request pays no TCP handshake. */
export const keepAlive = () => new http.Agent({ keepAlive: true, maxSockets: 4 })

/** GET `url` as the admin: time from sending to the answer's last byte. */
export const timedGet = (agent: http.Agent, url: string, token: string, timeoutMillis = 10_000) =>
  new Promise<Timed>((resolve, reject) => {
    const started = performance.now()
    const req = http.get(url, { agent, headers: bearer(token), timeout: timeoutMillis }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => {
        const body = Buffer.concat(chunks)
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, bytes: body.length, body: body.toString("utf8") })
      })
      res.on("error", reject)
    })
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMillis} ms`)))
    req.on("error", reject)
  })
