/**
 * Direct messages in the SDK: the wire shapes of the DM contract (issue 14), the REST calls, the
 * photo upload (`POST /uploads`, then the bytes PUT with progress), and the client's `typing`
 * frame. The shapes are written out here rather than imported from the server's modules, so the
 * bundle never depends on what the server keeps behind its own boundary.
 */
import type { UserCard } from "../../src/domain/Accounts.ts"
import type { UploadTarget } from "../../src/domain/Posts.ts"
import { ApiError, type PageQuery, query, type RestClient } from "./rest.ts"
import type { LiveSocket } from "./socket.ts"
import { extendClient } from "./client.ts"

export type { UserCard }

export interface ConversationMember {
  readonly user: UserCard
  readonly role: "admin" | "member"
  readonly readSeq: number
}

export type MessageKind = "text" | "post" | "photo"

export interface MessagePreview {
  readonly seq: number
  readonly sender: UserCard
  readonly kind: MessageKind
  readonly text: string | null
  readonly deleted: boolean
  readonly createdAt: string
}

export interface Conversation {
  readonly id: string
  readonly kind: "direct" | "group"
  readonly title: string | null
  readonly members: ReadonlyArray<ConversationMember>
  readonly lastSeq: number
  readonly lastMessage: MessagePreview | null
  readonly lastActivityAt: string
  readonly unreadCount: number
  readonly readSeq: number
  readonly muted: boolean
  readonly status: "accepted" | "request"
  readonly role: "admin" | "member"
}

export interface PhotoVariants {
  readonly thumbnail: string
  readonly small: string
  readonly medium: string
  readonly large: string
}

export interface MessagePhoto {
  readonly status: "processing" | "ready" | "failed"
  readonly variants: PhotoVariants | null
  readonly placeholder: string | null
}

export interface Reaction {
  readonly emoji: string
  readonly user: UserCard
}

export interface Message {
  readonly conversationId: string
  readonly seq: number
  readonly clientId: string | null
  readonly sender: UserCard
  readonly kind: MessageKind
  readonly text: string | null
  readonly post: { readonly id: string; readonly thumbnail: string | null; readonly caption: string; readonly author: UserCard } | null
  readonly postUnavailable: boolean
  readonly photo: MessagePhoto | null
  readonly replyTo: { readonly seq: number; readonly sender: UserCard; readonly text: string | null; readonly deleted: boolean } | null
  /** A reply or reaction to a story: `available` while the reader may still see it. */
  readonly story: { readonly id: string; readonly kind: "reply" | "reaction"; readonly thumbnail: string | null; readonly available: boolean } | null
  readonly reactions: ReadonlyArray<Reaction>
  readonly createdAt: string
  readonly deletedAt: string | null
}

export interface Page<T> {
  readonly items: ReadonlyArray<T>
  readonly nextCursor: string | null
  readonly hasMore: boolean
}

export interface MessagePage extends Page<Message> {
  readonly newerCursor: string | null
  readonly hasNewer: boolean
}

export interface DmUnread {
  readonly unreadCount: number
  readonly conversations: number
  readonly requests: number
}

export interface SendMessage {
  readonly clientId: string
  readonly text?: string
  readonly postId?: string
  readonly mediaUploadId?: string
  readonly replyToSeq?: number
}

/** The DM frames the socket delivers (all inbox frames, except `typing`, a control frame). */
export interface DmPayloads {
  readonly message: { readonly conversationId: string; readonly message: Message; readonly request: boolean }
  readonly message_updated: { readonly conversationId: string; readonly seq: number; readonly photo: MessagePhoto | null }
  readonly message_deleted: { readonly conversationId: string; readonly seq: number }
  readonly reaction: { readonly conversationId: string; readonly seq: number; readonly reactions: ReadonlyArray<Reaction> }
  readonly read_receipt: { readonly conversationId: string; readonly userId: string; readonly readSeq: number }
  readonly conversation_updated: {
    readonly conversationId: string
    readonly reason: "created" | "title" | "members" | "left" | "removed" | "accepted" | "muted"
  }
  readonly typing: { readonly conversationId: string; readonly user: { readonly id: string; readonly username: string }; readonly expiresInMs: number }
}

export interface PhotoUpload {
  /** The `mediaUploadId` to send once the bytes are in. */
  readonly done: Promise<string>
  readonly abort: () => void
}

const id = encodeURIComponent

export class DmClient {
  constructor(
    private readonly rest: RestClient,
    private readonly socket: LiveSocket
  ) {}

