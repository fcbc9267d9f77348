import { css } from "lit"

export const styles = css`
  :host {
    min-height: 100vh;
    background: var(--_bg);
  }
  .skip {
    position: absolute;
    left: -999px;
  }
  .skip:focus {
    left: 1em;
    top: 1em;
    z-index: 10;
    background: var(--_bg);
    padding: 0.5em;
  }
  header {
    position: sticky;
    top: 0;
    z-index: 5;
    display: flex;
    align-items: center;
    gap: 1em;
    padding: 0.6em 1em;
    background: var(--_bg);
    border-bottom: 1px solid var(--_border);
  }
  .brand {
    font-weight: 800;
    font-size: 1.2em;
    color: inherit;
    text-decoration: none;
  }
  nav ul {
    display: flex;
    gap: 0.3em;
    align-items: center;
    list-style: none;
    margin: 0;
    padding: 0;
    flex-wrap: wrap;
  }
  nav {
    margin-left: auto;
  }
  nav a {
    color: inherit;
    text-decoration: none;
    padding: 0.3em 0.5em;
    border-radius: 8px;
  }
  nav a[aria-current="page"] {
    background: var(--_surface);
    font-weight: 600;
  }
  main {
    max-width: 640px;
    margin: 0 auto;
    padding: 1em;
  }
  main.wide {
    max-width: 980px;
  }
  .messages {
    display: grid;
    gap: 1em;
  }
  @media (min-width: 760px) {
    .messages {
      grid-template-columns: minmax(240px, 320px) 1fr;
      align-items: start;
    }
  }
  @media (max-width: 759px) {
    .messages.open ap-dm-inbox {
      display: none;
    }
  }
  h1 {
    font-size: 1.4em;
    margin: 0.2em 0 0.8em;
  }
  h1:focus {
    outline: none;
  }
  form.auth {
    display: grid;
    gap: 0.8em;
    max-width: 360px;
  }
  form.auth label {
    display: grid;
    gap: 0.3em;
    font-weight: 600;
  }
  .muted {
    color: var(--_muted);
  }
`
