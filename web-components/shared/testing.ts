/**
 * Test doubles for the component tests (never part of the bundle): a scripted `fetch`, a
 * WebSocket the test drives, and sample wire objects.
 */
import type { Me, Profile, UserCard } from "../../src/domain/Accounts.ts"
import type { Notification } from "../../src/domain/Notifications.ts"
import type { Post } from "../../src/domain/Posts.ts"
import { ApertureClient } from "../sdk/client.ts"
import type { Conversation, Message } from "../sdk/dm.ts"
import type { Story, TrayEntry, TrayStory } from "../sdk/stories.ts"

// happy-dom answers `assignedSlot` with undefined where browsers say null, which the virtualizer's
// walk up the tree trips over; browsers need no such patch
for (const proto of [Element.prototype, Text.prototype]) {
  const own = Object.getOwnPropertyDescriptor(proto, "assignedSlot")
  Object.defineProperty(proto, "assignedSlot", {
    configurable: true,
    get(this: Element) {
      return (own?.get?.call(this) as HTMLSlotElement | undefined) ?? null
    }
  })
}

export interface Call {
  readonly method: string
  readonly path: string
  readonly body: unknown
  readonly headers: Record<string, string>
}

type Answer = { status?: number; body?: unknown } | Promise<{ status?: number; body?: unknown }> | "network-error"
type Route = (call: Call) => Answer | undefined

/** Installs a fake `fetch`: routes are tried in order by "METHOD /path" prefix; returns the calls made. */
export const fakeFetch = (routes: Record<string, Answer | Route>) => {
  const calls: Array<Call> = []
  globalThis.fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), "http://app.test")
    const method = init.method ?? "GET"
    const path = url.pathname.replace(/^\/api\/v1/, "") + url.search
    const headers = { ...(init.headers as Record<string, string>) }
    const call: Call = { method, path, body: typeof init.body === "string" ? JSON.parse(init.body) : undefined, headers }
    calls.push(call)
    const key = Object.keys(routes)
      .filter((k) => `${method} ${path}`.startsWith(k))
      .sort((a, b) => b.length - a.length)[0]
    let answer = key === undefined ? { status: 404, body: { error: { code: "NotFound", message: `no fake for ${method} ${path}` } } } : routes[key]
    if (typeof answer === "function") answer = answer(call) ?? { status: 404, body: {} }
    if (answer === "network-error") throw new TypeError("Failed to fetch")
    const a = await answer!
    return new Response(a.body === undefined ? "" : JSON.stringify(a.body), {
      status: a.status ?? 200,
      headers: { "content-type": "application/json" }
    })
  }) as typeof fetch
  return calls
}

/** A WebSocket the test opens, feeds frames to and closes. */
export class FakeWebSocket {
  static instances: Array<FakeWebSocket> = []
  readonly sent: Array<unknown> = []
  onopen: (() => void) | null = null
  onmessage: ((e: { data: string }) => void) | null = null
  onclose: ((e: { readonly code: number }) => void) | null = null
  readyState = 0
  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this)
  }
  send(text: string) {
    this.sent.push(JSON.parse(text))
  }
  close() {
    this.readyState = 3
  }
  open() {
    this.readyState = 1
    this.onopen?.()
  }
  frame(type: string, payload: unknown, id: number | null = null) {
    this.onmessage?.({ data: JSON.stringify({ type, id, ts: new Date().toISOString(), payload }) })
  }
  /** The connection ends; 1006 (abnormal closure) unless the test names a server's close code. */
  drop(code = 1006) {
    this.readyState = 3
    this.onclose?.({ code })
  }
  static get last(): FakeWebSocket {
    return FakeWebSocket.instances[FakeWebSocket.instances.length - 1]!
  }
}

export const testClient = () => new ApertureClient({ api: "", WebSocket: FakeWebSocket as unknown as typeof WebSocket })

