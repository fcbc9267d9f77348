import { html, nothing } from "lit"
import type { StoryAudience, StoryPayloads, TrayEntry } from "../sdk/stories.ts"
import { ApiError, describeError } from "../sdk/rest.ts"
import { ApElement } from "../shared/base.ts"
import type { ApEvent } from "../shared/events.ts"
import { LiveController } from "../shared/live.ts"
import { theme } from "../shared/theme.ts"
import "../story-viewer/story-viewer.ts"
import type { ApStoryViewer } from "../story-viewer/story-viewer.component.ts"
import { styles } from "./story-tray.styles.ts"
import "../sdk/stories.ts"

/** What the server takes for a story (it sniffs the bytes; this only spares a doomed upload). */
const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif", "image/avif", "image/heic", "image/heif"]

/** The tray's order: your own entry first, then people with something unseen, then the most recent. */
export const trayOrder = (a: TrayEntry, b: TrayEntry): number =>
  Number(b.own) - Number(a.own) || Number(b.unseenCount > 0) - Number(a.unseenCount > 0) || Date.parse(b.latestAt) - Date.parse(a.latestAt)

/** The entries without the stories that expired by `now` (and without people left with none). */
export const withoutExpired = (entries: ReadonlyArray<TrayEntry>, now: number): ReadonlyArray<TrayEntry> =>
  entries.flatMap((e) => {
    const stories = e.stories.filter((s) => Date.parse(s.expiresAt) > now)
    if (stories.length === e.stories.length) return [e]
    return stories.length === 0 ? [] : [{ ...e, stories, unseenCount: stories.filter((s) => !s.seen).length }]
  })

/** The tray after a `story_new` frame: the story joins its author's entry, which moves up. */
export const withNewStory = (entries: ReadonlyArray<TrayEntry>, frame: StoryPayloads["story_new"], meId: string | undefined): ReadonlyArray<TrayEntry> => {
  const held = entries.find((e) => e.user.id === frame.author.id)
  if (held?.stories.some((s) => s.id === frame.storyId)) return entries
  const own = frame.author.id === meId
  const story = { id: frame.storyId, seq: frame.seq, expiresAt: frame.expiresAt, seen: own }
  const entry: TrayEntry = held
    ? {
      ...held,
      stories: [...held.stories, story],
      unseenCount: held.unseenCount + (own ? 0 : 1),
      latestAt: frame.publishedAt,
      closeFriends: held.closeFriends || frame.closeFriends
    }
    : { user: frame.author, own, unseenCount: own ? 0 : 1, latestAt: frame.publishedAt, readPointer: 0, closeFriends: frame.closeFriends, stories: [story] }
  return [entry, ...entries.filter((e) => e !== held)].sort(trayOrder)
}

/** The tray after a story went (deleted, or expired on another path). */
export const withoutStory = (entries: ReadonlyArray<TrayEntry>, storyId: string): ReadonlyArray<TrayEntry> =>
  entries.flatMap((e) => {
    if (!e.stories.some((s) => s.id === storyId)) return [e]
    const stories = e.stories.filter((s) => s.id !== storyId)
    return stories.length === 0 ? [] : [{ ...e, stories, unseenCount: stories.filter((s) => !s.seen).length }]
  })

/** The tray after the viewer saw a story: its author's read pointer moves, one fewer unseen. */
export const withSeen = (entries: ReadonlyArray<TrayEntry>, authorId: string, seq: number): ReadonlyArray<TrayEntry> =>
  entries.map((e) => {
    if (e.user.id !== authorId) return e
    const stories = e.stories.map((s) => (s.seq <= seq ? { ...s, seen: true } : s))
    return { ...e, stories, readPointer: Math.max(e.readPointer, seq), unseenCount: stories.filter((s) => !s.seen).length }
  })

interface Draft {
  readonly file: File
  readonly preview: string
  readonly audience: StoryAudience
}

