// Undo and redo. Each entry knows its inverse as writes of the layer: delete
// <-> restore, and an update back to the old values (sent with the version
// current by then). A toast offering to undo an entry goes once it is undone.

export function createHistory(page) {
  const { $ } = page;
  const undoStack = [];
  const redoStack = [];

  /** Records a change; answers its entry (for a toast's Undo). */
  function remember(label, undoIt, redoIt) {
    const entry = { label, undo: undoIt, redo: redoIt, onUndone: [] };
    undoStack.push(entry);
    if (undoStack.length > 500) undoStack.shift();
    redoStack.length = 0;
    showState();
    return entry;
  }

  /** The latest change, if any. */
  function latest() {
    return undoStack[undoStack.length - 1] ?? null;
  }

  /** Calls `callback` once `entry` is undone. */
  function whenUndone(entry, callback) {
    entry.onUndone.push(callback);
  }

  /** Undoes the latest change; with `only`, only if that is the latest. */
  function undo(only = null) {
    page.bounds.flush();
    if (only && latest() !== only) {
      return page.ui.toast("Later changes come first: undo them with Ctrl+Z.");
    }
    const entry = undoStack.pop();
    if (!entry) return page.ui.announce("Nothing to undo.");
    if (!page.editable()) return page.ui.toast("Your coding is read-only now.");
    entry.undo();
    redoStack.push(entry);
    for (const callback of entry.onUndone.splice(0)) callback();
    showState();
    page.ui.announce(`Undone: ${entry.label}`);
    page.scheduleRender();
  }

  function redo() {
    page.bounds.flush();
    const entry = redoStack.pop();
    if (!entry) return page.ui.announce("Nothing to redo.");
    if (!page.editable()) return page.ui.toast("Your coding is read-only now.");
    entry.redo();
    undoStack.push(entry);
    showState();
    page.ui.announce(`Redone: ${entry.label}`);
    page.scheduleRender();
  }

  function showState() {
    const u = $("undo");
    const r = $("redo");
    // A read-only view offers no editing at all, not even disabled.
    u.hidden = r.hidden = !page.editable();
    u.disabled = !undoStack.length || !page.editable();
    r.disabled = !redoStack.length || !page.editable();
    u.title = undoStack.length ? `Undo: ${undoStack[undoStack.length - 1].label} (Ctrl+Z)` : "Nothing to undo";
    r.title = redoStack.length ? `Redo: ${redoStack[redoStack.length - 1].label} (Ctrl+Shift+Z)` : "Nothing to redo";
  }

  $("undo").addEventListener("click", () => undo());
  $("redo").addEventListener("click", redo);

  return { remember, latest, whenUndone, undo, redo, showState };
}
