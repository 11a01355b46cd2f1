// Small helpers the page scripts share: building elements, telling whether the
// user is typing, JSON requests with the CSRF token, and problem+json bodies
// turned into one sentence.

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function isTyping(target) {
  return target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

/** A problem+json body as one sentence for a toast. */
export function describeProblem(problem, fallback) {
  if (!problem || typeof problem !== "object") return fallback;
  const fields = problem.errors && typeof problem.errors === "object"
    ? Object.values(problem.errors).flat().filter(Boolean)
    : [];
  if (fields.length) return fields.join(" ");
  return problem.detail || problem.title || fallback;
}

/** A JSON request in the session: `{ status, ok, json }` (json null when none). */
export async function requestJson(method, url, body, csrf) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRF-Token"] = csrf;
  }
  const response = await fetch(url, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined || body === null ? undefined : JSON.stringify(body),
  });
  let json = null;
  try {
    json = await response.json();
  } catch {
    json = null;
  }
  return { status: response.status, ok: response.ok, json };
}
