/**
 * Sending in a thread: messages written to the outbox, shown pending until confirmed, sent (and
 * resent) by an `OutboxSender`; a photo uploaded with progress first and then sent like a text.
 */
import type { ReactiveController, ReactiveControllerHost } from "lit"
import type { ApertureClient } from "../sdk/client.ts"
import type { Message } from "../sdk/dm.ts"
// client.dm is defined by the DM part of the SDK (not bundled with every widget)
import "../sdk/dm.ts"
import { describeError } from "../sdk/rest.ts"
import { type Pending, unconfirmed } from "./history.ts"
import { type OutboxEntry, OutboxSender, type OutboxStore } from "./outbox.ts"

export interface SendHost extends ReactiveControllerHost {
  readonly client: ApertureClient
  readonly outbox: OutboxStore
}

export interface SendCallbacks {
  /** The server's answer to a send: a confirmed message. */
  readonly sent: (message: Message) => void
  readonly progress: (loaded: number, total: number) => void
}

export class SendController implements ReactiveController {
  pending: ReadonlyArray<Pending> = []
  /** A photo on its way up, 0–100. */
  upload: { readonly progress: number } | undefined
  #sender: OutboxSender | undefined
  #thread: { readonly userId: string; readonly conversationId: string } | undefined

  constructor(
    private readonly host: SendHost,
    private readonly callbacks: SendCallbacks
  ) {
    host.addController(this)
  }

  get running(): boolean {
    return this.#sender !== undefined
  }

  #set(pending: ReadonlyArray<Pending>) {
    this.pending = pending
    this.host.requestUpdate()
  }

  /** Takes up a thread's outbox: entries the history already holds are dropped, the rest sent. */
  async start(userId: string, conversationId: string, held: ReadonlyArray<Message>): Promise<void> {
    this.stop()
    const thread = { userId, conversationId }
    this.#thread = thread
    const outbox = this.host.outbox
    const stored = await outbox.list(userId, conversationId)
    if (this.#thread !== thread) return
    // sent before the reload, its answer lost: the history already holds it
    for (const e of stored) if (held.some((m) => m.clientId === e.clientId)) await outbox.remove(e.clientId)
    this.#set(unconfirmed(stored.map((entry) => ({ entry, state: "sending" as const })), held))
    const current = () => this.#thread === thread
    this.#sender = new OutboxSender(
      {
        store: outbox,
        send: (e) =>
          this.host.client.dm.send(e.conversationId, {
            clientId: e.clientId,
            ...(e.text ? { text: e.text } : {}),
            ...(e.mediaUploadId ? { mediaUploadId: e.mediaUploadId } : {}),
            ...(e.replyToSeq !== null ? { replyToSeq: e.replyToSeq } : {})
          }),
        sent: (_entry, message) => {
          if (current()) this.callbacks.sent(message)
        },
        state: (clientId, state, error) => {
          if (!current()) return
          this.#set(this.pending.map((p) => (p.entry.clientId === clientId ? { ...p, state, error: state === "failed" ? describeError(error) : undefined } : p)))
        }
      },
      // the store's entries, and any this page could not store (no quota, private mode)
      async () => {
        const listed = await outbox.list(userId, conversationId)
        const inStore = new Set(listed.map((e) => e.clientId))
        return [...listed, ...this.pending.map((p) => p.entry).filter((e) => !inStore.has(e.clientId))].sort((a, b) => a.writtenAt - b.writtenAt)
      }
    )
    this.#sender.kick()
  }

  stop(): void {
    this.#sender?.stop()
    this.#sender = undefined
    this.#thread = undefined
    this.pending = []
  }

  kick(): void {
    this.#sender?.kick()
  }

  /** Confirmed messages: their pending copies go, from the screen and the store; answers their clientIds. */
  confirm(held: ReadonlyArray<Message>, incoming: ReadonlyArray<Message>): Array<string> {
    const waiting = new Set(this.pending.map((p) => p.entry.clientId))
    const confirmed = incoming.flatMap((m) => (m.clientId !== null && waiting.has(m.clientId) ? [m.clientId] : []))
    if (confirmed.length === 0) return []
    this.#set(unconfirmed(this.pending, held))
    for (const clientId of confirmed) void this.host.outbox.remove(clientId)
    return confirmed
  }

  /** Writes a message to the outbox first (so a reload keeps it), shows it pending, and sends it. */
  async write(text: string, replyToSeq: number | null, mediaUploadId: string | null = null): Promise<void> {
    const thread = this.#thread
    if (!thread || (!text && !mediaUploadId)) return
    const entry: OutboxEntry = { clientId: crypto.randomUUID(), ...thread, text: text || null, replyToSeq, mediaUploadId, writtenAt: Date.now() }
    this.#set([...this.pending, { entry, state: "sending" }])
    try {
      await this.host.outbox.put(entry)
    } catch {
      // no storage (quota, private mode): it is still sent, from memory
    }
    this.kick()
  }

  /** Uploads a photo (with progress), then sends it with the caption `caption()` gives at that moment. */
  async attach(file: File, caption: () => string, replyToSeq: () => number | null): Promise<void> {
    if (this.upload) return
    this.upload = { progress: 0 }
    this.host.requestUpdate()
    const handle = this.host.client.dm.uploadPhoto(file, (loaded, total) => {
      this.upload = { progress: total > 0 ? Math.round((loaded / total) * 100) : 0 }
      this.host.requestUpdate()
      this.callbacks.progress(loaded, total)
    })
    try {
      const uploadId = await handle.done
      await this.write(caption(), replyToSeq(), uploadId)
    } finally {
      this.upload = undefined
      this.host.requestUpdate()
    }
  }

  retry(clientId: string): void {
    this.#sender?.retry(clientId)
  }

  async discard(clientId: string): Promise<void> {
    await this.host.outbox.remove(clientId)
    this.#set(this.pending.filter((p) => p.entry.clientId !== clientId))
  }

  hostDisconnected(): void {
    this.stop()
  }
}
