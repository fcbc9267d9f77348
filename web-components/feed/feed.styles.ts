import { css } from "lit"

export const styles = css`
  .list {
    display: block;
    min-height: 1px;
  }
  :host,
  ap-post {
    scroll-margin-top: calc(var(--ap-feed-offset-top, 0px) + 8px);
  }
  ap-post {
    width: 100%;
    padding-bottom: var(--ap-feed-gap, 16px);
  }
  .pill-bar {
    position: sticky;
    top: calc(var(--ap-feed-offset-top, 0px) + var(--ap-feed-pill-top, 12px));
    z-index: 2;
    height: 0;
    overflow: visible;
  }
  .pill {
    display: block;
    margin: 0 auto;
    background: var(--_accent);
    color: var(--_accent-fg);
    border: none;
    border-radius: 999px;
    padding: 0.5em 1.2em;
    box-shadow: 0 2px 8px rgb(0 0 0 / 0.2);
  }
  .skeleton {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    margin-bottom: var(--ap-feed-gap, 16px);
    padding: 0.6em 0.8em 0.9em;
  }
  .skeleton-head {
    display: flex;
    align-items: center;
    gap: 0.6em;
    margin-bottom: 0.6em;
  }
  .skeleton-avatar,
  .skeleton-line,
  .skeleton-photo {
    display: block;
    background: var(--_surface);
    animation: pulse 1.4s ease-in-out infinite;
  }
  .skeleton-avatar {
    width: 32px;
    height: 32px;
    border-radius: 50%;
  }
  .skeleton-line {
    width: 40%;
    height: 0.9em;
    border-radius: 4px;
  }
  .skeleton-photo {
    aspect-ratio: 4 / 5;
    margin: 0 -0.8em 0.7em;
  }
  @keyframes pulse {
    50% {
      opacity: 0.5;
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .skeleton-avatar,
    .skeleton-line,
    .skeleton-photo {
      animation: none;
    }
  }
  .cta {
    display: inline-flex;
    align-items: center;
    min-height: 44px;
    padding: 0 1.2em;
    border-radius: 8px;
    background: var(--_accent);
    color: var(--_accent-fg);
    text-decoration: none;
    font-weight: 600;
  }
  .status {
    text-align: center;
    color: var(--_muted);
    padding: 1em;
  }
  .toast {
    position: sticky;
    bottom: 12px;
    z-index: 2;
    margin: 0 auto;
    max-width: 32em;
    background: var(--_danger);
    color: #fff;
    border-radius: 8px;
    padding: 0.6em 1em;
    display: flex;
    gap: 1em;
    align-items: center;
    justify-content: space-between;
  }
  .toast button {
    background: transparent;
    color: inherit;
    border-color: currentColor;
  }
`
