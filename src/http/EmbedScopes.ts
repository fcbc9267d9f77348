/**
 * What an embed token may do, by method and path. An allowlist: anything not named here — every
 * other write, direct messages, stories, the account's own lists (`/users/me/...`), follow
 * requests, the socket ticket, the embed tokens themselves, admin — is refused with a 403 that
 * names the scope.
 *
 * `read`: GET/HEAD of the signed-in account (`/auth/session`, `/auth/me`), the home feed, posts and
 * their comments, profiles with their grids and follower lists, search, and notifications.
 * `read_like`: the same, and liking and unliking posts.
 */
import type { EmbedScope } from "../domain/EmbedTokens.ts"

const API = "/api/v1"
const SEGMENT = "[^/]+"

const READS: ReadonlyArray<RegExp> = [
  /^\/auth\/(session|me)$/,
  /^\/feed$/,
  new RegExp(`^/posts/${SEGMENT}(/comments)?$`),
  new RegExp(`^/users/(?!me(?:/|$))${SEGMENT}(/(posts|followers|following))?$`),
  new RegExp(`^/search(/${SEGMENT})?$`),
  /^\/notifications$/
]

const LIKE = new RegExp(`^/posts/${SEGMENT}/like$`)

/** Whether a request with this method and (still percent-encoded) path is within the scope. */
export const embedScopeAllows = (scope: EmbedScope, method: string, path: string): boolean => {
  if (!path.startsWith(`${API}/`)) return false
  const rest = path.slice(API.length)
  if (method === "GET" || method === "HEAD") return READS.some((r) => r.test(rest))
  if (scope === "read_like" && (method === "POST" || method === "DELETE")) return LIKE.test(rest)
  return false
}

/** The 403's sentence: what the token is, what it may do. */
export const embedScopeRefusal = (scope: EmbedScope) =>
  scope === "read"
    ? `this embed token has the "read" scope: it can read the feed, posts, comments, profiles and notifications, but not change anything`
    : `this embed token has the "read_like" scope: it can read, and like or unlike posts, but not change anything else`
