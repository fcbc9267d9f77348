/**
 * Live counts for `<ap-post>`: while a card is on the page for a signed-in reader, its post is
 * watched — the socket is told the posts on screen (`watch {postIds}`, the newest MAX_WATCHED, at
 * most every WATCH_DEBOUNCE_MS, again after each reconnect) and everyone's likes and comments
 * arrive as `post_counts` frames. A lazy chunk: an anonymous reader (no socket) never loads it.
 */
import type { ReactiveControllerHost } from "lit"
import type { PostCountsPayload } from "../../src/domain/Ws.ts"
import type { ApertureClient } from "../sdk/client.ts"
import { LiveController } from "../shared/live.ts"

/** As many posts as the server lets one socket watch (MAX_WATCHED_POSTS). */
const MAX_WATCHED = 50
const WATCH_DEBOUNCE_MS = 200

/** One client's watched posts and how many cards watch each (insertion order: the newest last). */
class Watched {
  readonly #counts = new Map<string, number>()
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(private readonly client: ApertureClient) {
    // a new socket (or one back after a drop) is told again which posts are on screen
    client.socket.on("hello", () => {
      if (this.#counts.size > 0) this.#send()
    })
  }

  add(id: string) {
    this.#counts.set(id, (this.#counts.get(id) ?? 0) + 1)
    this.#send()
  }

  remove(id: string) {
    const left = (this.#counts.get(id) ?? 1) - 1
    if (left > 0) this.#counts.set(id, left)
    else this.#counts.delete(id)
    this.#send()
  }

  #send() {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.client.socket.send("watch", { postIds: [...this.#counts.keys()].slice(-MAX_WATCHED) }), WATCH_DEBOUNCE_MS)
  }
}

const watchedBy = new WeakMap<ApertureClient, Watched>()
const watchedOf = (client: ApertureClient) => {
  let w = watchedBy.get(client)
  if (w === undefined) watchedBy.set(client, (w = new Watched(client)))
  return w
}

/** Watches the host's post: `update(id)` with the post shown (undefined: none), `apply` gets each count. */
export const liveCounts = (host: ReactiveControllerHost & { readonly client: ApertureClient }, apply: (counts: PostCountsPayload) => void) => {
  new LiveController(host, {
    post_counts: (frame) => apply(frame.payload),
    watching: (frame) => frame.payload.posts.forEach(apply)
  })
  let current: { readonly id: string; readonly client: ApertureClient } | undefined
  return {
    update(id: string | undefined) {
      const client = host.client
      if (id === current?.id && client === current?.client) return
      if (current) watchedOf(current.client).remove(current.id)
      current = id === undefined ? undefined : { id, client }
      if (current) watchedOf(client).add(current.id)
    }
  }
}