/**
 * @summary The story tray: a row of rings, one per person with active stories you may see —
 * yours first (with "add"), then unseen ones, highlighted, then the most recent. It stays live:
 * a new story from someone you follow appears at once, deleted and expired ones go without a
 * reload. Choosing a ring opens `<ap-story-viewer>` full screen over the page, going on to the
 * next person after the last story. "Add" previews your photo cropped 9:16, as it will be
 * published, with the audience (followers or close friends).
 *
 * @attr username - Show only this person's ring (a profile page); without it, the whole tray.
 * @attr no-add - Hide "add to your story".
 *
 * @csspart list - The row of rings.
 * @csspart ring - One person's ring (a button).
 * @csspart add - "Add to your story".
 * @csspart composer - The new-story preview with its audience and Share.
 *
 * @cssprop --ap-story-ring - The unseen ring (default: a warm gradient).
 * @cssprop --ap-story-close-friends - The close-friends ring (default green).
 *
 * @fires ap-story-open - A ring was chosen; cancel it to show the stories yourself.
 * @fires ap-story-posted - Your new story was accepted (processing until `story_ready`).
 * @fires ap-error - Loading or posting failed.
 */
export class ApStoryTray extends ApElement {
  static override styles = [theme, styles]
  static override properties = {
    ...ApElement.properties,
    username: { type: String },
    noAdd: { type: Boolean, attribute: "no-add" },
    entries: { state: true },
    loaded: { state: true },
    error: { state: true },
    status: { state: true },
    draft: { state: true },
    uploading: { state: true },
    viewing: { state: true }
  }

  declare username: string | undefined
  declare noAdd: boolean
  declare entries: ReadonlyArray<TrayEntry>
  declare loaded: boolean
  declare error: string
  declare status: string
  declare draft: Draft | null
  /** Upload progress 0–1 while a story goes out. */
  declare uploading: number | null
  /** The person whose stories the viewer shows. */
  declare viewing: string | null
  #expiry: ReturnType<typeof setTimeout> | undefined
  #posted = new Set<string>()

