/**
 * Direct messages on both transports, against the real services: gap-free sequences under 50
 * concurrent senders, one message for 100 concurrent sends of one clientId, a resend a day later
 * (a controllable clock) answering the original, live frames (message, read_receipt, reaction,
 * message_deleted, conversation_updated, typing with its throttle), message requests, blocks,
 * leaving and removal stopping delivery, history from joining, shared posts' visibility, photo
 * messages through the media pipeline, and bad input. After every scenario the unread counts the
 * API gives are compared with ones recomputed from PostgreSQL's rows.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, layer } from "@effect/vitest"
import { Clock, Effect, Layer } from "effect"
import type { AppConfigShape } from "../src/config/AppConfig.ts"
import { type Account, publishPost, request, signup, TestApp, openSocketAs, type TestSocket } from "./support/app.ts"
import { until } from "./support/harness.ts"
import { plainPng } from "./support/images.ts"

const settings: Partial<AppConfigShape> = {
  actorPartitions: 4,
  rateLimits: { signupsPerIpPerHour: 10_000, loginFailuresPerAccountPer15Min: 5, loginFailuresPerIpPer15Min: 50, followsPerUserPerHour: 10_000, writesPerUserPerMinute: 10_000, dmSendsPerUserPerMinute: 100_000, dmThreadsPerUserPerHour: 10_000 }
}

/** The server's clock, moved forward by the tests (sleeps stay real). */
let offsetMillis = 0
const realClock = Clock.make()
const movableClock: Clock.Clock = Object.assign(Object.create(realClock), {
  unsafeCurrentTimeMillis: () => realClock.unsafeCurrentTimeMillis() + offsetMillis,
  currentTimeMillis: Effect.sync(() => realClock.unsafeCurrentTimeMillis() + offsetMillis),
  unsafeCurrentTimeNanos: () => realClock.unsafeCurrentTimeNanos() + BigInt(offsetMillis) * 1_000_000n,
  currentTimeNanos: Effect.sync(() => realClock.unsafeCurrentTimeNanos() + BigInt(offsetMillis) * 1_000_000n)
})

const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))
const json = (a: Account) => ({ ...a.bearer, "content-type": "application/json" })
const call = (a: Account, method: string, path: string, body?: unknown) =>
  request(`/api/v1${path}`, { method, headers: json(a), ...(body === undefined ? {} : { body: JSON.stringify(body) }) })

