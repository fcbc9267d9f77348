/**
 * The stories benchmark's data set, written straight into PostgreSQL once the server has migrated
 * the run's own database, in the shapes of migrations 0002 and 0013:
 *
 *   - the tray viewer (`stbtray`), following `followees` accounts (`stba0001`, …);
 *   - `withStories` of those (every third or so, spread over the list) have two live stories for
 *     their followers, published over the last 20 hours (`status` 'published', `seq` in order of
 *     publication, `expires_at` = `published_at` + 24 h, `media` as the media worker writes it),
 *     and one in ten of them a third one for close friends, the tray viewer being on half of those
 *     authors' lists; every followee also has one expired story (30–47 hours old), so the tray's
 *     `expires_at > now()` has something to leave out;
 *   - the tray viewer's read pointers: a third of the story authors seen up to their first story,
 *     a third seen entirely, a third not at all (the tray's three groups);
 *   - `viewers` more accounts (`stbv0001`, …), each following every story author (so each may view
 *     every followers story through the API); they make the views.
 * Sessions are made for the tray viewer and every viewer as bench/support/sessions.ts does.
 */
import { randomBytes } from "node:crypto"
import { prng } from "../accounts/names.ts"
import { withClient } from "../support/pgdb.ts"
import { createSessions } from "../support/sessions.ts"

const USER_AGENT = "bench/stories"
const BATCH = 5_000
const HOUR = 3_600_000

export interface SeedSettings {
  readonly followees: number
  readonly withStories: number
  readonly viewers: number
}

export interface SeededStory {
  readonly id: string
  readonly authorId: string
  readonly seq: number
  readonly expiresAt: Date
}

export interface Person {
  readonly id: string
  readonly token: string
}

export interface DataSet {
  readonly tray: Person & { readonly username: string }
  readonly viewers: ReadonlyArray<Person>
  /** Per story author: their two followers stories, oldest first. */
  readonly authors: ReadonlyArray<{ readonly id: string; readonly first: SeededStory; readonly second: SeededStory }>
  /** What the tray viewer should see: authors, live stories visible to them, and per group. */
  readonly expected: { readonly trayAuthors: number; readonly trayStories: number; readonly unseenAuthors: number; readonly seenAuthors: number }
  readonly rows: { readonly users: number; readonly follows: number; readonly stories: number; readonly liveStories: number }
  readonly seedSeconds: number
}

// a tiny blurred WebP as a data URI, the size of the worker's real placeholders (~300 bytes)
const PLACEHOLDER = `data:image/webp;base64,${randomBytes(220).toString("base64")}`

const insertUsers = async (c: import("pg").Client, names: ReadonlyArray<string>) => {
  const out: Array<{ id: string; username: string }> = []
  for (let at = 0; at < names.length; at += BATCH) {
    const r = await c.query<{ id: string; username: string }>(
      `INSERT INTO users (username, email, password_hash, display_name, bio, created_at)
       SELECT u, u || '@bench-stories.aperture.test', '!', 'Bench ' || u, 'stories bench account', now() - n * interval '1 minute'
       FROM unnest($1::text[]) WITH ORDINALITY AS x(u, n) ORDER BY n
       RETURNING id::text, username`,
      [names.slice(at, at + BATCH)]
    )
    out.push(...r.rows)
  }
  const byName = new Map(out.map((u) => [u.username, u.id]))
  return names.map((n) => byName.get(n)!)
}

interface StoryDraft {
  readonly id: string
  readonly authorId: string
  readonly audience: "followers" | "closeFriends"
  readonly publishedAt: number
}