  constructor() {
    super()
    this.noAdd = false
    this.entries = []
    this.loaded = false
    this.error = ""
    this.status = ""
    this.draft = null
    this.uploading = null
    this.viewing = null
    new LiveController(this, {
      story_new: ({ payload }) => {
        if (this.username && payload.author.username !== this.username) return
        this.#set(withNewStory(this.entries, payload, this.client.me?.id))
      },
      story_removed: ({ payload }) => this.#set(withoutStory(this.entries, payload.storyId)),
      story_ready: ({ payload }) => {
        if (this.#posted.delete(payload.storyId)) this.status = "Your story is up."
        void this.load()
      },
      story_failed: ({ payload }) => {
        if (!this.#posted.delete(payload.storyId)) return
        this.error = `Your story could not be posted: ${payload.reason}`
      },
      resumed: ({ payload }) => {
        if (!payload.complete) void this.load()
      }
    })
  }

  override connectedCallback(): void {
    super.connectedCallback()
    this.addEventListener("ap-story-view", this.#onViewed)
    this.addEventListener("ap-story-close", this.#onViewerClosed)
    this.addEventListener("ap-story-delete", this.#onDeleted)
    if (!this.loaded) void this.load()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.removeEventListener("ap-story-view", this.#onViewed)
    this.removeEventListener("ap-story-close", this.#onViewerClosed)
    this.removeEventListener("ap-story-delete", this.#onDeleted)
    clearTimeout(this.#expiry)
    if (this.draft) URL.revokeObjectURL(this.draft.preview)
  }

  async load(): Promise<void> {
    try {
      const me = await this.client.session()
      if (!me) {
        this.loaded = true
        return this.#set([])
      }
      if (this.username) {
        const s = await this.client.stories.ofUser(this.username)
        const stories = s.items.flatMap((x) => (x.expiresAt && x.status === "published" ? [{ id: x.id, seq: x.seq, expiresAt: x.expiresAt, seen: x.seen || x.seq <= s.readPointer }] : []))
        const own = s.user.id === me.id
        this.#set(stories.length === 0 ? [] : [{
          user: s.user,
          own,
          unseenCount: own ? 0 : stories.filter((x) => !x.seen).length,
          latestAt: s.items[s.items.length - 1]?.publishedAt ?? new Date().toISOString(),
          readPointer: s.readPointer,
          closeFriends: s.items.some((x) => x.audience === "closeFriends"),
          stories
        }])
      } else {
        const page = await this.client.stories.tray({ limit: 100 })
        this.#set(page.items)
      }
      this.error = ""
      this.loaded = true
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || error.status === 401)) {
        this.loaded = true
        return this.#set([])
      }
      this.#fail(error)
    }
  }

  /** Sets the entries and arms one timer for the earliest expiry among them. */
  #set(entries: ReadonlyArray<TrayEntry>) {
    const now = Date.now()
    this.entries = withoutExpired(entries, now)
    clearTimeout(this.#expiry)
    const next = Math.min(...this.entries.flatMap((e) => e.stories.map((s) => Date.parse(s.expiresAt))))
    // a timer longer than 2^31 ms fires at once; expiries are within 24 h, but be safe
    if (Number.isFinite(next)) this.#expiry = setTimeout(() => this.#set(this.entries), Math.min(Math.max(0, next - now) + 50, 2 ** 30))
  }

  #onViewed = (event: ApEvent<"ap-story-view">) => {
    const { authorId, seq } = event.detail
    this.entries = withSeen(this.entries, authorId, seq)
  }

  #onViewerClosed = () => {
    this.viewing = null
    this.#set([...this.entries].sort(trayOrder))
  }

  #onDeleted = (event: ApEvent<"ap-story-delete">) => this.#set(withoutStory(this.entries, event.detail.storyId))

  open(username: string): void {
    if (!this.emit("ap-story-open", { username }, true)) return
    this.viewing = username
    void this.updateComplete.then(() => {
      const viewer = this.renderRoot.querySelector<ApStoryViewer>("ap-story-viewer")
      viewer?.show(username, this.entries.filter((e) => e.stories.length > 0).map((e) => e.user.username))
    })
  }

  #pick() {
    this.error = ""
    this.renderRoot.querySelector<HTMLInputElement>("input[type=file]")?.click()
  }

  #chosen(event: Event) {
    const input = event.target as HTMLInputElement
    const file = input.files?.[0]
    input.value = ""
    if (!file) return
    if (file.type && !IMAGE_TYPES.includes(file.type)) {
      this.error = "Choose a photo (JPEG, PNG, WebP, GIF, AVIF or HEIC)."
      return
    }
    if (this.draft) URL.revokeObjectURL(this.draft.preview)
    this.draft = { file, preview: URL.createObjectURL(file), audience: "followers" }
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>("[part~=composer] h2")?.focus())
  }

  #cancelDraft() {
    if (this.draft) URL.revokeObjectURL(this.draft.preview)
    this.draft = null
    this.renderRoot.querySelector<HTMLElement>("[part~=add]")?.focus()
  }

  async #share(event: SubmitEvent) {
    event.preventDefault()
    const draft = this.draft
    if (!draft || this.uploading !== null) return
    this.uploading = 0
    this.error = ""
    this.status = "Posting your story…"
    try {
      const upload = this.client.stories.post(draft.file, { audience: draft.audience, filename: draft.file.name }, (loaded, total) => {
        this.uploading = total > 0 ? loaded / total : 0
      })
      const accepted = await upload.done
      this.#posted.add(accepted.storyId)
      URL.revokeObjectURL(draft.preview)
      this.draft = null
      this.status = accepted.status === "published" ? "Your story is up." : "Processing your story…"
      this.emit("ap-story-posted", { storyId: accepted.storyId })
      if (accepted.status === "published") void this.load()
    } catch (error) {
      this.status = ""
      this.#fail(error)
    } finally {
      this.uploading = null
    }
  }

  #fail(error: unknown) {
    this.error = describeError(error)
    this.emit("ap-error", { message: this.error, status: error instanceof ApiError ? error.status : undefined })
  }

  #ring(e: TrayEntry) {
    const name = e.own ? "Your story" : e.user.displayName || e.user.username
    const unseen = e.unseenCount > 0
    const label = `${e.own ? "Your story" : `${e.user.username}'s story`}${unseen ? `, ${e.unseenCount} new` : ", seen"}${e.closeFriends ? ", close friends" : ""}`
    const avatar = e.user.avatar
      ? html`<img src=${this.client.rest.url(e.user.avatar.small)} alt="" width="56" height="56" loading="lazy" />`
      : html`<span class="initial" aria-hidden="true">${(e.user.username[0] ?? "?").toUpperCase()}</span>`
    return html`<li>
      <button type="button" part="ring" class="ring ${unseen ? "unseen" : "seen"} ${e.closeFriends ? "close" : ""}" aria-label=${label}
        data-username=${e.user.username} @click=${() => this.open(e.user.username)}>
        <span class="disc">${avatar}</span>
        <span class="name" aria-hidden="true">${name}</span>
      </button>
      ${e.own && !this.noAdd ? this.#addButton(true) : nothing}
    </li>`
  }

  #addButton(small: boolean) {
    return html`<button type="button" part="add" class=${small ? "add small" : "add"} aria-label="Add to your story" @click=${this.#pick}>
      ${small ? "+" : html`<span class="disc plus" aria-hidden="true">+</span><span class="name" aria-hidden="true">Your story</span>`}
    </button>`
  }

  #composer(d: Draft) {
    const busy = this.uploading !== null
    return html`<form class="composer" part="composer" role="dialog" aria-modal="true" aria-labelledby="new-story" @submit=${this.#share}
      @keydown=${(e: KeyboardEvent) => e.key === "Escape" && !busy && this.#cancelDraft()}>
      <h2 id="new-story" tabindex="-1">New story</h2>
      <div class="frame"><img src=${d.preview} alt="Your story as it will be published (cropped to 9:16)" /></div>
      <fieldset>
        <legend>Who can see it</legend>
        <label><input type="radio" name="audience" value="followers" .checked=${d.audience === "followers"} @change=${() => (this.draft = { ...d, audience: "followers" })} /> Followers</label>
        <label><input type="radio" name="audience" value="closeFriends" .checked=${d.audience === "closeFriends"} @change=${() => (this.draft = { ...d, audience: "closeFriends" })} /> Close friends</label>
      </fieldset>
      ${busy ? html`<progress max="1" .value=${this.uploading ?? 0} aria-label="Upload progress"></progress>` : nothing}
      <div class="actions">
        <button type="button" @click=${this.#cancelDraft} ?disabled=${busy}>Cancel</button>
        <button type="submit" class="primary" ?disabled=${busy}>${busy ? "Sharing…" : "Share to story"}</button>
      </div>
    </form>`
  }

  override render() {
    const me = this.client.me
    const hasOwn = this.entries.some((e) => e.own)
    const showAdd = !this.noAdd && !this.username && me && !hasOwn
    if (this.username && this.entries.length === 0 && !this.error) return nothing
    return html`
      <ul part="list" aria-label="Stories">
        ${showAdd ? html`<li>${this.#addButton(false)}</li>` : nothing}
        ${this.entries.map((e) => this.#ring(e))}
      </ul>
      <input type="file" accept=${IMAGE_TYPES.join(",")} hidden @change=${this.#chosen} />
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
      <p class="visually-hidden" role="status">${this.status}</p>
      ${this.draft ? this.#composer(this.draft) : nothing}
      ${this.viewing ? html`<ap-story-viewer .client=${this.client}></ap-story-viewer>` : nothing}
    `
  }
}
