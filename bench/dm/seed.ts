/**
 * The DM benchmark's data set, written straight into PostgreSQL once the server has migrated the
 * run's own database: 2 × threads members (`dmb000001`, …) paired into 1:1 threads (both members
 * `accepted`, as after a follow), and two more accounts whose thread holds `historyMessages`
 * messages with seq 1..n (`conversations.last_seq` = n), alternating senders. Rows have the shapes
 * of migration 0012 (`direct_key` is the two ids sorted and joined by ":"). Sessions are made per
 * user as bench/support/sessions.ts does.
 */
import { withClient } from "../support/pgdb.ts"
import { createSessions } from "../support/sessions.ts"

const USER_AGENT = "bench/dm"
const BATCH = 5_000

export interface Member {
  readonly id: string
  readonly username: string
  readonly token: string
}

export interface Thread {
  readonly id: string
  /** Both members; a send alternates which of them writes. */
  readonly members: readonly [Member, Member]
}

export interface DataSet {
  readonly threads: ReadonlyArray<Thread>
  readonly history: Thread & { readonly messages: number }
}

const insertUsers = (c: import("pg").Client, names: ReadonlyArray<string>) =>
  c.query<{ id: string; username: string }>(
    `INSERT INTO users (username, email, password_hash, display_name)
     SELECT u, u || '@bench-dm.aperture.test', '!', u FROM unnest($1::text[]) WITH ORDINALITY AS x(u, n) ORDER BY n
     RETURNING id::text, username`,
    [names]
  )

export const seed = (url: string, threads: number, historyMessages: number): Promise<DataSet> =>
  withClient(url, async (c) => {
    const names = Array.from({ length: threads * 2 + 2 }, (_, i) => `dmb${String(i + 1).padStart(6, "0")}`)
    const users: Array<{ id: string; username: string }> = []
    for (let at = 0; at < names.length; at += BATCH) users.push(...(await insertUsers(c, names.slice(at, at + BATCH))).rows)
    users.sort((a, b) => a.username.localeCompare(b.username))
    const tokens = await createSessions(url, users.map((u) => u.id), USER_AGENT)
    const members = users.map((u, i): Member => ({ ...u, token: tokens[i]! }))

    const pairs = Array.from({ length: threads + 1 }, (_, i) => [members[2 * i]!, members[2 * i + 1]!] as const)
    const ids = pairs.map(() => crypto.randomUUID())
    await c.query(
      `INSERT INTO conversations (id, kind, direct_key, created_by, last_activity_at)
       SELECT id, 'direct', least(a::text, b::text) || ':' || greatest(a::text, b::text), a, date_trunc('milliseconds', now())
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS x(id, a, b)`,
      [ids, pairs.map((p) => p[0].id), pairs.map((p) => p[1].id)]
    )
    await c.query(
      `INSERT INTO conversation_members (conversation_id, user_id, role, status)
       SELECT id, u, 'admin', 'accepted' FROM unnest($1::uuid[], $2::uuid[]) AS x(id, u)`,
      [[...ids, ...ids], [...pairs.map((p) => p[0].id), ...pairs.map((p) => p[1].id)]]
    )

    // the long thread: seq 1..n, one message a second up to now, senders alternating
    const historyId = ids[threads]!
    const [h0, h1] = pairs[threads]!
    await c.query(
      `INSERT INTO messages (conversation_id, seq, sender_id, client_id, kind, text, created_at)
       SELECT $1, s, CASE WHEN s % 2 = 0 THEN $2::uuid ELSE $3::uuid END, 'seed-' || s, 'text',
         'history message ' || s || ': ' || repeat('lorem ipsum ', 1 + s % 8), now() - ($4 - s) * interval '1 second'
       FROM generate_series(1, $4::int) AS s`,
      [historyId, h0.id, h1.id, historyMessages]
    )
    await c.query("UPDATE conversations SET last_seq = $2 WHERE id = $1", [historyId, historyMessages])
    await c.query("VACUUM (ANALYZE) users, sessions, conversations, conversation_members, messages")
    return {
      threads: pairs.slice(0, threads).map((p, i) => ({ id: ids[i]!, members: p })),
      history: { id: historyId, members: pairs[threads]!, messages: historyMessages }
    }
  })
