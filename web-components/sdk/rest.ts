/**
 * The REST half of the client SDK: typed from `src/domain` (types only, so the bundle carries no
 * server code). Same origin authenticates with the session cookie; another origin with a `token`
 * sent as `Authorization: Bearer`.
 */
import type { AuthResult, FollowRequestPage, FollowState, Me, Profile, SessionsEnded, SessionState, UserCardPage, UserPage, WsTicket } from "../../src/domain/Accounts.ts"
import type { CommentPage, Comment, FeedPage, LikeState, SaveState } from "../../src/domain/Engagement.ts"
import type { NotificationPage, UnreadCount } from "../../src/domain/Notifications.ts"
import type { Post, PostAccepted, PostPage } from "../../src/domain/Posts.ts"

/** How long after the page's start the boot script's answers may be used instead of asking again. */
const BOOT_FRESH_MS = 15_000

declare global {
  interface Window {
    /** Answers the app's inline boot script fetched before the app ran, by "METHOD /path" (each taken once). */
    __apBoot?: Record<string, Promise<{ readonly status: number; readonly text: string } | undefined>>
  }
}

/** An error answer of the API (`{error: {code, message, details?}}`), or status 0 for no answer at all. */
export class ApiError extends Error {
  override readonly name = "ApiError"
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown
  ) {
    super(message)
  }
}

/** A sentence a person can act on, for any failure of a call. */
export const describeError = (error: unknown): string => {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : "Something went wrong."
  switch (error.status) {
    case 0:
      return "Could not reach Aperture. Check your connection and try again."
    case 401:
      return "Your session has ended. Please log in again."
    case 413:
      return "That photo is too large. The limit is 10 MB."
    case 415:
      return "That file type is not supported. Use a JPEG, PNG, WebP, AVIF or GIF image."
    case 429:
      return "Too many requests. Wait a moment and try again."
    default:
      return error.message || `Request failed (${error.status}).`
  }
}

export interface RestOptions {
  /** The Aperture origin, e.g. `https://photos.example`; empty for the page's own origin. */
  readonly api?: string | undefined
  /** A session token for use from another origin (sent as a bearer token, no cookies). */
  readonly token?: string | undefined
}

export interface PostDraft {
  /** One photo (`image`, `filename`, `altText`), or `photos`: 1–10 in the carousel's order. */
  readonly image?: Blob
  readonly filename?: string
  readonly caption?: string
  readonly altText?: string
  readonly photos?: ReadonlyArray<{ readonly image: Blob; readonly filename?: string; readonly altText?: string }>
}

export interface UploadHandle {
  readonly done: Promise<PostAccepted>
  readonly abort: () => void
}

export interface PageQuery {
  readonly cursor?: string | null | undefined
  readonly limit?: number
}

const trimSlash = (s: string) => s.replace(/\/+$/, "")

/** `?a=1&b=2` of the params that are set (empty when none is). */
export const query = (params: Record<string, string | number | null | undefined>) => {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v))
  const s = q.toString()
  return s === "" ? "" : `?${s}`
}

export const parseError = (status: number, text: string): ApiError => {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; details?: unknown } }
    if (body.error) return new ApiError(status, body.error.code ?? "Error", body.error.message ?? "", body.error.details)
  } catch {
    // not the API's JSON (a proxy's page): fall through
  }
  return new ApiError(status, "HttpError", text.slice(0, 200) || `HTTP ${status}`)
}

export class RestClient {
  readonly base: string
  token: string | undefined

  constructor(options: RestOptions = {}) {
    this.base = trimSlash(options.api ?? "")
    this.token = options.token || undefined
  }

  /** Whether calls go to another origin (then cookies are not sent; a token is). */
  get crossOrigin(): boolean {
    return this.base !== "" && typeof location !== "undefined" && new URL(this.base, location.href).origin !== location.origin
  }

  /** An absolute URL for a path the API returned (media URLs are relative to the API origin). */
  url(path: string): string {
    return /^[a-z]+:/i.test(path) || path.startsWith("data:") ? path : this.base + path
  }

  /** Where an app page lives (`/u/name`, `/p/id`): on the Aperture origin itself. */
  pageUrl(path: string): string {
    return this.base + path
  }

