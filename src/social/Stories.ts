/**
 * Stories: posting one (a multipart form or a direct upload, idempotent on `clientId`) through the
 * media pipeline, the tray, a person's stories, views, viewers, replies, the archive and the
 * audience lists. Who may see a story is decided by one query per path (db/Stories.ts) with every
 * rule in it — follows, blocks, "hide my story from", close friends, expiry by the database clock —
 * so no path can forget one. Mutes only take an author out of the tray and its live frames.
 *
 * Story media are never public: every URL handed out is signed for the viewer it is handed to.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { AppConfig } from "../config/AppConfig.ts"
import { userCardOf, type UserCard } from "../domain/Accounts.ts"
import { BadRequest, type Conflict, NotFound, type PayloadTooLarge, type RateLimited, type UnsupportedMediaType, Unprocessable } from "../domain/ApiError.ts"
import { StoryDeleted } from "../domain/DomainEvents.ts"
import { MediaJob } from "../domain/Media.ts"
import {
  Story,
  StoryAccepted,
  type StoryAudience,
  StoryFormFields,
  StoryMedia,
  type StoryPage,
  StoryReplySent,
  StoryViewed,
  StoryViewer,
  TrayEntry,
  type TrayPage,
  TrayStory,
  type UserStories,
  type ViewerPage
} from "../domain/Stories.ts"
import type { UserCardPage } from "../domain/Accounts.ts"
import { OutboxRepo } from "../db/Outbox.ts"
import { PostsRepo } from "../db/Posts.ts"
import { type Edge, type PersonRow, StoriesRepo, type StoryRow, type StoryWithAuthor } from "../db/Stories.ts"
import { UsersRepo } from "../db/Users.ts"
import { GraphRepo } from "../db/Graph.ts"
import { BlobStore } from "../media/BlobStore.ts"
import { keyOfUrl, originalKey } from "../media/Keys.ts"
import { MediaUrls } from "../media/MediaUrls.ts"
import { StorySets } from "../redis/Stories.ts"
import { Conversations } from "./Conversations.ts"
import { decodeCursor, pageOf } from "./Cursor.ts"
import { checkImageHeader } from "./ImageCheck.ts"
import { invalidForm, readImageForm, type UploadBody } from "./ImageForm.ts"
import { type Limited, limited, Limits } from "./Limits.ts"
import { Posts } from "./Posts.ts"
import { StoryViews } from "./StoryViews.ts"

type PostError = PayloadTooLarge | UnsupportedMediaType | RateLimited | BadRequest | Unprocessable

export class Stories extends Context.Tag("Stories")<Stories, {
  readonly createFromForm: <E>(authorId: string, body: UploadBody<E>) => Effect.Effect<Limited<StoryAccepted>, PostError>
  readonly createFromUpload: (
    authorId: string,
    input: { readonly uploadId: string; readonly audience: StoryAudience; readonly clientId?: string | undefined }
  ) => Effect.Effect<Limited<StoryAccepted>, PostError | Conflict | NotFound>
  readonly get: (storyId: string, viewerId: string) => Effect.Effect<Story, NotFound>
  readonly remove: (storyId: string, viewerId: string) => Effect.Effect<void, NotFound>
  readonly tray: (viewerId: string, q: { readonly cursor?: string | undefined; readonly limit: number }) => Effect.Effect<TrayPage, BadRequest>
  readonly ofUser: (username: string, viewerId: string) => Effect.Effect<UserStories, NotFound>
  readonly view: (storyId: string, viewerId: string) => Effect.Effect<StoryViewed, NotFound | ServiceUnavailableError>
  readonly viewers: (storyId: string, viewerId: string, q: { readonly cursor?: string | undefined; readonly limit: number }) => Effect.Effect<ViewerPage, NotFound | BadRequest>
  readonly archive: (viewerId: string, q: { readonly cursor?: string | undefined; readonly limit: number }) => Effect.Effect<StoryPage, BadRequest>
  readonly reply: (
    storyId: string,
    viewerId: string,
    input: { readonly clientId: string; readonly text?: string | undefined; readonly emoji?: string | undefined }
  ) => Effect.Effect<Limited<StoryReplySent>, NotFound | Unprocessable | RateLimited | ReplyError>
  readonly listEdge: (edge: Edge, ownerId: string, q: { readonly cursor?: string | undefined; readonly limit: number }) => Effect.Effect<UserCardPage, BadRequest>
  readonly setEdge: (edge: Edge, ownerId: string, username: string, on: boolean) => Effect.Effect<void, NotFound | Unprocessable>
}>() {}

type ServiceUnavailableError = import("../domain/ApiError.ts").ServiceUnavailable
type ReplyError = Effect.Effect.Error<ReturnType<Conversations["Type"]["send"]>>

const notFound = () => new NotFound({ message: "no such story" })
const iso = (d: Date) => d.toISOString()

/** Tray order: own entry, then authors with unseen stories, then the rest; newest first within each. */
interface TrayKey {
  readonly group: number
  readonly latest: number
  readonly authorId: string
}
const compareKeys = (a: TrayKey, b: TrayKey) =>
  a.group - b.group || b.latest - a.latest || (a.authorId < b.authorId ? -1 : a.authorId > b.authorId ? 1 : 0)
