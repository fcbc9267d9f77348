import { html, nothing, type PropertyValues } from "lit"
import type { Story, StoryPayloads, StoryViewer, UserStories } from "../sdk/stories.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import { plural, timeAgo } from "../shared/format.ts"
import { LiveController } from "../shared/live.ts"
import { theme } from "../shared/theme.ts"
import { styles } from "./story-viewer.styles.ts"
import "../sdk/stories.ts"

/** The quick reactions of the reply bar. */
export const STORY_REACTIONS = ["❤️", "😂", "😮", "😢", "👏", "🔥"] as const

/** How long a press lasts before it holds the story instead of tapping through it. */
const HOLD_MS = 200
/** How far a touch travels before it is a swipe. */
const SWIPE_PX = 50
const TICK_MS = 50

type PauseReason = "hold" | "hidden" | "typing" | "sheet" | "loading" | "user"

/** Where a tap at `x` of a stage `width` wide goes: the left third back, the rest forward. */
export const tapSide = (x: number, width: number): "prev" | "next" => (x < width / 3 ? "prev" : "next")

/** The first story to show: the oldest one not seen yet, or the first when all are seen. */
export const startIndex = (s: UserStories): number => {
  const i = s.items.findIndex((item) => item.seq > s.readPointer && !item.seen)
  return i < 0 ? 0 : i
}

/**
 * @summary A person's active stories, full screen: progress bars, auto-advance after 5 s, tap
 * or click left/right (or the arrow keys) to go back and forth, Esc to close, swipe on touch
 * (sideways to the next person, down to close), paused while held, while the tab is hidden and
 * while you type a reply. It preloads the next story and counts each view once. The owner gets
 * "Seen by N" and the viewers sheet, updated live; everyone else a reply box and quick reactions,
 * which arrive as direct messages to the author.
 *
 * @attr username - Whose stories to show.
 * @attr open - Shown while present; closing removes it.
 * @attr duration - Milliseconds per story (default 5000).
 *
 * @prop queue - The usernames to move on to after this person's last story (the tray's order).
 *
 * @csspart dialog - The full-screen dialog.
 * @csspart progress - The row of progress bars.
 * @csspart media - The story's image.
 * @csspart header - The author, the time and the buttons.
 * @csspart reply - The reply form.
 * @csspart reaction - A quick-reaction button.
 * @csspart seen-by - The owner's "Seen by N" button.
 * @csspart sheet - The owner's viewers sheet.
 *
 * @fires ap-story-view - A story was shown to the viewer (counted once by the server).
 * @fires ap-story-reply - A reply or reaction was sent to the author.
 * @fires ap-story-close - The viewer closed (Esc, the close button, a swipe down, or the end).
 * @fires ap-story-delete - The owner deleted a story.
 * @fires ap-error - Loading or an action failed.
 */
export class ApStoryViewer extends ApElement {
  static override styles = [theme, styles]
  static override properties = {
    ...ApElement.properties,
    username: { type: String },
    open: { type: Boolean, reflect: true },
    duration: { type: Number },
    queue: { attribute: false },
    data: { state: true },
    index: { state: true },
    progress: { state: true },
    paused: { state: true },
    error: { state: true },
    status: { state: true },
    sheet: { state: true },
    replyText: { state: true }
  }

  declare username: string
  declare open: boolean
  declare duration: number
  declare queue: ReadonlyArray<string>
  declare data: UserStories | null
  declare index: number
  /** How far through the current story (0–1). */
  declare progress: number
  declare paused: ReadonlySet<PauseReason>
  declare error: string
  /** What the live region says (sent, new viewers). */
  declare status: string
  declare sheet: { readonly storyId: string; readonly items: ReadonlyArray<StoryViewer>; readonly nextCursor: string | null; readonly viewCount: number } | null
  declare replyText: string
  #timer: ReturnType<typeof setInterval> | undefined
  #last = 0
  #press: { x: number; y: number; at: number; touch: boolean; held: ReturnType<typeof setTimeout> | undefined } | undefined
  #loading = 0
  #opener: Element | null = null

