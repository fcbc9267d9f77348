/** How one message of a thread looks: quote, body (text, photo, shared post or tombstone), reactions, actions. */
import { html, nothing, type TemplateResult } from "lit"
import type { Message, UserCard } from "../sdk/dm.ts"
import { timeAgo } from "../shared/format.ts"
import { groupReactions, type Pending } from "./history.ts"

/** The reactions offered; any single emoji the server accepts shows as it comes. */
export const EMOJI: ReadonlyArray<readonly [string, string]> = [
  ["❤️", "heart"],
  ["😂", "laughing"],
  ["👍", "thumbs up"],
  ["😮", "surprised"],
  ["😢", "sad"]
]

export interface MessageContext {
  readonly meId: string | undefined
  readonly url: (path: string) => string
  readonly pageUrl: (path: string) => string
  readonly picker: number | undefined
  readonly seen: boolean
  readonly react: (m: Message, emoji: string) => void
  readonly togglePicker: (m: Message) => void
  readonly reply: (m: Message) => void
  readonly remove: (m: Message) => void
  /** A photo finished loading (and so grew the history). */
  readonly loaded: () => void
  /** A photo did not load: its signed URL may have expired. */
  readonly broken: (m: Message) => void
  /** The message a pending reply quotes, when it is held. */
  readonly find: (seq: number) => Message | undefined
}

export const nameOf = (u: UserCard) => u.displayName || u.username

const DELETE_WITHIN_MS = 15 * 60_000

const quote = (q: { seq: number; sender: UserCard; text: string | null; deleted: boolean }) =>
  html`<blockquote class="quote" part="quote">
    <span class="visually-hidden">In reply to </span><strong>${nameOf(q.sender)}</strong>
    <span>${q.deleted ? "Message deleted" : q.text ?? "Photo"}</span>
  </blockquote>`

const body = (m: Message, ctx: MessageContext): TemplateResult => {
  if (m.deletedAt) return html`<em class="tombstone" part="tombstone">Message deleted</em>`
  const parts: Array<TemplateResult> = []
  if (m.photo) {
    const v = m.photo.variants
    if (m.photo.status === "ready" && v) {
      parts.push(html`<img class="photo" part="photo" src=${ctx.url(v.small)} srcset="${ctx.url(v.small)} 320w, ${ctx.url(v.medium)} 640w"
        sizes="(max-width: 480px) 70vw, 320px" alt="Photo from ${nameOf(m.sender)}" loading="lazy" @load=${ctx.loaded} @error=${() => ctx.broken(m)} />`)
    } else if (m.photo.status === "failed") {
      parts.push(html`<span class="error">The photo could not be processed.</span>`)
    } else {
      parts.push(html`<span class="photo processing" part="photo" role="img" aria-label="Photo, processing"
        style=${m.photo.placeholder ? `background-image:url("${m.photo.placeholder}")` : ""}>Processing photo…</span>`)
    }
  }
  if (m.story) {
    const mine = m.sender.id === ctx.meId
    const what = m.story.kind === "reaction" ? (mine ? "You reacted to their story" : "Reacted to your story") : mine ? "You replied to their story" : "Replied to your story"
    parts.push(html`<span class="story-quote" part="story-quote">
      ${m.story.available && m.story.thumbnail
        ? html`<img src=${ctx.url(m.story.thumbnail)} alt="The story" width="45" height="80" loading="lazy" />`
        : html`<span class="story-gone" aria-hidden="true"></span>`}
      <span class="story-what">${what}${m.story.available ? "" : " (no longer available)"}</span>
    </span>`)
  }
  if (m.postUnavailable) parts.push(html`<span class="muted">This post is unavailable.</span>`)
  else if (m.post) {
    parts.push(html`<a class="shared-post" href=${ctx.pageUrl(`/p/${m.post.id}`)}>
      ${m.post.thumbnail ? html`<img src=${ctx.url(m.post.thumbnail)} alt="" />` : nothing}
      <span>Post by ${m.post.author.username}${m.post.caption ? html`: ${m.post.caption}` : nothing}</span>
    </a>`)
  }
  if (m.text) parts.push(html`<span class="text">${m.text}</span>`)
  return html`${parts}`
}

