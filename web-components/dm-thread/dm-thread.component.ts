import { html, nothing, type PropertyValues } from "lit"
import type { Conversation, Message } from "../sdk/dm.ts"
// client.dm is defined by the DM part of the SDK (not bundled with every widget)
import "../sdk/dm.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { image } from "../shared/icons.ts"
import { LiveController } from "../shared/live.ts"
import { theme } from "../shared/theme.ts"
import { atBottom, merge, newer, older, tombstone, update, type Window } from "./history.ts"
import { type MessageContext, messageView, nameOf, pendingView } from "./message-view.ts"
import { defaultOutbox, type OutboxStore } from "./outbox.ts"
import { SendController } from "./send.ts"
import { TypingController } from "./typing.ts"
import { styles } from "./dm-thread.styles.ts"

const ACCEPTED = "image/jpeg,image/png,image/webp,image/avif,image/gif"

/**
 * @summary One direct-message thread, live: its history (only a window of it rendered; older
 * pages load on scrolling up), sending through an offline outbox (pending until confirmed, sent
 * again with the same `clientId` after a reload or reconnect, shown once), typing indicators,
 * "Seen" receipts, reactions, replies, photos with upload progress, and deleted messages as
 * tombstones. It marks the thread read while it is visible.
 *
 * @attr conversation-id - The thread (required).
 * @attr page-size - Messages per page (default 30).
 * @attr window-size - How many messages are rendered at most (default 60).
 * @attr back-href - Where declining a message request goes (default `/messages`).
 *
 * @csspart header - The title bar.
 * @csspart request - The Accept / Decline banner of a message request.
 * @csspart log - The scrolling history (role=log).
 * @csspart story-quote - The story a reply or reaction answers (its thumbnail while it is visible).
 * @csspart message - One message (also `pending` while unconfirmed).
 * @csspart bubble - A message's body (also `bubble-mine` for yours).
 * @csspart quote - The message a reply quotes.
 * @csspart tombstone - "Message deleted".
 * @csspart photo - A photo in a message.
 * @csspart reactions - A message's reactions.
 * @csspart picker - The reaction picker.
 * @csspart seen - "Seen" under your last message.
 * @csspart typing - "X is typing…".
 * @csspart composer - The form at the bottom.
 * @csspart input - The message field.
 * @csspart send - The send button.
 * @csspart progress - The photo upload progress bar.
 *
 * @cssprop --ap-dm-height - The thread's height (default 560px).
 * @cssprop --ap-dm-mine - Background of your bubbles (default the accent colour).
 * @cssprop --ap-dm-theirs - Background of the others' bubbles (default the surface colour).
 *
 * @fires ap-message-sent - A message was confirmed by the server.
 * @fires ap-conversation-request - A message request was accepted or declined here.
 * @fires ap-navigate - To `back-href`, after declining a request.
 * @fires ap-upload-progress - Bytes of a photo sent so far.
 * @fires ap-error - Loading or an action failed.
 */
export class ApDmThread extends ApElement {
  static override styles = [theme, styles]
  static override properties = {
    ...ApElement.properties,
    conversationId: { type: String, attribute: "conversation-id" },
    pageSize: { type: Number, attribute: "page-size" },
    windowSize: { type: Number, attribute: "window-size" },
    backHref: { type: String, attribute: "back-href" },
    conversation: { state: true },
    messages: { state: true },
    window: { state: true },
    hasOlder: { state: true },
    readSeqs: { state: true },
    replyTo: { state: true },
    picker: { state: true },
    error: { state: true }
  }

