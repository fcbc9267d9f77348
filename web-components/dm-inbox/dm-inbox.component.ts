import { html, nothing } from "lit"
import type { Conversation, DmPayloads, MessagePreview } from "../sdk/dm.ts"
// client.dm is defined by the DM part of the SDK (not bundled with every widget)
import "../sdk/dm.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { timeAgo } from "../shared/format.ts"
import { LiveController } from "../shared/live.ts"
import { theme } from "../shared/theme.ts"
import { nameOf } from "../dm-thread/message-view.ts"
import { styles } from "./dm-inbox.styles.ts"

type Tab = "inbox" | "requests"

/** What a thread's last message says in the list. */
export const previewText = (p: MessagePreview | null, meId: string | undefined): string => {
  if (!p) return "No messages yet"
  const who = p.sender.id === meId ? "You: " : ""
  if (p.deleted) return `${who}Message deleted`
  if (p.kind === "photo") return `${who}${p.text || "Sent a photo"}`
  if (p.kind === "post") return `${who}Shared a post`
  return `${who}${p.text ?? ""}`
}

export const titleOf = (c: Conversation, meId: string | undefined): string =>
  c.title || c.members.filter((m) => m.user.id !== meId).map((m) => nameOf(m.user)).join(", ") || "Just you"

/** The thread after a `message` frame: newest activity, preview, and one more unread unless it is yours. */
const withMessage = (c: Conversation, frame: DmPayloads["message"], meId: string | undefined, open: boolean): Conversation => {
  const m = frame.message
  if (m.seq <= c.lastSeq) return c
  const mine = m.sender.id === meId
  return {
    ...c,
    lastSeq: m.seq,
    lastActivityAt: m.createdAt,
    lastMessage: { seq: m.seq, sender: m.sender, kind: m.kind, text: m.text, deleted: m.deletedAt !== null, createdAt: m.createdAt },
    unreadCount: mine || open || c.muted ? c.unreadCount : c.unreadCount + 1
  }
}

/**
 * @summary The direct-message inbox: threads newest first with the last message and an unread
 * badge, and a "Requests" tab (people you do not follow who wrote first) with Accept and Decline.
 * It stays live: a new message moves its thread to the top. `variant="badge"` is just a link with
 * the unread count, for a header.
 *
 * @attr variant - `list` (default) or `badge`.
 * @attr selected - The id of the thread shown beside the list (marked `aria-current`, not counted unread).
 * @attr href - Where threads and the badge link to (default `/messages`; a thread at `href/:id`).
 *
 * @csspart tabs - The Inbox / Requests tab list.
 * @csspart tab - One tab.
 * @csspart list - The threads.
 * @csspart thread - One thread (a link).
 * @csspart badge - An unread count.
 * @csspart preview - A thread's last message.
 * @csspart accept - Accept a request.
 * @csspart decline - Decline a request.
 * @csspart more - "Show more" (the next page of threads).
 *
 * @cssprop --ap-like - Badge colour.
 *
 * @fires ap-conversation-select - A thread was chosen; cancel it to show the thread yourself.
 * @fires ap-conversation-request - A request was accepted or declined.
 * @fires ap-dm-unread - The unread counts changed (badge variant).
 * @fires ap-error - Loading or an action failed.
 */
export class ApDmInbox extends ApElement {
  static override styles = [theme, styles]
  static override properties = {
    ...ApElement.properties,
    variant: { type: String, reflect: true },
    selected: { type: String },
    href: { type: String },
    tab: { state: true },
    threads: { state: true },
    requests: { state: true },
    unread: { state: true },
    loaded: { state: true },
    error: { state: true }
  }

  declare variant: "list" | "badge"
  declare selected: string | undefined
  declare href: string
  declare tab: Tab
  declare threads: ReadonlyArray<Conversation>
  declare requests: ReadonlyArray<Conversation>
  declare unread: { readonly unreadCount: number; readonly requests: number }
  declare loaded: boolean
  declare error: string
  #unreadTimer: ReturnType<typeof setTimeout> | undefined
  /** Where the next page of each tab starts; null when there is none. */
  #cursors: Record<Tab, string | null> = { inbox: null, requests: null }

