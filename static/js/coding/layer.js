// The layer held on the page: its codes and codings (and those deleted here,
// kept for undo), and the writes that change them. Each write is applied to
// the page at once and then queued (queue.js); `onReject` puts back what a
// refused write changed, and an answer's version is taken into the record.
import { pick, subtree } from "./layout.js";

const CODING_FIELDS = ["code_id", "start", "end", "memo"];
const CODE_FIELDS = ["name", "color", "definition", "inclusion", "exclusion", "example", "parent_id"];

export function createLayer(page) {
  const { api, transcriptId, codes, codings, removedCodings, removedCodes } = page;
  const queue = () => page.queue;

  /** Takes the codes, codings and assignment of a snapshot (the data block, or a reload). */
  function load(snapshot) {
    codes.clear();
    for (const code of snapshot.codes) codes.set(code.id, { ...code });
    codings.clear();
    for (const coding of snapshot.codings) codings.set(coding.id, { ...coding });
    page.assignment = snapshot.assignment;
    if (page.selectedId && !codings.has(page.selectedId)) page.selectedId = null;
    if (page.filterCodeId && !codes.has(page.filterCodeId)) page.codeList.setFilter(null, false);
    else if (page.filterCodeId) page.filterIds = subtree([...codes.values()], page.filterCodeId);
  }

  function countByCode() {
    const counts = new Map();
    for (const c of codings.values()) counts.set(c.code_id, (counts.get(c.code_id) ?? 0) + 1);
    return counts;
  }

  function currentVersion(kind, id) {
    const rec = kind === "code" ? codes.get(id) ?? removedCodes.get(id) : codings.get(id) ?? removedCodings.get(id);
    return rec?.version ?? 0;
  }

  function confirmCoding(json) {
    if (!json?.id) return;
    const rec = codings.get(json.id) ?? removedCodings.get(json.id);
    if (!rec) return;
    rec.version = json.version;
    // Later writes (queued, or a nudge still being made) hold newer values.
    if (!queue().isPending(json.id) && page.bounds.movingId() !== json.id) {
      Object.assign(rec, pick(json, CODING_FIELDS));
      delete rec.pending;
    }
  }

  function confirmCode(json) {
    if (!json?.id) return;
    const rec = codes.get(json.id) ?? removedCodes.get(json.id);
    if (!rec) return;
    rec.version = json.version;
    if (!queue().isPending(json.id)) {
      Object.assign(rec, pick(json, CODE_FIELDS));
      delete rec.pending;
    }
  }

  function createCoding(rec, label) {
    codings.set(rec.id, { ...rec, version: 0, pending: true });
    queue().enqueue({
      entity: rec.id, kind: "coding", label,
      method: "POST", url: `${api}/transcripts/${transcriptId}/codings`,
      body: pick(rec, ["id", "code_id", "start", "end", "memo"]),
      onOk: (json) => {
        confirmCoding(json);
        if (page.assignment && page.assignment.state === "assigned") {
          page.assignment = { ...page.assignment, state: "in_progress" };
          page.frame.showLayerState();
        }
      },
      onReject: () => {
        codings.delete(rec.id);
        if (page.selectedId === rec.id) page.selectedId = null;
      },
    });
  }

  function deleteCoding(id, label) {
    const rec = codings.get(id);
    if (!rec) return;
    codings.delete(id);
    removedCodings.set(id, rec);
    if (page.selectedId === id) page.selectedId = null;
    queue().enqueue({
      entity: id, kind: "coding", label,
      method: "DELETE", url: `${api}/codings/${id}`, body: null,
      onOk: (json) => {
        if (json?.version) rec.version = json.version;
      },
      onReject: () => {
        codings.set(id, rec);
      },
    });
  }

  function restoreCoding(id, label) {
    const rec = removedCodings.get(id);
    if (!rec) return;
    removedCodings.delete(id);
    codings.set(id, rec);
    queue().enqueue({
      entity: id, kind: "coding", label,
      method: "POST", url: `${api}/codings/${id}/restore`, body: null,
      onOk: confirmCoding,
      onReject: () => {
        codings.delete(id);
        removedCodings.set(id, rec);
      },
    });
  }

  function updateCoding(id, changes, label) {
    const rec = codings.get(id);
    if (!rec) return;
    const before = pick(rec, Object.keys(changes));
    Object.assign(rec, changes);
    queue().enqueue({
      entity: id, kind: "coding", label, fields: changes,
      method: "PATCH", url: `${api}/codings/${id}`,
      body: () => ({ ...changes, version: currentVersion("coding", id) }),
      onOk: confirmCoding,
      onReject: () => Object.assign(rec, before),
    });
  }

  function createCode(rec, label) {
    codes.set(rec.id, { definition: "", inclusion: "", exclusion: "", example: "", parent_id: null, ...rec, version: 0, pending: true });
    queue().enqueue({
      entity: rec.id, kind: "code", label,
      method: "POST", url: `${api}/codes`,
      body: pick(rec, ["id", "name", "color"]),
      onOk: confirmCode,
      onReject: () => {
        codes.delete(rec.id);
        // Codings queued with this code cannot be made either.
        const dropped = queue().drop((op) => op.method === "POST" && op.body?.code_id === rec.id);
        for (const op of dropped) codings.delete(op.entity);
      },
    });
  }

  function updateCode(id, changes, label) {
    const rec = codes.get(id);
    if (!rec) return;
    const before = pick(rec, Object.keys(changes));
    Object.assign(rec, changes);
    if ("parent_id" in changes && page.filterCodeId) page.filterIds = subtree([...codes.values()], page.filterCodeId);
    queue().enqueue({
      entity: id, kind: "code", label, fields: changes,
      method: "PATCH", url: `${api}/codes/${id}`,
      body: () => ({ ...changes, version: currentVersion("code", id) }),
      onOk: confirmCode,
      onReject: () => Object.assign(rec, before),
    });
  }

  function deleteCode(id, label) {
    const rec = codes.get(id);
    if (!rec) return;
    codes.delete(id);
    removedCodes.set(id, rec);
    // The server moves its subcodes up to its parent.
    const moved = [];
    for (const c of codes.values()) {
      if (c.parent_id === id) {
        moved.push(c.id);
        c.parent_id = rec.parent_id;
      }
    }
    if (page.filterCodeId === id) page.codeList.setFilter(null, false);
    queue().enqueue({
      entity: id, kind: "code", label,
      method: "DELETE", url: `${api}/codes/${id}`, body: null,
      onReject: () => {
        codes.set(id, rec);
        removedCodes.delete(id);
        for (const m of moved) if (codes.has(m)) codes.get(m).parent_id = id;
      },
    });
  }

  function restoreCode(id, label) {
    const rec = removedCodes.get(id);
    if (!rec) return;
    removedCodes.delete(id);
    codes.set(id, rec);
    queue().enqueue({
      entity: id, kind: "code", label,
      method: "POST", url: `${api}/codes/${id}/restore`, body: null,
      onOk: confirmCode,
      onReject: () => {
        codes.delete(id);
        removedCodes.set(id, rec);
      },
    });
  }

  return {
    load,
    countByCode,
    currentVersion,
    createCoding,
    deleteCoding,
    restoreCoding,
    updateCoding,
    createCode,
    updateCode,
    deleteCode,
    restoreCode,
  };
}
