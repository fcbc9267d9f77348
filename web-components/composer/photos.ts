/**
 * The composer's photos: the content check before upload, the crop to the allowed frames, and
 * drafts kept in IndexedDB (photos are Blobs there, so a reload keeps them).
 */

/** The frames a post may have (API: 4:5 … 1.91:1); a carousel's photos all share the first's. */
export const MIN_RATIO = 4 / 5
export const MAX_RATIO = 1.91
export const ASPECTS = { original: "Original", square: "1:1", portrait: "4:5", landscape: "1.91:1" } as const
export type Aspect = keyof typeof ASPECTS
/** A crop is re-encoded at most this wide (the server's largest variant is 1080). */
const MAX_OUTPUT = 2160

export interface Photo {
  readonly id: string
  readonly file: Blob
  readonly name: string
  readonly width: number
  readonly height: number
  readonly alt: string
  /** 1 (the frame filled) … 3. */
  readonly zoom: number
  /** Where the frame sits in the room the zoom leaves: 0 (left / top) … 1 (right / bottom). */
  readonly x: number
  readonly y: number
}

/** What the file's first bytes say it is (the server checks the same way); undefined: not a photo we take. */
export const sniff = (b: Uint8Array): string | undefined => {
  const at = (o: number, s: string) => Array.from(s).every((c, i) => b[o + i] === c.charCodeAt(0))
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg"
  if (b[0] === 0x89 && at(1, "PNG")) return "image/png"
  if (at(0, "GIF8")) return "image/gif"
  if (at(0, "RIFF") && at(8, "WEBP")) return "image/webp"
  if (at(4, "ftyp") && ["avif", "avis", "mif1"].some((brand) => at(8, brand))) return "image/avif"
  return undefined
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v))

/** The frame's width / height: the chosen one, or the first photo's own within the allowed range. */
export const ratioOf = (aspect: Aspect, first: Photo | undefined): number =>
  aspect === "square" ? 1 : aspect === "portrait" ? MIN_RATIO : aspect === "landscape" ? MAX_RATIO
  : first ? clamp(first.width / first.height, MIN_RATIO, MAX_RATIO) : 1

/** The part of the photo the frame shows, in the photo's pixels. */
export const cropRect = (p: Photo, ratio: number) => {
  const sw = Math.min(p.width, p.height * ratio) / p.zoom
  const sh = sw / ratio
  return { sx: (p.width - sw) * p.x, sy: (p.height - sh) * p.y, sw, sh }
}

/** Whether the frame shows the whole photo (then it is sent as it is, never re-encoded). */
export const isWhole = (p: Photo, ratio: number) => {
  const r = cropRect(p, ratio)
  return Math.abs(r.sw - p.width) < 1 && Math.abs(r.sh - p.height) < 1
}

/** The preview's placement of the photo in its frame, in % of the frame, so it shows what will be sent. */
export const placement = (p: Photo, ratio: number) => {
  const r = cropRect(p, ratio)
  return `width:${(p.width / r.sw) * 100}%;height:${(p.height / r.sh) * 100}%;left:${(-r.sx / r.sw) * 100}%;top:${(-r.sy / r.sh) * 100}%`
}

/** Moves the frame by a drag of (dx, dy) pixels over a preview `frameWidth` wide. */
export const panned = (p: Photo, ratio: number, dx: number, dy: number, frameWidth: number): Photo => {
  const r = cropRect(p, ratio)
  const perPx = r.sw / frameWidth
  const roomX = p.width - r.sw
  const roomY = p.height - r.sh
  return {
    ...p,
    x: roomX > 0 ? clamp(p.x - (dx * perPx) / roomX, 0, 1) : 0.5,
    y: roomY > 0 ? clamp(p.y - (dy * perPx) / roomY, 0, 1) : 0.5
  }
}

/** The photo as it will be published: the original when the frame shows it whole, else the crop as a JPEG. */
export const cropped = async (p: Photo, ratio: number): Promise<Blob> => {
  if (isWhole(p, ratio)) return p.file
  const r = cropRect(p, ratio)
  const width = Math.round(Math.min(r.sw, MAX_OUTPUT))
  const height = Math.round(width / ratio)
  const bitmap = await createImageBitmap(p.file)
  const canvas = document.createElement("canvas")
  canvas.width = width
  canvas.height = height
  const ctx = canvas.getContext("2d")!
  ctx.fillStyle = "#fff"
  ctx.fillRect(0, 0, width, height)
  ctx.imageSmoothingQuality = "high"
  ctx.drawImage(bitmap, r.sx, r.sy, r.sw, r.sh, 0, 0, width, height)
  bitmap.close()
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("the crop could not be encoded"))), "image/jpeg", 0.92)
  )
}

/** The photo's size as the browser decodes it (EXIF orientation applied, as the server does). */
export const measure = async (file: Blob): Promise<{ width: number; height: number }> => {
  const bitmap = await createImageBitmap(file)
  const size = { width: bitmap.width, height: bitmap.height }
  bitmap.close()
  return size
}

export interface Draft {
  readonly userId: string
  readonly caption: string
  readonly aspect: Aspect
  readonly photos: ReadonlyArray<Photo>
}

const STORE = "drafts"
const db = () =>
  new Promise<IDBDatabase>((resolve, reject) => {
    const open = indexedDB.open("ap-composer", 1)
    open.onupgradeneeded = () => open.result.createObjectStore(STORE)
    open.onsuccess = () => resolve(open.result)
    open.onerror = () => reject(open.error)
  })

const run = async <T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T | undefined> => {
  if (typeof indexedDB === "undefined") return undefined
  const d = await db()
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = op(d.transaction(STORE, mode).objectStore(STORE))
      req.onsuccess = () => resolve(req.result)
      req.onerror = () => reject(req.error)
    })
  } finally {
    d.close()
  }
}

/** The draft kept under `key`, if any (none where IndexedDB is unavailable or fails). */
export const loadDraft = (key: string): Promise<Draft | undefined> =>
  run<Draft | undefined>("readonly", (s) => s.get(key) as IDBRequest<Draft | undefined>).catch(() => undefined)

/** Keeps the draft (or forgets it: undefined, or nothing in it). */
export const saveDraft = (key: string, draft: Draft | undefined): Promise<unknown> =>
  run<unknown>("readwrite", (s) => (draft && (draft.photos.length > 0 || draft.caption !== "") ? s.put(draft, key) : s.delete(key)) as IDBRequest<unknown>)
    .catch(() => undefined)