  conversations(page: PageQuery = {}) {
    return this.rest.request<Page<Conversation>>("GET", `/conversations${query({ ...page })}`)
  }
  requests(page: PageQuery = {}) {
    return this.rest.request<Page<Conversation>>("GET", `/conversations/requests${query({ ...page })}`)
  }
  unread() {
    return this.rest.request<DmUnread>("GET", "/conversations/unread")
  }
  /** One other member and no title answers the existing 1:1 thread, if any. */
  start(memberUsernames: ReadonlyArray<string>, title?: string) {
    return this.rest.request<Conversation>("POST", "/conversations", title === undefined ? { memberUsernames } : { memberUsernames, title })
  }
  conversation(conversationId: string) {
    return this.rest.request<Conversation>("GET", `/conversations/${id(conversationId)}`)
  }
  update(conversationId: string, patch: { readonly title?: string; readonly muted?: boolean }) {
    return this.rest.request<Conversation>("PATCH", `/conversations/${id(conversationId)}`, patch)
  }
  /** No cursor: the latest page. `nextCursor` pages older, `newerCursor` newer; `around` centres on a seq. */
  messages(conversationId: string, page: PageQuery & { readonly around?: number } = {}) {
    return this.rest.request<MessagePage>("GET", `/conversations/${id(conversationId)}/messages${query({ ...page })}`)
  }
  /** Sending the same `clientId` again answers the original message; a 503 asks for exactly that. */
  send(conversationId: string, message: SendMessage) {
    return this.rest.request<Message>("POST", `/conversations/${id(conversationId)}/messages`, message)
  }
  markRead(conversationId: string, seq: number) {
    return this.rest.request<{ readonly readSeq: number; readonly unreadCount: number }>("POST", `/conversations/${id(conversationId)}/read`, { seq })
  }
  deleteMessage(conversationId: string, seq: number) {
    return this.rest.request<void>("DELETE", `/conversations/${id(conversationId)}/messages/${seq}`)
  }
  /** Sets your reaction; the same emoji again removes it. */
  react(conversationId: string, seq: number, emoji: string) {
    return this.rest.request<{ readonly reactions: ReadonlyArray<Reaction> }>("POST", `/conversations/${id(conversationId)}/messages/${seq}/reactions`, { emoji })
  }
  unreact(conversationId: string, seq: number) {
    return this.rest.request<{ readonly reactions: ReadonlyArray<Reaction> }>("DELETE", `/conversations/${id(conversationId)}/messages/${seq}/reactions`)
  }
  addMembers(conversationId: string, usernames: ReadonlyArray<string>) {
    return this.rest.request<Conversation>("POST", `/conversations/${id(conversationId)}/members`, { usernames })
  }
  removeMember(conversationId: string, username: string) {
    return this.rest.request<Conversation>("DELETE", `/conversations/${id(conversationId)}/members/${id(username)}`)
  }
  leave(conversationId: string) {
    return this.rest.request<void>("POST", `/conversations/${id(conversationId)}/leave`)
  }
  accept(conversationId: string) {
    return this.rest.request<Conversation>("POST", `/conversations/${id(conversationId)}/accept`)
  }
  decline(conversationId: string) {
    return this.rest.request<void>("POST", `/conversations/${id(conversationId)}/decline`)
  }

  /** Tells the other members you are typing; false when the socket is not open (nothing is queued). */
  typing(conversationId: string): boolean {
    return this.socket.send("typing", { conversationId })
  }

  /**
   * A photo for a message: `POST /uploads` for a target, then the bytes PUT to it through
   * XMLHttpRequest, the browser API that reports upload progress.
   */
  uploadPhoto(file: Blob, onProgress: (loaded: number, total: number) => void): PhotoUpload {
    let xhr: XMLHttpRequest | undefined
    let aborted = false
    const done = this.rest.request<UploadTarget>("POST", "/uploads").then(
      (target) =>
        new Promise<string>((resolve, reject) => {
          if (aborted) return reject(new ApiError(0, "Aborted", "the upload was cancelled"))
          const put = (xhr = new XMLHttpRequest())
          put.open(target.method, this.rest.url(target.url))
          for (const [k, v] of Object.entries(target.headers)) put.setRequestHeader(k, v)
          if (!Object.keys(target.headers).some((k) => k.toLowerCase() === "content-type") && file.type) put.setRequestHeader("content-type", file.type)
          put.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size)
          put.onload = () => {
            if (put.status >= 200 && put.status < 300) resolve(target.uploadId)
            else reject(new ApiError(put.status, "UploadFailed", put.responseText.slice(0, 200) || `HTTP ${put.status}`))
          }
          put.onerror = () => reject(new ApiError(0, "NetworkError", "the upload did not go through"))
          put.onabort = () => reject(new ApiError(0, "Aborted", "the upload was cancelled"))
          put.send(file)
        })
    )
    return {
      done,
      abort: () => {
        aborted = true
        xhr?.abort()
      }
    }
  }
}

declare module "./client.ts" {
  interface ApertureClient {
    /** Direct messages: conversations, messages, reactions, the photo upload and `typing` (present once `sdk/dm.ts` is imported). */
    readonly dm: DmClient
  }
}
extendClient("dm", (c) => new DmClient(c.rest, c.socket))
