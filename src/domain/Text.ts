/**
 * Text that PostgreSQL can store. A `text` column refuses U+0000 (22021) and a `jsonb` value
 * refuses `\u0000` and a lone surrogate (22P05), so such input would otherwise be discovered by
 * the database — as a 5xx, long after the request was accepted. Every string a client sends
 * (paths, queries, JSON bodies, form fields) is checked here instead and refused with a 400.
 */
import { Schema } from "effect"

/** U+0000, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

export const unstorableMessage = "must not contain NUL characters or unpaired surrogates"

/** Whether PostgreSQL can store `s` as text and inside jsonb. */
export const isStorable = (s: string) => !UNSTORABLE.test(s)

/** A filter for any string schema: `Schema.String.pipe(storable, Schema.maxLength(64))`. */
export const storable = <S extends Schema.Schema<string, any, any>>(self: S): Schema.filter<S> =>
  self.pipe(Schema.filter((s: Schema.Schema.Type<S>) => isStorable(s), { message: () => unstorableMessage }))

/** A string PostgreSQL can store: the base of every string field of the contract's inputs. */
export const StorableString = Schema.String.pipe(storable)
