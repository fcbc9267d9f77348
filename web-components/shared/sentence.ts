/** A server message as a sentence: capitalised, ending in a full stop unless it has its own mark. */
export const sentence = (s: string) => {
  const t = s.trim()
  if (t === "") return t
  const capital = t[0]!.toUpperCase() + t.slice(1)
  return /[.!?]$/.test(capital) ? capital : `${capital}.`
}
