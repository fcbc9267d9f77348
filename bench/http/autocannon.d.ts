/** The slice of autocannon's programmatic API that run.ts uses (the package ships no types). */
declare module "autocannon" {
  export interface Options {
    readonly url: string
    readonly connections?: number
    readonly pipelining?: number
    /** Seconds. */
    readonly duration?: number
    readonly timeout?: number
  }

  /** Percentiles of a histogram; latency is in milliseconds, requests in requests per second. */
  export interface Histogram {
    readonly average: number
    readonly mean: number
    readonly stddev: number
    readonly min: number
    readonly max: number
    readonly total: number
    readonly p50: number
    readonly p90: number
    readonly p99: number
  }

  export interface Result {
    readonly duration: number
    readonly errors: number
    readonly timeouts: number
    readonly non2xx: number
    readonly resets: number
    readonly "2xx": number
    readonly latency: Histogram
    readonly requests: Histogram & { readonly sent: number }
    readonly throughput: Histogram
  }

  /** Without a callback the returned instance is also a promise of the result. */
  function autocannon(options: Options): Promise<Result> & { stop(): void }

  export default autocannon
}
