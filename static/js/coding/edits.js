// What the coder does to the layer, each as one undoable change: apply a code
// (an existing one or a new one), change a coding's code, boundaries or memo,
// delete a coding, edit, delete or merge a code.
import { newId, nextColor, pick, saveRecent, withRecent } from "./layout.js";

export function createEdits(page) {
  const { api, codes, codings, layer, history } = page;

  /** The picker lists recently used codes first, on this page and the next ones of the project. */
  function noteRecent(codeId) {
    page.recentCodes = withRecent(page.recentCodes, codeId);
    saveRecent(page.localStore, page.recentKey, page.recentCodes);
  }

  function editCoding(id, changes, label) {
    const rec = codings.get(id);
    if (!rec) return;
    const before = pick(rec, Object.keys(changes));
    if (Object.keys(changes).every((k) => rec[k] === changes[k])) return;
    layer.updateCoding(id, changes, label);
    history.remember(label, () => layer.updateCoding(id, before, `Undo ${label}`), () => layer.updateCoding(id, changes, label));
    page.scheduleRender();
  }

  function removeCoding(id) {
    const rec = codings.get(id);
    if (!rec) return;
    const label = `delete coding “${codes.get(rec.code_id)?.name ?? ""}”`;
    layer.deleteCoding(id, label);
    const entry = history.remember(label, () => layer.restoreCoding(id, `Undo ${label}`), () => layer.deleteCoding(id, label));
    page.ui.toast(`Deleted a coding of “${codes.get(rec.code_id)?.name ?? ""}”.`, { undo: entry });
    page.scheduleRender();
  }

  function applyCode(codeId, range) {
    const code = codes.get(codeId);
    const id = newId();
    const label = `code “${code.name}”`;
    layer.createCoding({ id, code_id: codeId, start: range[0], end: range[1], memo: "" }, label);
    history.remember(label, () => layer.deleteCoding(id, `Undo ${label}`), () => layer.restoreCoding(id, label));
    noteRecent(codeId);
    return id;
  }

  function createCodeAndApply(name, range) {
    const codeId = newId();
    const color = nextColor([...codes.values()]);
    const id = newId();
    const label = `new code “${name}”`;
    layer.createCode({ id: codeId, name, color }, label);
    layer.createCoding({ id, code_id: codeId, start: range[0], end: range[1], memo: "" }, label);
    history.remember(
      label,
      () => {
        layer.deleteCoding(id, `Undo ${label}`);
        layer.deleteCode(codeId, `Undo ${label}`);
      },
      () => {
        layer.restoreCode(codeId, label);
        layer.restoreCoding(id, label);
      },
    );
    noteRecent(codeId);
    return id;
  }

  function recodeAsNew(id, name) {
    const rec = codings.get(id);
    const codeId = newId();
    const before = { code_id: rec.code_id };
    const label = `change the code to the new code “${name}”`;
    layer.createCode({ id: codeId, name, color: nextColor([...codes.values()]) }, label);
    layer.updateCoding(id, { code_id: codeId }, label);
    history.remember(
      label,
      () => {
        layer.updateCoding(id, before, `Undo ${label}`);
        layer.deleteCode(codeId, `Undo ${label}`);
      },
      () => {
        layer.restoreCode(codeId, label);
        layer.updateCoding(id, { code_id: codeId }, label);
      },
    );
    noteRecent(codeId);
  }

  function editCode(id, changes, label) {
    const rec = codes.get(id);
    if (!rec) return;
    const before = pick(rec, Object.keys(changes));
    if (Object.keys(changes).every((k) => rec[k] === changes[k])) return;
    layer.updateCode(id, changes, label);
    history.remember(label, () => layer.updateCode(id, before, `Undo ${label}`), () => layer.updateCode(id, changes, label));
    page.scheduleRender();
  }

  function removeCode(id) {
    const rec = codes.get(id);
    if (!rec) return;
    const n = [...codings.values()].filter((c) => c.code_id === id).length;
    const label = `delete code “${rec.name}”`;
    layer.deleteCode(id, label);
    const entry = history.remember(label, () => layer.restoreCode(id, `Undo ${label}`), () => layer.deleteCode(id, label));
    page.ui.toast(`Deleted the code “${rec.name}”${n ? ` and hid its ${n} coding${n === 1 ? "" : "s"} here` : ""}.`, { undo: entry });
    page.scheduleRender();
  }

  function mergeCode(id, into) {
    const source = codes.get(id);
    const target = codes.get(into);
    if (!source || !target) return;
    if (!confirm(`Merge “${source.name}” into “${target.name}”?\n\nEvery coding of “${source.name}”, in all your transcripts, becomes “${target.name}”, and “${source.name}” is deleted. This cannot be undone with Ctrl+Z.`)) return;
    page.bounds.flush();
    for (const c of codings.values()) if (c.code_id === id) c.code_id = into;
    // The server moves the merged code's subcodes under the target.
    for (const c of codes.values()) if (c.parent_id === id) c.parent_id = into;
    codes.delete(id);
    if (page.filterCodeId === id) page.codeList.setFilter(null, false);
    page.scheduleRender();
    page.queue.enqueue({
      entity: id, kind: "code", label: `merge “${source.name}” into “${target.name}”`,
      method: "POST", url: `${api}/codes/${id}/merge`, body: { into },
      onOk: (json) => {
        page.ui.toast(`Merged “${source.name}” into “${target.name}”${json?.moved !== undefined ? ` (${json.moved} coding${json.moved === 1 ? "" : "s"} moved)` : ""}.`);
        page.reloadWanted = true;
      },
      onReject: () => {
        page.reloadWanted = true;
      },
    });
  }

  return { noteRecent, editCoding, removeCoding, applyCode, createCodeAndApply, recodeAsNew, editCode, removeCode, mergeCode };
}
