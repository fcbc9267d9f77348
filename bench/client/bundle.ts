/**
 * The client's download sizes, the first part of `bench/client` and quick enough to run alone
 * (`tsx bench/client/bundle.ts`, no services needed): every entry of `web-components/entries.ts`
 * with the chunks it imports, minified, gzipped (level 9) and brotli (quality 11), each file
 * compressed on its own as the server sends it, against the budgets of `web-components/build.ts`.
 * `app` is what `index.html` loads first; the inspector's chunks load only at /admin.
 */
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { BUDGETS, build, type EntrySize, overBudget, sizeTable } from "../../web-components/build.ts"
import type { EntryName } from "../../web-components/entries.ts"

export interface BundleSizes {
  readonly entries: Readonly<Record<EntryName, Omit<EntrySize, "sources">>>
  readonly budgetsGzipBytes: typeof BUDGETS
  readonly overBudget: ReadonlyArray<EntryName>
  readonly table: ReadonlyArray<string>
}

export const bundleSizes = async (): Promise<BundleSizes> => {
  const built = await build()
  const entries = Object.fromEntries(
    Object.entries(built.entries).map(([name, { sources: _, ...size }]) => [name, size])
  ) as Record<EntryName, Omit<EntrySize, "sources">>
  return { entries, budgetsGzipBytes: BUDGETS, overBudget: overBudget(built.entries), table: sizeTable(built.entries) }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const sizes = await bundleSizes()
  for (const line of sizes.table) console.log(line)
  if (sizes.overBudget.length > 0) {
    console.log(`over budget: ${sizes.overBudget.join(", ")}`)
    process.exit(1)
  }
}