  #headers(json: boolean): Record<string, string> {
    const headers: Record<string, string> = { accept: "application/json" }
    if (json) headers["content-type"] = "application/json"
    if (this.token) headers.authorization = `Bearer ${this.token}`
    return headers
  }

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const early = this.#boot(method, path)
    if (early) {
      const answer = await early
      if (answer) {
        if (answer.status < 200 || answer.status >= 300) throw parseError(answer.status, answer.text)
        return (answer.text === "" ? undefined : JSON.parse(answer.text)) as T
      }
    }
    let res: Response
    try {
      res = await fetch(this.base + "/api/v1" + path, {
        method,
        headers: this.#headers(body !== undefined),
        body: body === undefined ? null : JSON.stringify(body),
        credentials: this.token || this.crossOrigin ? "omit" : "same-origin",
        ...(signal ? { signal } : {})
      })
    } catch (error) {
      if (signal?.aborted) throw error
      throw new ApiError(0, "NetworkError", "network request failed")
    }
    const text = await res.text()
    if (!res.ok) throw parseError(res.status, text)
    return (text === "" ? undefined : JSON.parse(text)) as T
  }

  /**
   * An answer the app's inline boot script already asked for (same origin, cookie session only),
   * taken once: a later call asks the server again. Undefined when there is none.
   */
  #boot(method: string, path: string): Promise<{ status: number; text: string } | undefined> | undefined {
    if (this.base !== "" || this.token || typeof window === "undefined" || !window.__apBoot) return undefined
    // only for the page's first moments: later, what was asked at load is no longer news
    if (performance.now() > BOOT_FRESH_MS) {
      delete window.__apBoot
      return undefined
    }
    const key = `${method} ${path}`
    const early = window.__apBoot[key]
    if (early) delete window.__apBoot[key]
    return early
  }

  signup(input: { username: string; email: string; password: string; displayName?: string }) {
    return this.request<AuthResult>("POST", "/auth/signup", input)
  }
  login(input: { login: string; password: string }) {
    return this.request<AuthResult>("POST", "/auth/login", input)
  }
  logout() {
    return this.request<void>("POST", "/auth/logout")
  }
  me() {
    return this.request<Me>("GET", "/auth/me")
  }
  /** Who is signed in, or `user: null`: never a 401 (nothing in the console of an anonymous visit). */
  session() {
    return this.request<SessionState>("GET", "/auth/session")
  }
  wsTicket() {
    return this.request<WsTicket>("POST", "/auth/ws-ticket")
  }
  /** Every other session ends (their sockets close); this one stays. */
  changePassword(input: { currentPassword: string; newPassword: string }) {
    return this.request<SessionsEnded>("POST", "/auth/password", input)
  }
  logoutOthers() {
    return this.request<SessionsEnded>("POST", "/auth/logout-others")
  }

  updateMe(input: { displayName?: string; bio?: string; isPrivate?: boolean }) {
    return this.request<Me>("PATCH", "/users/me", input)
  }
  /** Accounts the signed-in user blocks, newest first. */
  blocks(page: PageQuery = {}) {
    return this.request<UserCardPage>("GET", `/users/me/blocks${query({ ...page })}`)
  }
  profile(username: string) {
    return this.request<Profile>("GET", `/users/${encodeURIComponent(username)}`)
  }
  follow(username: string) {
    return this.request<FollowState>("POST", `/users/${encodeURIComponent(username)}/follow`)
  }
  unfollow(username: string) {
    return this.request<FollowState>("DELETE", `/users/${encodeURIComponent(username)}/follow`)
  }
  block(username: string) {
    return this.request<void>("POST", `/users/${encodeURIComponent(username)}/block`)
  }
  unblock(username: string) {
    return this.request<void>("DELETE", `/users/${encodeURIComponent(username)}/block`)
  }
  /** Who follows `username` (each with whether the viewer follows them), newest first. */
  followers(username: string, page: PageQuery = {}) {
    return this.request<UserPage>("GET", `/users/${encodeURIComponent(username)}/followers${query({ ...page })}`)
  }
  /** Whom `username` follows. */
  following(username: string, page: PageQuery = {}) {
    return this.request<UserPage>("GET", `/users/${encodeURIComponent(username)}/following${query({ ...page })}`)
  }
  /** Pending requests to follow the signed-in (private) account, newest first. */
  followRequests(page: PageQuery = {}) {
    return this.request<FollowRequestPage>("GET", `/follow-requests${query({ ...page })}`)
  }
  approveRequest(id: string) {
    return this.request<void>("POST", `/follow-requests/${encodeURIComponent(id)}/approve`)
  }
  denyRequest(id: string) {
    return this.request<void>("POST", `/follow-requests/${encodeURIComponent(id)}/deny`)
  }
  mute(username: string) {
    return this.request<void>("POST", `/users/${encodeURIComponent(username)}/mute`)
  }
  unmute(username: string) {
    return this.request<void>("DELETE", `/users/${encodeURIComponent(username)}/mute`)
  }
  /** Accounts the signed-in user mutes. */
  muted(page: PageQuery = {}) {
    return this.request<UserCardPage>("GET", `/users/me/muted${query({ ...page })}`)
  }
  /** The signed-in user's saved posts, most recently saved first. */
  saved(page: PageQuery = {}) {
    return this.request<PostPage>("GET", `/users/me/saved${query({ ...page })}`)
  }
  searchUsers(q: string, limit = 10, signal?: AbortSignal) {
    return this.request<UserPage>("GET", `/search/users${query({ q, limit })}`, undefined, signal)
  }

  post(id: string) {
    return this.request<Post>("GET", `/posts/${encodeURIComponent(id)}`)
  }
  /** Edits the caption and/or alt text of one's own post. */
  updatePost(id: string, input: { caption?: string; altText?: string; altTexts?: ReadonlyArray<string> }) {
    return this.request<Post>("PATCH", `/posts/${encodeURIComponent(id)}`, input)
  }
  deletePost(id: string) {
    return this.request<void>("DELETE", `/posts/${encodeURIComponent(id)}`)
  }
  grid(username: string, page: PageQuery = {}) {
    return this.request<PostPage>("GET", `/users/${encodeURIComponent(username)}/posts${query({ ...page })}`)
  }
  feed(page: PageQuery = {}) {
    return this.request<FeedPage>("GET", `/feed${query({ ...page })}`)
  }
  like(id: string) {
    return this.request<LikeState>("POST", `/posts/${encodeURIComponent(id)}/like`)
  }
  unlike(id: string) {
    return this.request<LikeState>("DELETE", `/posts/${encodeURIComponent(id)}/like`)
  }
  save(id: string) {
    return this.request<SaveState>("POST", `/posts/${encodeURIComponent(id)}/save`)
  }
  unsave(id: string) {
    return this.request<SaveState>("DELETE", `/posts/${encodeURIComponent(id)}/save`)
  }
  comments(id: string, page: PageQuery = {}) {
    return this.request<CommentPage>("GET", `/posts/${encodeURIComponent(id)}/comments${query({ ...page })}`)
  }
  comment(id: string, text: string) {
    return this.request<Comment>("POST", `/posts/${encodeURIComponent(id)}/comments`, { text })
  }
  deleteComment(id: string) {
    return this.request<void>("DELETE", `/comments/${encodeURIComponent(id)}`)
  }
  notifications(page: PageQuery = {}) {
    return this.request<NotificationPage>("GET", `/notifications${query({ ...page })}`)
  }
  markRead(ids?: ReadonlyArray<string>) {
    return this.request<UnreadCount>("POST", "/notifications/read", ids === undefined ? {} : { ids })
  }

  /**
   * `POST /posts` as multipart through XMLHttpRequest, the one browser API that reports upload
   * progress (fetch does not).
   */
  upload(draft: PostDraft, onProgress: (loaded: number, total: number) => void): UploadHandle {
    const xhr = new XMLHttpRequest()
    const done = new Promise<PostAccepted>((resolve, reject) => {
      const form = new FormData()
      if (draft.caption) form.append("caption", draft.caption)
      // each photo after its alt text: the server streams the images, and reads the fields before them
      const photos = draft.photos ?? [{ image: draft.image!, filename: draft.filename, altText: draft.altText }]
      for (const p of photos) {
        if (p.altText) form.append("altText", p.altText)
        form.append("image", p.image, p.filename ?? "photo")
      }
      xhr.open("POST", this.base + "/api/v1/posts")
      xhr.setRequestHeader("accept", "application/json")
      if (this.token) xhr.setRequestHeader("authorization", `Bearer ${this.token}`)
      xhr.withCredentials = false
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : photos.reduce((n, p) => n + p.image.size, 0))
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText) as PostAccepted)
        else reject(parseError(xhr.status, xhr.responseText))
      }
      xhr.onerror = () => reject(new ApiError(0, "NetworkError", "the upload did not go through"))
      xhr.onabort = () => reject(new ApiError(0, "Aborted", "the upload was cancelled"))
      xhr.send(form)
    })
    return { done, abort: () => xhr.abort() }
  }
}