  constructor() {
    super()
    this.username = ""
    this.open = false
    this.duration = 5000
    this.queue = []
    this.data = null
    this.index = 0
    this.progress = 0
    this.paused = new Set()
    this.error = ""
    this.status = ""
    this.sheet = null
    this.replyText = ""
    new LiveController(this, {
      story_removed: ({ payload }) => this.#drop(payload.storyId),
      story_view: ({ payload }) => this.#onViews(payload)
    })
  }

  override connectedCallback(): void {
    super.connectedCallback()
    document.addEventListener("visibilitychange", this.#onVisibility)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    document.removeEventListener("visibilitychange", this.#onVisibility)
    this.#stopTimer()
  }

  /** Opens on `username`'s stories (the tray calls this; so may a page). */
  show(username: string, queue: ReadonlyArray<string> = this.queue): void {
    this.#opener = document.activeElement
    this.queue = queue
    this.username = username
    this.open = true
  }

  close(): void {
    if (!this.open) return
    this.open = false
    this.#stopTimer()
    this.emit("ap-story-close", { username: this.username })
    const back = this.#opener as HTMLElement | null
    this.#opener = null
    back?.focus?.()
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if ((changed.has("username") || changed.has("open")) && this.open && this.username && this.data?.user.username !== this.username) {
      void this.load(this.username)
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has("open") && this.open) {
      this.#opener ??= document.activeElement
      this.#startTimer()
      this.renderRoot.querySelector<HTMLElement>("[part~=dialog]")?.focus()
    }
    if (changed.has("open") && !this.open) this.#stopTimer()
  }

  get current(): Story | undefined {
    return this.data?.items[this.index]
  }

  get mine(): boolean {
    return this.data !== null && this.data.user.id === this.client.me?.id
  }

  async load(username: string): Promise<void> {
    const loading = ++this.#loading
    try {
      await this.client.session()
      const data = await this.client.stories.ofUser(username)
      if (loading !== this.#loading) return
      const live = { ...data, items: data.items.filter((s) => !expired(s)) }
      if (live.items.length === 0) return this.#nextPerson()
      this.data = live
      this.sheet = null
      this.error = ""
      this.#enter(startIndex(live))
    } catch (error) {
      if (loading !== this.#loading) return
      if (error instanceof ApiError && error.status === 404) return this.#nextPerson()
      this.#fail(error)
    }
  }

  next(): void {
    if (!this.data) return
    if (this.index + 1 < this.data.items.length) this.#enter(this.index + 1)
    else this.#nextPerson()
  }

  prev(): void {
    if (!this.data) return
    if (this.index > 0) return this.#enter(this.index - 1)
    const i = this.queue.indexOf(this.data.user.username)
    if (i > 0) this.#goPerson(this.queue[i - 1]!)
    else this.#enter(0)
  }

  /** The next person in the queue, or closing after the last. */
  #nextPerson() {
    const i = this.queue.indexOf(this.data?.user.username ?? this.username)
    const after = i >= 0 ? this.queue[i + 1] : undefined
    if (after) this.#goPerson(after)
    else this.close()
  }

  #goPerson(username: string) {
    this.data = null
    this.username = username
  }

  /** Shows story `i`: restarts its clock, counts the view, preloads the next one. */
  #enter(i: number) {
    this.index = i
    this.progress = 0
    this.#last = performance.now()
    this.sheet = null
    const story = this.current
    if (!story) return
    this.#setPause("loading", story.media !== null)
    const next = this.data?.items[i + 1]
    if (next?.media && typeof Image !== "undefined") new Image().src = this.client.rest.url(next.media.url)
    if (!this.mine && story.status === "published") void this.#view(story)
  }

