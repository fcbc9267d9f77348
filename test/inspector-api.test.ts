/**
 * The inspector over HTTP and the live tail over the socket, on the whole application: every
 * admin path refuses anonymous callers (401) and signed-in non-admins (403) and answers admins;
 * the inspector's figures name this node, its partitions and the timeline actors a post's fan-out
 * woke; `observe` is refused to non-admins and, for an admin, streams one follower's timeline
 * activity and `post.*` events as they happen; `npm run observe -- --json` prints the same tail
 * from a terminal against the running server.
 */
import { assert, describe, layer } from "@effect/vitest"
import { spawn } from "node:child_process"
import { Effect } from "effect"
import { AppConfig } from "../src/config/AppConfig.ts"
import { baseUrl, openSocketAs, publishPost, request, signup, TestApp } from "./support/app.ts"
import { until } from "./support/harness.ts"

const ADMIN = `ins_admin_${Date.now().toString(36)}`
const ADMIN2 = `ins_admin2_${Date.now().toString(36)}`

describe("inspector API and live tail", () => {
  layer(
    TestApp({
      actorPartitions: 4,
      adminUsernames: [ADMIN, ADMIN2],
      rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 100_000, dmThreadsPerUserPerHour: 10_000 }
    }),
    { timeout: "180 seconds", excludeTestServices: true }
  )((it) => {
    it.scoped("every admin path: 401 anonymous, 403 for others, answers for admins; bad paths are 4xx", () =>
      Effect.gen(function*() {
        const admin = yield* signup({ username: ADMIN })
        const user = yield* signup()
        const paths: ReadonlyArray<[string, string]> = [
          ["GET", "/api/v1/admin/actors"],
          ["GET", `/api/v1/admin/actors/timeline/${user.id}`],
          ["GET", "/api/v1/admin/dead-letters"],
          ["POST", "/api/v1/admin/dead-letters/1/replay"],
          ["POST", `/api/v1/admin/media/${crypto.randomUUID()}/requeue`]
        ]
        for (const [method, path] of paths) {
          const anonymous = yield* request(path, { method })
          assert.strictEqual(anonymous.status, 401, `${method} ${path} anonymous: ${anonymous.text}`)
          const other = yield* request(path, { method, headers: user.bearer })
          assert.strictEqual(other.status, 403, `${method} ${path} non-admin: ${other.text}`)
          assert.notInclude(other.text, "partition")
        }
        const overview = yield* request("/api/v1/admin/actors?limit=5", { headers: admin.bearer })
        assert.strictEqual(overview.status, 200, overview.text)
        const detail = yield* request(`/api/v1/admin/actors/timeline/${user.id}`, { headers: admin.bearer })
        assert.strictEqual(detail.status, 200, detail.text)
        assert.strictEqual(detail.json.kind, "timeline")
        const unknownKind = yield* request(`/api/v1/admin/actors/nosuchkind/${user.id}`, { headers: admin.bearer })
        assert.strictEqual(unknownKind.status, 404, unknownKind.text)
        const badKey = yield* request("/api/v1/admin/actors/timeline/has.dot", { headers: admin.bearer })
        assert.strictEqual(badKey.status, 400, badKey.text)
        const badLimit = yield* request("/api/v1/admin/actors?limit=1000", { headers: admin.bearer })
        assert.strictEqual(badLimit.status, 400, badLimit.text)
        const missing = yield* request("/api/v1/admin/dead-letters/999999/replay", { method: "POST", headers: admin.bearer })
        assert.strictEqual(missing.status, 404, missing.text)

        // the socket: observe is refused to a non-admin, who keeps the socket and gets nothing tapped
        const theirs = yield* openSocketAs(user)
        yield* theirs.next("hello")
        theirs.send({ type: "observe", payload: {} })
        const refused = yield* theirs.next("error")
        assert.strictEqual(refused.payload.code, "Forbidden")
        const bad = yield* openSocketAs(admin)
        yield* bad.next("hello")
        bad.send({ type: "observe", payload: { sample: 2 } })
        assert.strictEqual((yield* bad.next("error")).payload.code, "BadFrame")
      }))

    it.scoped("the figures of a fan-out, one follower's timeline tailed live, post events, and the CLI", () =>
      Effect.gen(function*() {
        const config = yield* AppConfig
        const adminAccount = yield* signup({ username: ADMIN2 })
        const author = yield* signup()
        const follower = yield* signup()
        const other = yield* signup()
        for (const f of [follower, other]) {
          const r = yield* request(`/api/v1/users/${author.username}/follow`, { method: "POST", headers: f.bearer })
          assert.strictEqual(r.status, 200, r.text)
        }

        const tail = yield* openSocketAs(adminAccount)
        yield* tail.next("hello")
        tail.send({ type: "observe", payload: { kinds: ["timeline"], keys: [follower.id], events: ["post.*"] } })
        const observing = yield* tail.next("observing")
        assert.deepStrictEqual(observing.payload.filter.keys, [follower.id])

        // the CLI, tailing post events as JSON lines, against this server
        const url = yield* baseUrl
        const lines: Array<any> = []
        const cli = spawn("node", ["--import", "tsx", "scripts/observe.ts", "--url", url, "--token", adminAccount.token, "--events", "post.*", "--json"], {
          stdio: ["ignore", "pipe", "pipe"]
        })
        yield* Effect.addFinalizer(() => Effect.sync(() => cli.kill("SIGKILL")))
        let buffered = ""
        cli.stdout.on("data", (d: Buffer) => {
          buffered += d.toString()
          const parts = buffered.split("\n")
          buffered = parts.pop()!
          for (const p of parts) if (p.trim() !== "") lines.push(JSON.parse(p))
        })
        yield* until(Effect.sync(() => lines), (ls) => ls.some((l) => l.type === "observing"), 60_000)

        const postId = yield* publishPost(author, "#observed")
        // the follower's timeline got the post through a fan-out batch that names them
        const batch = yield* until(
          Effect.sync(() => tail.frames.filter((f) => f.type === "observed" && f.payload.source === "actor")),
          (fs) => fs.some((f) => (f.payload.keys ?? []).includes(follower.id)),
          30_000
        )
        const mine = batch.find((f) => (f.payload.keys ?? []).includes(follower.id))!.payload
        assert.strictEqual(mine.kind, "timeline")
        assert.strictEqual(mine.key, "_batch")
        assert.strictEqual(mine.outcome, "ok")
        assert.strictEqual(mine.node, config.nodeId)
        assert.isAtLeast(mine.epoch, 1)
        // only actor traffic for the follower's key: no other key, no other kind
        for (const f of batch) assert.isTrue(f.payload.key === follower.id || (f.payload.keys ?? []).includes(follower.id), JSON.stringify(f.payload))
        const published = yield* until(
          Effect.sync(() => tail.frames.filter((f) => f.type === "observed" && f.payload.source === "event")),
          (fs) => fs.some((f) => f.payload.type === "post.published" && f.payload.ids.postId === postId),
          30_000
        )
        assert.isTrue(published.every((f) => f.payload.type.startsWith("post.")))
        const stats = yield* tail.next("observe_stats")
        assert.isNumber(stats.payload.sent)

        // the CLI printed the same event
        const printed = yield* until(Effect.sync(() => lines), (ls) => ls.some((l) => l.type === "observed" && l.payload.ids?.postId === postId), 30_000)
        assert.isTrue(printed.filter((l) => l.type === "observed").every((l) => l.payload.source === "event" && l.payload.type.startsWith("post.")))

        // the inspector names this node, its four partitions, and the live timeline actors
        const overview = yield* request("/api/v1/admin/actors", { headers: adminAccount.bearer })
        assert.strictEqual(overview.status, 200, overview.text)
        const me = overview.json.nodes.find((n: any) => n.node === config.nodeId)
        assert.isDefined(me, overview.text)
        assert.strictEqual(me.partitions, 4)
        assert.isAtLeast(me.sockets, 1)
        assert.includeMembers(me.roles, ["api", "actors", "media"])
        assert.deepStrictEqual(overview.json.missing, [])
        assert.strictEqual(overview.json.partitions.length, 4)
        assert.isTrue(overview.json.partitions.every((p: any) => p.owner === config.nodeId))
        assert.isTrue(overview.json.kinds.some((k: any) => k.kind === "timeline" && k.live >= 1), overview.text)
        assert.isTrue(overview.json.streams.some((s: any) => s.stream.endsWith("EVENTS") && s.consumers.length > 0))

        // unobserve stops the tail
        tail.send({ type: "unobserve", payload: {} })
        const stopped = yield* tail.next("observing")
        assert.isNull(stopped.payload.filter)
      }))
  })
})
