/** The fuzz suite on the native transport (see ./settings.ts for FUZZ_SEED, FUZZ_RUNS and the rest). */
import { fuzzSuite } from "./suite.ts"

fuzzSuite("uws")
