/**
 * Synthetic people for the accounts benchmark: usernames, display names and bios built from word
 * lists, so that many accounts share first names, surnames and fragments the way real ones do —
 * which is what makes prefix and trigram search do real work — and the search terms to look them
 * up with. Everything is drawn from a seeded PRNG, so a given size always yields the same people.
 */

const FIRST = [
  "aaron", "abby", "adam", "adrian", "aiden", "alex", "alice", "amara", "amelia", "amir", "ana", "andre", "andrea",
  "anna", "anton", "aria", "arjun", "ava", "ben", "bianca", "bruno", "caleb", "camila", "carla", "carlos", "chen",
  "chloe", "chris", "clara", "daniel", "david", "diego", "dmitri", "elena", "eli", "elias", "ella", "emily", "emma",
  "eric", "ethan", "eva", "fatima", "felix", "finn", "freya", "gabriel", "grace", "hana", "hannah", "harper", "hugo",
  "ines", "isaac", "isabel", "ivan", "jack", "jacob", "jade", "james", "jana", "javier", "jin", "joao", "jonas",
  "jordan", "jose", "julia", "julian", "kai", "karim", "kate", "kenji", "kira", "lara", "laura", "layla", "leo",
  "liam", "lina", "lucas", "lucia", "luis", "luka", "maja", "marco", "maria", "marta", "martin", "mateo", "maya",
  "mia", "michael", "mila", "mohamed", "nadia", "naomi", "nina", "noah", "nora", "oliver", "olivia", "omar", "oscar",
  "paula", "pedro", "priya", "rafael", "rahul", "rosa", "ruby", "sam", "sara", "sebastian", "sofia", "sophie",
  "stella", "tariq", "theo", "tom", "valentina", "victor", "yara", "yuki", "zara", "zoe"
] as const

const LAST = [
  "abbott", "adams", "ahmed", "alvarez", "anderson", "bailey", "baker", "becker", "bennett", "berg", "brooks",
  "brown", "campbell", "carter", "castro", "chan", "chen", "clark", "collins", "cooper", "costa", "cruz", "davis",
  "dubois", "edwards", "evans", "fischer", "flores", "foster", "garcia", "gomez", "gonzalez", "gray", "green",
  "hall", "hansen", "harris", "hayes", "hernandez", "hill", "hoffmann", "hughes", "ito", "jackson", "jensen",
  "johnson", "jones", "kaur", "kelly", "khan", "kim", "king", "klein", "kowalski", "kumar", "larsen", "lee",
  "lewis", "lopez", "martin", "martinez", "meyer", "miller", "mitchell", "moore", "morales", "moreau", "morris",
  "muller", "murphy", "nakamura", "nelson", "nguyen", "novak", "oconnor", "olsen", "ortiz", "park", "patel",
  "perez", "peters", "petrov", "phillips", "ramirez", "reed", "reyes", "richter", "rivera", "roberts", "rodriguez",
  "rossi", "russo", "sanchez", "santos", "schmidt", "schneider", "scott", "silva", "singh", "smith", "sousa",
  "stewart", "suzuki", "tanaka", "taylor", "thomas", "torres", "turner", "walker", "wang", "ward", "watson",
  "weber", "white", "williams", "wilson", "wright", "yamamoto", "young", "zhang"
] as const

const WORDS = [
  "photo", "photos", "pics", "shots", "lens", "film", "studio", "travels", "travel", "wander", "art", "draws",
  "design", "makes", "cooks", "eats", "bakes", "coffee", "daily", "life", "world", "journal", "runs", "rides",
  "climbs", "surf", "skate", "music", "beats", "books", "reads", "garden", "plants", "dogs", "cats", "nature",
  "city", "street", "light", "golden", "moments", "visuals", "creative", "official", "real", "the"
] as const

const BIO_PARTS = [
  "photographer", "traveller", "coffee addict", "dog person", "cat person", "film shooter", "designer", "runner",
  "home cook", "plant parent", "weekend hiker", "street photography", "based in lisbon", "based in berlin",
  "based in tokyo", "based in nyc", "based in são paulo", "35mm", "analog forever", "dm for collabs",
  "sunsets and mountains", "bookworm", "climber", "surfer", "student", "architect", "nurse", "developer"
] as const

