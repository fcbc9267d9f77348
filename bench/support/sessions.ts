/**
 * Bearer sessions written straight into PostgreSQL: logging thousands of users in through the API
 * would spend minutes of scrypt. Same shape as src/social/Sessions.ts: 32 random bytes as
 * base64url, stored as their SHA-256. The user agent names the benchmark that made them.
 */
import { createHash, randomBytes } from "node:crypto"
import { withClient } from "./pgdb.ts"

const BATCH = 5_000

/** One fresh session per user, valid for a day; returns the tokens in the same order. */
export const createSessions = (url: string, userIds: ReadonlyArray<string>, userAgent: string): Promise<ReadonlyArray<string>> =>
  withClient(url, async (c) => {
    const tokens = userIds.map(() => randomBytes(32).toString("base64url"))
    for (let at = 0; at < userIds.length; at += BATCH) {
      await c.query(
        `INSERT INTO sessions (token_hash, user_id, expires_at, user_agent)
         SELECT h, u, now() + interval '1 day', $3 FROM unnest($1::bytea[], $2::uuid[]) AS x(h, u)`,
        [
          tokens.slice(at, at + BATCH).map((t) => createHash("sha256").update(t).digest()),
          userIds.slice(at, at + BATCH),
          userAgent
        ]
      )
    }
    return tokens
  })
