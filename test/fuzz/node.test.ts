/** The fuzz suite on the standard node:http transport (see ./settings.ts for FUZZ_SEED, FUZZ_RUNS and the rest). */
import { fuzzSuite } from "./suite.ts"

fuzzSuite("node")
