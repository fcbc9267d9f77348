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
    display: inline-flex;
    align-items: center;
    min-height: 44px;
  }
  nav {
    margin-left: auto;
    display: flex;
    align-items: center;
    gap: 0.3em;
  }
  nav ul {
    display: flex;
    gap: 0.3em;
    align-items: center;
    list-style: none;
    margin: 0;
    padding: 0;
  }
  nav a {
    color: inherit;
    text-decoration: none;
    padding: 0.3em 0.5em;
    border-radius: 8px;
    display: inline-flex;
    align-items: center;
    min-height: 44px;
  }
  nav a[aria-current="page"] {
    background: var(--_surface);
    font-weight: 600;
  }
  nav button {
    min-height: 44px;
  }
  .tab svg {
    display: none;
  }
  /* wide screens show the bell alone; its label stays the link's name */
  ap-notifications::part(label) {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  .more {
    position: relative;
  }
  .menu {
    position: absolute;
    right: 0;
    top: calc(100% + 6px);
    z-index: 6;
    display: block;
    min-width: 12em;
    padding: 0.3em;
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    box-shadow: 0 6px 24px rgb(0 0 0 / 0.18);
  }
  .menu a,
  .menu button {
    display: flex;
    width: 100%;
    min-height: 44px;
    align-items: center;
    padding: 0.5em 0.8em;
    border: 0;
    background: none;
    border-radius: 6px;
    text-align: left;
  }
  .menu a:hover,
  .menu button:hover {
    background: var(--_surface);
  }
  .back {
    margin: -0.4em 0 0.6em;
  }
  /* phones: the everyday destinations move to a tab bar at the bottom, clear of the home indicator */
  @media (max-width: 639px) {
    header {
      padding: 0.3em max(0.6em, env(safe-area-inset-left)) 0.3em max(0.6em, env(safe-area-inset-right));
      gap: 0.4em;
    }
    .tabs {
      position: fixed;
      z-index: 5;
      left: 0;
      right: 0;
      bottom: 0;
      justify-content: space-around;
      gap: 0;
      padding: 0 env(safe-area-inset-right) env(safe-area-inset-bottom) env(safe-area-inset-left);
      background: var(--_bg);
      border-top: 1px solid var(--_border);
    }
    .tabs li {
      flex: 1;
    }
    .tabs a,
    .tabs ap-notifications {
      width: 100%;
    }
    .tab {
      flex-direction: column;
      justify-content: center;
      gap: 0;
      width: 100%;
      min-height: 52px;
      font-size: 0.72em;
    }
    .tab svg {
      display: block;
    }
    ap-notifications::part(label) {
      position: static;
      width: auto;
      height: auto;
      overflow: visible;
      clip: auto;
    }
    nav a[aria-current="page"] {
      background: none;
      color: var(--_accent);
    }
    main {
      padding: 0.8em max(0.8em, env(safe-area-inset-left)) calc(72px + env(safe-area-inset-bottom)) max(0.8em, env(safe-area-inset-right));
    }
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
  .field-error {
    color: var(--_danger);
    font-weight: 400;
  }
  form.auth button {
    min-height: 44px;
  }
  .muted {
    color: var(--_muted);
  }
  .screen-loading {
    min-height: 40vh;
    border-radius: var(--_radius, 8px);
    background: linear-gradient(90deg, var(--_surface, #f2f2f2), var(--_border, #e3e3e3), var(--_surface, #f2f2f2));
    opacity: 0.6;
  }
  [role="alert"] button {
    min-height: 44px;
  }
`
