/**
 * Stories in the SDK: the wire shapes of the stories contract, the REST calls, posting a story
 * (multipart through XMLHttpRequest, for upload progress) and the story frames the socket
 * delivers. Written out here, as the DM shapes are, so the bundle never imports the server.
 */
import type { UserCard } from "../../src/domain/Accounts.ts"
import type { Page } from "./dm.ts"
import { ApiError, type PageQuery, parseError, query, type RestClient } from "./rest.ts"
import { extendClient } from "./client.ts"

export type StoryAudience = "followers" | "closeFriends"

export interface StoryMedia {
  readonly url: string
  readonly thumbnail: string
  readonly placeholder: string
  readonly width: number
  readonly height: number
  readonly dominantColor: string
}

export interface Story {
  readonly id: string
  readonly seq: number
  readonly author: UserCard
  readonly audience: StoryAudience
  readonly status: "processing" | "published" | "failed"
  readonly createdAt: string
  readonly publishedAt: string | null
  readonly expiresAt: string | null
  readonly media: StoryMedia | null
  readonly seen: boolean
  /** The author's alone. */
  readonly viewCount: number | null
}

export interface TrayStory {
  readonly id: string
  readonly seq: number
  readonly expiresAt: string
  readonly seen: boolean
}

export interface TrayEntry {
  readonly user: UserCard
  readonly own: boolean
  readonly unseenCount: number
  readonly latestAt: string
  readonly readPointer: number
  readonly closeFriends: boolean
  readonly stories: ReadonlyArray<TrayStory>
}

export interface UserStories {
  readonly user: UserCard
  readonly readPointer: number
  readonly items: ReadonlyArray<Story>
}

export interface StoryViewer {
  readonly user: UserCard
  readonly viewedAt: string
}

export interface ViewerPage extends Page<StoryViewer> {
  readonly viewCount: number
}

export interface StoryAccepted {
  readonly storyId: string
  readonly status: Story["status"]
}

/** The story frames of the socket (inbox frames). */
export interface StoryPayloads {
  readonly story_new: {
    readonly storyId: string
    readonly author: UserCard
    readonly seq: number
    readonly publishedAt: string
    readonly expiresAt: string
    readonly closeFriends: boolean
  }
  readonly story_removed: { readonly storyId: string; readonly authorId: string }
  /** At most one a second per author: what was viewed since the last one. */
  readonly story_view: {
    readonly stories: ReadonlyArray<{ readonly storyId: string; readonly viewCount: number; readonly newViewers: number }>
    readonly newViewers: number
    readonly viewers: ReadonlyArray<UserCard>
  }
  readonly story_ready: { readonly storyId: string }
  readonly story_failed: { readonly storyId: string; readonly reason: string }
}

export interface StoryUpload {
  readonly done: Promise<StoryAccepted>
  readonly abort: () => void
}

const id = encodeURIComponent

const newClientId = () =>
  typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`

export class StoriesClient {
  constructor(private readonly rest: RestClient) {}

  /** The tray: your own entry first, then unseen, then most recent. */
  tray(page: PageQuery = {}) {
    return this.rest.request<Page<TrayEntry>>("GET", `/stories/feed${query({ ...page })}`)
  }
  ofUser(username: string) {
    return this.rest.request<UserStories>("GET", `/users/${id(username)}/stories`)
  }
  get(storyId: string) {
    return this.rest.request<Story>("GET", `/stories/${id(storyId)}`)
  }
  archive(page: PageQuery = {}) {
    return this.rest.request<Page<Story>>("GET", `/stories/archive${query({ ...page })}`)
  }
  remove(storyId: string) {
    return this.rest.request<void>("DELETE", `/stories/${id(storyId)}`)
  }
  /** Idempotent: `viewed` is false when it was already counted. */
  view(storyId: string) {
    return this.rest.request<{ readonly storyId: string; readonly viewed: boolean }>("POST", `/stories/${id(storyId)}/view`)
  }
  viewers(storyId: string, page: PageQuery = {}) {
    return this.rest.request<ViewerPage>("GET", `/stories/${id(storyId)}/viewers${query({ ...page })}`)
  }
  /** A text reply or an emoji reaction: a direct message to the author quoting the story. */
  reply(storyId: string, reply: { readonly text?: string; readonly emoji?: string }, clientId = newClientId()) {
    return this.rest.request<{ readonly conversationId: string; readonly seq: number }>("POST", `/stories/${id(storyId)}/replies`, { clientId, ...reply })
  }

  /** `POST /stories` as multipart (the text fields first; the server streams the image after them). */
  post(image: Blob, options: { readonly audience?: StoryAudience; readonly clientId?: string; readonly filename?: string }, onProgress: (loaded: number, total: number) => void = () => undefined): StoryUpload {
    const xhr = new XMLHttpRequest()
    const done = new Promise<StoryAccepted>((resolve, reject) => {
      const form = new FormData()
      form.append("audience", options.audience ?? "followers")
      form.append("clientId", options.clientId ?? newClientId())
      form.append("image", image, options.filename ?? "story")
      xhr.open("POST", this.rest.url("/api/v1/stories"))
      xhr.setRequestHeader("accept", "application/json")
      if (this.rest.token) xhr.setRequestHeader("authorization", `Bearer ${this.rest.token}`)
      xhr.withCredentials = false
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : image.size)
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText) as StoryAccepted)
        else reject(parseError(xhr.status, xhr.responseText))
      }
      xhr.onerror = () => reject(new ApiError(0, "NetworkError", "the upload did not go through"))
      xhr.onabort = () => reject(new ApiError(0, "Aborted", "the upload was cancelled"))
      xhr.send(form)
    })
    return { done, abort: () => xhr.abort() }
  }
}

declare module "./client.ts" {
  interface ApertureClient {
    /** Stories: the tray, a person's stories, views, viewers, replies and posting (present once `sdk/stories.ts` is imported). */
    readonly stories: StoriesClient
  }
}
extendClient("stories", (c) => new StoriesClient(c.rest))