  constructor() {
    super()
    this.variant = "list"
    this.href = "/messages"
    this.tab = "inbox"
    this.threads = []
    this.requests = []
    this.unread = { unreadCount: 0, requests: 0 }
    this.loaded = false
    this.error = ""
    new LiveController(this, {
      message: ({ payload }) => {
        if (this.variant === "badge") return this.#refreshUnread()
        this.#onMessage(payload)
      },
      read_receipt: ({ payload }) => {
        if (payload.userId !== this.client.me?.id) return
        if (this.variant === "badge") return this.#refreshUnread()
        this.threads = this.threads.map((c) =>
          c.id === payload.conversationId ? { ...c, readSeq: Math.max(c.readSeq, payload.readSeq), unreadCount: payload.readSeq >= c.lastSeq ? 0 : c.unreadCount } : c
        )
        const c = this.threads.find((t) => t.id === payload.conversationId)
        if (c && payload.readSeq < c.lastSeq) void this.refresh(c.id)
      },
      message_deleted: ({ payload }) => {
        if (this.variant === "badge") return this.#refreshUnread()
        const mark = (c: Conversation) =>
          c.id === payload.conversationId && c.lastMessage?.seq === payload.seq ? { ...c, lastMessage: { ...c.lastMessage, text: null, deleted: true } } : c
        this.threads = this.threads.map(mark)
        this.requests = this.requests.map(mark)
      },
      conversation_updated: ({ payload }) => {
        if (this.variant === "badge") return this.#refreshUnread()
        void this.refresh(payload.conversationId)
      },
      resumed: ({ payload }) => {
        if (!payload.complete) void this.load()
      }
    })
  }

  override connectedCallback(): void {
    super.connectedCallback()
    if (!this.loaded) void this.load()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearTimeout(this.#unreadTimer)
  }

  async load(): Promise<void> {
    try {
      const me = await this.client.session()
      if (!me) return
      if (this.variant === "badge") {
        this.#setUnread(await this.client.dm.unread())
      } else {
        const [threads, requests] = await Promise.all([this.client.dm.conversations({ limit: 30 }), this.client.dm.requests({ limit: 30 })])
        this.threads = threads.items
        this.requests = requests.items
        this.#cursors = { inbox: threads.hasMore ? threads.nextCursor : null, requests: requests.hasMore ? requests.nextCursor : null }
      }
      this.error = ""
      this.loaded = true
    } catch (error) {
      this.#fail(error)
    }
  }

  /** The next page of the tab shown; threads already listed (moved up live) are not repeated. */
  async more(): Promise<void> {
    const tab = this.tab
    const cursor = this.#cursors[tab]
    if (!cursor) return
    try {
      const page = tab === "inbox" ? await this.client.dm.conversations({ cursor, limit: 30 }) : await this.client.dm.requests({ cursor, limit: 30 })
      const held = tab === "inbox" ? this.threads : this.requests
      const fresh = page.items.filter((c) => !held.some((h) => h.id === c.id))
      if (tab === "inbox") this.threads = [...held, ...fresh]
      else this.requests = [...held, ...fresh]
      this.#cursors = { ...this.#cursors, [tab]: page.hasMore ? page.nextCursor : null }
      this.requestUpdate()
    } catch (error) {
      this.#fail(error)
    }
  }

  /** Frames come in bursts: one `GET /conversations/unread` for each. */
  #refreshUnread() {
    clearTimeout(this.#unreadTimer)
    this.#unreadTimer = setTimeout(() => {
      this.client.dm.unread().then((u) => this.#setUnread(u), () => undefined)
    }, 150)
  }

