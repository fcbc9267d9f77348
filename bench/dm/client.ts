/**
 * One socket worker of the DM benchmark, forked by run.ts (IPC with structured clone), modelled on
 * bench/ws/client.ts. It opens its share of the members' sockets (session cookie, several
 * 127.0.0.x source addresses), answers `hello` with `resume` from the inbox sequence it reports
 * (live delivery starts at once), and records for every `message` frame a member receives from
 * the other member of its thread the send time (the text is `dm-bench <sentAt>`, written by
 * run.ts just before it issued the POST) and the receipt time, on the same clock
 * (performance.timeOrigin + performance.now()). Each sender also gets its own message back (the
 * spec sends every member the frame); those carry the sender's clientId and are counted apart.
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
    /** Send and receipt times of every other member's message since `record`, in epoch milliseconds. */
    readonly sentAt: Float64Array
    readonly receivedAt: Float64Array
    /** The senders' own copies received since `record`. */
    readonly echoes: number
    /** A (thread, seq) received twice by the same socket. */
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
const TEXT_MARK = "dm-bench "

interface Client {
  ws: WebSocket
  /** Highest seq seen per thread: a repeat is a duplicate. */
  readonly lastSeq: Map<string, number>
}

const clients: Array<Client> = []
const closes: Record<string, number> = {}
let closing = false

let sentAt = new Float64Array(1 << 16)
let receivedAt = new Float64Array(1 << 16)
let received = 0
let echoes = 0
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

interface MessageFrame {
  readonly type: string
  readonly payload: { readonly conversationId: string; readonly message: { readonly seq: number; readonly clientId: string | null; readonly text: string | null } }
}

const onFrame = (client: Client, data: WebSocket.RawData) => {
  const at = now()
  const text = data.toString()
  if (!text.includes("\"type\":\"message\"")) return
  const frame = JSON.parse(text) as MessageFrame
  if (frame.type !== "message") return
  const { conversationId, message } = frame.payload
  const last = client.lastSeq.get(conversationId) ?? 0
  if (message.seq <= last) duplicates++
  else client.lastSeq.set(conversationId, message.seq)
  if (message.clientId !== null) {
    echoes++
    return
  }
  if (message.text === null || !message.text.startsWith(TEXT_MARK)) return
  if (received === sentAt.length) grow()
  sentAt[received] = Number(message.text.slice(TEXT_MARK.length))
  receivedAt[received] = at
  received++
}

/** Opens one socket and resolves once its `hello` arrived (and the `resume` answering it went out). */
const openOne = (url: string, spec: SocketSpec) =>
  new Promise<Client>((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: { cookie: `ap_session=${spec.token}` },
      localAddress: spec.localAddress,
      perMessageDeflate: false,
      handshakeTimeout: OPEN_TIMEOUT_MS
    })
    const client: Client = { ws, lastSeq: new Map() }
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
      ws.send(JSON.stringify({ type: "resume", payload: { sinceSeq: frame.payload.inboxSeq } }))
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
  send({ ev: "opened", open: clients.length, failed, errors: [...errors].map(([m, n]) => `${n}× ${m}`), millis: performance.now() - started })
}

process.on("message", (command: Command) => {
  switch (command.cmd) {
    case "open":
      void openAll(command.url, command.sockets, command.concurrency)
      return
    case "record":
      received = 0
      echoes = 0
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
        echoes,
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
