/** The `ap-*` events the components fire: all bubble and cross shadow roots (`composed`). */
import type { Post } from "../../src/domain/Posts.ts"

export interface ApEventDetails {
  /** A like or unlike was confirmed by the server. */
  readonly "ap-like": { readonly postId: string; readonly liked: boolean; readonly likes: number }
  /** A save or unsave was confirmed by the server. */
  readonly "ap-save": { readonly postId: string; readonly saved: boolean }
  /** A post changed locally (optimistically, confirmed, or rolled back): lists keep their copy in step. */
  readonly "ap-post-change": { readonly post: Post }
  /** The author deleted a post: lists drop it. */
  readonly "ap-post-delete": { readonly postId: string }
  /** The upload went out and the server accepted it; the post is processing. */
  readonly "ap-post-created": { readonly postId: string }
  /** The post finished processing. */
  readonly "ap-post-published": { readonly post: Post }
  readonly "ap-upload-progress": { readonly loaded: number; readonly total: number }
  /** Follow state after a follow, unfollow, block or unblock. */
  readonly "ap-follow": { readonly username: string; readonly status: "following" | "requested" | "none" | "blocked" }
  /** A request failed; `message` is what the component showed. */
  readonly "ap-error": { readonly message: string; readonly status?: number | undefined; readonly code?: string | undefined }
  /** Signed in, out, or up. */
  readonly "ap-session": { readonly username: string | null }
  /** Asks the app to go somewhere; when nobody cancels it the page navigates. */
  readonly "ap-navigate": { readonly path: string }
  readonly "ap-unread": { readonly unreadCount: number }
  /** A thread was chosen in the inbox; cancel it to show the thread yourself instead of following the link. */
  readonly "ap-conversation-select": { readonly conversationId: string }
  /** A message request was accepted (it moved to the inbox) or declined (it is hidden). */
  readonly "ap-conversation-request": { readonly conversationId: string; readonly decision: "accepted" | "declined" }
  /** The direct-message unread counts changed (`unreadCount` messages, `requests` threads). */
  readonly "ap-dm-unread": { readonly unreadCount: number; readonly requests: number }
  /** A message left the outbox and the server confirmed it (by its answer or its `message` frame). */
  readonly "ap-message-sent": { readonly conversationId: string; readonly seq: number; readonly clientId: string }
  /** A ring of the tray was chosen; cancel it to show the stories yourself. */
  readonly "ap-story-open": { readonly username: string }
  /** A story was shown in the viewer (the server counts each viewer once). */
  readonly "ap-story-view": { readonly storyId: string; readonly authorId: string; readonly seq: number }
  /** A reply or reaction to a story went to its author as a direct message. */
  readonly "ap-story-reply": { readonly storyId: string; readonly conversationId: string; readonly seq: number }
  /** The story viewer closed. */
  readonly "ap-story-close": { readonly username: string }
  /** The owner deleted a story. */
  readonly "ap-story-delete": { readonly storyId: string }
  /** A story was posted and accepted (it is processing until `story_ready`). */
  readonly "ap-story-posted": { readonly storyId: string }
}

export type ApEvent<K extends keyof ApEventDetails> = CustomEvent<ApEventDetails[K]>

declare global {
  interface GlobalEventHandlersEventMap {
    "ap-like": ApEvent<"ap-like">
    "ap-save": ApEvent<"ap-save">
    "ap-post-change": ApEvent<"ap-post-change">
    "ap-post-delete": ApEvent<"ap-post-delete">
    "ap-post-created": ApEvent<"ap-post-created">
    "ap-post-published": ApEvent<"ap-post-published">
    "ap-upload-progress": ApEvent<"ap-upload-progress">
    "ap-follow": ApEvent<"ap-follow">
    "ap-error": ApEvent<"ap-error">
    "ap-session": ApEvent<"ap-session">
    "ap-navigate": ApEvent<"ap-navigate">
    "ap-unread": ApEvent<"ap-unread">
    "ap-conversation-select": ApEvent<"ap-conversation-select">
    "ap-conversation-request": ApEvent<"ap-conversation-request">
    "ap-dm-unread": ApEvent<"ap-dm-unread">
    "ap-message-sent": ApEvent<"ap-message-sent">
    "ap-story-open": ApEvent<"ap-story-open">
    "ap-story-view": ApEvent<"ap-story-view">
    "ap-story-reply": ApEvent<"ap-story-reply">
    "ap-story-close": ApEvent<"ap-story-close">
    "ap-story-delete": ApEvent<"ap-story-delete">
    "ap-story-posted": ApEvent<"ap-story-posted">
  }
}