  #setUnread(u: { unreadCount: number; requests: number }) {
    if (u.unreadCount === this.unread.unreadCount && u.requests === this.unread.requests) return
    this.unread = { unreadCount: u.unreadCount, requests: u.requests }
    this.emit("ap-dm-unread", this.unread)
  }

  #onMessage(frame: DmPayloads["message"]) {
    const meId = this.client.me?.id
    const list = frame.request ? this.requests : this.threads
    const held = list.find((c) => c.id === frame.conversationId)
    // a thread this list does not hold (new, or a request accepted elsewhere): ask for it
    if (!held) return void this.refresh(frame.conversationId)
    const updated = withMessage(held, frame, meId, frame.conversationId === this.selected)
    const moved = [updated, ...list.filter((c) => c.id !== frame.conversationId)]
    if (frame.request) this.requests = moved
    else this.threads = moved
  }

  /** Refetches one thread and files it where it now belongs (inbox, requests, or gone). */
  async refresh(conversationId: string): Promise<void> {
    const without = (list: ReadonlyArray<Conversation>) => list.filter((c) => c.id !== conversationId)
    try {
      const c = await this.client.dm.conversation(conversationId)
      const place = (list: ReadonlyArray<Conversation>) => {
        const i = list.findIndex((x) => x.id === c.id)
        if (i >= 0 && list[i]!.lastActivityAt === c.lastActivityAt) return list.map((x) => (x.id === c.id ? c : x))
        // new to this list, or active since: it goes on top, as a live message puts it
        return [c, ...without(list)]
      }
      if (c.status === "request") {
        this.requests = place(this.requests)
        this.threads = without(this.threads)
      } else {
        this.threads = place(this.threads)
        this.requests = without(this.requests)
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.threads = without(this.threads)
        this.requests = without(this.requests)
      }
    }
  }

  async #decide(c: Conversation, decision: "accepted" | "declined") {
    try {
      if (decision === "accepted") {
        const accepted = await this.client.dm.accept(c.id)
        this.threads = [accepted, ...this.threads.filter((t) => t.id !== c.id)]
      } else {
        await this.client.dm.decline(c.id)
      }
      this.requests = this.requests.filter((r) => r.id !== c.id)
      this.emit("ap-conversation-request", { conversationId: c.id, decision })
      await this.updateComplete
      this.renderRoot.querySelector<HTMLElement>(this.requests.length > 0 ? "[part~=thread]" : "[role=tab][aria-selected=true]")?.focus()
    } catch (error) {
      this.#fail(error)
    }
  }

  #fail(error: unknown) {
    this.error = describeError(error)
    this.emit("ap-error", { message: this.error, status: error instanceof ApiError ? error.status : undefined })
  }

  #choose(event: MouseEvent, c: Conversation) {
    if (!this.emit("ap-conversation-select", { conversationId: c.id }, true)) event.preventDefault()
  }

  #onTabKey(event: KeyboardEvent) {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return
    this.tab = this.tab === "inbox" ? "requests" : "inbox"
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>("[role=tab][aria-selected=true]")?.focus())
  }

  #badge() {
    const n = this.unread.unreadCount
    const label = n === 0 ? "Messages" : `Messages, ${n} unread`
    return html`<a class="link" href=${this.client.rest.pageUrl(this.href)} aria-label=${label}>
      Messages${n > 0 ? html` <span class="badge" part="badge" aria-hidden="true">${n > 99 ? "99+" : n}</span>` : nothing}
    </a>`
  }

  #thread(c: Conversation, request: boolean) {
    const meId = this.client.me?.id
    const title = titleOf(c, meId)
    const unread = request ? 0 : c.unreadCount
    return html`<li class=${unread > 0 ? "unread" : ""}>
      <a part="thread" href=${this.client.rest.pageUrl(`${this.href}/${c.id}`)} aria-current=${c.id === this.selected ? "page" : "false"}
        @click=${(e: MouseEvent) => this.#choose(e, c)}>
        <span class="title"><span class="name">${title}</span>${unread > 0 ? html`<span class="visually-hidden">, ${unread} unread</span>` : nothing}</span>
        <span class="preview" part="preview">${previewText(c.lastMessage, meId)}</span>
        <time datetime=${c.lastActivityAt}>${timeAgo(c.lastActivityAt)}</time>
        ${unread > 0 ? html`<span class="badge" part="badge" aria-hidden="true">${unread > 99 ? "99+" : unread}</span>` : nothing}
      </a>
      ${request
        ? html`<span class="decide">
          <button class="primary" part="accept" aria-label="Accept the request from ${title}" @click=${() => this.#decide(c, "accepted")}>Accept</button>
          <button part="decline" aria-label="Decline the request from ${title}" @click=${() => this.#decide(c, "declined")}>Decline</button>
        </span>`
        : nothing}
    </li>`
  }

  override render() {
    if (this.variant === "badge") return this.#badge()
    const requests = this.tab === "requests"
    const list = requests ? this.requests : this.threads
    const tab = (name: Tab, label: string, count: number) =>
      html`<button role="tab" part="tab" id="tab-${name}" aria-controls="panel" aria-selected=${this.tab === name ? "true" : "false"}
        tabindex=${this.tab === name ? 0 : -1} @click=${() => (this.tab = name)} @keydown=${this.#onTabKey}>
        ${label}${count > 0 ? html` <span class="count">(${count})</span>` : nothing}
      </button>`
    return html`
      <div role="tablist" part="tabs" aria-label="Conversations">
        ${tab("inbox", "Inbox", 0)}${tab("requests", "Requests", this.requests.length)}
      </div>
      ${this.error ? html`<p role="alert" class="error">${this.error}</p>` : nothing}
      <div id="panel" role="tabpanel" aria-labelledby="tab-${this.tab}">
        ${this.loaded && list.length === 0 ? html`<p class="muted">${requests ? "No message requests." : "No conversations yet."}</p>` : nothing}
        <ul part="list" aria-label=${requests ? "Message requests" : "Conversations"}>${list.map((c) => this.#thread(c, requests))}</ul>
        ${this.#cursors[this.tab] ? html`<p class="more"><button part="more" @click=${() => this.more()}>Show more</button></p>` : nothing}
      </div>
    `
  }
}
