/**
 * The thread's history as data: confirmed messages keyed by seq (so a message that comes back by
 * the POST's answer, by its `message` frame and again in a page is there once), the window of
 * them that is rendered, and the pending ones still in the outbox.
 */
import type { Message, Reaction } from "../sdk/dm.ts"
import type { OutboxEntry, SendState } from "./outbox.ts"

export interface Pending {
  readonly entry: OutboxEntry
  readonly state: SendState
  readonly error?: string | undefined
}

/** Messages in ascending seq, one per seq; an incoming copy replaces the one held. */
export const merge = (held: ReadonlyArray<Message>, incoming: ReadonlyArray<Message>): Array<Message> => {
  const bySeq = new Map<number, Message>()
  for (const m of held) bySeq.set(m.seq, m)
  for (const m of incoming) bySeq.set(m.seq, m)
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq)
}

export const update = (held: ReadonlyArray<Message>, seq: number, f: (m: Message) => Message): Array<Message> =>
  held.map((m) => (m.seq === seq ? f(m) : m))

export const tombstone = (m: Message): Message => ({ ...m, text: null, post: null, photo: null, reactions: [], deletedAt: m.deletedAt ?? new Date().toISOString() })

/** The pending messages the history does not yet hold (matched by `clientId`). */
export const unconfirmed = (pending: ReadonlyArray<Pending>, held: ReadonlyArray<Message>): Array<Pending> => {
  const confirmed = new Set(held.map((m) => m.clientId).filter((c): c is string => c !== null))
  return pending.filter((p) => !confirmed.has(p.entry.clientId))
}

/** The reactions grouped by emoji, in the order first used, with whether `userId` is among them. */
export const groupReactions = (reactions: ReadonlyArray<Reaction>, userId: string | undefined) => {
  const groups = new Map<string, { emoji: string; count: number; mine: boolean; names: Array<string> }>()
  for (const r of reactions) {
    const g = groups.get(r.emoji) ?? { emoji: r.emoji, count: 0, mine: false, names: [] }
    g.count++
    g.mine ||= r.user.id === userId
    g.names.push(r.user.username)
    groups.set(r.emoji, g)
  }
  return [...groups.values()]
}

/**
 * The rendered slice `[start, end)` of `total` messages, at most `max` long: virtualizing a chat
 * by hand keeps its bottom anchored, which a generic virtualizer does not do for content that
 * grows upwards.
 */
export interface Window {
  readonly start: number
  readonly end: number
}

export const atBottom = (total: number, max: number): Window => ({ start: Math.max(0, total - max), end: total })

/** Moves the window `step` towards older messages (`added` of them were just prepended). */
export const older = (w: Window, step: number, max: number, added = 0): Window => {
  const start = Math.max(0, w.start + added - step)
  return { start, end: Math.min(w.end + added, start + max) }
}

export const newer = (w: Window, total: number, step: number, max: number): Window => {
  const end = Math.min(total, w.end + step)
  return { start: Math.max(w.start, end - max), end }
}
