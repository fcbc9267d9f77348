/**
 * Blob keys. Originals are private (never served); variants and avatars are public and immutable,
 * so their keys are deterministic — a job that runs twice writes the same objects again.
 */
export const originalKey = (postId: string) => `orig-${postId}`
/** A post's first photo keeps the single-image keys; a carousel's later photos carry their position (`-p1` … `-p9`). */
export const variantKey = (postId: string, width: number, position = 0) =>
  position === 0 ? `${postId}-w${width}.webp` : `${postId}-p${position}-w${width}.webp`
/** The original of a carousel's later photo (the first keeps `originalKey`). */
export const photoOriginalKey = (postId: string, position: number) => position === 0 ? originalKey(postId) : `orig-${postId}-p${position}`
export const avatarKey = (userId: string, version: string, width: number) => `avatar-${userId}-${version}-w${width}.webp`
export const uploadKey = (uploadId: string) => `upload-${uploadId}`
export const mediaUrl = (key: string) => `/media/${key}`
export const keyOfUrl = (url: string) => url.replace(/^\/media\//, "")

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
const PUBLIC = new RegExp(`^(${UUID}(?:-p\\d)?-w\\d{2,4}|avatar-${UUID}-[A-Za-z0-9_-]{1,16}-w\\d{2,4})\\.webp$`)

/** Only rendered WebP variants may be served; originals and uploads never are. */
export const isPublicKey = (key: string) => PUBLIC.test(key)
