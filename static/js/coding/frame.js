// The page around the text: the layer's state (read-only or not) and its
// submit button, the shortcuts overlay, and the keys that work anywhere.
import { isTyping } from "../common.js";

const STATE_LABELS = { assigned: "assigned", in_progress: "in progress", submitted: "submitted" };
const EDIT_HINT = "Select text with the mouse, or focus the text and use Shift+arrows; then type a code name.";
const READ_HINT = "Read-only: click a coding to see its code and memo.";

export function createFrame(page) {
  const { $, textRoot, codings, api, transcriptId, consensus, ui, bounds, picker, history, codeList } = page;

  function showLayerState() {
    const ro = !page.editable();
    let stateText = page.assignment ? STATE_LABELS[page.assignment.state] ?? page.assignment.state : "not assigned";
    if (consensus) stateText = ro ? "read-only" : "editable by you";
    $("layer-state").textContent = stateText;
    $("layer-state").dataset.state = page.assignment?.state ?? "none";
    document.body.classList.toggle("coding-read-only", ro);
    textRoot.setAttribute("aria-readonly", String(ro));
    const hint = $("caret-info");
    if ([EDIT_HINT, READ_HINT].includes(hint.textContent)) hint.textContent = ro ? READ_HINT : EDIT_HINT;
    const note = $("read-only-note");
    note.hidden = !ro;
    if (ro) {
      if (consensus) note.textContent = "The lead edits the consensus layer; you are reading it.";
      else note.textContent = page.assignment?.state === "submitted"
        ? "You have submitted your coding of this transcript: it is read-only unless the lead reopens it."
        : "This project is archived: your coding is read-only.";
      picker.close();
    }
    const submit = $("submit-layer");
    // The consensus layer is never submitted: decisions and the lead's edits make it.
    submit.hidden = !page.assignment || consensus;
    submit.disabled = ro;
    submit.textContent = page.assignment?.state === "submitted" ? "Submitted" : "Submit my coding";
    codeList.markDirty();
    history.showState();
  }

  $("submit-layer").addEventListener("click", (e) => {
    // The button also sits in a plain form for pages without JavaScript.
    e.preventDefault();
    if (!page.editable()) return;
    bounds.flush();
    const n = codings.size;
    if (!confirm(`Submit your coding of this transcript (${n} coding${n === 1 ? "" : "s"})?\n\nAfter submitting you can no longer change it, unless the lead reopens it.`)) return;
    picker.close();
    $("submit-layer").disabled = true;
    page.queue.enqueue({
      entity: page.assignment?.id ?? transcriptId, kind: "assignment", label: "Submitting",
      method: "POST", url: `${api}/transcripts/${transcriptId}/submit`, body: null,
      onOk: (json) => {
        page.assignment = { ...page.assignment, ...(json ?? {}), state: "submitted", can_edit: false };
        showLayerState();
        ui.toast("Your coding is submitted.");
        page.reloadWanted = true;
      },
      onReject: () => showLayerState(),
    });
  });

  const help = $("help-overlay");
  let helpReturn = null;
  function toggleHelp(open = help.hidden) {
    if (open) {
      helpReturn = document.activeElement;
      help.hidden = false;
      help.querySelector(".help-close").focus();
    } else {
      help.hidden = true;
      helpReturn?.focus?.();
    }
  }
  $("help-button").addEventListener("click", () => toggleHelp(true));
  help.querySelector(".help-close").addEventListener("click", () => toggleHelp(false));
  help.addEventListener("click", (e) => {
    if (e.target === help) toggleHelp(false);
  });
  help.addEventListener("keydown", (e) => {
    if (e.key === "Tab") {
      // Keep focus inside the overlay while it is open.
      e.preventDefault();
      help.querySelector(".help-close").focus();
    }
  });

  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented) return;
    const ctrl = e.ctrlKey || e.metaKey;
    if (e.key === "Escape" && !help.hidden) {
      e.preventDefault();
      toggleHelp(false);
      return;
    }
    if (e.key === "Escape" && !picker.element.hidden) {
      picker.close({ restoreFocus: true });
      return;
    }
    if (isTyping(e.target)) return;
    if (ctrl && !e.altKey && (e.key === "z" || e.key === "Z")) {
      e.preventDefault();
      if (e.shiftKey) history.redo();
      else history.undo();
      return;
    }
    if (ctrl && !e.altKey && (e.key === "y" || e.key === "Y")) {
      e.preventDefault();
      history.redo();
      return;
    }
    if (ctrl || e.altKey) return;
    if (e.key === "?") {
      e.preventDefault();
      toggleHelp();
    } else if (e.key === "t") {
      e.preventDefault();
      textRoot.focus();
    } else if (e.key === "/") {
      e.preventDefault();
      $("code-search").focus();
    } else if (e.key === "l") {
      e.preventDefault();
      codeList.focus();
    }
  });

  return { showLayerState };
}
