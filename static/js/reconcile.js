// The reconciliation page: coder A's and coder B's codings as stripes in the
// left and right margins, the discrepancy list with j/k navigation, and one
// key per decision. Offsets from the server are code points; the DOM counts
// UTF-16 units, converted through OffsetMap (offsets.js).

import { describeProblem, el, isTyping, requestJson } from "./common.js";
import { OffsetMap } from "./offsets.js";

// ---------------------------------------------------------------------------
// Pure helpers, exported for tests/js/reconcile.test.mjs.

export const KEYS = {
  a: "accept_a",
  b: "accept_b",
  o: "both",
  u: "union",
  i: "intersection",
  r: "relabel",
  x: "reject",
  z: "undo",
};

export const KIND_LABELS = {
  agreement: "Agreement",
  boundary: "Same code, different boundaries",
  different_code: "Same span, different codes",
  partial_overlap: "Partly overlapping",
  only_a: "Coded by A only",
  only_b: "Coded by B only",
};

export const DECISION_LABELS = {
  accept_a: "Accept A",
  accept_b: "Accept B",
  both: "Keep both",
  union: "Union",
  intersection: "Intersection",
  relabel: "Relabel",
  reject: "Reject",
  undo: "Undo",
};

/** The index of the next (dir 1) or previous (dir -1) item from `from`, wrapping; -1 if none. */
export function step(count, from, dir) {
  if (count === 0) return -1;
  if (from < 0) return dir > 0 ? 0 : count - 1;
  return (from + dir + count) % count;
}

/** The first unresolved item after `from` (wrapping), or -1 when all are resolved. */
export function nextOpen(items, from) {
  for (let n = 1; n <= items.length; n++) {
    const i = (from + n + items.length) % items.length;
    if (!items[i].resolved) return i;
  }
  return -1;
}

/** Whether a union / intersection of this discrepancy needs the lead to pick the code. */
export function needsCode(item, kind) {
  const d = item.discrepancy;
  return (kind === "union" || kind === "intersection") && d.a && d.b && d.a.code_id !== d.b.code_id;
}

/** An exact overlap ratio from the API ("21/25", or "1") as a rounded percentage; null if none. */
export function overlapPercent(ratio) {
  if (typeof ratio !== "string") return null;
  const [num, den = "1"] = ratio.split("/");
  const value = Number(num) / Number(den);
  return Number.isFinite(value) ? Math.round(value * 100) : null;
}

/** The decision request for a chosen code name: an existing agreed code, or a new one. */
export function codeChoice(codes, name) {
  const wanted = name.trim().toLowerCase();
  if (!wanted) return null;
  const found = codes.find((c) => c.name.toLowerCase() === wanted);
  return found ? { code_id: found.id } : { new_code_name: name.trim() };
}

// ---------------------------------------------------------------------------
// The page.

