/** Users: rows, lookups and profile updates. */
import { SqlClient } from "@effect/sql"
import { Context, Data, Effect, Layer, Option } from "effect"

export interface UserRow {
  readonly id: string
  readonly username: string
  readonly email: string
  readonly passwordHash: string
  readonly displayName: string
  readonly bio: string
  readonly isPrivate: boolean
  readonly avatar: unknown
  readonly followerCount: number
  readonly followingCount: number
  readonly postCount: number
  readonly createdAt: Date
}

export class UniqueViolation extends Data.TaggedError("UniqueViolation")<{ readonly field: "username" | "email" }> {}

const columns = (sql: SqlClient.SqlClient) =>
  sql`id::text, username, email, password_hash, display_name, bio, is_private, avatar,
      follower_count, following_count, post_count, created_at`

export class UsersRepo extends Context.Tag("UsersRepo")<UsersRepo, {
  readonly insert: (input: {
    readonly username: string
    readonly email: string
    readonly passwordHash: string
    readonly displayName: string
  }) => Effect.Effect<UserRow, UniqueViolation>
  readonly byId: (id: string) => Effect.Effect<Option.Option<UserRow>>
  readonly byUsername: (username: string) => Effect.Effect<Option.Option<UserRow>>
  /** Username or email, already lower-cased. */
  readonly byLogin: (login: string) => Effect.Effect<Option.Option<UserRow>>
  readonly update: (id: string, patch: {
    readonly displayName?: string | undefined
    readonly bio?: string | undefined
    readonly isPrivate?: boolean | undefined
  }) => Effect.Effect<UserRow>
  readonly setPasswordHash: (id: string, hash: string) => Effect.Effect<void>
  /** Locks the two rows in a stable order so concurrent edits of one pair serialise without deadlock. */
  readonly lockPair: (a: string, b: string) => Effect.Effect<void>
}>() {}

export const make = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const one = (rows: ReadonlyArray<UserRow>) => Option.fromNullable(rows[0])

  return UsersRepo.of({
    insert: (input) =>
      sql<UserRow>`
        INSERT INTO users (username, email, password_hash, display_name)
        VALUES (${input.username}, ${input.email}, ${input.passwordHash}, ${input.displayName})
        RETURNING ${columns(sql)}`.pipe(
        Effect.map((rows) => rows[0]!),
        Effect.catchAll((e) => {
          const constraint = String((e.cause as { constraint?: string } | undefined)?.constraint ?? "")
          if (constraint.includes("username")) return Effect.fail(new UniqueViolation({ field: "username" }))
          if (constraint.includes("email")) return Effect.fail(new UniqueViolation({ field: "email" }))
          return Effect.die(e)
        })
      ),
    byId: (id) => sql<UserRow>`SELECT ${columns(sql)} FROM users WHERE id = ${id}`.pipe(Effect.map(one), Effect.orDie),
    byUsername: (username) =>
      sql<UserRow>`SELECT ${columns(sql)} FROM users WHERE username = ${username}`.pipe(Effect.map(one), Effect.orDie),
    byLogin: (login) =>
      sql<UserRow>`
        SELECT ${columns(sql)} FROM users WHERE username = ${login}
        UNION ALL
        SELECT ${columns(sql)} FROM users WHERE email = ${login}
        LIMIT 1`.pipe(Effect.map(one), Effect.orDie),
    update: (id, patch) =>
      sql<UserRow>`
        UPDATE users SET
          display_name = COALESCE(${patch.displayName ?? null}, display_name),
          bio = COALESCE(${patch.bio ?? null}, bio),
          is_private = COALESCE(${patch.isPrivate ?? null}, is_private)
        WHERE id = ${id}
        RETURNING ${columns(sql)}`.pipe(Effect.map((rows) => rows[0]!), Effect.orDie),
    setPasswordHash: (id, hash) => sql`UPDATE users SET password_hash = ${hash} WHERE id = ${id}`.pipe(Effect.asVoid, Effect.orDie),
    lockPair: (a, b) => {
      const [first, second] = a < b ? [a, b] : [b, a]
      // NO KEY UPDATE: enough to serialise changes to the pair's counters, and it does not conflict
      // with the KEY SHARE locks that foreign-key checks take (a notification naming either user),
      // which FOR UPDATE did — a deadlock under concurrent follows
      return sql`SELECT id FROM users WHERE id IN (${first}, ${second}) ORDER BY id FOR NO KEY UPDATE`.pipe(
        Effect.asVoid,
        Effect.orDie
      )
    }
  })
})

export const layer = Layer.effect(UsersRepo, make)
