/**
 * The body of `GET /api/v1/system/sample?limit=20`, rebuilt outside `src/` so the baseline servers
 * serve the same bytes as Aperture without importing Aperture (and its Effect runtime) at all.
 * Mirrors `src/http/routes/system.ts`; run.ts checks every target's body against it.
 */
const epoch = Date.UTC(2026, 0, 1)
const catalogueSize = 50

export interface SampleItem {
  readonly id: string
  readonly title: string
  readonly rank: number
  readonly createdAt: string
  readonly tags: ReadonlyArray<string>
}

export interface SampleList {
  readonly items: ReadonlyArray<SampleItem>
  readonly nextCursor: string | null
  readonly hasMore: boolean
}

/** Item `i` (1-based), built fresh on each call. */
export const sampleItem = (i: number): SampleItem => ({
  id: `item_${i.toString(36).padStart(6, "0")}`,
  title: `Sample item ${i}`,
  rank: i,
  createdAt: new Date(epoch + (i - 1) * 60_000).toISOString(),
  tags: ["sample", (i - 1) % 2 === 0 ? "even" : "odd"]
})

/** A fresh list of the first `limit` items, shaped like Aperture's `SampleList`. */
export const sampleList = (limit = 20): SampleList => ({
  items: Array.from({ length: limit }, (_, k) => sampleItem(k + 1)),
  nextCursor: null,
  hasMore: limit < catalogueSize
})

export const SAMPLE_PATH = "/api/v1/system/sample"
export const SAMPLE_QUERY = "?limit=20"
