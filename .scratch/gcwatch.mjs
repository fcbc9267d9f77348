import { PerformanceObserver, constants } from "node:perf_hooks"
import { appendFileSync } from "node:fs"
import v8 from "node:v8"
const kinds = { [constants.NODE_PERFORMANCE_GC_MAJOR]: "major", [constants.NODE_PERFORMANCE_GC_MINOR]: "minor", [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental", [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb" }
let acc = {}
new PerformanceObserver((list) => { for (const e of list.getEntries()) { const k = kinds[e.detail?.kind ?? e.kind] ?? "?"; acc[k] ??= { n: 0, ms: 0 }; acc[k].n++; acc[k].ms += e.duration } }).observe({ entryTypes: ["gc"] })
setInterval(() => { const h = v8.getHeapStatistics(); appendFileSync("/tmp/gcwatch.log", `${new Date().toISOString().slice(11, 19)} heap ${(h.used_heap_size / 1e6).toFixed(0)}MB total ${(h.total_heap_size / 1e6).toFixed(0)}MB ${JSON.stringify(Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, `${v.n}/${v.ms.toFixed(0)}ms`])))}\n`); acc = {} }, 2000).unref()