function start() {
  const dataEl = document.getElementById("reconcile-data");
  if (!dataEl) return;
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  let data = JSON.parse(dataEl.textContent);
  const map = new OffsetMap(data.text);
  const lineEls = [...document.querySelectorAll("#reconcile-text .line")];
  const url = `${data.api}/transcripts/${data.transcript_id}/reconciliation`;
  let items = [];
  let agreements = [];
  let selected = null; // key of the item shown
  let pendingKind = null; // union / intersection / relabel waiting for a code

  const colorOf = (codeId) => data.codes.find((c) => c.id === codeId)?.color ?? "#888";
  const lineOf = (cp) => {
    let lo = 0;
    let hi = data.lines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (data.lines[mid].start <= cp) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const quote = (side) => map.slice(side.start, side.end);

  // A DOM position for code point `cp`, inside the text of its line.
  function position(cp) {
    const i = lineOf(cp);
    const textEl = lineEls[i]?.querySelector(".text");
    if (!textEl) return null;
    let want = map.toU16(cp) - map.toU16(data.lines[i].start);
    const walker = document.createTreeWalker(textEl, NodeFilter.SHOW_TEXT);
    let node = walker.nextNode();
    let last = null;
    while (node) {
      if (want <= node.data.length) return [node, want];
      want -= node.data.length;
      last = node;
      node = walker.nextNode();
    }
    return last ? [last, last.data.length] : null;
  }

  function range(startCp, endCp) {
    const a = position(startCp);
    const b = position(endCp);
    if (!a || !b) return null;
    const r = document.createRange();
    r.setStart(a[0], a[1]);
    r.setEnd(b[0], b[1]);
    return r;
  }

  function paintHighlights() {
    if (typeof CSS === "undefined" || !CSS.highlights || typeof Highlight === "undefined") return;
    const agreed = new Highlight();
    for (const item of agreements) {
      const s = item.discrepancy.a;
      const r = s && range(s.start, s.end);
      if (r) agreed.add(r);
    }
    const a = new Highlight();
    const b = new Highlight();
    const item = findItem(selected);
    if (item?.discrepancy.a) {
      const r = range(item.discrepancy.a.start, item.discrepancy.a.end);
      if (r) a.add(r);
    }
    if (item?.discrepancy.b) {
      const r = range(item.discrepancy.b.start, item.discrepancy.b.end);
      if (r) b.add(r);
    }
    CSS.highlights.set("rec-agreed", agreed);
    CSS.highlights.set("rec-a", a);
    CSS.highlights.set("rec-b", b);
  }

  function paintStripes() {
    for (const line of lineEls) {
      line.querySelector(".margin-a").replaceChildren();
      line.querySelector(".margin-b").replaceChildren();
      line.classList.remove("current");
    }
    const all = [...items, ...agreements];
    const lanes = { a: new Map(), b: new Map() };
    for (const item of all) {
      for (const side of ["a", "b"]) {
        const s = item.discrepancy[side];
        if (!s) continue;
        const first = lineOf(s.start);
        const last = lineOf(Math.max(s.start, s.end - 1));
        for (let i = first; i <= last; i++) {
          const lane = lanes[side].get(i) ?? 0;
          lanes[side].set(i, lane + 1);
          const stripe = el("span", "stripe");
          stripe.dataset.key = item.key;
          stripe.style.setProperty("--c", colorOf(s.code_id));
          stripe.style.setProperty("--lane", String(lane));
          stripe.title = `${side.toUpperCase()}: ${s.code_name}`;
          if (item.discrepancy.kind === "agreement") stripe.classList.add("agreed");
          if (item.resolved) stripe.classList.add("resolved");
          if (item.key === selected) stripe.classList.add("sel");
          if (i === first) stripe.classList.add("top");
          if (i === last) stripe.classList.add("bottom");
          lineEls[i]?.querySelector(`.margin-${side}`).append(stripe);
          if (item.key === selected) lineEls[i]?.classList.add("current");
        }
      }
    }
  }

  function findItem(key) {
    return items.find((i) => i.key === key) ??
      agreements.find((i) => i.key === key) ??
      data.orphans.find((i) => i.key === key) ?? null;
  }

  function describeSide(label, side, coderId) {
    const box = el("div", `side side-${label.toLowerCase()}`);
    const head = el("p", "side-head");
    const coder = data.coders.find((c) => c.id === coderId)?.name;
    head.append(el("strong", "", `${label}${coder ? ` (${coder})` : ""}: `));
    if (side) {
      const sw = el("span", "swatch");
      sw.style.setProperty("--c", colorOf(side.code_id));
      head.append(sw, ` ${side.code_name} `, el("span", "muted", `line ${lineOf(side.start) + 1}`));
      box.append(head, el("blockquote", "quote", quote(side)));
    } else {
      head.append(el("span", "muted", "nothing coded here"));
      box.append(head);
    }
    return box;
  }

  function decisionText(d) {
    const code = d.agreed_code_id ? data.codes.find((c) => c.id === d.agreed_code_id)?.name : null;
    let text = DECISION_LABELS[d.kind] ?? d.kind;
    if (code) text += ` → ${code}`;
    return text;
  }

  function renderCurrent() {
    const item = findItem(selected);
    const body = $("current-body");
    body.replaceChildren();
    $("current").dataset.key = item?.key ?? "";
    if (!item) {
      body.append(el("p", "muted", items.length ? "Choose a discrepancy from the list." : "Nothing to reconcile here."));
      $("history").replaceChildren();
      $("comments").replaceChildren();
      const buttons = $("decision-buttons");
      if (buttons) buttons.replaceChildren();
      return;
    }
    const d = item.discrepancy;
    const head = el("p", "kind");
    head.append(el("strong", "", KIND_LABELS[d.kind] ?? d.kind), ` · line ${item.line}`);
    const overlap = overlapPercent(item.overlap);
    if (overlap !== null) head.append(el("span", "muted", ` · overlap ${overlap}%`));
    const status = el("p", "status");
    status.id = "current-status";
    status.textContent = item.current
      ? `Decided: ${decisionText(item.current)}${item.current.auto ? " (automatically)" : ""}`
      : item.resolved ? "Accepted automatically" : "Open";
    status.dataset.state = item.resolved ? "resolved" : "open";
    body.append(head, describeSide("A", d.a, d.coder_a), describeSide("B", d.b, d.coder_b), status);
    if (item.outdated && !item.current) {
      const note = el("p", "notice outdated-note",
        `Decided earlier as “${decisionText(item.outdated)}”, before the codes or spans of this discrepancy changed` +
        " (a re-alignment or a reopened layer). Decide again: the new decision replaces that decision's consensus spans.");
      note.id = "outdated-note";
      body.append(note);
    }
    if (!item.present) body.append(el("p", "notice", "This discrepancy is no longer in the list (the layers or the alignment changed)."));

    const buttons = $("decision-buttons");
    if (buttons) {
      buttons.replaceChildren();
      const kinds = item.present ? [...item.offered] : [];
      if (item.current || item.outdated) kinds.push("undo");
      const keyOf = Object.fromEntries(Object.entries(KEYS).map(([k, v]) => [v, k]));
      for (const kind of kinds) {
        const button = el("button", `small${kind === "reject" || kind === "undo" ? " secondary" : ""}`);
        button.type = "button";
        button.dataset.kind = kind;
        button.append(DECISION_LABELS[kind] ?? kind, " ", el("kbd", "", keyOf[kind] ?? ""));
        if (item.current?.kind === kind) button.classList.add("chosen");
        button.addEventListener("click", () => choose(kind));
        buttons.append(button);
      }
    }

    const history = $("history");
    history.replaceChildren();
    if (item.history.length) {
      history.append(el("h4", "", "History"));
      const list = el("ol", "history-list");
      for (const dec of item.history) {
        const li = el("li", dec.id === item.current?.id ? "in-force" : "superseded");
        li.append(el("strong", "", decisionText(dec)), ` by ${dec.decided_by_name}${dec.auto ? " (automatic)" : ""} `,
          el("time", "muted", new Date(dec.created_at).toLocaleString()));
        if (dec.rationale) li.append(el("p", "rationale", dec.rationale));
        list.append(li);
      }
      history.append(list);
    }
    const comments = $("comments");
    comments.replaceChildren();
    if (item.comments.length) {
      comments.append(el("h4", "", "Discussion"));
      const list = el("ul", "comment-list");
      for (const c of item.comments) {
        const li = el("li", "comment");
        li.append(el("strong", "", c.author_name), " ", el("time", "muted", new Date(c.created_at).toLocaleTimeString()), el("p", "", c.body));
        list.append(li);
      }
      comments.append(list);
    }
  }

  function renderList(listEl, list) {
    listEl.replaceChildren();
    for (const item of list) {
      const li = el("li", `item kind-${item.discrepancy.kind}${item.resolved ? " resolved" : " open"}`);
      li.dataset.key = item.key;
      li.tabIndex = -1;
      if (item.key === selected) {
        li.classList.add("sel");
        li.setAttribute("aria-current", "true");
      }
      const d = item.discrepancy;
      const names = [d.a?.code_name, d.b?.code_name].filter(Boolean);
      li.append(el("span", "where", `L${item.line}`), " ", el("span", "what", KIND_LABELS[d.kind] ?? d.kind), " ",
        el("span", "codes muted", [...new Set(names)].join(" / ")), " ",
        el("span", "state", item.current ? decisionText(item.current) : item.resolved ? "accepted" : item.outdated ? "open (outdated decision)" : "open"));
      if (item.comments.length) li.append(" ", el("span", "badge", `${item.comments.length} 💬`));
      li.addEventListener("click", () => select(item.key));
      listEl.append(li);
    }
  }

  function render() {
    items = data.items.filter((i) => i.discrepancy.kind !== "agreement" || !data.settings.auto_accept_agreements);
    agreements = data.items.filter((i) => i.discrepancy.kind === "agreement" && data.settings.auto_accept_agreements);
    if (selected === null || !findItem(selected)) {
      const open = nextOpen(items, -1);
      selected = open >= 0 ? items[open].key : items[0]?.key ?? null;
    }
    $("reconcile-progress").textContent =
      `${data.resolved} of ${data.total} discrepancies resolved${data.reconciled ? " · reconciled" : ""}`;
    $("reconcile-progress").dataset.reconciled = String(data.reconciled);
    const unaligned = $("unaligned-note");
    if (unaligned) {
      unaligned.hidden = data.unaligned.length === 0;
      const total = data.unaligned.reduce((n, u) => n + u.codings, 0);
      const names = data.unaligned.map((u) => `${u.name} (${data.coders.find((c) => c.id === u.coder)?.name ?? "a coder"}, ${u.codings})`);
      unaligned.querySelector("span").textContent =
        `${total} coding(s) are under codes not aligned onto the agreed codebook yet, so they are in no discrepancy: ${names.join(", ")}.`;
    }
    renderList($("discrepancy-list"), items);
    renderList($("agreement-list"), agreements);
    $("agreements-title").hidden = agreements.length === 0;
    $("orphans-section").hidden = data.orphans.length === 0;
    renderList($("orphan-list"), data.orphans);
    renderCurrent();
    paintStripes();
    paintHighlights();
  }

  function select(key) {
    selected = key;
    pendingKind = null;
    hideRelabel();
    render();
    const item = findItem(key);
    const s = item?.discrepancy.a ?? item?.discrepancy.b;
    if (s) lineEls[lineOf(s.start)]?.scrollIntoView({ block: "nearest" });
    document.querySelector(`li[data-key="${key}"]`)?.scrollIntoView({ block: "nearest" });
  }

  function move(dir) {
    const index = items.findIndex((i) => i.key === selected);
    const next = step(items.length, index, dir);
    if (next >= 0) select(items[next].key);
  }

  const request = (method, target, body) => requestJson(method, target, body, csrf);

  let reloading = null;
  async function reload() {
    if (reloading) return reloading;
    reloading = (async () => {
      const result = await request("GET", url);
      if (result.ok) {
        data = result.json;
        render();
      }
    })();
    try {
      await reloading;
    } finally {
      reloading = null;
    }
  }

  function showError(message) {
    const box = $("decision-error");
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  }

  function hideRelabel() {
    const box = $("relabel");
    if (box) box.hidden = true;
  }

  function askCode(kind) {
    pendingKind = kind;
    const box = $("relabel");
    if (!box) return;
    const list = $("relabel-codes");
    list.replaceChildren(...data.codes.map((c) => {
      const option = document.createElement("option");
      option.value = c.name;
      return option;
    }));
    $("relabel-apply").textContent = DECISION_LABELS[kind];
    // The coders' own codes first (keys 1 and 2), then any other by name.
    const choices = $("code-choices");
    const sides = codeSides(findItem(selected));
    if (choices) {
      choices.replaceChildren();
      sides.forEach((side, i) => {
        const button = el("button", "small secondary code-choice");
        button.type = "button";
        button.dataset.codeId = side.code_id;
        button.append(`${side.label}'s code: ${side.code_name} `, el("kbd", "", String(i + 1)));
        button.addEventListener("click", () => choose(kind, { code_id: side.code_id }));
        choices.append(button);
      });
      choices.hidden = sides.length === 0;
    }
    $("relabel-other-label").firstChild.textContent = sides.length ? "or another code " : "Relabel to ";
    box.hidden = false;
    $("relabel-input").value = "";
    if (sides.length) choices.querySelector("button").focus();
    else $("relabel-input").focus();
  }

  /** The distinct codes of a discrepancy's sides, as A's and B's choices. */
  function codeSides(item) {
    const out = [];
    for (const [label, side] of [["A", item?.discrepancy.a], ["B", item?.discrepancy.b]]) {
      if (side && !out.some((o) => o.code_id === side.code_id)) out.push({ label, ...side });
    }
    return out;
  }

  let busy = false;
  async function choose(kind, extra = {}) {
    const item = findItem(selected);
    if (!item || !data.can_decide || busy) return;
    if (kind !== "undo" && !item.offered.includes(kind)) {
      showError(`${DECISION_LABELS[kind]} does not apply to this discrepancy.`);
      return;
    }
    if (kind === "undo" && !item.current && !item.outdated) return;
    if ((kind === "relabel" || needsCode(item, kind)) && !extra.code_id && !extra.new_code_name) {
      askCode(kind);
      return;
    }
    const rationaleEl = $("rationale");
    const rationale = rationaleEl?.value ?? "";
    if (data.settings.require_rationale && (kind === "relabel" || kind === "reject") && !rationale.trim()) {
      showError("This project asks for a reason for every relabel and reject.");
      rationaleEl?.focus();
      return;
    }
    busy = true;
    showError("");
    const result = await request("POST", `${data.api}/transcripts/${data.transcript_id}/decisions`, {
      key: item.key,
      kind,
      rationale,
      supersedes: item.history.length ? (chainEnd(item.history)?.id ?? null) : null,
      ...extra,
    });
    busy = false;
    if (!result.ok) {
      showError(describeProblem(result.json, "The decision could not be saved."));
      await reload();
      return;
    }
    if (rationaleEl) rationaleEl.value = "";
    hideRelabel();
    pendingKind = null;
    await reload();
    if (kind !== "undo") {
      const index = items.findIndex((i) => i.key === item.key);
      const next = nextOpen(items, index);
      if (next >= 0) select(items[next].key);
    }
  }

  function chainEnd(history) {
    return history.find((d) => !history.some((n) => n.supersedes === d.id)) ?? null;
  }

  $("relabel-apply")?.addEventListener("click", () => {
    const choice = codeChoice(data.codes, $("relabel-input").value);
    if (!choice) {
      showError("Name the code.");
      return;
    }
    choose(pendingKind ?? "relabel", choice);
  });
  $("relabel-input")?.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      $("relabel-apply").click();
    } else if (event.key === "Escape") {
      hideRelabel();
      pendingKind = null;
    }
  });
  $("relabel")?.addEventListener("keydown", (event) => {
    if (event.target === $("relabel-input") || !/^[12]$/.test(event.key)) return;
    const button = $("code-choices")?.querySelectorAll("button")[Number(event.key) - 1];
    if (button) {
      event.preventDefault();
      button.click();
    }
  });
  $("relabel-cancel")?.addEventListener("click", () => {
    hideRelabel();
    pendingKind = null;
  });

  $("comment-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const item = findItem(selected);
    const bodyEl = $("comment-body");
    if (!item || !bodyEl.value.trim()) return;
    const result = await request("POST", `${data.api}/transcripts/${data.transcript_id}/comments`, {
      key: item.key,
      body: bodyEl.value,
    });
    if (result.ok) {
      bodyEl.value = "";
      await reload();
    } else {
      showError(describeProblem(result.json, "The comment could not be saved."));
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const key = event.key.toLowerCase();
    if (key === "j") move(1);
    else if (key === "k") move(-1);
    else if (key === "w") $("rationale")?.focus();
    else if (key === "c") $("comment-body").focus();
    else if (KEYS[key] && data.can_decide) choose(KEYS[key]);
    else return;
    event.preventDefault();
  });

  for (const side of ["a", "b"]) {
    document.getElementById("reconcile-text").addEventListener("click", (event) => {
      const stripe = event.target.closest?.(`.margin-${side} .stripe`);
      if (stripe) select(stripe.dataset.key);
    });
  }

  // Live: decisions, comments and consensus changes of this transcript.
  function connectLive() {
    if (!data.events_url || typeof EventSource === "undefined") return;
    const source = new EventSource(data.events_url);
    source.onmessage = (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      const kind = String(event.kind ?? "");
      if ((kind.startsWith("decision.") || kind.startsWith("consensus.")) &&
          (!event.transcript_id || event.transcript_id === data.transcript_id)) {
        $("live-state").textContent = "Updated live";
        reload();
      }
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        $("live-state").textContent = "Live updates paused";
        setTimeout(() => {
          connectLive();
          reload();
        }, 15000);
      }
    };
  }

  render();
  connectLive();
  document.body.dataset.reconcileReady = "true";
}

if (typeof document !== "undefined") start();
