/**
 * `npm run observe -- [--kind timeline] [--key <userId>] [--events 'post.*'] [--sample 0.1]
 *   [--url http://127.0.0.1:8080] [--token <session token>] [--json]`
 *
 * The admins' live tail of actor and event traffic in a terminal: one line per tap (coloured when
 * stdout is a terminal), and a summary line of rates per kind and event type every second (from
 * the server's `observe_stats`, so it counts what the rate limit dropped). `--json` prints every
 * frame as one JSON line instead, for piping. `--kind`, `--key` and `--events` may repeat or take
 * comma-separated lists. The token is a session token of an admin (ADMIN_USERNAMES); it may also
 * come from APERTURE_TOKEN. Reconnects (and observes again) when the socket drops.
 */
import WebSocket from "ws"

interface Args {
  readonly url: string
  readonly token: string
  readonly kinds: Array<string>
  readonly keys: Array<string>
  readonly events: Array<string>
  readonly sample: number | undefined
  readonly json: boolean
}

const usage = `usage: npm run observe -- [--kind K]… [--key KEY]… [--events 'post.*']… [--sample 0..1] [--url URL] [--token TOKEN] [--json]`

const parse = (argv: ReadonlyArray<string>): Args => {
  const kinds: Array<string> = []
  const keys: Array<string> = []
  const events: Array<string> = []
  let url = process.env["APERTURE_URL"] ?? "http://127.0.0.1:8080"
  let token = process.env["APERTURE_TOKEN"] ?? ""
  let sample: number | undefined
  let json = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const value = () => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value\n${usage}`)
      return v
    }
    const list = (v: string) => v.split(",").map((s) => s.trim()).filter((s) => s !== "")
    switch (a) {
      case "--kind":
        kinds.push(...list(value()))
        break
      case "--key":
        keys.push(...list(value()))
        break
      case "--events":
        events.push(...list(value()))
        break
      case "--sample":
        sample = Number(value())
        if (!(sample > 0 && sample <= 1)) throw new Error(`--sample is a share, 0 < sample ≤ 1\n${usage}`)
        break
      case "--url":
        url = value()
        break
      case "--token":
        token = value()
        break
      case "--json":
        json = true
        break
      case "--help":
      case "-h":
        console.log(usage)
        process.exit(0)
        break
      default:
        throw new Error(`unknown argument ${a}\n${usage}`)
    }
  }
  if (token === "") throw new Error(`an admin's session token is needed: --token or APERTURE_TOKEN\n${usage}`)
  return { url: url.replace(/\/+$/, ""), token, kinds, keys, events, sample, json }
}

const tty = process.stdout.isTTY === true
const paint = (code: number, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s)
const outcomeColour: Record<string, number> = { ok: 32, answered: 36, failed: 33, dead: 31, parked: 35 }

const line = (tap: any): string => {
  const time = new Date(tap.at).toISOString().slice(11, 23)
  if (tap.source === "event") {
    const ids = Object.entries(tap.ids ?? {}).map(([k, v]) => `${k}=${String(v).slice(0, 8)}`).join(" ")
    return `${paint(2, time)} ${paint(34, "event")} ${paint(1, tap.type)} ${ids} ${paint(2, `@${tap.node}`)}`
  }
  const keys = Array.isArray(tap.keys) ? ` → ${tap.keys.length} keys` : ""
  const dropped = tap.droppedBefore ? paint(31, ` (+${tap.droppedBefore} dropped)`) : ""
  return `${paint(2, time)} ${paint(36, `${tap.kind}:${tap.key}`)} ${tap.tag} ${paint(outcomeColour[tap.outcome] ?? 0, tap.outcome)} ` +
    `${tap.durationMs.toFixed(2)} ms${keys} ${paint(2, `p${tap.partition} e${tap.epoch} #${tap.seq} @${tap.node}`)}${dropped}`
}

const summary = (s: any): string => {
  const rates = [...Object.entries(s.perKind ?? {}), ...Object.entries(s.perEvent ?? {})].map(([k, n]) => `${k} ${n}/s`)
  return paint(2, `— ${rates.length === 0 ? "quiet" : rates.join(", ")} · sent ${s.sent}/s${s.dropped > 0 ? ` · dropped ${s.dropped}/s` : ""}`)
}

const run = async (args: Args) => {
  const filter = {
    ...(args.kinds.length > 0 ? { kinds: args.kinds } : {}),
    ...(args.keys.length > 0 ? { keys: args.keys } : {}),
    ...(args.events.length > 0 ? { events: args.events } : {}),
    ...(args.sample !== undefined ? { sample: args.sample } : {})
  }
  let stopping = false
  process.on("SIGINT", () => {
    stopping = true
    process.exit(0)
  })
  for (let attempt = 0; !stopping; attempt++) {
    const ticket = await fetch(`${args.url}/api/v1/auth/ws-ticket`, { method: "POST", headers: { authorization: `Bearer ${args.token}` } })
    if (ticket.status === 401) throw new Error("the token was refused (401): sign in again")
    if (!ticket.ok) throw new Error(`could not get a socket ticket: ${ticket.status} ${await ticket.text()}`)
    const { ticket: t } = (await ticket.json()) as { ticket: string }
    const closed = await new Promise<{ code: number; reason: string; fatal?: string }>((resolve) => {
      const ws = new WebSocket(`${args.url.replace(/^http/, "ws")}/ws?ticket=${encodeURIComponent(t)}`)
      ws.on("open", () => ws.send(JSON.stringify({ type: "observe", payload: filter })))
      ws.on("message", (data) => {
        const frame = JSON.parse(data.toString()) as { type: string; payload: any }
        if (frame.type === "error" && frame.payload?.code === "Forbidden") {
          resolve({ code: 0, reason: "", fatal: frame.payload.message })
          ws.close()
          return
        }
        if (args.json) {
          if (frame.type === "observed" || frame.type === "observe_stats" || frame.type === "observing" || frame.type === "error") {
            process.stdout.write(`${JSON.stringify(frame)}\n`)
          }
          return
        }
        if (frame.type === "observed") process.stdout.write(`${line(frame.payload)}\n`)
        else if (frame.type === "observe_stats") process.stdout.write(`${summary(frame.payload)}\n`)
        else if (frame.type === "observing") process.stderr.write(`observing ${JSON.stringify(frame.payload.filter)} (at most ${frame.payload.maxPerSecond}/s)\n`)
        else if (frame.type === "error") process.stderr.write(`server: ${frame.payload?.message ?? JSON.stringify(frame.payload)}\n`)
      })
      ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }))
      ws.on("error", () => undefined)
    })
    if (closed.fatal !== undefined) throw new Error(closed.fatal)
    if (stopping) break
    const wait = Math.min(5000, 250 * 2 ** Math.min(attempt, 5))
    process.stderr.write(`socket closed (${closed.code} ${closed.reason}); reconnecting in ${wait} ms\n`)
    await new Promise((r) => setTimeout(r, wait))
  }
}

try {
  await run(parse(process.argv.slice(2)))
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
}
