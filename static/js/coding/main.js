// The coding page: one coder's layer (or the consensus layer) on one
// transcript. This file holds the page's shared state and wires the parts.
//
// All offsets held here are code points, as in the data block and the API
// (DESIGN invariant 2); UTF-16 appears only where the DOM is read or written,
// through `offsets.js`. Every change is applied to the page at once and sent
// through one ordered queue of writes (queue.js), so nothing acknowledged on
// screen is lost when the network or the server is briefly away (invariant 4).
//
// Each part is made by a `create*(page)` function and hung on `page`; a part
// calls another through `page` when it runs, so the order below only matters
// for the parts a part takes from `page` as it is made.
import { requestJson } from "../common.js";
import { loadRecent } from "./layout.js";
import { createBounds } from "./bounds.js";
import { createCaret } from "./caret.js";
import { createCodeList } from "./codelist.js";
import { createEdits } from "./edits.js";
import { createFrame } from "./frame.js";
import { setupInput } from "./input.js";
import { createLayer } from "./layer.js";
import { createLive } from "./live.js";
import { createNotices } from "./notices.js";
import { createPanel } from "./panel.js";
import { unpackCodings } from "./packed.js";
import { createPicker } from "./picker.js";
import { transient, WriteQueue } from "./queue.js";
import { createHistory } from "./undo.js";
import { createView } from "./view.js";