export const waitFor = async (check: () => unknown, timeoutMs = 2000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (check()) return
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${check.toString()}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

export const card = (username: string, id = `id-${username}`): UserCard =>
  ({ id, username, displayName: username.toUpperCase(), avatar: null, isPrivate: false }) as UserCard

export const me = (username = "me"): Me =>
  ({
    id: `id-${username}`,
    username,
    email: `${username}@example.com`,
    displayName: "",
    bio: "",
    avatar: null,
    isPrivate: false,
    counts: { followers: 0, following: 0, posts: 0 },
    createdAt: "2026-01-01T00:00:00Z"
  }) as unknown as Me

export const post = (id: string, overrides: Partial<Post> = {}): Post =>
  ({
    id,
    status: "published",
    caption: `caption ${id}`,
    altText: `alt ${id}`,
    location: null,
    variants: { thumbnail: `/media/${id}-w150.webp`, small: `/media/${id}-w320.webp`, medium: `/media/${id}-w640.webp`, large: `/media/${id}-w1080.webp` },
    width: 1080,
    height: 1350,
    placeholder: "data:image/webp;base64,AAAA",
    dominantColor: "#336699",
    hashtags: [],
    mentions: [],
    counts: { likes: 3, comments: 0 },
    author: card("bob"),
    viewer: { isLiked: false, isSaved: false },
    createdAt: "2026-01-01T00:00:00Z",
    publishedAt: "2026-01-01T00:00:00Z",
    ...overrides
  }) as unknown as Post

export const profile = (username: string, overrides: Partial<Profile> = {}): Profile =>
  ({
    id: `id-${username}`,
    username,
    displayName: username.toUpperCase(),
    bio: "hello",
    avatar: null,
    isPrivate: false,
    counts: { followers: 10, following: 2, posts: 1 },
    viewer: { isFollowing: false, followsYou: false, requested: false, blocked: false },
    canViewContent: true,
    ...overrides
  }) as unknown as Profile

export const notification = (id: string, overrides: Partial<Notification> = {}): Notification =>
  ({
    id,
    kind: "like",
    actors: [card("alice")],
    actorCount: 1,
    post: { id: "p1", thumbnail: "/media/p1-w150.webp" },
    text: null,
    read: false,
    createdAt: "2026-01-01T00:00:00Z",
    updatedAt: "2026-01-01T00:00:00Z",
    ...overrides
  }) as unknown as Notification

/** A 1:1 thread between `me` and `other`. */
export const conversation = (id: string, other = "alice", overrides: Partial<Conversation> = {}): Conversation => ({
  id,
  kind: "direct",
  title: null,
  members: [
    { user: card("me"), role: "member", readSeq: 0 },
    { user: card(other), role: "member", readSeq: 0 }
  ],
  lastSeq: 0,
  lastMessage: null,
  lastActivityAt: "2026-01-01T00:00:00Z",
  unreadCount: 0,
  readSeq: 0,
  muted: false,
  status: "accepted",
  role: "member",
  ...overrides
})

export const dmMessage = (conversationId: string, seq: number, from = "alice", overrides: Partial<Message> = {}): Message => ({
  conversationId,
  seq,
  clientId: null,
  sender: card(from),
  kind: "text",
  text: `message ${seq}`,
  post: null,
  postUnavailable: false,
  photo: null,
  replyTo: null,
  story: null,
  reactions: [],
  createdAt: new Date().toISOString(),
  deletedAt: null,
  ...overrides
})

/** Mounts an element and waits for its first render. */
export const mount = async <E extends HTMLElement & { updateComplete: Promise<unknown> }>(element: E): Promise<E> => {
  document.body.append(element)
  await element.updateComplete
  return element
}

export const shadow = (el: Element) => el.shadowRoot!

/** A story as `GET /users/:username/stories` lists it (published, 24 h left unless told). */
export const story = (id: string, seq: number, from = "bob", overrides: Partial<Story> = {}): Story => ({
  id,
  seq,
  author: card(from),
  audience: "followers",
  status: "published",
  createdAt: "2026-01-01T00:00:00Z",
  publishedAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
  media: { url: `/media/${id}-story.webp`, thumbnail: `/media/${id}-thumb.webp`, placeholder: "data:image/webp;base64,AAAA", width: 1080, height: 1920, dominantColor: "#223344" },
  seen: false,
  viewCount: null,
  ...overrides
})

/** A tray entry for `from` holding `stories` (unseen unless marked). */
export const trayEntry = (from: string, stories: ReadonlyArray<Partial<TrayStory> & { id: string; seq: number }>, overrides: Partial<TrayEntry> = {}): TrayEntry => {
  const items = stories.map((s) => ({ expiresAt: new Date(Date.now() + 86_400_000).toISOString(), seen: false, ...s }))
  return {
    user: card(from),
    own: from === "me",
    unseenCount: items.filter((s) => !s.seen).length,
    latestAt: new Date().toISOString(),
    readPointer: 0,
    closeFriends: false,
    stories: items,
    ...overrides
  }
}