export const messageView = (m: Message, ctx: MessageContext) => {
  const mine = m.sender.id === ctx.meId
  const groups = groupReactions(m.reactions, ctx.meId)
  const deletable = mine && !m.deletedAt && Date.now() - Date.parse(m.createdAt) < DELETE_WITHIN_MS
  return html`<div class="msg ${mine ? "mine" : "theirs"}" part="message" data-seq=${m.seq}>
    ${m.replyTo ? quote(m.replyTo) : nothing}
    <div class="bubble" part="bubble${mine ? " bubble-mine" : ""}">
      <span class="visually-hidden">${mine ? "You" : nameOf(m.sender)}: </span>${body(m, ctx)}
    </div>
    ${groups.length > 0
      ? html`<ul class="reactions" part="reactions" aria-label="Reactions">
        ${groups.map((g) => html`<li><button type="button" aria-pressed=${g.mine ? "true" : "false"} title=${g.names.join(", ")}
          aria-label="${g.emoji} ${g.count}, by ${g.names.join(", ")}${g.mine ? " (you: remove)" : ""}" @click=${() => ctx.react(m, g.emoji)}>${g.emoji} ${g.count}</button></li>`)}
      </ul>`
      : nothing}
    <div class="meta">
      ${mine ? nothing : html`<span class="sender">${nameOf(m.sender)}</span>`}
      <time datetime=${m.createdAt}>${timeAgo(m.createdAt)}</time>
      ${m.deletedAt
        ? nothing
        : html`<span class="actions">
          <button type="button" class="link" @click=${() => ctx.reply(m)} aria-label="Reply to ${mine ? "your message" : nameOf(m.sender)}">Reply</button>
          <button type="button" class="link react" aria-expanded=${ctx.picker === m.seq ? "true" : "false"} @click=${() => ctx.togglePicker(m)}>React</button>
          ${deletable ? html`<button type="button" class="link" @click=${() => ctx.remove(m)} aria-label="Delete your message">Delete</button>` : nothing}
        </span>`}
    </div>
    ${ctx.picker === m.seq
      ? html`<div class="picker" part="picker" role="group" aria-label="Choose a reaction"
        @keydown=${(e: KeyboardEvent) => e.key === "Escape" && ctx.togglePicker(m)}>
        ${EMOJI.map(([emoji, label]) => html`<button type="button" aria-label="React with ${label}" @click=${() => ctx.react(m, emoji)}>${emoji}</button>`)}
      </div>`
      : nothing}
    ${ctx.seen ? html`<p class="seen" part="seen">Seen</p>` : nothing}
  </div>`
}

const STATES = { sending: "Sending…", waiting: "Waiting for a connection…", failed: "Not sent" } as const

export const pendingView = (p: Pending, ctx: MessageContext, retry: (p: Pending) => void, discard: (p: Pending) => void) => {
  const quoted = p.entry.replyToSeq === null ? undefined : ctx.find(p.entry.replyToSeq)
  return html`<div class="msg mine pending" part="message pending" data-client-id=${p.entry.clientId}>
    ${quoted ? quote({ seq: quoted.seq, sender: quoted.sender, text: quoted.text, deleted: quoted.deletedAt !== null }) : nothing}
    <div class="bubble" part="bubble bubble-mine">
      <span class="visually-hidden">You: </span>
      ${p.entry.text ? html`<span class="text">${p.entry.text}</span>` : nothing}
      ${p.entry.mediaUploadId ? html`<span class="muted">Photo</span>` : nothing}
    </div>
    <div class="meta">
      <span class="state ${p.state}">${STATES[p.state]}</span>
      ${p.state === "failed"
        ? html`${p.error ? html`<span class="error">${p.error}</span>` : nothing}
          <button type="button" class="link" @click=${() => retry(p)}>Retry</button>
          <button type="button" class="link" @click=${() => discard(p)}>Discard</button>`
        : nothing}
    </div>
  </div>`
}