const follow = (who: Account, whom: Account) => call(who, "POST", `/users/${whom.username}/follow`)
const start = (who: Account, members: ReadonlyArray<Account>, title?: string) =>
  Effect.map(call(who, "POST", "/conversations", { memberUsernames: members.map((m) => m.username), ...(title ? { title } : {}) }), (r) => {
    if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text}`)
    return r.json
  })
const send = (who: Account, id: string, body: Record<string, unknown>) =>
  call(who, "POST", `/conversations/${id}/messages`, { clientId: crypto.randomUUID(), ...body })

/** Frames of `type` on a socket (without consuming them), once at least `n` arrived or `ms` passed. */
const framesOf = (socket: TestSocket, type: string, n: number, ms = 15_000) =>
  until(Effect.sync(() => socket.frames.filter((f) => f.type === type)), (fs) => fs.length >= n, ms)

/**
 * Unread counts recomputed from PostgreSQL's rows (not with the server's query): per member, the
 * messages after both their joining and their read pointer, not theirs and not deleted.
 */
const recomputedUnread = (conversationId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const members = yield* sql<{ userId: string; joinedSeq: string; readSeq: string }>`
      SELECT user_id::text, joined_seq, read_seq FROM conversation_members WHERE conversation_id = ${conversationId} AND left_seq IS NULL`
    const messages = yield* sql<{ seq: string; senderId: string; deleted: boolean }>`
      SELECT seq, sender_id::text, deleted_at IS NOT NULL AS deleted FROM messages WHERE conversation_id = ${conversationId}`
    const counts = new Map<string, number>()
    for (const m of members) {
      const from = Math.max(Number(m.joinedSeq), Number(m.readSeq))
      counts.set(m.userId, messages.filter((x) => Number(x.seq) > from && x.senderId !== m.userId && !x.deleted).length)
    }
    return counts
  })

/** The API's unread count for each member equals the recomputed one. */
const assertUnreadExact = (conversationId: string, accounts: ReadonlyArray<Account>) =>
  Effect.gen(function*() {
    const expected = yield* recomputedUnread(conversationId)
    for (const a of accounts) {
      if (!expected.has(a.id)) continue
      const r = yield* call(a, "GET", `/conversations/${conversationId}`)
      assert.strictEqual(r.status, 200, r.text)
      assert.strictEqual(r.json.unreadCount, expected.get(a.id), `unread of @${a.username}`)
    }
  })

/** Gap-free 1..n, each clientId once, and the table's own constraints agree. */
const assertGapFree = (conversationId: string, n: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ seq: string; clientId: string; senderId: string }>`
      SELECT seq, client_id, sender_id::text FROM messages WHERE conversation_id = ${conversationId} ORDER BY seq`
    assert.strictEqual(rows.length, n)
    rows.forEach((r, i) => assert.strictEqual(Number(r.seq), i + 1))
    assert.strictEqual(new Set(rows.map((r) => `${r.senderId}:${r.clientId}`)).size, n)
    const [c] = yield* sql<{ lastSeq: string }>`SELECT last_seq FROM conversations WHERE id = ${conversationId}`
    assert.strictEqual(Number(c!.lastSeq), n)
  })

for (const transport of ["uws", "node"] as const) {
  describe(`direct messages on ${transport}`, () => {
    layer(TestApp({ ...settings, transport }).pipe(Layer.provide(Layer.setClock(movableClock))), { timeout: "180 seconds", excludeTestServices: true })((it) => {
      it.scoped("a 1:1 thread: created once, live delivery to both, resend answers the original, receipts and exact unread counts", () =>
        Effect.gen(function*() {
          const [a, b] = [yield* signup(), yield* signup()]
          yield* follow(b, a)
          const sa = yield* openSocketAs(a)
          const sb = yield* openSocketAs(b)
          sa.send({ type: "resume", payload: { sinceSeq: 0 } })
          sb.send({ type: "resume", payload: { sinceSeq: 0 } })
          const thread = yield* start(a, [b])
          assert.strictEqual(thread.kind, "direct")
          assert.strictEqual(thread.members.length, 2)
          // starting it again, from either side, is the same thread
          assert.strictEqual((yield* start(a, [b])).id, thread.id)
          assert.strictEqual((yield* start(b, [a])).id, thread.id)

          const first = yield* send(a, thread.id, { clientId: "c-1", text: "hello" })
          assert.strictEqual(first.status, 201, first.text)
          assert.strictEqual(first.json.seq, 1)
          assert.strictEqual(first.json.clientId, "c-1")
          const frame = (yield* sb.next("message")).payload
          assert.strictEqual(frame.conversationId, thread.id)
          assert.strictEqual(frame.message.seq, 1)
          assert.strictEqual(frame.message.text, "hello")
          assert.strictEqual(frame.message.clientId, null, "the recipient does not see the sender's client id")
          assert.strictEqual(frame.request, false)
          assert.strictEqual((yield* sa.next("message")).payload.message.seq, 1, "the sender's other tabs get it too")

          const again = yield* send(a, thread.id, { clientId: "c-1", text: "hello (edited on resend)" })
          assert.strictEqual(again.status, 201)
          assert.strictEqual(again.json.seq, 1)
          assert.strictEqual(again.json.text, "hello")

          yield* send(a, thread.id, { text: "two" })
          yield* assertUnreadExact(thread.id, [a, b])
          const unreadB = yield* call(b, "GET", "/conversations/unread")
          assert.deepStrictEqual(unreadB.json, { unreadCount: 2, conversations: 1, requests: 0 })

          const read = yield* call(b, "POST", `/conversations/${thread.id}/read`, { seq: 1 })
          assert.deepStrictEqual(read.json, { readSeq: 1, unreadCount: 1 })
          const receipt = (yield* sa.next("read_receipt")).payload
          assert.deepStrictEqual(receipt, { conversationId: thread.id, userId: b.id, readSeq: 1 })
          // the pointer never moves back, nor past the thread
          assert.strictEqual((yield* call(b, "POST", `/conversations/${thread.id}/read`, { seq: 0 })).json.readSeq, 1)
          assert.strictEqual((yield* call(b, "POST", `/conversations/${thread.id}/read`, { seq: 999 })).json.readSeq, 2)
          // writing in a thread reads it: your own message is never unread, and the sender's pointer moves to it
          yield* send(b, thread.id, { text: "three" })
          yield* assertUnreadExact(thread.id, [a, b])

          const inbox = yield* call(a, "GET", "/conversations")
          assert.strictEqual(inbox.json.items[0].id, thread.id)
          assert.strictEqual(inbox.json.items[0].lastMessage.text, "three")
          assert.strictEqual(inbox.json.items[0].unreadCount, 1)
          const seen = inbox.json.items[0].members.find((m: any) => m.user.id === b.id)
          assert.strictEqual(seen.readSeq, 3)
          yield* assertGapFree(thread.id, 3)
        }))

      it.scoped("50 concurrent senders × 20 messages into one group: sequences 1..1000 without a gap, each message once, per-sender order kept", () =>
        Effect.gen(function*() {
          const owner = yield* signup()
          const members = yield* Effect.forEach(Array.from({ length: 24 }), () => signup(), { concurrency: 8 })
          const group = yield* start(owner, members, "load")
          const senders = [owner, ...members]
          // 25 members, each on two devices: 50 concurrent senders
          const lanes = senders.flatMap((s) => [{ who: s, lane: 0 }, { who: s, lane: 1 }])
          yield* Effect.forEach(lanes, ({ lane, who }) =>
            Effect.forEach(Array.from({ length: 20 }, (_, i) => i), (i) =>
              Effect.gen(function*() {
                for (;;) {
                  const r = yield* send(who, group.id, { clientId: `${who.username}-${lane}-${i}`, text: `${lane}:${i}` })
                  if (r.status === 201) return
                  if (r.status !== 503) throw new Error(`send: ${r.status} ${r.text}`)
                }
              }), { discard: true }), { concurrency: "unbounded", discard: true })
          yield* assertGapFree(group.id, 1000)
          const sql = yield* SqlClient.SqlClient
          const rows = yield* sql<{ seq: string; clientId: string }>`SELECT seq, client_id FROM messages WHERE conversation_id = ${group.id} ORDER BY seq`
          const lastOfLane = new Map<string, number>()
          for (const r of rows) {
            const [lane, i] = r.clientId.split("-").slice(-2)
            const key = r.clientId.split("-").slice(0, -1).join("-") + lane
            assert.isTrue((lastOfLane.get(key) ?? -1) < Number(i), `lane ${key} out of order`)
            lastOfLane.set(key, Number(i))
          }
          yield* assertUnreadExact(group.id, senders)
        }))

      it.scoped("the same clientId sent 100 times at once is one message; resent a day later it is still the original", () =>
        Effect.gen(function*() {
          const [a, b] = [yield* signup(), yield* signup()]
          const thread = yield* start(a, [b])
          const replies = yield* Effect.forEach(Array.from({ length: 100 }), () => send(a, thread.id, { clientId: "same", text: "once" }), { concurrency: "unbounded" })
          assert.isTrue(replies.every((r) => r.status === 201), replies.map((r) => r.status).join(","))
          assert.strictEqual(new Set(replies.map((r) => r.json.seq)).size, 1)
          yield* assertGapFree(thread.id, 1)
          offsetMillis += 24 * 60 * 60 * 1000
          const later = yield* send(a, thread.id, { clientId: "same", text: "a day later" })
          assert.strictEqual(later.status, 201)
          assert.strictEqual(later.json.seq, 1)
          assert.strictEqual(later.json.text, "once")
          yield* assertGapFree(thread.id, 1)
        }))

      it.scoped("deleting for everyone: the sender within 15 minutes, a tombstone keeps the sequence; reactions toggle one per member", () =>
        Effect.gen(function*() {
          const [a, b] = [yield* signup(), yield* signup()]
          yield* follow(b, a)
          const thread = yield* start(a, [b])
          const sb = yield* openSocketAs(b)
          sb.send({ type: "resume", payload: { sinceSeq: 0 } })
          yield* send(a, thread.id, { text: "oops" })
          yield* send(a, thread.id, { text: "keep" })
          assert.strictEqual((yield* call(b, "DELETE", `/conversations/${thread.id}/messages/1`)).status, 403, "not the sender")
          assert.strictEqual((yield* call(a, "DELETE", `/conversations/${thread.id}/messages/1`)).status, 204)
          assert.deepStrictEqual((yield* sb.next("message_deleted")).payload, { conversationId: thread.id, seq: 1 })
          const page = yield* call(b, "GET", `/conversations/${thread.id}/messages`)
          assert.deepStrictEqual(page.json.items.map((m: any) => [m.seq, m.text, m.deletedAt !== null]), [[1, null, true], [2, "keep", false]])
          yield* assertUnreadExact(thread.id, [a, b])
          offsetMillis += 16 * 60 * 1000
          const late = yield* call(a, "DELETE", `/conversations/${thread.id}/messages/2`)
          assert.strictEqual(late.status, 403, late.text)
          assert.match(late.json.error.message, /15 minutes/)

          const r1 = yield* call(b, "POST", `/conversations/${thread.id}/messages/2/reactions`, { emoji: "❤️" })
          assert.deepStrictEqual(r1.json.reactions.map((x: any) => [x.emoji, x.user.id]), [["❤️", b.id]])
          const r2 = yield* call(b, "POST", `/conversations/${thread.id}/messages/2/reactions`, { emoji: "😂" })
          assert.deepStrictEqual(r2.json.reactions.map((x: any) => x.emoji), ["😂"], "one per member: replaced")
          const r3 = yield* call(b, "POST", `/conversations/${thread.id}/messages/2/reactions`, { emoji: "😂" })
          assert.deepStrictEqual(r3.json.reactions, [], "the same emoji again removes it")
          yield* call(a, "POST", `/conversations/${thread.id}/messages/2/reactions`, { emoji: "👍" })
          const frames = yield* framesOf(sb, "reaction", 4)
          if (frames.length < 4) console.log(JSON.stringify(sb.frames.map((f) => [f.type, f.payload?.reactions])))
          assert.deepStrictEqual(frames.at(-1)!.payload.reactions.map((x: any) => x.emoji), ["👍"])
          assert.strictEqual((yield* call(a, "DELETE", `/conversations/${thread.id}/messages/2/reactions`)).json.reactions.length, 0)
          assert.strictEqual((yield* call(a, "POST", `/conversations/${thread.id}/messages/1/reactions`, { emoji: "👍" })).status, 422, "a tombstone takes no reaction")
          assert.strictEqual((yield* call(a, "POST", `/conversations/${thread.id}/messages/2/reactions`, { emoji: "abc" })).status, 400)
        }))

      it.scoped("message requests: someone you do not follow lands in requests, no badge until accepted; decline hides it", () =>
        Effect.gen(function*() {
          const [a, b, c] = [yield* signup(), yield* signup(), yield* signup()]
          const thread = yield* start(a, [b]) // b does not follow a
          const sb = yield* openSocketAs(b)
          sb.send({ type: "resume", payload: { sinceSeq: 0 } })
          yield* send(a, thread.id, { text: "hi, a stranger here" })
          assert.isTrue((yield* sb.next("message")).payload.request)
          assert.strictEqual((yield* call(b, "GET", "/conversations")).json.items.length, 0)
          const requests = yield* call(b, "GET", "/conversations/requests")
          assert.deepStrictEqual(requests.json.items.map((t: any) => [t.id, t.status, t.unreadCount]), [[thread.id, "request", 1]])
          assert.deepStrictEqual((yield* call(b, "GET", "/conversations/unread")).json, { unreadCount: 0, conversations: 0, requests: 1 })
          const accepted = yield* call(b, "POST", `/conversations/${thread.id}/accept`)
          assert.strictEqual(accepted.json.status, "accepted")
          assert.deepStrictEqual((yield* call(b, "GET", "/conversations/unread")).json, { unreadCount: 1, conversations: 1, requests: 0 })
          yield* assertUnreadExact(thread.id, [a, b])

          const other = yield* start(c, [b])
          yield* send(c, other.id, { text: "spam" })
          assert.strictEqual((yield* call(b, "POST", `/conversations/${other.id}/decline`)).status, 204)
          assert.strictEqual((yield* call(b, "GET", "/conversations/requests")).json.items.length, 0)
          assert.strictEqual((yield* call(b, "GET", `/conversations/${other.id}`)).status, 404)
          // starting it again brings it back, with its history
          const back = yield* start(b, [c])
          assert.strictEqual(back.id, other.id)
          assert.strictEqual(back.status, "accepted")
        }))

      it.scoped("a block prevents starting and sending, and hides the 1:1 thread from the blocker", () =>
        Effect.gen(function*() {
          const [a, b] = [yield* signup(), yield* signup()]
          const thread = yield* start(a, [b])
          yield* send(a, thread.id, { text: "before" })
          assert.strictEqual((yield* call(b, "POST", `/users/${a.username}/block`)).status, 204)
          const refused = yield* send(a, thread.id, { text: "after" })
          assert.strictEqual(refused.status, 403, refused.text)
          assert.strictEqual((yield* send(b, thread.id, { text: "from the blocker" })).status, 404, "hidden from the blocker")
          assert.strictEqual((yield* call(a, "POST", "/conversations", { memberUsernames: [b.username] })).status, 404)
          assert.strictEqual((yield* call(b, "GET", `/conversations/${thread.id}`)).status, 404, "hidden from the blocker")
          assert.strictEqual((yield* call(b, "GET", "/conversations")).json.items.length, 0)
          yield* assertGapFree(thread.id, 1)
          assert.strictEqual((yield* call(b, "DELETE", `/users/${a.username}/block`)).status, 204)
          assert.strictEqual((yield* send(a, thread.id, { text: "after the unblock" })).status, 201)
        }))

      it.scoped("groups: history from joining, removal and leaving stop delivery at once, admins only, 32 members at most", () =>
        Effect.gen(function*() {
          const [a, b, c, d] = [yield* signup(), yield* signup(), yield* signup(), yield* signup()]
          for (const x of [b, c, d]) yield* follow(x, a)
          const group = yield* start(a, [b, c], "trip")
          assert.strictEqual(group.kind, "group")
          assert.strictEqual(group.title, "trip")
          yield* send(a, group.id, { text: "before d" })
          const added = yield* call(a, "POST", `/conversations/${group.id}/members`, { usernames: [d.username] })
          assert.strictEqual(added.status, 200, added.text)
          assert.strictEqual(added.json.members.length, 4)
          assert.strictEqual((yield* call(b, "POST", `/conversations/${group.id}/members`, { usernames: [d.username] })).status, 403, "not an admin")
          yield* send(a, group.id, { text: "after d" })
          const seenByD = yield* call(d, "GET", `/conversations/${group.id}/messages`)
          assert.deepStrictEqual(seenByD.json.items.map((m: any) => m.text), ["after d"])
          yield* assertUnreadExact(group.id, [a, b, c, d])

          const sc = yield* openSocketAs(c)
          sc.send({ type: "resume", payload: { sinceSeq: 0 } })
          yield* sleep(300)
          const removed = yield* call(a, "DELETE", `/conversations/${group.id}/members/${c.username}`)
          assert.strictEqual(removed.status, 200, removed.text)
          const told = yield* until(Effect.sync(() => sc.frames.filter((f) => f.type === "conversation_updated" && f.payload.reason === "removed")), (fs) => fs.length > 0)
          assert.strictEqual(told.length, 1)
          yield* send(a, group.id, { text: "c is gone" })
          yield* send(b, group.id, { text: "still here" })
          yield* sleep(500)
          assert.isFalse(sc.frames.some((f) => f.type === "message" && f.payload.message.text === "c is gone"), "no delivery after removal")
          assert.strictEqual((yield* call(c, "GET", `/conversations/${group.id}/messages`)).status, 404)
          assert.strictEqual((yield* send(c, group.id, { text: "let me back" })).status, 404)

          assert.strictEqual((yield* call(a, "POST", `/conversations/${group.id}/leave`)).status, 204)
          const after = yield* call(b, "GET", `/conversations/${group.id}`)
          assert.strictEqual(after.json.members.length, 2)
          assert.isTrue(after.json.members.some((m: any) => m.role === "admin"), "a group keeps an admin")
          yield* assertUnreadExact(group.id, [b, d])

          const many = yield* Effect.forEach(Array.from({ length: 32 }), () => signup(), { concurrency: 8 })
          const tooBig = yield* call(a, "POST", "/conversations", { memberUsernames: many.map((m) => m.username) })
          assert.strictEqual(tooBig.status, 400, tooBig.text)
        }))

      it.scoped("typing goes to the other members over core NATS, at most once per member per thread every 2 s, with its expiry", () =>
        Effect.gen(function*() {
          const [a, b, c] = [yield* signup(), yield* signup(), yield* signup()]
          const thread = yield* start(a, [b])
          const sa = yield* openSocketAs(a)
          const sb = yield* openSocketAs(b)
          const sc = yield* openSocketAs(c)
          for (const s of [sa, sb, sc]) s.send({ type: "resume", payload: { sinceSeq: 0 } })
          yield* sleep(200)
          sa.send({ type: "typing", payload: { conversationId: thread.id } })
          const typing = yield* sb.next("typing")
          assert.strictEqual(typing.id, null, "never stored")
          assert.deepStrictEqual(typing.payload, { conversationId: thread.id, user: { id: a.id, username: a.username }, expiresInMs: 5000 })
          sa.send({ type: "typing", payload: { conversationId: thread.id } })
          sa.send({ type: "typing", payload: { conversationId: thread.id } })
          yield* sleep(800)
          assert.strictEqual(sb.frames.filter((f) => f.type === "typing").length, 0, "throttled within 2 s")
          yield* sleep(1500)
          sa.send({ type: "typing", payload: { conversationId: thread.id } })
          yield* sb.next("typing")
          assert.isFalse(sa.frames.some((f) => f.type === "typing"), "not to the typist")
          sc.send({ type: "typing", payload: { conversationId: thread.id } })
          assert.strictEqual((yield* sc.next("error")).payload.code, "NotFound", "not a member")
        }))

      it.scoped("shared posts are shown only while the reader may see them; photo messages go through the media pipeline", () =>
        Effect.gen(function*() {
          const [a, b, p] = [yield* signup(), yield* signup(), yield* signup({ isPrivate: true })]
          yield* follow(b, a)
          // a follows the private author p (approved), b does not
          yield* follow(a, p)
          const reqs = yield* call(p, "GET", "/follow-requests")
          yield* call(p, "POST", `/follow-requests/${reqs.json.items[0].id}/approve`)
          const postId = yield* publishPost(p, "private photo")
          const thread = yield* start(a, [b])
          const shared = yield* send(a, thread.id, { postId })
          assert.strictEqual(shared.status, 201, shared.text)
          assert.strictEqual(shared.json.post.id, postId)
          const page = yield* call(b, "GET", `/conversations/${thread.id}/messages`)
          assert.strictEqual(page.json.items[0].post, null)
          assert.isTrue(page.json.items[0].postUnavailable)
          assert.strictEqual((yield* send(b, thread.id, { postId })).status, 404, "cannot share what you cannot see")

          const sb = yield* openSocketAs(b)
          sb.send({ type: "resume", payload: { sinceSeq: 0 } })
          const upload = yield* call(a, "POST", "/uploads")
          const png = yield* Effect.promise(() => plainPng(64, 48))
          const url = new URL(upload.json.url)
          const put = yield* request(url.pathname + url.search, { method: "PUT", headers: { "content-type": "image/png" }, body: new Uint8Array(png) })
          assert.strictEqual(put.status, 204, put.text)
          const photo = yield* send(a, thread.id, { mediaUploadId: upload.json.uploadId, text: "look" })
          assert.strictEqual(photo.status, 201, photo.text)
          assert.strictEqual(photo.json.kind, "photo")
          // rendered before the message was sequenced, it is sent ready; otherwise `message_updated` follows
          const updated = photo.json.photo.status === "ready"
            ? { seq: photo.json.seq, photo: (yield* sb.next("message")).payload.message.photo }
            : (yield* sb.next("message_updated", 30_000)).payload
          assert.strictEqual(updated.seq, photo.json.seq)
          assert.strictEqual(updated.photo.status, "ready")
          const thumb = yield* request(updated.photo.variants.thumbnail.replace(/^https?:\/\/[^/]+/, ""))
          assert.strictEqual(thumb.status, 200)
          const plain = yield* request(updated.photo.variants.thumbnail.split("?")[0].replace(/^https?:\/\/[^/]+/, ""))
          assert.strictEqual(plain.status, 404, "a photo message's media are never public")
          assert.strictEqual((yield* send(a, thread.id, { mediaUploadId: upload.json.uploadId })).status, 409, "an upload is used once")
        }))

      it.scoped("bad input: readable 4xx, nothing written", () =>
        Effect.gen(function*() {
          const [a, b, stranger] = [yield* signup(), yield* signup(), yield* signup()]
          const thread = yield* start(a, [b])
          const cases: Array<[unknown, number]> = [
            [{ clientId: "x" }, 422],
            [{ clientId: "x", text: "   " }, 422],
            [{ clientId: "has space", text: "t" }, 400],
            [{ clientId: "x".repeat(65), text: "t" }, 400],
            [{ clientId: "x", text: "a".repeat(2001) }, 400],
            [{ clientId: "x", text: "nul\u0000" }, 400],
            [{ clientId: "x", text: "t", replyToSeq: 5 }, 422],
            [{ clientId: "x", text: "t", replyToSeq: -1 }, 400],
            [{ clientId: "x", postId: "not-a-uuid" }, 400],
            [{ clientId: "x", postId: crypto.randomUUID() }, 404],
            [{ text: "no client id" }, 400]
          ]
          for (const [body, status] of cases) {
            const r = yield* call(a, "POST", `/conversations/${thread.id}/messages`, body)
            assert.strictEqual(r.status, status, `${JSON.stringify(body).slice(0, 80)} → ${r.status} ${r.text}`)
            assert.isString(r.json.error.message)
          }
          assert.strictEqual((yield* send(stranger, thread.id, { text: "let me in" })).status, 404)
          assert.strictEqual((yield* call(stranger, "GET", `/conversations/${thread.id}/messages`)).status, 404)
          assert.strictEqual((yield* call(a, "GET", `/conversations/${crypto.randomUUID()}`)).status, 404)
          assert.strictEqual((yield* call(a, "GET", "/conversations/nope")).status, 400)
          assert.strictEqual((yield* call(a, "GET", `/conversations/${thread.id}/messages?cursor=zzz`)).status, 400)
          assert.strictEqual((yield* call(a, "GET", `/conversations/${thread.id}/messages?around=100000000000000000000`)).status, 400)
          assert.strictEqual((yield* call(a, "DELETE", `/conversations/${thread.id}/messages/99999999999999999999`)).status, 400)
          assert.strictEqual((yield* call(a, "POST", `/conversations/${thread.id}/read`, { seq: 1e300 })).status, 400)
          assert.strictEqual((yield* call(a, "POST", `/conversations/${thread.id}/read`, { seq: 1 })).json.readSeq, 0, "not past the thread")
          assert.strictEqual((yield* call(a, "POST", "/conversations", { memberUsernames: [] })).status, 400)
          assert.strictEqual((yield* call(a, "POST", "/conversations", { memberUsernames: [a.username] })).status, 422)
          assert.strictEqual((yield* call(a, "POST", "/conversations", { memberUsernames: ["nobody_here_xyz"] })).status, 404)
          assert.strictEqual((yield* call(a, "PATCH", `/conversations/${thread.id}`, { title: "a 1:1 has none" })).status, 422)
          assert.strictEqual((yield* call(a, "POST", `/conversations/${thread.id}/leave`)).status, 422)
          assert.strictEqual((yield* request(`/api/v1/conversations`)).status, 401)
          yield* assertGapFree(thread.id, 0)
        }))

      it.scoped("missed frames come back through the inbox resume, in order, once", () =>
        Effect.gen(function*() {
          const [a, b] = [yield* signup(), yield* signup()]
          yield* follow(b, a)
          const thread = yield* start(a, [b])
          const first = yield* openSocketAs(b)
          first.send({ type: "resume", payload: { sinceSeq: 0 } })
          yield* send(a, thread.id, { text: "while online" })
          const seen = yield* first.next("message")
          first.ws.terminate()
          for (let i = 0; i < 5; i++) yield* send(a, thread.id, { text: `offline ${i}` })
          const again = yield* openSocketAs(b)
          again.send({ type: "resume", payload: { sinceSeq: seen.id } })
          const resumed = yield* again.next("resumed")
          assert.strictEqual(resumed.payload.replayed, 5)
          const frames = yield* framesOf(again, "message", 5)
          assert.deepStrictEqual(frames.map((f) => f.payload.message.seq), [2, 3, 4, 5, 6])
        }))

      it.scoped("history pages by sequence both ways and around a message", () =>
        Effect.gen(function*() {
          const [a, b] = [yield* signup(), yield* signup()]
          const thread = yield* start(a, [b])
          for (let i = 1; i <= 25; i++) yield* send(a, thread.id, { text: `m${i}` })
          const latest = yield* call(b, "GET", `/conversations/${thread.id}/messages?limit=10`)
          assert.deepStrictEqual(latest.json.items.map((m: any) => m.seq), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25])
          assert.isTrue(latest.json.hasMore)
          assert.isFalse(latest.json.hasNewer)
          const older = yield* call(b, "GET", `/conversations/${thread.id}/messages?limit=10&cursor=${latest.json.nextCursor}`)
          assert.deepStrictEqual(older.json.items.map((m: any) => m.seq), [6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
          const oldest = yield* call(b, "GET", `/conversations/${thread.id}/messages?limit=10&cursor=${older.json.nextCursor}`)
          assert.deepStrictEqual(oldest.json.items.map((m: any) => m.seq), [1, 2, 3, 4, 5])
          assert.isFalse(oldest.json.hasMore)
          const newer = yield* call(b, "GET", `/conversations/${thread.id}/messages?limit=10&cursor=${oldest.json.newerCursor}`)
          assert.deepStrictEqual(newer.json.items.map((m: any) => m.seq), [6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
          const around = yield* call(b, "GET", `/conversations/${thread.id}/messages?limit=5&around=12`)
          assert.deepStrictEqual(around.json.items.map((m: any) => m.seq), [10, 11, 12, 13, 14])
          assert.isTrue(around.json.hasMore && around.json.hasNewer)
          const reply = yield* send(b, thread.id, { text: "re", replyToSeq: 3 })
          assert.deepStrictEqual([reply.json.replyTo.seq, reply.json.replyTo.text], [3, "m3"])
        }))
    })
  })
}

describe("direct message rate limits", () => {
  layer(TestApp({ ...settings, rateLimits: { ...settings.rateLimits!, dmSendsPerUserPerMinute: 3, dmThreadsPerUserPerHour: 2 } }), { timeout: "120 seconds", excludeTestServices: true })((it) => {
    it.scoped("sends and new threads are limited with 429 and Retry-After; a resend and reopening a 1:1 thread are not counted", () =>
      Effect.gen(function*() {
        const [a, b, c, d] = [yield* signup(), yield* signup(), yield* signup(), yield* signup()]
        const thread = yield* start(a, [b])
        for (let i = 0; i < 3; i++) assert.strictEqual((yield* send(a, thread.id, { clientId: `m${i}`, text: `${i}` })).status, 201)
        const limited = yield* send(a, thread.id, { clientId: "m3", text: "one too many" })
        assert.strictEqual(limited.status, 429, limited.text)
        assert.isTrue(Number(limited.headers.get("retry-after")) >= 1)
        assert.strictEqual((yield* send(a, thread.id, { clientId: "m1", text: "resend" })).json.seq, 2, "a resend is answered")
        assert.strictEqual((yield* start(a, [b])).id, thread.id, "reopening is free")
        yield* start(a, [c])
        const third = yield* call(a, "POST", "/conversations", { memberUsernames: [d.username] })
        assert.strictEqual(third.status, 429, third.text)
        yield* assertGapFree(thread.id, 3)
      }))
  })
})