export const seed = (url: string, s: SeedSettings): Promise<DataSet> =>
  withClient(url, async (c) => {
    const started = performance.now()
    const random = prng(15)
    const pad = (n: number) => String(n).padStart(4, "0")
    const [trayId] = await insertUsers(c, ["stbtray"])
    const followees = await insertUsers(c, Array.from({ length: s.followees }, (_, i) => `stba${pad(i + 1)}`))
    const viewerIds = await insertUsers(c, Array.from({ length: s.viewers }, (_, i) => `stbv${pad(i + 1)}`))

    // story authors spread evenly over the followees
    const authorIds = Array.from({ length: s.withStories }, (_, k) => followees[Math.floor((k * s.followees) / s.withStories)]!)

    // edges without the FK triggers (bulk seed; every id above exists)
    await c.query("SET session_replication_role = replica")
    await c.query(
      `INSERT INTO follows (follower_id, followee_id, created_at)
       SELECT $1::uuid, f, now() - random() * interval '365 days' FROM unnest($2::uuid[]) AS f`,
      [trayId, followees]
    )
    await c.query(
      `INSERT INTO follows (follower_id, followee_id, created_at)
       SELECT v, a, now() - random() * interval '365 days' FROM unnest($1::uuid[]) AS v CROSS JOIN unnest($2::uuid[]) AS a`,
      [viewerIds, authorIds]
    )

    const now = Date.now()
    const drafts: Array<StoryDraft> = []
    // expired: one per followee, 30–47 hours old
    for (const a of followees) drafts.push({ id: crypto.randomUUID(), authorId: a, audience: "followers", publishedAt: now - (30 + random() * 17) * HOUR })
    const live = authorIds.map((a, k) => {
      const firstAt = now - (2 + random() * 18) * HOUR
      const first: StoryDraft = { id: crypto.randomUUID(), authorId: a, audience: "followers", publishedAt: firstAt }
      const second: StoryDraft = { id: crypto.randomUUID(), authorId: a, audience: "followers", publishedAt: firstAt + random() * (now - HOUR - firstAt) }
      const cf: StoryDraft | undefined = k % 10 === 0 ? { id: crypto.randomUUID(), authorId: a, audience: "closeFriends", publishedAt: now - random() * HOUR } : undefined
      drafts.push(first, second, ...(cf === undefined ? [] : [cf]))
      return { first, second, cf, closeFriend: k % 20 === 0 }
    })
    // seq in order of publication, as nextval('story_seq') at publish would give
    drafts.sort((a, b) => a.publishedAt - b.publishedAt)
    const seqOf = new Map(drafts.map((d, i) => [d.id, i + 1]))
    await c.query(
      `INSERT INTO stories (id, author_id, seq, audience, status, original_key, media, created_at, published_at, expires_at)
       SELECT id, author_id, seq, audience, 'published', 'orig-' || id,
              jsonb_build_object('url', '/media/' || id || '-w1080.webp', 'thumbnail', '/media/' || id || '-w180.webp',
                                 'placeholder', $6::text, 'width', 1080, 'height', 1920, 'dominantColor', '#' || left(md5(id::text), 6)),
              date_trunc('milliseconds', p) - interval '4 seconds', date_trunc('milliseconds', p), date_trunc('milliseconds', p) + interval '24 hours'
       FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::timestamptz[]) AS x(id, author_id, seq, audience, p)`,
      [drafts.map((d) => d.id), drafts.map((d) => d.authorId), drafts.map((d) => seqOf.get(d.id)!), drafts.map((d) => d.audience), drafts.map((d) => new Date(d.publishedAt).toISOString()), PLACEHOLDER]
    )
    await c.query("SELECT setval('story_seq', $1)", [drafts.length])

    // the tray viewer on half of the close-friends authors' lists
    const friendsOf = authorIds.filter((_, k) => live[k]!.cf !== undefined && live[k]!.closeFriend)
    await c.query(`INSERT INTO close_friends (owner_id, friend_id) SELECT o, $1::uuid FROM unnest($2::uuid[]) AS o`, [trayId, friendsOf])

    // read pointers: a third up to the first story, a third everything, a third nothing
    const pointers: Array<[string, number]> = []
    let unseenAuthors = 0
    let seenAuthors = 0
    live.forEach((l, k) => {
      const visible = [l.first, l.second, ...(l.cf !== undefined && l.closeFriend ? [l.cf] : [])].map((d) => seqOf.get(d.id)!)
      const max = Math.max(...visible)
      if (k % 3 === 0) {
        pointers.push([authorIds[k]!, Math.min(...visible)])
        unseenAuthors++
      } else if (k % 3 === 1) {
        pointers.push([authorIds[k]!, max])
        seenAuthors++
      } else unseenAuthors++
    })
    await c.query(
      `INSERT INTO story_read_pointers (viewer_id, author_id, max_seq) SELECT $1::uuid, a, m FROM unnest($2::uuid[], $3::bigint[]) AS x(a, m)`,
      [trayId, pointers.map((p) => p[0]), pointers.map((p) => p[1])]
    )
    await c.query("RESET session_replication_role")
    await c.query(`
      UPDATE users u SET follower_count = coalesce(fr.n, 0), following_count = coalesce(fg.n, 0)
      FROM users x
      LEFT JOIN (SELECT followee_id, count(*)::int AS n FROM follows GROUP BY followee_id) fr ON fr.followee_id = x.id
      LEFT JOIN (SELECT follower_id, count(*)::int AS n FROM follows GROUP BY follower_id) fg ON fg.follower_id = x.id
      WHERE u.id = x.id`)
    await c.query("VACUUM (ANALYZE) users, follows, stories, close_friends, story_read_pointers, story_views")

    const tokens = await createSessions(url, [trayId!, ...viewerIds], USER_AGENT)
    const counts = await c.query<{ users: number; follows: number; stories: number; live: number }>(
      `SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM follows) AS follows,
              (SELECT count(*)::int FROM stories) AS stories, (SELECT count(*)::int FROM stories WHERE expires_at > now()) AS live`
    )
    const row = counts.rows[0]!
    const story = (d: StoryDraft): SeededStory => ({ id: d.id, authorId: d.authorId, seq: seqOf.get(d.id)!, expiresAt: new Date(Math.floor(d.publishedAt) + 24 * HOUR) })
    return {
      tray: { id: trayId!, username: "stbtray", token: tokens[0]! },
      viewers: viewerIds.map((id, i) => ({ id, token: tokens[i + 1]! })),
      authors: live.map((l, k) => ({ id: authorIds[k]!, first: story(l.first), second: story(l.second) })),
      expected: {
        trayAuthors: authorIds.length,
        trayStories: authorIds.length * 2 + friendsOf.length,
        unseenAuthors,
        seenAuthors
      },
      rows: { users: row.users, follows: row.follows, stories: row.stories, liveStories: row.live },
      seedSeconds: Number(((performance.now() - started) / 1000).toFixed(1))
    }
  })
