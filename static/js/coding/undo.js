// Undo and redo. Each entry knows its inverse as writes of the layer: delete
// <-> restore, and an update back to the old values (sent with the version
// current by then).

export function createHistory(page) {
  const { $ } = page;
  const undoStack = [];
  const redoStack = [];

  function remember(label, undo, redo) {
    undoStack.push({ label, undo, redo });
    if (undoStack.length > 500) undoStack.shift();
    redoStack.length = 0;
    showState();
  }

  function undo() {
    page.bounds.flush();
    const entry = undoStack.pop();
    if (!entry) return page.ui.announce("Nothing to undo.");
    if (!page.editable()) return page.ui.toast("Your coding is read-only now.");
    entry.undo();
    redoStack.push(entry);
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
    u.disabled = !undoStack.length || !page.editable();
    r.disabled = !redoStack.length || !page.editable();
    u.title = undoStack.length ? `Undo: ${undoStack[undoStack.length - 1].label} (Ctrl+Z)` : "Nothing to undo";
    r.title = redoStack.length ? `Redo: ${redoStack[redoStack.length - 1].label} (Ctrl+Shift+Z)` : "Nothing to redo";
  }

  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);

  return { remember, undo, redo, showState };
}
