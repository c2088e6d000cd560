/**
 * The login form a browser gets instead of the dashboard when the listener has a token and
 * the browser has no session yet (auth.ts). It posts the token to /login, which sets the
 * session cookie and sends the browser back to the dashboard. Plain HTML, no script.
 */
import { DASHBOARD_CSS } from "./style.js";

/** Its Content-Security-Policy: nothing loads, and the form may post to this listener only. */
export const LOGIN_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function loginHtml(problem?: string): string {
  const note = problem
    ? `<p class="empty" role="alert">${problem.replace(/[&<>"']/g, (c) => ESCAPES[c])}</p>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>keepcache: log in</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_CSS}</style>
</head>
<body>
<header><div class="brand">keep<span>cache</span></div></header>
<main>
<form method="post" action="login">
  <h2>Admin token</h2>
  ${note}
  <p><input type="password" name="token" autocomplete="current-password" required autofocus aria-label="admin token">
  <button type="submit">Log in</button></p>
</form>
</main>
</body>
</html>
`;
}