/** mulberry32: small, fast and good enough to make data, not keys. */
export const prng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type Random = () => number

export const pick = <A>(random: Random, items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)]!

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

const number = (random: Random) => String(Math.floor(random() * (random() < 0.5 ? 100 : 10_000)))

/** The handle styles people actually pick; the number suffixes keep 100k of them unique. */
const usernameStyles: ReadonlyArray<(f: string, l: string, random: Random) => string> = [
  (f, l) => `${f}.${l}`,
  (f, l) => `${f}_${l}`,
  (f, l, r) => `${f}${l}${number(r)}`,
  (f, l, r) => `${f}.${l}${number(r)}`,
  (f, _l, r) => `${f}.${pick(r, WORDS)}`,
  (f, _l, r) => `${pick(r, WORDS)}.${f}${number(r)}`,
  (f, l, r) => `${f}${l.charAt(0)}${number(r)}`,
  (f, l, r) => `${l}.${f}${r() < 0.5 ? "" : number(r)}`,
  (f, _l, r) => `${f}${pick(r, WORDS)}${number(r)}`,
  (f, l, r) => `${f.charAt(0)}${l}_${pick(r, WORDS)}`
]

export interface Person {
  readonly username: string
  readonly displayName: string
  readonly bio: string
  readonly isPrivate: boolean
}

const bioOf = (random: Random) => {
  if (random() < 0.4) return ""
  const parts = new Set<string>()
  const n = 1 + Math.floor(random() * 3)
  while (parts.size < n) parts.add(pick(random, BIO_PARTS))
  return [...parts].join(" · ")
}

/** `count` distinct people; ~`privateShare` of them private. */
export const people = (count: number, seed: number, privateShare: number): ReadonlyArray<Person> => {
  const random = prng(seed)
  const taken = new Set<string>()
  const out: Array<Person> = []
  while (out.length < count) {
    const first = pick(random, FIRST)
    const last = pick(random, LAST)
    const username = pick(random, usernameStyles)(first, last, random).slice(0, 30)
    if (taken.has(username)) continue
    taken.add(username)
    const displayName = random() < 0.9 ? `${capitalise(first)} ${capitalise(last)}` : capitalise(first)
    out.push({ username, displayName, bio: bioOf(random), isPrivate: random() < privateShare })
  }
  return out
}

/** One typo of the kind people make: a dropped, doubled, swapped or wrong letter. */
const misspell = (s: string, random: Random): string => {
  const i = 1 + Math.floor(random() * Math.max(1, s.length - 2))
  switch (Math.floor(random() * 4)) {
    case 0:
      return s.slice(0, i) + s.slice(i + 1)
    case 1:
      return s.slice(0, i) + s.charAt(i) + s.slice(i)
    case 2:
      return s.slice(0, i - 1) + s.charAt(i) + s.charAt(i - 1) + s.slice(i + 1)
    default:
      return s.slice(0, i) + String.fromCharCode(97 + Math.floor(random() * 26)) + s.slice(i + 1)
  }
}

export type SearchKind = "exact" | "prefix" | "fuzzy"

export interface SearchTerm {
  readonly kind: SearchKind
  readonly q: string
}

/**
 * An even mix of what a search box receives: whole usernames, the first 3–4 letters of a name
 * (the expensive case: thousands of candidates) and misspelled full names (only trigrams find them).
 */
export const searchTerms = (
  persons: ReadonlyArray<Pick<Person, "username" | "displayName">>,
  count: number,
  seed: number
): ReadonlyArray<SearchTerm> => {
  const random = prng(seed)
  const out: Array<SearchTerm> = []
  for (let i = 0; i < count; i++) {
    const p = pick(random, persons)
    switch (i % 3) {
      case 0:
        out.push({ kind: "exact", q: p.username })
        break
      case 1:
        out.push({ kind: "prefix", q: p.username.slice(0, 3 + Math.floor(random() * 2)) })
        break
      default:
        out.push({ kind: "fuzzy", q: misspell(p.displayName.toLowerCase(), random) })
    }
  }
  return out
}
