/**
 * `/embed`: how to put Aperture on another site — one copy-paste snippet per widget (its one
 * script and its element), the attributes every element takes, the theme properties, and embed
 * tokens for widgets that act for someone. A page of its own (not the app's shell), rendered on the
 * server with this server's origin written into every snippet, and a small script for Copy.
 */

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

interface Widget {
  readonly script: string
  readonly tag: string
  readonly attributes: string
  readonly title: string
  readonly about: string
}

const WIDGETS: ReadonlyArray<Widget> = [
  {
    script: "post",
    tag: "ap-post",
    attributes: `post-id="POST_ID"`,
    title: "A post",
    about: "One public photo with its caption, likes and comments. The post's id is the last part of its link (/p/…)."
  },
  {
    script: "profile",
    tag: "ap-profile",
    attributes: `username="USERNAME"`,
    title: "A profile",
    about: "A public account's header and photo grid."
  },
  {
    script: "feed",
    tag: "ap-feed",
    attributes: `token="ape_…"`,
    title: "Someone's home feed",
    about: "The feed of the person whose embed token it is. With a read + like token, readers of your page can like posts as that person."
  },
  {
    script: "notifications",
    tag: "ap-notifications",
    attributes: `token="ape_…"`,
    title: "Notifications",
    about: "The token owner's notifications (read only)."
  },
  {
    script: "user-search",
    tag: "ap-user-search",
    attributes: "",
    title: "People search",
    about: "Find accounts by name."
  }
]

const snippet = (base: string, w: Widget) =>
  `<script type="module" src="${base}/widgets/${w.script}.js"></script>\n` +
  `<${w.tag} api="${base}"${w.attributes === "" ? "" : ` ${w.attributes}`}></${w.tag}>`

const section = (base: string, w: Widget, i: number) => `
    <section aria-labelledby="w${i}">
      <h3 id="w${i}">${escape(w.title)} — <code>&lt;${w.tag}&gt;</code></h3>
      <p>${escape(w.about)}</p>
      <div class="snippet">
        <pre id="s${i}" tabindex="0"><code>${escape(snippet(base, w))}</code></pre>
        <button type="button" data-copy="s${i}" aria-label="Copy the ${escape(w.title.toLowerCase())} snippet">Copy</button>
      </div>
    </section>`

const STYLE = `
  :root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #4a5260; --border: #c9ced6; --code: #f3f5f8; --accent: #0b57d0 }
  @media (prefers-color-scheme: dark) { :root { --fg: #e8eaed; --bg: #121417; --muted: #b5bcc6; --border: #3a404a; --code: #1d2127; --accent: #8ab4f8 } }
  body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg) }
  header, main, footer { max-width: 52rem; margin: 0 auto; padding: 1rem 1.25rem }
  a { color: var(--accent) }
  p, li, td { color: var(--fg) }
  .muted { color: var(--muted) }
  code { font: 0.9em ui-monospace, SFMono-Regular, Menlo, monospace }
  .snippet { position: relative; margin: 0.5rem 0 1.5rem }
  pre { margin: 0; padding: 0.75rem 5rem 0.75rem 0.75rem; background: var(--code); border: 1px solid var(--border); border-radius: 8px; overflow-x: auto; white-space: pre }
  .snippet button { position: absolute; top: 0.5rem; right: 0.5rem; font: inherit; padding: 0.25rem 0.75rem; border-radius: 6px; border: 1px solid var(--border); background: var(--bg); color: var(--fg); cursor: pointer; min-height: 2rem }
  button:focus-visible, a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px }
  table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem }
  th, td { text-align: left; vertical-align: top; padding: 0.4rem 0.5rem; border-bottom: 1px solid var(--border) }
`

const SCRIPT = `
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const text = document.getElementById(button.dataset.copy).textContent
      try { await navigator.clipboard.writeText(text); button.textContent = "Copied" } catch { button.textContent = "Select and copy" }
      setTimeout(() => { button.textContent = "Copy" }, 2000)
    })
  }
`

/** The whole page, with `base` (this server's origin) in every snippet. */
export const renderEmbedPage = (base: string): string => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Embed Aperture on your site</title>
    <meta name="description" content="Copy-paste snippets for Aperture's widgets: posts, profiles, feeds and more, themed to fit your page." />
    <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
    <style>${STYLE}</style>
  </head>
  <body>
    <header>
      <p><a href="/">Aperture</a></p>
      <h1>Embed Aperture on your site</h1>
      <p>Each widget is one script and one element. Paste a snippet into any page: no account, no server setting needed for public posts and profiles.</p>
    </header>
    <main>
      <h2>Widgets</h2>
      ${WIDGETS.map((w, i) => section(base, w, i)).join("\n")}
      <p class="muted">One script defines every widget at once: <code>${escape(`${base}/widgets/aperture.js`)}</code>. Composing posts, direct messages and stories need the person signed in on Aperture itself, so they are not offered for other sites.</p>

      <h2>Attributes</h2>
      <table>
        <thead><tr><th scope="col">attribute</th><th scope="col">what it does</th></tr></thead>
        <tbody>
          <tr><td><code>api</code></td><td>The Aperture server, <code>${escape(base)}</code>.</td></tr>
          <tr><td><code>token</code></td><td>An embed token (<code>ape_…</code>) for a widget that acts for someone. Never a session token: widgets refuse one, say so in the browser console, and show what anyone may see.</td></tr>
          <tr><td><code>theme</code></td><td><code>light</code>, <code>dark</code>, or leave it out to follow the reader's preference.</td></tr>
        </tbody>
      </table>

      <h2>Theme</h2>
      <p>Set these CSS custom properties on the element or any ancestor, and style further through <code>::part</code>:</p>
      <div class="snippet">
        <pre id="theme" tabindex="0"><code>${escape(`ap-post, ap-feed {\n  --ap-font: "Georgia", serif;\n  --ap-accent: #b5446e;\n  --ap-radius: 4px;\n}`)}</code></pre>
        <button type="button" data-copy="theme" aria-label="Copy the theme example">Copy</button>
      </div>
      <p class="muted"><code>--ap-bg</code>, <code>--ap-fg</code>, <code>--ap-muted</code>, <code>--ap-border</code>, <code>--ap-surface</code>, <code>--ap-accent</code>, <code>--ap-accent-fg</code>, <code>--ap-like</code>, <code>--ap-danger</code>, <code>--ap-radius</code>, <code>--ap-font</code>, <code>--ap-focus</code>, <code>--ap-focus-ring</code>.</p>

      <h2>Embed tokens</h2>
      <p>A widget that shows someone's own feed or notifications needs an embed token of theirs. Create one in <a href="/settings">Settings → Embed tokens</a>:</p>
      <ul>
        <li><strong>Read</strong> — the feed, posts, comments, profiles and notifications; nothing can be changed.</li>
        <li><strong>Read + like</strong> — the same, and liking and unliking posts.</li>
      </ul>
      <p>A token can be limited to your site's origins, is shown once, and can be revoked at any time: it stops working at once. It can never post, comment, follow, send messages, change the account, or make more tokens. Live updates are not sent to embed tokens; the widgets show what is there when they load.</p>
    </main>
    <footer><p class="muted">Links to posts and profiles also embed on their own in sites that speak oEmbed (<code>${escape(`${base}/oembed`)}</code>).</p></footer>
    <script type="module">${SCRIPT}</script>
  </body>
</html>
`
