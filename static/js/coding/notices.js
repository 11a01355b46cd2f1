// What the page tells the coder: toasts (errors stay until dismissed), the
// screen reader's announcements, and whether every change is saved.
import { el } from "../common.js";

export function createNotices(page) {
  const { $ } = page;

  /** A toast; with `undo` (a history entry), a button that undoes it, and the toast goes once it is undone. */
  function toast(message, { error = false, undo: entry = null } = {}) {
    const box = el("div", `toast${error ? " error" : ""}`);
    box.setAttribute("role", error ? "alert" : "status");
    box.append(el("span", "", message));
    if (entry) {
      const b = el("button", "link", "Undo");
      b.type = "button";
      b.addEventListener("click", () => page.history.undo(entry));
      box.append(b);
      page.history.whenUndone(entry, () => box.remove());
    }
    const close = el("button", "link close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.addEventListener("click", () => box.remove());
    box.append(close);
    $("toasts").append(box);
    // Errors stay until dismissed: a failed write must not go unnoticed.
    if (!error) setTimeout(() => box.remove(), entry ? 8000 : 5000);
  }

  function announce(message) {
    $("announcer").textContent = message;
  }

  /** The save indicator: saving, saved, or why writes wait (with "Retry now"). */
  function showSaveState() {
    const box = $("save-state");
    const { problem, waiting } = page.queue.saveState();
    box.classList.toggle("error", Boolean(problem));
    box.replaceChildren();
    if (problem) {
      box.append(el("span", "", `${problem} (${waiting} waiting)`), " ");
      const b = el("button", "link", "Retry now");
      b.type = "button";
      b.addEventListener("click", () => page.queue.retryNow());
      box.append(b);
    } else if (waiting) {
      box.textContent = `Saving ${waiting} change${waiting === 1 ? "" : "s"}…`;
    } else {
      box.textContent = "All changes saved";
    }
  }

  return { toast, announce, showSaveState };
}
