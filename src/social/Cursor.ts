/** Opaque keyset cursors: base64url of the last row's (time, id). A cursor that does not parse is a 400. */
import { Effect, Option } from "effect"
import { BadRequest } from "../domain/ApiError.ts"
import type { Keyset } from "../db/Graph.ts"

export const encodeCursor = (k: Keyset): string =>
  Buffer.from(JSON.stringify([k.at.toISOString(), k.id])).toString("base64url")

export const decodeCursor = (cursor: string | undefined): Effect.Effect<Option.Option<Keyset>, BadRequest> => {
  if (cursor === undefined || cursor === "") return Effect.succeed(Option.none())
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [string, string]
    const date = new Date(at)
    if (Number.isNaN(date.getTime()) || typeof id !== "string" || !/^[0-9a-f-]{36}$/.test(id)) throw new Error("bad")
    return Effect.succeed(Option.some({ at: date, id }))
  } catch {
    return Effect.fail(new BadRequest({ message: "cursor is not one this server issued" }))
  }
}

/** A page from `limit + 1` rows: the extra row only says whether there is more. */
export const pageOf = <Row, Item>(
  rows: ReadonlyArray<Row>,
  limit: number,
  toItem: (row: Row) => Item,
  keyOf: (row: Row) => Keyset
) => {
  const hasMore = rows.length > limit
  const items = rows.slice(0, limit)
  const last = items[items.length - 1]
  return {
    items: items.map(toItem),
    nextCursor: hasMore && last !== undefined ? encodeCursor(keyOf(last)) : null,
    hasMore
  }
}
