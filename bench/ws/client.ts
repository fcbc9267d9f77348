/**
 * One load-generating worker of the WebSocket benchmark, forked by run.ts (IPC with structured
 * clone). It opens its share of the sockets — each authenticated with its user's session cookie,
 * bound to one of several 127.0.0.x source addresses so the ephemeral ports of one address never
 * run short — answers `hello` with a `ping` (which starts live delivery at once), and records for
 * every `bench` frame its publish time (in the payload) and its receipt time on the same clock
 * (performance.timeOrigin + performance.now(), the wall clock at sub-millisecond resolution).
 *
 * Commands (run.ts → worker):  open {url, sockets, concurrency} · record {progressMs} · report · close
 * Events (worker → run.ts):    opened {...} · progress {received} · report {...} · closed
 */
import WebSocket from "ws"

export interface SocketSpec {
  readonly token: string
  readonly localAddress: string
}

export type Command =
  | { readonly cmd: "open"; readonly url: string; readonly sockets: ReadonlyArray<SocketSpec>; readonly concurrency: number }
  | { readonly cmd: "record"; readonly progressMs: number }
  | { readonly cmd: "report" }
  | { readonly cmd: "close" }

export type Event =
  | { readonly ev: "opened"; readonly open: number; readonly failed: number; readonly errors: ReadonlyArray<string>; readonly millis: number }
  | { readonly ev: "progress"; readonly received: number }
  | {
    readonly ev: "report"
    /** Publish and receipt times of every `bench` frame since `record`, in epoch milliseconds. */
    readonly sentAt: Float64Array
    readonly receivedAt: Float64Array
    readonly duplicates: number
    /** Sockets closed by the server since they opened, by close code. */
    readonly closes: Record<string, number>
    readonly open: number
  }
  | { readonly ev: "closed" }

const now = () => performance.timeOrigin + performance.now()
const send = (e: Event) => process.send!(e)
const ATTEMPTS = 3
const OPEN_TIMEOUT_MS = 30_000

interface Client {
  ws: WebSocket
  lastId: number
}

const clients: Array<Client> = []
const closes: Record<string, number> = {}
let closing = false

// receipts since the last `record`, in growable typed arrays (a fast phase yields ~10^5 of them)
let sentAt = new Float64Array(1 << 16)
let receivedAt = new Float64Array(1 << 16)
let received = 0
let duplicates = 0
let progressTimer: NodeJS.Timeout | undefined

const grow = () => {
  const s = new Float64Array(sentAt.length * 2)
  s.set(sentAt)
  sentAt = s
  const r = new Float64Array(receivedAt.length * 2)
  r.set(receivedAt)
  receivedAt = r
}

const MARK = "\"type\":\"bench\""
const SENT_AT = "\"sentAt\":"

const onFrame = (client: Client, data: WebSocket.RawData) => {
  const at = now()
  const text = data.toString()
  if (!text.includes(MARK)) return
  // `{"id":<seq>,"type":"bench","ts":…,"payload":{"sentAt":<ms>}}`: two numbers, found without JSON.parse
  const id = Number(text.slice(6, text.indexOf(",", 6)))
  if (id <= client.lastId) duplicates++
  client.lastId = id
  const from = text.indexOf(SENT_AT) + SENT_AT.length
  const sent = Number(text.slice(from, text.indexOf("}", from)))
  if (received === sentAt.length) grow()
  sentAt[received] = sent
  receivedAt[received] = at
  received++
}

/** Opens one socket and resolves once its `hello` arrived (and the `ping` answering it went out). */
const openOne = (url: string, spec: SocketSpec) =>
  new Promise<Client>((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: { cookie: `ap_session=${spec.token}` },
      localAddress: spec.localAddress,
      perMessageDeflate: false,
      handshakeTimeout: OPEN_TIMEOUT_MS
    })
    const client: Client = { ws, lastId: 0 }
    let hello = false
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error("no hello in time"))
    }, OPEN_TIMEOUT_MS)
    ws.on("message", (data) => {
      if (hello) return onFrame(client, data)
      hello = true
      clearTimeout(timer)
      const frame = JSON.parse(data.toString()) as { type: string; payload: { inboxSeq: number } }
      if (frame.type !== "hello") {
        ws.terminate()
        return reject(new Error(`first frame was ${frame.type}, not hello`))
      }
      client.lastId = frame.payload.inboxSeq
      ws.send("{\"type\":\"ping\"}")
      resolve(client)
    })
    ws.on("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
    ws.on("unexpected-response", (_req, res) => {
      clearTimeout(timer)
      ws.terminate()
      reject(new Error(`upgrade answered ${res.statusCode}`))
    })
    ws.on("close", (code) => {
      clearTimeout(timer)
      if (!hello) return reject(new Error(`closed with ${code} before hello`))
      if (!closing) closes[code] = (closes[code] ?? 0) + 1
    })
  })

const openAll = async (url: string, specs: ReadonlyArray<SocketSpec>, concurrency: number) => {
  const started = performance.now()
  const errors = new Map<string, number>()
  let failed = 0
  let next = 0
  const lane = async () => {
    while (next < specs.length) {
      const spec = specs[next++]!
      for (let attempt = 1; ; attempt++) {
        try {
          clients.push(await openOne(url, spec))
          break
        } catch (e) {
          const message = e instanceof Error ? e.message : String(e)
          errors.set(message, (errors.get(message) ?? 0) + 1)
          if (attempt === ATTEMPTS) {
            failed++
            break
          }
          await new Promise((r) => setTimeout(r, 200 * attempt))
        }
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))
  send({
    ev: "opened",
    open: clients.length,
    failed,
    errors: [...errors].map(([m, n]) => `${n}× ${m}`),
    millis: performance.now() - started
  })
}

process.on("message", (command: Command) => {
  switch (command.cmd) {
    case "open":
      void openAll(command.url, command.sockets, command.concurrency)
      return
    case "record":
      received = 0
      duplicates = 0
      clearInterval(progressTimer)
      progressTimer = setInterval(() => send({ ev: "progress", received }), command.progressMs)
      return
    case "report":
      clearInterval(progressTimer)
      send({
        ev: "report",
        sentAt: sentAt.slice(0, received),
        receivedAt: receivedAt.slice(0, received),
        duplicates,
        closes: { ...closes },
        open: clients.filter((c) => c.ws.readyState === WebSocket.OPEN).length
      })
      return
    case "close": {
      closing = true
      for (const c of clients) c.ws.terminate()
      send({ ev: "closed" })
      return
    }
  }
})

// run.ts going away must not leave thousands of sockets behind
process.on("disconnect", () => process.exit(0))
