/** Sample inspector answers for the tests (never part of the bundle). */
import type { ActorDetail, ActorsOverview, ActorSummary, Tap } from "../sdk/admin.ts"

export const AT = "2026-03-01T12:00:00.000Z"

export const summary = (kind: string, key: string, overrides: Partial<ActorSummary> = {}): ActorSummary => ({
  kind,
  key,
  node: "node-a",
  partition: 1,
  epoch: 3,
  mailboxDepth: 0,
  handled: 1,
  restarts: 0,
  parked: false,
  spawnedAt: "2026-03-01T11:00:00.000Z",
  lastActivity: "2026-03-01T11:59:58.000Z",
  ...overrides
})

const node = (name: string, partitions: number) => ({
  node: name,
  roles: ["api", "actors"],
  version: "0.1.0",
  startedAt: "2026-03-01T10:00:00.000Z",
  heartbeatAgeMs: 800,
  answeredInMs: 4,
  partitions,
  actors: 10,
  mailboxDepth: 2,
  sockets: 5
})

const partition = (n: number, owner: string | null) => ({
  partition: n,
  owner,
  epoch: owner === null ? null : n + 1,
  state: owner === null ? null : "owned",
  leaseExpiresAt: owner === null ? null : "2026-03-01T12:00:04.000Z",
  actors: owner === null ? 0 : n,
  pending: owner === null ? null : n % 2,
  ackPending: owner === null ? null : 0,
  redelivered: owner === null ? null : 0
})

/** Two answering nodes over six partitions (the last one unowned), a third node not answering. */
export const overview = (overrides: Partial<ActorsOverview> = {}): ActorsOverview => ({
  at: AT,
  askedBy: "node-a",
  nodes: [node("node-a", 3), node("node-b", 2)],
  missing: ["node-c"],
  partitions: [partition(0, "node-a"), partition(1, "node-a"), partition(2, "node-b"), partition(3, "node-a"), partition(4, "node-b"), partition(5, null)],
  kinds: [
    { kind: "timeline", live: 9000, mailboxDepth: 4, handled: 120, restarts: 1 },
    { kind: "conversation", live: 1000, mailboxDepth: 0, handled: 40, restarts: 0 }
  ],
  top: {
    mailboxDepth: [summary("timeline", "u1", { mailboxDepth: 4 }), summary("conversation", "c1", { node: "node-b", partition: 2, mailboxDepth: 1 })],
    handled: [summary("timeline", "u2", { handled: 90 })],
    restarts: [summary("timeline", "u3", { restarts: 2, parked: true })],
    lastActivity: [summary("conversation", "c1", { node: "node-b", partition: 2 })]
  },
  streams: [{ stream: "MAILBOX", messages: 42, bytes: 4096, consumers: [{ name: "mailbox-0", pending: 0, ackPending: 1, redelivered: 0 }] }],
  deadLetters: [{ source: "MAILBOX", consumer: "mailbox-1", count: 2 }],
  ...overrides
})

export const detail = (kind: string, key: string, overrides: Partial<ActorDetail> = {}): ActorDetail => ({
  kind,
  key,
  partition: 1,
  owner: "node-a",
  epoch: 3,
  alive: true,
  mailboxDepth: 4,
  handled: 120,
  restarts: 1,
  parked: false,
  spawnedAt: "2026-03-01T11:00:00.000Z",
  lastActivity: "2026-03-01T11:59:58.000Z",
  state: { entries: 12, newest: "p9", cursor: { seq: 7 } },
  recent: [
    { seq: 6, tag: "Push", outcome: "ok", durationMs: 2, attempt: 1, at: "2026-03-01T11:59:50.000Z" },
    { seq: 7, tag: "Push", outcome: "failed", durationMs: 30, attempt: 2, at: "2026-03-01T11:59:58.000Z", error: "timeout" }
  ],
  consumer: { name: "mailbox-1", pending: 3, ackPending: 1, redelivered: 0 },
  ...overrides
})

let seq = 0
export const actorTap = (kind = "timeline", key = "u1", overrides: Partial<Extract<Tap, { source: "actor" }>> = {}): Tap => ({
  source: "actor",
  kind,
  key,
  tag: "Push",
  outcome: "ok",
  durationMs: 1,
  node: "node-a",
  partition: 1,
  epoch: 3,
  seq: ++seq,
  at: Date.parse(AT),
  ...overrides
})

export const eventTap = (type = "post.created", id = "p1"): Tap => ({ source: "event", type, id, ids: { postId: id }, node: "node-b", at: Date.parse(AT) })