function start() {
  const dataEl = document.getElementById("coding-data");
  const textRoot = document.getElementById("coding-text");
  if (!dataEl || !textRoot) return;
  const data = JSON.parse(dataEl.textContent);
  if (data.packed_codings) {
    data.codings = unpackCodings(data.packed_codings, data.transcript_id, data.user.id);
    delete data.packed_codings;
  }

  const page = {
    $: (id) => document.getElementById(id),
    textRoot,
    csrf: document.querySelector('meta[name="csrf-token"]')?.content ?? "",
    data,
    api: data.api,
    transcriptId: data.transcript_id,
    user: data.user,
    codingUrl: `${data.api}/transcripts/${data.transcript_id}/coding`,
    // The same page opens the consensus layer (agreed codes, edited by the lead).
    consensus: data.layer === "consensus",
    doc: null, // the transcript: text, offset map, lines, turns (view.js)
    codes: new Map(),
    codings: new Map(),
    removedCodings: new Map(), // deleted here, kept for undo
    removedCodes: new Map(),
    assignment: data.assignment,
    selectedId: null,
    filterIds: null, // Set of code ids shown, or null for all
    filterCodeId: null,
    caret: 0,
    anchor: 0,
    selectionExact: false, // Alt was held: do not snap to words
    recentCodes: [],
    // Recently used codes, per codebook (the API root names the project and layer) and coder.
    recentKey: `concord.recent.${data.api}.${data.user.id}`,
    localStore: {
      getItem: (key) => localStorage.getItem(key),
      setItem: (key, value) => localStorage.setItem(key, value),
    },
    reloadWanted: false,
    editable: () => Boolean(page.assignment?.can_edit) && page.assignment?.state !== "submitted",
    scheduleRender,
    scheduleReload,
  };

  const request = (method, url, body) => requestJson(method, url, body, page.csrf);

  // Signing in again (in another tab, after the session ended) gives a new
  // CSRF token; a write refused for the old one is sent again with the new.
  async function refreshCsrf() {
    try {
      const result = await request("GET", "/api/v1/session");
      const token = result.json?.csrf_token;
      if (result.ok && token && token !== page.csrf) {
        page.csrf = token;
        return true;
      }
    } catch {
      // Still offline: the retry will say so.
    }
    return false;
  }

  page.recentCodes = loadRecent(page.localStore, page.recentKey);
  page.ui = createNotices(page);
  page.view = createView(page);
  page.cursor = createCaret(page);
  page.bounds = createBounds(page);
  page.overlays = [page.cursor.element, ...page.bounds.handles];
  page.queue = new WriteQueue({
    transport: request,
    // sessionStorage itself may throw where storage is disabled: reach it only inside the queue's guards.
    storage: {
      getItem: (key) => sessionStorage.getItem(key),
      setItem: (key, value) => sessionStorage.setItem(key, value),
      removeItem: (key) => sessionStorage.removeItem(key),
    },
    storeKey: `concord.pending.${page.transcriptId}.${page.user.id}`,
    refreshCredentials: refreshCsrf,
    hooks: {
      beforeSend: (op) => page.live.expectEcho(op.entity),
      onChange: () => page.ui.showSaveState(),
      onSettled: () => scheduleRender(),
      onIdle: () => {
        if (page.reloadWanted) reload();
      },
      notify: (message, options) => page.ui.toast(message, options),
      wantReload: () => {
        page.reloadWanted = true;
      },
    },
  });
  window.addEventListener("online", () => page.queue.retryNow());
  page.layer = createLayer(page);
  page.history = createHistory(page);
  page.edits = createEdits(page);
  page.picker = createPicker(page);
  setupInput(page);
  page.panel = createPanel(page);
  page.codeList = createCodeList(page);
  page.frame = createFrame(page);
  page.live = createLive(page);

  let renderQueued = false;
  let lastFrameMs = 0;
  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      const started = performance.now();
      page.view.render();
      page.codeList.render();
      page.panel.render();
      page.cursor.place();
      page.bounds.placeHandles();
      lastFrameMs = performance.now() - started;
    });
  }

  let reloadTimer = null;
  function scheduleReload(delay = 250) {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(reload, delay);
  }

  async function reload() {
    if (page.queue.busy || page.bounds.movingId()) {
      // The page shows writes the server has not answered yet; a snapshot now
      // would take them away until they land.
      page.reloadWanted = true;
      return;
    }
    page.reloadWanted = false;
    let result;
    try {
      result = await request("GET", page.codingUrl);
    } catch {
      scheduleReload(5000);
      return;
    }
    if (!result.ok || !result.json) {
      if (transient(result.status)) scheduleReload(5000);
      return;
    }
    if (page.queue.busy) {
      page.reloadWanted = true;
      return;
    }
    const snapshot = result.json;
    const textChanged = snapshot.transcript.text !== page.doc.text;
    page.data = snapshot;
    if (textChanged) {
      page.view.load(snapshot.transcript);
      page.view.buildSkeleton();
    }
    page.layer.load(snapshot);
    page.frame.showLayerState();
    scheduleRender();
  }

  /** Sends again the writes a previous visit of this page left unanswered. */
  function replayStored() {
    const stored = page.queue.stored();
    if (!stored.length) return;
    page.ui.toast(`Sending ${stored.length} change${stored.length === 1 ? "" : "s"} not yet saved when this page was last left…`);
    page.queue.replay(stored, page.layer.currentVersion);
    page.reloadWanted = true;
  }

  window.addEventListener("beforeunload", (e) => {
    page.bounds.flush();
    page.panel.saveMemoIfTyping();
    if (page.queue.length) {
      e.preventDefault();
      e.returnValue = "";
    }
  });

  let resizeFrame = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(() => {
      page.cursor.place();
      page.bounds.placeHandles();
      if (!page.picker.element.hidden) page.picker.position();
    });
  });

  page.view.load(data.transcript);
  page.layer.load(data);
  page.view.buildSkeleton();
  page.frame.showLayerState();
  page.ui.showSaveState();
  page.history.showState();
  page.view.render();
  page.codeList.render();
  page.panel.render();
  replayStored();
  page.live.connect();
  textRoot.dataset.ready = "true";

  // For measurements from a test page: how long the last render of the text took.
  globalThis.concordCoding = {
    renderMs: () => page.view.renderMs(),
    frameMs: () => lastFrameMs,
    rerenderAll: () => page.view.renderAll(),
  };
}

start();