const encodeTrayCursor = (k: TrayKey) => Buffer.from(JSON.stringify([k.group, k.latest, k.authorId])).toString("base64url")
const TrayCursor = Schema.parseJson(Schema.Tuple(Schema.Int, Schema.Number, Schema.UUID))
const decodeTrayCursor = (cursor: string | undefined) =>
  cursor === undefined || cursor === ""
    ? Effect.succeed(Option.none<TrayKey>())
    : Schema.decodeUnknown(TrayCursor)(Buffer.from(cursor, "base64url").toString("utf8")).pipe(
      Effect.map(([group, latest, authorId]) => Option.some<TrayKey>({ group, latest, authorId })),
      Effect.mapError(() => new BadRequest({ message: "cursor is not one this server issued" }))
    )

export const make = Effect.gen(function*() {
  const config = yield* AppConfig
  const sql = yield* SqlClient.SqlClient
  const repo = yield* StoriesRepo
  const users = yield* UsersRepo
  const graph = yield* GraphRepo
  const postsRepo = yield* PostsRepo
  const posts = yield* Posts
  const outbox = yield* OutboxRepo
  const store = yield* BlobStore
  const urls = yield* MediaUrls
  const limits = yield* Limits
  const sets = yield* StorySets
  const views = yield* StoryViews
  const conversations = yield* Conversations
  const maxBytes = config.limits.uploadBytes

  const cardOf = (r: StoryWithAuthor): UserCard =>
    userCardOf({ id: r.authorId, username: r.authorUsername, displayName: r.authorDisplayName, avatar: r.authorAvatar, isPrivate: r.authorIsPrivate })

  /** The story as `viewerId` is shown it: media signed for them, `seen` from their pointer, the count for its author alone. */
  const storyOf = (r: StoryRow, author: UserCard, viewerId: string, pointer: number) => {
    const own = r.authorId === viewerId
    const seq = r.seq === null ? 0 : Number(r.seq)
    return new Story({
      id: r.id,
      seq,
      author,
      audience: r.audience,
      status: r.status,
      createdAt: iso(r.createdAt),
      publishedAt: r.publishedAt === null ? null : iso(r.publishedAt),
      expiresAt: r.expiresAt === null ? null : iso(r.expiresAt),
      media: r.media === null ? null : new StoryMedia({
        ...r.media,
        url: urls.sign(r.media.url, viewerId),
        thumbnail: urls.sign(r.media.thumbnail, viewerId)
      }, true),
      seen: own || (seq > 0 && seq <= pointer),
      viewCount: own ? r.viewCount : null
    }, true)
  }

  /** The viewer's read pointers: PostgreSQL's, moved on by Redis's (which leads by a batch). */
  const pointersOf = (viewerId: string, authorIds: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const stored = yield* repo.pointers(viewerId, authorIds)
      const recent = yield* sets.pointers(viewerId).pipe(Effect.orElseSucceed(() => new Map<string, number>()))
      const merged = new Map(stored)
      for (const [author, seq] of recent) merged.set(author, Math.max(seq, merged.get(author) ?? 0))
      return merged
    })

  /** A new processing story and its media job, or the one this client id made before. */
  const createStory = (authorId: string, storyId: string, input: { readonly audience: StoryAudience; readonly clientId?: string | undefined }, key: string) =>
    Effect.gen(function*() {
      const made = yield* repo.insert({
        id: storyId,
        authorId,
        clientId: input.clientId ?? null,
        audience: input.audience,
        originalKey: key,
        maxActive: config.stories.maxActive
      }).pipe(Effect.catchTag("TooManyStories", () => Effect.fail(new Unprocessable({ message: `you can have at most ${config.stories.maxActive} stories up at once` }))))
      if (made.created) {
        const job = new MediaJob({ kind: "story", id: storyId, key, enqueuedAt: new Date().toISOString() })
        yield* outbox.appendMessage("media.story", job, storyId)
      }
      return made
    })

  const accepted = (made: { readonly id: string; readonly status: StoryRow["status"] }) => new StoryAccepted({ storyId: made.id, status: made.status })

  /** A repeat of a post already made: answered from it, never refused by the rate limit. */
  const repeat = (authorId: string, clientId: string | undefined) =>
    clientId === undefined ? Effect.succeed(Option.none()) : repo.byClient(authorId, clientId)

  const target = (username: string, ownerId: string) =>
    Effect.gen(function*() {
      const user = yield* users.byUsername(username.trim().toLowerCase())
      if (Option.isNone(user) || (user.value.id !== ownerId && (yield* graph.blockedEitherWay(ownerId, user.value.id)))) {
        return yield* new NotFound({ message: `no account @${username}` })
      }
      if (user.value.id === ownerId) return yield* new Unprocessable({ message: "that is you" })
      return user.value
    })

  const personCard = (p: PersonRow) => userCardOf(p)

  return Stories.of({
    createFromForm: (authorId, body) =>
      Effect.gen(function*() {
        const rateLimit = yield* limits.enforce(limits.rules.write, authorId)
        const storyId = crypto.randomUUID()
        const key = originalKey(storyId)
        let stored: { readonly type: string; readonly size: number } | undefined
        return yield* Effect.gen(function*() {
          const form = yield* readImageForm(body, maxBytes, (image) =>
            posts.storeOriginal(key, image).pipe(Effect.map((r) => {
              stored = r
            })))
          if (!form.sawImage || stored === undefined) return yield* new BadRequest({ message: "the form has no `image` part" })
          const fields = yield* Schema.decodeUnknown(StoryFormFields)(form.fields).pipe(Effect.mapError(invalidForm))
          yield* checkImageHeader(store, key, stored.size, config.media.maxPixels)
          const made = yield* sql.withTransaction(createStory(authorId, storyId, fields, key)).pipe(Effect.catchTag("SqlError", Effect.die))
          // a repeat: the first post's original is the one kept
          if (!made.created) yield* Effect.ignore(store.remove([key]))
          return limited<StoryAccepted>(rateLimit)(accepted(made))
        }).pipe(Effect.onError(() => stored === undefined ? Effect.void : Effect.ignore(store.remove([key]))))
      }),

    createFromUpload: (authorId, input) =>
      Effect.gen(function*() {
        const before = yield* repeat(authorId, input.clientId)
        if (Option.isSome(before)) {
          const rateLimit = yield* limits.check(limits.rules.write, authorId).pipe(Effect.catchAll((e) => Effect.succeed(e.rateLimit)))
          return limited<StoryAccepted>(rateLimit)(accepted(before.value))
        }
        const rateLimit = yield* limits.enforce(limits.rules.write, authorId)
        const { key } = yield* posts.checkUpload(authorId, input.uploadId)
        const storyId = crypto.randomUUID()
        const made = yield* sql.withTransaction(Effect.gen(function*() {
          // claiming the upload and creating the story commit together: a reuse race has one winner
          if (!(yield* postsRepo.useUpload(input.uploadId, authorId))) {
            const raced = yield* repeat(authorId, input.clientId)
            if (Option.isSome(raced)) return { ...raced.value, created: false }
            return yield* new Unprocessable({ message: "that upload was already used" })
          }
          return yield* createStory(authorId, storyId, input, key)
        })).pipe(Effect.catchTag("SqlError", Effect.die))
        return limited<StoryAccepted>(rateLimit)(accepted(made))
      }),

    get: (storyId, viewerId) =>
      Effect.gen(function*() {
        // its author sees it whatever its state; anyone else only while they may
        const own = yield* repo.byId(storyId)
        const row = Option.isSome(own) && own.value.authorId === viewerId ? own : yield* repo.visible(storyId, viewerId)
        if (Option.isNone(row)) return yield* notFound()
        const pointers = yield* pointersOf(viewerId, [row.value.authorId])
        return storyOf(row.value, cardOf(row.value), viewerId, pointers.get(row.value.authorId) ?? 0)
      }),

    remove: (storyId, viewerId) =>
      Effect.gen(function*() {
        const removed = yield* sql.withTransaction(Effect.gen(function*() {
          const row = yield* repo.remove(storyId, viewerId)
          if (Option.isSome(row)) yield* outbox.append(StoryDeleted.make({ storyId, authorId: viewerId }))
          return row
        })).pipe(Effect.orDie)
        if (Option.isNone(removed)) return yield* notFound()
        // the author wants it gone: its media go now (the sweeper removes the row later, and retries this)
        const media = removed.value.media
        const keys = [removed.value.originalKey, ...(media === null ? [] : [keyOfUrl(media.url), keyOfUrl(media.thumbnail)])]
        yield* store.remove(keys).pipe(Effect.catchAll((e) => Effect.logWarning("story deleted but its media could not be removed yet", e)))
      }),

    tray: (viewerId, q) =>
      Effect.gen(function*() {
        const after = yield* decodeTrayCursor(q.cursor)
        const rows = yield* repo.tray(viewerId)
        // pointers: PostgreSQL's (in the rows) and the ones Redis moved since (ahead of the batch)
        const recent = yield* sets.pointers(viewerId).pipe(Effect.orElseSucceed(() => new Map<string, number>()))
        const entries = rows.map((r) => {
          const own = r.authorId === viewerId
          const pointer = Math.max(Number(r.pointer), recent.get(r.authorId) ?? 0)
          const stories = r.stories.split(",").map((s) => {
            const [id, seq, expiresAt, audience] = s.split(" ")
            return { id: id!, seq: Number(seq), expiresAt: Number(expiresAt), closeFriends: audience === "c" }
          })
          const unseen = own ? 0 : stories.filter((s) => s.seq > pointer).length
          return { key: { group: own ? 0 : unseen > 0 ? 1 : 2, latest: Number(r.latest), authorId: r.authorId }, own, pointer, unseen, stories }
        }).sort((a, b) => compareKeys(a.key, b.key))
        const start = Option.match(after, { onNone: () => 0, onSome: (k) => entries.findIndex((e) => compareKeys(e.key, k) > 0) })
        const rest = start < 0 ? [] : entries.slice(start)
        const page = rest.slice(0, q.limit)
        const people = new Map((yield* repo.people(page.map((e) => e.key.authorId))).map((p) => [p.id, p]))
        const items = page.flatMap((e) => {
          const person = people.get(e.key.authorId)
          if (person === undefined) return []
          return [new TrayEntry({
            user: personCard(person),
            own: e.own,
            unseenCount: e.unseen,
            latestAt: new Date(e.key.latest).toISOString(),
            readPointer: e.pointer,
            closeFriends: e.stories.some((s) => s.closeFriends),
            stories: e.stories.map((s) => new TrayStory({ id: s.id, seq: s.seq, expiresAt: new Date(s.expiresAt).toISOString(), seen: e.own || s.seq <= e.pointer }, true))
          }, true)]
        })
        const hasMore = rest.length > q.limit
        const last = page[page.length - 1]
        return { items, nextCursor: hasMore && last !== undefined ? encodeTrayCursor(last.key) : null, hasMore }
      }),

    ofUser: (username, viewerId) =>
      Effect.gen(function*() {
        const author = yield* users.byUsername(username.trim().toLowerCase())
        const missing = () => new NotFound({ message: `no account @${username}` })
        if (Option.isNone(author)) return yield* missing()
        const a = author.value
        if (a.id !== viewerId && (yield* graph.blockedEitherWay(viewerId, a.id))) return yield* missing()
        const card = userCardOf(a)
        if (!(yield* repo.mayWatch(a.id, viewerId))) return { user: card, readPointer: 0, items: [] }
        const rows = yield* repo.active(a.id, viewerId)
        const pointer = a.id === viewerId ? 0 : (yield* pointersOf(viewerId, [a.id])).get(a.id) ?? 0
        return { user: card, readPointer: pointer, items: rows.map((r) => storyOf(r, card, viewerId, pointer)) }
      }),

    view: (storyId, viewerId) =>
      Effect.gen(function*() {
        const row = yield* repo.visible(storyId, viewerId)
        if (Option.isNone(row)) return yield* notFound()
        const s = row.value
        // an author looking at their own story is no viewer
        if (s.authorId !== viewerId) {
          yield* views.record({ storyId, viewerId, authorId: s.authorId, seq: Number(s.seq), expiresAt: s.expiresAt! })
        }
        return new StoryViewed({ storyId, viewed: true })
      }),

    viewers: (storyId, viewerId, q) =>
      Effect.gen(function*() {
        const row = yield* repo.byId(storyId)
        if (Option.isNone(row) || row.value.authorId !== viewerId) return yield* notFound()
        const after = yield* decodeCursor(q.cursor)
        const rows = yield* repo.viewers(storyId, after, q.limit + 1)
        const page = pageOf(rows, q.limit, (r) => new StoryViewer({ user: personCard(r), viewedAt: iso(r.viewedAt) }, true), (r) => ({ at: r.viewedAt, id: r.id }))
        return { ...page, viewCount: row.value.viewCount }
      }),

    archive: (viewerId, q) =>
      Effect.gen(function*() {
        const after = yield* decodeCursor(q.cursor)
        const me = yield* users.byId(viewerId)
        if (Option.isNone(me)) return { items: [], nextCursor: null, hasMore: false }
        const card = userCardOf(me.value)
        const rows = yield* repo.archive(viewerId, after, q.limit + 1)
        return pageOf(rows, q.limit, (r) => storyOf(r, card, viewerId, 0), (r) => ({ at: r.publishedAt!, id: r.id }))
      }),

    reply: (storyId, viewerId, input) =>
      Effect.gen(function*() {
        const row = yield* repo.visible(storyId, viewerId)
        if (Option.isNone(row)) return yield* notFound()
        if (row.value.authorId === viewerId) return yield* new Unprocessable({ message: "reply to someone else's story" })
        const text = input.text?.trim() === "" ? undefined : input.text
        if ((text === undefined) === (input.emoji === undefined)) {
          return yield* new Unprocessable({ message: "a reply has either `text` or an `emoji`" })
        }
        // the 1:1 thread with the author (found or started); the reply is a message in it quoting the story
        const thread = yield* conversations.create(viewerId, { memberUsernames: [row.value.authorUsername] })
        const sent = yield* conversations.send(
          thread.value.id,
          viewerId,
          { clientId: input.clientId, text: text ?? input.emoji },
          { id: storyId, kind: text === undefined ? "reaction" : "reply" }
        )
        return limited<StoryReplySent>(sent.rateLimit)(new StoryReplySent({ conversationId: thread.value.id, seq: sent.value.seq }))
      }),

    listEdge: (edge, ownerId, q) =>
      Effect.gen(function*() {
        const after = yield* decodeCursor(q.cursor)
        const rows = yield* repo.listEdge(edge, ownerId, after, q.limit + 1)
        return pageOf(rows, q.limit, personCard, (r) => ({ at: r.at, id: r.id }))
      }),

    setEdge: (edge, ownerId, username, on) =>
      Effect.gen(function*() {
        const other = yield* target(username, ownerId)
        yield* on ? repo.addEdge(edge, ownerId, other.id) : repo.removeEdge(edge, ownerId, other.id)
      })
  })
})

export const layer = Layer.effect(Stories, make)
