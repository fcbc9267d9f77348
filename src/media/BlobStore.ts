/**
 * Where media bytes live: one interface, two stores (a directory under DATA_DIR, or S3/MinIO),
 * chosen by MEDIA_STORE. Keys are flat (`[A-Za-z0-9._-]`), so they map to files and object names
 * alike and can never climb out of their directory.
 */
import { Context, Data, Effect, Option, Stream } from "effect"

export class BlobError extends Data.TaggedError("BlobError")<{ readonly op: string; readonly key: string; readonly cause: unknown }> {
  override get message() {
    return `blob ${this.op} ${this.key} failed: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

/** The body was larger than the store was told to accept; nothing was kept. */
export class BlobTooLarge extends Data.TaggedError("BlobTooLarge")<{ readonly maxBytes: number }> {}

export interface BlobInfo {
  readonly size: number
  readonly contentType: string
  readonly etag: string
  readonly lastModified: Date
}

export interface ByteRange {
  readonly start: number
  /** Inclusive. */
  readonly end: number
}

export interface PresignedPut {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
}

export interface BlobStoreShape {
  readonly kind: "fs" | "s3"
  /**
   * Streams a body in, keeping at most `maxBytes`; a failed or oversize write leaves no object.
   * Every way a write can go wrong (the body's error, a full or unwritable store, interruption when
   * the request is dropped) ends this Effect; none may escape as an exception or an 'error' event.
   */
  readonly put: <E>(
    key: string,
    body: Stream.Stream<Uint8Array, E>,
    options: { readonly contentType: string; readonly maxBytes: number }
  ) => Effect.Effect<{ readonly size: number }, E | BlobError | BlobTooLarge>
  readonly putBytes: (key: string, bytes: Uint8Array, contentType: string) => Effect.Effect<void, BlobError>
  readonly stat: (key: string) => Effect.Effect<Option.Option<BlobInfo>, BlobError>
  readonly read: (
    key: string,
    range?: ByteRange
  ) => Effect.Effect<Option.Option<{ readonly info: BlobInfo; readonly body: Stream.Stream<Uint8Array, BlobError> }>, BlobError>
  /** The first `n` bytes (fewer when the object is shorter), for sniffing. */
  readonly head: (key: string, n: number) => Effect.Effect<Option.Option<Uint8Array>, BlobError>
  readonly readAll: (key: string) => Effect.Effect<Option.Option<Uint8Array>, BlobError>
  readonly remove: (keys: ReadonlyArray<string>) => Effect.Effect<void, BlobError>
  /** S3: a presigned PUT. The filesystem store has none (Aperture signs its own upload URL). */
  readonly presignPut: (key: string, expiresSeconds: number) => Effect.Effect<Option.Option<PresignedPut>, BlobError>
  /** S3: a short presigned GET for redirects; none for the filesystem store. */
  readonly presignGet: (key: string, expiresSeconds: number) => Effect.Effect<Option.Option<string>, BlobError>
}

export class BlobStore extends Context.Tag("BlobStore")<BlobStore, BlobStoreShape>() {}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/
export const isValidKey = (key: string) => KEY.test(key) && !key.includes("..")

export const contentTypeOf = (key: string) =>
  key.endsWith(".webp") ? "image/webp" : key.endsWith(".png") ? "image/png" : key.endsWith(".jpg") ? "image/jpeg" : "application/octet-stream"

/** Counts bytes through a stream and fails once they pass `maxBytes`. */
export const limitBytes = <E>(body: Stream.Stream<Uint8Array, E>, maxBytes: number, onSize: (n: number) => void) => {
  let size = 0
  return Stream.mapEffect(body, (chunk) => {
    size += chunk.byteLength
    onSize(size)
    return size > maxBytes ? Effect.fail(new BlobTooLarge({ maxBytes })) : Effect.succeed(chunk)
  })
}