  async #view(story: Story) {
    if (!story.seen) this.#patch(story.id, { seen: true })
    this.emit("ap-story-view", { storyId: story.id, authorId: story.author.id, seq: story.seq })
    try {
      await this.client.stories.view(story.id)
    } catch (error) {
      // a story that expired or was deleted while shown goes; other failures only cost the count
      if (error instanceof ApiError && (error.status === 404 || error.status === 410)) this.#drop(story.id)
    }
  }

  #patch(storyId: string, patch: Partial<Story>) {
    if (!this.data) return
    this.data = { ...this.data, items: this.data.items.map((s) => (s.id === storyId ? { ...s, ...patch } : s)) }
  }

  /** A story went (deleted, expired): it leaves the sequence; the one after it takes its place. */
  #drop(storyId: string) {
    if (!this.data) return
    const at = this.data.items.findIndex((s) => s.id === storyId)
    if (at < 0) return
    const items = this.data.items.filter((s) => s.id !== storyId)
    this.data = { ...this.data, items }
    if (items.length === 0) return this.#nextPerson()
    if (at < this.index) this.index--
    else if (at === this.index) this.#enter(Math.min(this.index, items.length - 1))
  }

  #onViews(payload: StoryPayloads["story_view"]) {
    if (!this.mine || !this.data) return
    for (const s of payload.stories) this.#patch(s.storyId, { viewCount: s.viewCount })
    const here = payload.stories.find((s) => s.storyId === this.current?.id)
    if (here && here.newViewers > 0) this.status = `${plural(here.newViewers, "new viewer")}`
    if (this.sheet && payload.stories.some((s) => s.storyId === this.sheet?.storyId)) void this.#openSheet(this.sheet.storyId)
  }

  #setPause(reason: PauseReason, on: boolean) {
    if (this.paused.has(reason) === on) return
    const next = new Set(this.paused)
    if (on) next.add(reason)
    else next.delete(reason)
    this.paused = next
    this.#last = performance.now()
  }

  #startTimer() {
    this.#stopTimer()
    this.#last = performance.now()
    this.#timer = setInterval(() => this.tick(performance.now()), TICK_MS)
  }

  #stopTimer() {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Moves the clock on to `now`: the story advances when its time is up, or goes when it expired. */
  tick(now: number): void {
    // clocks may disagree (a test's, the interval's): time only moves forward
    const elapsed = Math.max(0, now - this.#last)
    this.#last = Math.max(this.#last, now)
    const story = this.current
    if (!this.open || !story) return
    if (expired(story)) return this.#drop(story.id)
    if (this.paused.size > 0) return
    this.progress = Math.min(1, this.progress + elapsed / this.duration)
    if (this.progress >= 1) this.next()
  }

  #onVisibility = () => this.#setPause("hidden", document.visibilityState === "hidden")

  #onKey(event: KeyboardEvent) {
    const typing = event.composedPath().some((n) => n instanceof HTMLInputElement || n instanceof HTMLTextAreaElement)
    if (event.key === "Escape") {
      event.preventDefault()
      if (this.sheet) return this.#closeSheet()
      return this.close()
    }
    if (typing) return
    if (event.key === "ArrowRight") {
      event.preventDefault()
      this.next()
    } else if (event.key === "ArrowLeft") {
      event.preventDefault()
      this.prev()
    }
  }

  #onDown(event: PointerEvent) {
    if (event.button !== 0) return
    const held = setTimeout(() => this.#setPause("hold", true), HOLD_MS)
    this.#press = { x: event.clientX, y: event.clientY, at: Date.now(), touch: event.pointerType === "touch", held }
  }

  #onUp(event: PointerEvent) {
    const press = this.#press
    this.#press = undefined
    if (!press) return
    clearTimeout(press.held)
    const wasHeld = this.paused.has("hold")
    this.#setPause("hold", false)
    const dx = event.clientX - press.x
    const dy = event.clientY - press.y
    if (Math.abs(dx) > SWIPE_PX && Math.abs(dx) > Math.abs(dy)) {
      // a swipe goes to the next (left) or previous (right) person
      const i = this.queue.indexOf(this.data?.user.username ?? "")
      if (dx < 0) this.#nextPerson()
      else if (i > 0) this.#goPerson(this.queue[i - 1]!)
      return
    }
    if (dy > SWIPE_PX * 1.5 && Math.abs(dy) > Math.abs(dx)) return this.close()
    if (wasHeld || Date.now() - press.at >= HOLD_MS) return
    const stage = event.currentTarget as HTMLElement
    const rect = stage.getBoundingClientRect()
    if (tapSide(event.clientX - rect.left, rect.width || 1) === "prev") this.prev()
    else this.next()
  }

  #onCancel() {
    if (this.#press) clearTimeout(this.#press.held)
    this.#press = undefined
    this.#setPause("hold", false)
  }

  async #reply(reply: { readonly text?: string; readonly emoji?: string }) {
    const story = this.current
    if (!story) return
    try {
      const sent = await this.client.stories.reply(story.id, reply)
      if (reply.text !== undefined) this.replyText = ""
      this.status = reply.emoji ? `Sent ${reply.emoji} to ${story.author.username}` : `Reply sent to ${story.author.username}`
      this.emit("ap-story-reply", { storyId: story.id, conversationId: sent.conversationId, seq: sent.seq })
    } catch (error) {
      this.#fail(error)
    }
  }

  #submit(event: SubmitEvent) {
    event.preventDefault()
    const text = this.replyText.trim()
    if (text) void this.#reply({ text })
  }

  async #openSheet(storyId: string) {
    this.#setPause("sheet", true)
    try {
      const page = await this.client.stories.viewers(storyId, { limit: 50 })
      this.sheet = { storyId, items: page.items, nextCursor: page.hasMore ? page.nextCursor : null, viewCount: page.viewCount }
      this.#patch(storyId, { viewCount: page.viewCount })
      await this.updateComplete
      this.renderRoot.querySelector<HTMLElement>("[part~=sheet] h2")?.focus()
    } catch (error) {
      this.#setPause("sheet", false)
      this.#fail(error)
    }
  }

  async #moreViewers() {
    const sheet = this.sheet
    if (!sheet?.nextCursor) return
    try {
      const page = await this.client.stories.viewers(sheet.storyId, { cursor: sheet.nextCursor, limit: 50 })
      const held = new Set(sheet.items.map((v) => v.user.id))
      this.sheet = { ...sheet, items: [...sheet.items, ...page.items.filter((v) => !held.has(v.user.id))], nextCursor: page.hasMore ? page.nextCursor : null }
    } catch (error) {
      this.#fail(error)
    }
  }

  #closeSheet() {
    this.sheet = null
    this.#setPause("sheet", false)
    this.renderRoot.querySelector<HTMLElement>("[part~=seen-by]")?.focus()
  }

  async #delete() {
    const story = this.current
    if (!story || !confirm("Delete this story?")) return
    try {
      await this.client.stories.remove(story.id)
      this.emit("ap-story-delete", { storyId: story.id })
      this.#drop(story.id)
    } catch (error) {
      this.#fail(error)
    }
  }

  #fail(error: unknown) {
    this.error = describeError(error)
    this.emit("ap-error", { message: this.error, status: error instanceof ApiError ? error.status : undefined })
  }

  #sheetView() {
    const s = this.sheet!
    return html`<section class="sheet" part="sheet" role="dialog" aria-modal="true" aria-labelledby="sheet-title" @pointerdown=${(e: Event) => e.stopPropagation()} @pointerup=${(e: Event) => e.stopPropagation()}>
      <h2 id="sheet-title" tabindex="-1">Seen by ${s.viewCount.toLocaleString()}</h2>
      <button class="sheet-close" type="button" @click=${this.#closeSheet}>Close</button>
      ${s.items.length === 0 ? html`<p class="muted">No one has seen it yet.</p>` : nothing}
      <ul>${s.items.map((v) => html`<li>
        ${avatar(v.user, this.client.rest.url.bind(this.client.rest))}
        <a href=${this.client.rest.pageUrl(`/u/${v.user.username}`)}>${v.user.displayName || v.user.username}</a>
        <time datetime=${v.viewedAt}>${timeAgo(v.viewedAt)}</time>
      </li>`)}</ul>
      ${s.nextCursor ? html`<button type="button" @click=${this.#moreViewers}>Show more</button>` : nothing}
    </section>`
  }

  #footer(story: Story) {
    if (this.mine) {
      return html`<div class="owner">
        <button type="button" part="seen-by" @click=${() => this.#openSheet(story.id)}>Seen by ${(story.viewCount ?? 0).toLocaleString()}</button>
        <button type="button" class="danger" @click=${this.#delete}>Delete</button>
      </div>`
    }
    const name = story.author.displayName || story.author.username
    return html`<form class="reply" part="reply" @submit=${this.#submit}>
      <label class="visually-hidden" for="reply">Reply to ${name}</label>
      <input id="reply" name="reply" autocomplete="off" maxlength="2000" placeholder="Reply to ${name}…" .value=${this.replyText}
        @input=${(e: Event) => (this.replyText = (e.target as HTMLInputElement).value)}
        @focus=${() => this.#setPause("typing", true)} @blur=${() => this.#setPause("typing", false)} />
      <button type="submit" ?disabled=${this.replyText.trim() === ""}>Send</button>
      <span class="reactions" role="group" aria-label="Quick reactions">
        ${STORY_REACTIONS.map((emoji) => html`<button type="button" part="reaction" aria-label="React with ${emoji}" @click=${() => this.#reply({ emoji })}>${emoji}</button>`)}
      </span>
    </form>`
  }

  override render() {
    if (!this.open) return nothing
    const data = this.data
    const story = this.current
    const name = data ? data.user.displayName || data.user.username : this.username
    const url = this.client.rest.url.bind(this.client.rest)
    const paused = this.paused.has("user") || this.paused.has("hold")
    return html`<div class="dialog" part="dialog" role="dialog" aria-modal="true" aria-label="Stories of ${name}" tabindex="-1" @keydown=${this.#onKey}>
      ${data && story
        ? html`
          <div class="bars" part="progress" aria-hidden="true">
            ${data.items.map((s, i) => html`<span class="bar"><span class="fill" style="width:${i < this.index ? 100 : i === this.index ? Math.round(this.progress * 1000) / 10 : 0}%"></span></span>`)}
          </div>
          <header part="header">
            ${avatar(data.user, url)}
            <a class="who" href=${this.client.rest.pageUrl(`/u/${data.user.username}`)}>${name}</a>
            ${story.publishedAt ? html`<time datetime=${story.publishedAt}>${timeAgo(story.publishedAt)}</time>` : nothing}
            ${story.audience === "closeFriends" ? html`<span class="cf">Close friends</span>` : nothing}
            <span class="visually-hidden" aria-live="polite">Story ${this.index + 1} of ${data.items.length}</span>
            <span class="spacer"></span>
            <button type="button" class="icon" aria-pressed=${paused ? "true" : "false"} @click=${() => this.#setPause("user", !this.paused.has("user"))}>${this.paused.has("user") ? "Play" : "Pause"}</button>
            <button type="button" class="icon" @click=${() => this.close()}>Close</button>
          </header>
          <div class="stage" @pointerdown=${this.#onDown} @pointerup=${this.#onUp} @pointercancel=${this.#onCancel} @pointerleave=${this.#onCancel}
            @contextmenu=${(e: Event) => e.preventDefault()} style=${story.media ? `background:${story.media.dominantColor} url("${story.media.placeholder}") center / cover` : ""}>
            ${story.media
              ? html`<img part="media" src=${url(story.media.url)} alt="Story from ${name}" draggable="false"
                  @load=${() => this.#setPause("loading", false)} @error=${() => this.#setPause("loading", false)} />`
              : html`<p class="pending">${story.status === "failed" ? "This story could not be processed." : "Processing…"}</p>`}
            <button type="button" class="nav prev" aria-label="Previous story" @pointerdown=${(e: Event) => e.stopPropagation()} @pointerup=${(e: Event) => e.stopPropagation()} @click=${() => this.prev()}>‹</button>
            <button type="button" class="nav next" aria-label="Next story" @pointerdown=${(e: Event) => e.stopPropagation()} @pointerup=${(e: Event) => e.stopPropagation()} @click=${() => this.next()}>›</button>
          </div>
          ${this.#footer(story)}
          ${this.sheet ? this.#sheetView() : nothing}`
        : html`<p class="pending" role="status">${this.error || "Loading…"}</p>
          <button type="button" class="icon lone-close" @click=${() => this.close()}>Close</button>`}
      ${this.error && story ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <p class="toast" role="status" aria-live="polite">${this.status}</p>
    </div>`
  }
}

const expired = (s: Story, now = Date.now()) => s.expiresAt !== null && Date.parse(s.expiresAt) <= now

const avatar = (u: Story["author"], url: (p: string) => string) =>
  u.avatar ? html`<img class="avatar" src=${url(u.avatar.thumbnail)} alt="" width="32" height="32" />` : html`<span class="avatar" aria-hidden="true"></span>`