  declare conversationId: string
  declare pageSize: number
  declare windowSize: number
  /** Where declining a request goes (default `/messages`). */
  declare backHref: string
  declare conversation: Conversation | undefined
  declare messages: ReadonlyArray<Message>
  declare window: Window
  declare hasOlder: boolean
  /** The other members' read pointers, by user id. */
  declare readSeqs: ReadonlyMap<string, number>
  declare replyTo: Message | undefined
  declare picker: number | undefined
  declare error: string
  /** Where messages wait until the server confirms them; shared by every thread on the page unless set. */
  outbox: OutboxStore = defaultOutbox()
  readonly #send = new SendController(this, {
    sent: (message) => this.#receive([message]),
    progress: (loaded, total) => this.emit("ap-upload-progress", { loaded, total })
  })
  #olderCursor: string | null = null
  #loadingOlder = false
  #readPosted = 0
  /** The contract's pace for the own `typing` frame: at most one every 2 s while typing. */
  readonly #typing = new TypingController(this, () => this.client.dm.typing(this.conversationId), 2_000)
  #generation = 0
  #stickToBottom = true
  readonly #photoRefreshed = new Map<number, number>()

  constructor() {
    super()
    this.conversationId = ""
    this.pageSize = 30
    this.windowSize = 60
    this.backHref = "/messages"
    this.messages = []
    this.window = { start: 0, end: 0 }
    this.hasOlder = false
    this.readSeqs = new Map()
    this.error = ""
    const mine = (p: { conversationId: string }) => p.conversationId === this.conversationId
    new LiveController(this, {
      message: ({ payload }) => {
        if (!mine(payload)) return
        this.#typing.stopped(payload.message.sender.id)
        const gap = this.messages.length > 0 && payload.message.seq > this.#lastSeq() + 1
        this.#receive([payload.message])
        if (gap) void this.#catchUp()
      },
      message_updated: ({ payload }) => {
        if (mine(payload)) this.messages = update(this.messages, payload.seq, (m) => ({ ...m, photo: payload.photo }))
      },
      message_deleted: ({ payload }) => {
        if (mine(payload)) this.messages = update(this.messages, payload.seq, tombstone)
      },
      reaction: ({ payload }) => {
        if (mine(payload)) this.messages = update(this.messages, payload.seq, (m) => ({ ...m, reactions: payload.reactions }))
      },
      read_receipt: ({ payload }) => {
        if (!mine(payload) || payload.userId === this.client.me?.id) return
        const seqs = new Map(this.readSeqs)
        seqs.set(payload.userId, Math.max(payload.readSeq, seqs.get(payload.userId) ?? 0))
        this.readSeqs = seqs
      },
      typing: ({ payload }) => {
        if (mine(payload) && payload.user.id !== this.client.me?.id) this.#typing.heard(payload.user.id, payload.user.username, payload.expiresInMs)
      },
      conversation_updated: ({ payload }) => {
        if (mine(payload)) void this.#refreshConversation()
      },
      resumed: ({ payload }) => {
        if (!payload.complete) void this.#catchUp()
      },
      status: (status) => {
        if (status === "open") this.#send.kick()
      }
    })
  }

  override connectedCallback(): void {
    super.connectedCallback()
    // moved in the page: the sender stopped when it was taken out
    if (this.hasUpdated && this.conversationId && !this.#send.running) void this.load()
    window.addEventListener("online", this.#onOnline)
    document.addEventListener("visibilitychange", this.#onVisible)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    window.removeEventListener("online", this.#onOnline)
    document.removeEventListener("visibilitychange", this.#onVisible)
  }

  #onOnline = () => this.#send.kick()
  #onVisible = () => void this.#markRead()

  protected override willUpdate(changed: PropertyValues<this>): void {
    if ((changed.has("conversationId") || changed.has("api") || changed.has("token")) && this.conversationId && this.isConnected) void this.load()
  }

  override updated(): void {
    this.#keepAtBottom()
  }

  /** A reader at the bottom stays there as messages (and their photos) come in. */
  #keepAtBottom() {
    const log = this.#log()
    if (log && this.#stickToBottom) log.scrollTop = log.scrollHeight
  }

  #log = () => this.renderRoot.querySelector<HTMLElement>(".log")
  #lastSeq = () => this.messages[this.messages.length - 1]?.seq ?? 0

  async load(): Promise<void> {
    const id = this.conversationId
    const generation = ++this.#generation
    this.#send.stop()
    this.error = ""
    this.messages = []
    this.readSeqs = new Map()
    this.#readPosted = 0
    try {
      const me = await this.client.session()
      if (!me) {
        this.error = "Log in to see your messages."
        return
      }
      const [conversation, page] = await Promise.all([this.client.dm.conversation(id), this.client.dm.messages(id, { limit: this.pageSize })])
      if (generation !== this.#generation) return
      this.#setConversation(conversation)
      this.#olderCursor = page.nextCursor
      this.hasOlder = page.hasMore
      // frames that came in while the page was on its way are kept
      this.messages = merge(this.messages, page.items)
      this.window = atBottom(this.messages.length, this.windowSize)
      this.#stickToBottom = true
      await this.#send.start(me.id, id, this.messages)
      if (generation !== this.#generation) return
      void this.#markRead()
    } catch (error) {
      if (generation !== this.#generation) return
      this.#fail(error, error instanceof ApiError && error.status === 404 ? "This conversation doesn't exist or isn't available." : undefined)
    }
  }

  #setConversation(c: Conversation) {
    this.conversation = c
    const meId = this.client.me?.id
    const seqs = new Map(this.readSeqs)
    for (const m of c.members) if (m.user.id !== meId) seqs.set(m.user.id, Math.max(m.readSeq, seqs.get(m.user.id) ?? 0))
    this.readSeqs = seqs
  }

  async #refreshConversation() {
    try {
      this.#setConversation(await this.client.dm.conversation(this.conversationId))
    } catch (error) {
      this.#fail(error, error instanceof ApiError && error.status === 404 ? "You are no longer in this conversation." : undefined)
    }
  }

  /** Missed frames (a gap in seqs, an incomplete resume): the latest page, merged. */
  async #catchUp() {
    try {
      const page = await this.client.dm.messages(this.conversationId, { limit: this.pageSize })
      this.#receive(page.items)
    } catch {
      // the next frame or reconnect tries again
    }
  }

  /**
   * Photos are served through signed URLs that expire (MEDIA_URL_TTL_SECONDS): a photo that fails
   * to load is fetched again, at most once a minute, for fresh ones.
   */
  async #refreshPhoto(m: Message) {
    const last = this.#photoRefreshed.get(m.seq) ?? 0
    if (Date.now() - last < 60_000) return
    this.#photoRefreshed.set(m.seq, Date.now())
    try {
      const page = await this.client.dm.messages(this.conversationId, { around: m.seq, limit: 1 })
      const fresh = page.items.find((x) => x.seq === m.seq)
      if (fresh) this.messages = update(this.messages, m.seq, (x) => ({ ...x, photo: fresh.photo }))
    } catch {
      // it stays broken until the next try
    }
  }

  /** Confirmed messages in: held once by seq, their pending copies dropped. */
  #receive(incoming: ReadonlyArray<Message>) {
    const wasAtEnd = this.window.end === this.messages.length
    this.messages = merge(this.messages, incoming)
    for (const clientId of this.#send.confirm(this.messages, incoming)) {
      const m = incoming.find((x) => x.clientId === clientId)!
      this.emit("ap-message-sent", { conversationId: m.conversationId, seq: m.seq, clientId })
    }
    if (wasAtEnd) this.window = { start: Math.max(this.window.start, this.messages.length - 2 * this.windowSize), end: this.messages.length }
    void this.#markRead()
  }

  async #markRead() {
    const seq = this.#lastSeq()
    if (seq <= this.#readPosted || !this.isConnected || document.visibilityState === "hidden") return
    this.#readPosted = seq
    try {
      await this.client.dm.markRead(this.conversationId, seq)
    } catch {
      this.#readPosted = 0
    }
  }

  #fail(error: unknown, message = describeError(error)) {
    this.error = message
    this.emit("ap-error", { message, status: error instanceof ApiError ? error.status : undefined, code: error instanceof ApiError ? error.code : undefined })
  }

  /** Sends a message (through the outbox: pending until the server confirms it). */
  async write(text: string): Promise<void> {
    const replyToSeq = this.replyTo?.seq ?? null
    this.replyTo = undefined
    this.#toBottom()
    await this.#send.write(text, replyToSeq)
  }

  #toBottom() {
    this.#stickToBottom = true
    this.window = atBottom(this.messages.length, Math.max(this.windowSize, this.window.end - this.window.start))
  }

  #submit(event?: Event) {
    event?.preventDefault()
    const input = this.renderRoot.querySelector<HTMLTextAreaElement>("textarea")
    if (!input) return
    const text = input.value.trim()
    if (text === "") return
    input.value = ""
    void this.write(text)
    input.focus()
  }

  #onKeydown(event: KeyboardEvent) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) this.#submit(event)
    else if (event.key === "Escape" && this.replyTo) this.replyTo = undefined
  }

  /** Older messages: first those held but not rendered, then the next page from the server. */
  async showOlder(): Promise<void> {
    if (this.#loadingOlder) return
    const anchor = this.#anchor()
    const step = Math.ceil(this.windowSize / 2)
    this.#stickToBottom = false
    if (this.window.start > 0) {
      this.window = older(this.window, step, this.windowSize)
    } else if (this.hasOlder && this.#olderCursor) {
      this.#loadingOlder = true
      try {
        const page = await this.client.dm.messages(this.conversationId, { cursor: this.#olderCursor, limit: this.pageSize })
        const count = this.messages.length
        this.messages = merge(this.messages, page.items)
        this.#olderCursor = page.nextCursor
        this.hasOlder = page.hasMore
        this.window = older(this.window, step, this.windowSize, this.messages.length - count)
      } catch (error) {
        this.#fail(error)
      } finally {
        this.#loadingOlder = false
      }
    } else return
    await this.updateComplete
    anchor?.()
  }

  #showNewer() {
    if (this.window.end >= this.messages.length) return
    this.window = newer(this.window, this.messages.length, Math.ceil(this.windowSize / 2), this.windowSize)
  }

  /** Keeps the first rendered message where it is on screen while messages are added above it. */
  #anchor(): (() => void) | undefined {
    const log = this.#log()
    const first = log?.querySelector<HTMLElement>(".msg[data-seq]")
    if (!log || !first) return undefined
    const seq = first.dataset.seq
    const offset = first.offsetTop - log.scrollTop
    return () => {
      const again = log.querySelector<HTMLElement>(`.msg[data-seq="${seq}"]`)
      if (again) log.scrollTop = again.offsetTop - offset
    }
  }

  #onScroll() {
    const log = this.#log()
    if (!log) return
    this.#stickToBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40
    if (log.scrollTop < 60) void this.showOlder()
    else if (log.scrollHeight - log.scrollTop - log.clientHeight < 60) this.#showNewer()
  }

  async react(m: Message, emoji: string): Promise<void> {
    this.picker = undefined
    try {
      const { reactions } = await this.client.dm.react(this.conversationId, m.seq, emoji)
      this.messages = update(this.messages, m.seq, (x) => ({ ...x, reactions }))
    } catch (error) {
      this.#fail(error)
    }
  }

  async #remove(m: Message) {
    try {
      await this.client.dm.deleteMessage(this.conversationId, m.seq)
      this.messages = update(this.messages, m.seq, tombstone)
      this.renderRoot.querySelector<HTMLElement>("textarea")?.focus()
    } catch (error) {
      this.#fail(error)
    }
  }

  async #reply(m: Message) {
    this.replyTo = m
    await this.updateComplete
    this.renderRoot.querySelector<HTMLElement>("textarea")?.focus()
  }

  /** Opens a message's reaction picker (focus into it) or closes it (focus back on its React button). */
  async #togglePicker(m: Message) {
    const closing = this.picker === m.seq
    this.picker = closing ? undefined : m.seq
    await this.updateComplete
    this.renderRoot.querySelector<HTMLElement>(closing ? `[data-seq="${m.seq}"] button.react` : "[part=picker] button")?.focus()
  }

  /** A message request: accepting moves it to the inbox; declining hides it. */
  async #decide(decision: "accepted" | "declined") {
    try {
      if (decision === "accepted") this.#setConversation(await this.client.dm.accept(this.conversationId))
      else await this.client.dm.decline(this.conversationId)
      this.emit("ap-conversation-request", { conversationId: this.conversationId, decision })
      if (decision === "declined") this.navigate(this.backHref)
    } catch (error) {
      this.#fail(error)
    }
  }

  /** A photo: uploaded at once with progress, then sent through the outbox with the field's text as its caption. */
  async attach(file: File | undefined): Promise<void> {
    if (!file) return
    this.error = ""
    const input = () => this.renderRoot.querySelector<HTMLTextAreaElement>("textarea")
    try {
      await this.#send.attach(
        file,
        () => {
          const caption = input()?.value.trim() ?? ""
          if (input()) input()!.value = ""
          this.#toBottom()
          return caption
        },
        () => {
          const seq = this.replyTo?.seq ?? null
          this.replyTo = undefined
          return seq
        }
      )
    } catch (error) {
      this.#fail(error, `The photo could not be sent: ${describeError(error)}`)
    }
  }

  #title(): string {
    const c = this.conversation
    if (!c) return "Conversation"
    if (c.title) return c.title
    const others = c.members.filter((m) => m.user.id !== this.client.me?.id)
    return others.map((m) => nameOf(m.user)).join(", ") || "Just you"
  }

  /** The seq of your last confirmed message when another member has read it. */
  #seenSeq(): number | undefined {
    const meId = this.client.me?.id
    const last = [...this.messages].reverse().find((m) => m.sender.id === meId && !m.deletedAt)
    if (!last) return undefined
    for (const seq of this.readSeqs.values()) if (seq >= last.seq) return last.seq
    return undefined
  }

  override render() {
    if (this.error && !this.conversation) return html`<p role="alert" class="error">${this.error}</p>`
    const seen = this.#seenSeq()
    const base = {
      meId: this.client.me?.id,
      url: (p: string) => this.client.rest.url(p),
      pageUrl: (p: string) => this.client.rest.pageUrl(p),
      picker: this.picker,
      react: (m: Message, emoji: string) => void this.react(m, emoji),
      togglePicker: (m: Message) => void this.#togglePicker(m),
      reply: (m: Message) => void this.#reply(m),
      remove: (m: Message) => void this.#remove(m),
      find: (seq: number) => this.messages.find((m) => m.seq === seq),
      loaded: () => this.#keepAtBottom(),
      broken: (m: Message) => void this.#refreshPhoto(m)
    }
    const ctx = (m: Message): MessageContext => ({ ...base, seen: m.seq === seen })
    const shown = this.messages.slice(this.window.start, this.window.end)
    const atEnd = this.window.end >= this.messages.length
    return html`
      <header part="header"><h2>${this.#title()}</h2></header>
      ${this.conversation?.status === "request"
        ? html`<div class="request" part="request" role="region" aria-label="Message request">
          <p>${this.#title()} would like to send you messages.</p>
          <button class="primary" @click=${() => this.#decide("accepted")}>Accept</button>
          <button @click=${() => this.#decide("declined")}>Decline</button>
        </div>`
        : nothing}
      <div class="log" part="log" role="log" aria-live="polite" aria-relevant="additions" aria-label="Messages with ${this.#title()}" tabindex="0" @scroll=${this.#onScroll}>
        ${this.window.start > 0 || this.hasOlder
          ? html`<button type="button" class="older" @click=${() => this.showOlder()}>Load older messages</button>`
          : this.conversation ? html`<p class="muted start">This is the start of your conversation.</p>` : nothing}
        ${shown.map((m) => messageView(m, ctx(m)))}
        ${atEnd
          ? this.#send.pending.map((p) => pendingView(p, base as MessageContext, (x) => this.#send.retry(x.entry.clientId), (x) => void this.#send.discard(x.entry.clientId)))
          : html`<button type="button" class="newer" @click=${() => this.#showNewer()}>Show newer messages</button>`}
      </div>
      <p class="typing" part="typing" role="status">${this.#typing.text}</p>
      ${this.error ? html`<p role="alert" class="error">${this.error}</p>` : nothing}
      <form part="composer" @submit=${this.#submit} aria-label="Send a message">
        ${this.replyTo
          ? html`<div class="replying" part="reply-preview">
            <span>Replying to <strong>${nameOf(this.replyTo.sender)}</strong>: ${this.replyTo.deletedAt ? "Message deleted" : this.replyTo.text ?? "Photo"}</span>
            <button type="button" class="link" aria-label="Cancel reply" @click=${() => (this.replyTo = undefined)}>Cancel</button>
          </div>`
          : nothing}
        ${this.#send.upload
          ? html`<progress part="progress" max="100" .value=${this.#send.upload.progress} aria-label="Photo upload progress">${this.#send.upload.progress}%</progress>`
          : nothing}
        <div class="row">
          <label class="attach" title="Attach a photo">
            <span class="visually-hidden">Attach a photo</span>${image()}
            <input type="file" accept=${ACCEPTED} ?disabled=${this.#send.upload !== undefined}
              @change=${(e: Event) => {
                const input = e.target as HTMLInputElement
                void this.attach(input.files?.[0]).finally(() => (input.value = ""))
              }} />
          </label>
          <textarea part="input" rows="1" maxlength="2000" aria-label="Message" placeholder="Message…"
            @keydown=${this.#onKeydown} @input=${() => this.#typing.typed()}></textarea>
          <button class="primary" type="submit" part="send">Send</button>
        </div>
      </form>
    `
  }
}
