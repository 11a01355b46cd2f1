// The browser half of "nothing acknowledged is lost" (DESIGN invariant 4).
//
// Every change the page shows is sent through one ordered queue of writes.
// A write leaves the queue only when the server has answered it: a network
// failure, a 5xx, a 408/429 or an ended session (401) keeps it, and it is sent
// again after a pause that doubles up to 30 s. Creates carry the client's own
// UUID in an unchanged body, so a retry of one the server already made is a
// no-op. Updates carry the version they are based on, read when they are sent
// (`body` may be a function), so a retry after an earlier write of the same
// record has landed uses the new version. A stale update (409) is not retried:
// the writes queued after it for the same record are dropped with it and the
// page is asked to reload the current record. Writes not yet answered are kept
// in storage, so a page reloaded with a pending queue sends them again.
//
// No DOM here: the transport (a fetch-like `(method, url, body) ->
// {status, ok, json}`), the storage (`getItem`/`setItem`/`removeItem`), the
// timers and the hooks are given, and tests/js/queue.test.mjs drives it.
import { describeProblem } from "../common.js";

/** A failure worth retrying: no answer, a timeout, throttling, an ended session or a server error. */
export function transient(status) {
  return status === 0 || status === 401 || status === 408 || status === 429 || status >= 500;
}

const MAX_RETRY_MS = 30000;

export class WriteQueue {
  /**
   * @param {object} options
   * @param {(method: string, url: string, body: any) => Promise<{status: number, ok: boolean, json: any}>} options.transport
   * @param {{getItem, setItem, removeItem} | null} [options.storage] where unanswered writes survive a reload
   * @param {string} [options.storeKey]
   * @param {() => Promise<boolean>} [options.refreshCredentials] asks for a new CSRF token; true when it changed
   * @param {{setTimeout, clearTimeout}} [options.timers]
   * @param {object} [options.hooks] `beforeSend(op)`, `onChange()` (what `saveState` says changed),
   *   `onSettled(op, result)` (an op left the queue), `onIdle()` (the queue is empty again),
   *   `notify(message, {error})`, `wantReload()` (the page must fetch the current records)
   */
  constructor({ transport, storage = null, storeKey = "concord.pending", refreshCredentials = async () => false, timers = globalThis, hooks = {} }) {
    this.transport = transport;
    this.storage = storage;
    this.storeKey = storeKey;
    this.refreshCredentials = refreshCredentials;
    this.timers = timers;
    this.hooks = hooks;
    this.ops = [];
    this.pendingFor = new Map(); // entity id -> ops not yet answered
    this.sending = false;
    this.retryTimer = null;
    this.retryDelay = 0;
    this.retryProblem = "";
    this.lastStatus = 200;
  }

  get length() {
    return this.ops.length;
  }

  /** Writes are queued or one is on its way. */
  get busy() {
    return this.ops.length > 0 || this.sending;
  }

  /** Some write for this record is not yet answered. */
  isPending(entity) {
    return this.pendingFor.has(entity);
  }

  /**
   * Queues `op`: `{entity, kind, method, url, body, fields?, label?, onOk?(json), onReject?(result)}`.
   * `body` is a value or a function called at each send; `fields` are what a
   * versioned PATCH changes, kept so that a reloaded page can rebuild its body.
   */
  enqueue(op) {
    op.persist ??= { method: op.method, url: op.url, body: typeof op.body === "function" ? null : op.body, entity: op.entity, kind: op.kind, fields: op.fields ?? null };
    this.ops.push(op);
    this.pendingFor.set(op.entity, (this.pendingFor.get(op.entity) ?? 0) + 1);
    this.persist();
    this.hooks.onChange?.();
    this.pump();
  }

  /** Removes the queued ops matching `predicate` (never the one on its way); returns them. */
  drop(predicate) {
    const dropped = [];
    for (let i = this.ops.length - 1; i >= 0; i--) {
      const op = this.ops[i];
      if (op === this.inFlight || !predicate(op)) continue;
      this.settle(op);
      this.ops.splice(i, 1);
      dropped.push(op);
    }
    this.persist();
    return dropped;
  }

  settle(op) {
    const n = (this.pendingFor.get(op.entity) ?? 1) - 1;
    if (n <= 0) this.pendingFor.delete(op.entity);
    else this.pendingFor.set(op.entity, n);
  }

  persist() {
    try {
      const kept = this.ops.filter((op) => op.persist).map((op) => op.persist);
      if (kept.length) this.storage?.setItem(this.storeKey, JSON.stringify(kept));
      else this.storage?.removeItem(this.storeKey);
    } catch {
      // Storage may be full or disabled; the queue in memory still holds the writes.
    }
  }

  /** The writes a previous page left unanswered in storage. */
  stored() {
    let stored = [];
    try {
      stored = JSON.parse(this.storage?.getItem(this.storeKey) ?? "[]");
    } catch {
      stored = [];
    }
    return Array.isArray(stored) ? stored : [];
  }

  /**
   * Sends again the writes of `stored()`. A versioned PATCH gets the version
   * the page holds now (`currentVersion(kind, entity)`), read when it is sent.
   */
  replay(stored, currentVersion) {
    for (const p of stored) {
      const versioned = p.fields !== null && p.method === "PATCH";
      this.enqueue({
        entity: p.entity,
        kind: p.kind,
        method: p.method,
        url: p.url,
        fields: p.fields,
        persist: p,
        label: "A change made before this page was reloaded",
        body: versioned ? () => ({ ...p.fields, version: currentVersion(p.kind, p.entity) }) : p.body,
      });
    }
  }

  /** Sends the queue in order until it is empty or a transient failure pauses it. */
  async pump() {
    if (this.sending || this.retryTimer) return;
    this.sending = true;
    if (this.lastStatus === 401) await this.refreshCredentials();
    while (this.ops.length) {
      const op = this.ops[0];
      const body = typeof op.body === "function" ? op.body() : op.body;
      let result;
      this.hooks.beforeSend?.(op);
      this.inFlight = op;
      try {
        result = await this.transport(op.method, op.url, body);
      } catch {
        result = { status: 0, ok: false, json: null };
      }
      this.inFlight = null;
      this.lastStatus = result.status;
      if (result.status === 403 && !op.csrfRefreshed) {
        // Signing in again (in another tab, after the session ended) gives a
        // new CSRF token; a write refused for the old one is sent with the new.
        op.csrfRefreshed = true;
        if (await this.refreshCredentials()) continue;
      }
      if (transient(result.status)) {
        this.scheduleRetry(result.status);
        this.sending = false;
        return;
      }
      this.retryDelay = 0;
      this.retryProblem = "";
      this.ops.shift();
      this.settle(op);
      this.persist();
      if (result.ok) {
        op.onOk?.(result.json);
      } else {
        this.failed(op, result);
      }
      this.hooks.onSettled?.(op, result);
    }
    this.sending = false;
    this.hooks.onChange?.();
    this.hooks.onIdle?.();
  }

  failed(op, result) {
    const message = describeProblem(result.json, `The server refused this change (${result.status}).`);
    if (result.status === 409) {
      // Ops queued after this one for the same record were built on what we
      // thought it held: drop them too, and show what the server has.
      this.drop((queued) => queued.entity === op.entity);
      this.hooks.notify?.(`${op.label ? `${op.label}: ` : ""}this was changed elsewhere (another tab or person). The page now shows the current version; please check and redo your change if it is still needed.`, { error: true });
      this.hooks.wantReload?.();
      return;
    }
    op.onReject?.(result);
    this.hooks.notify?.(`${op.label ? `${op.label} failed: ` : ""}${message}`, { error: true });
    if (result.status === 403 || result.status === 404) this.hooks.wantReload?.();
  }

  scheduleRetry(status) {
    this.retryDelay = this.retryDelay ? Math.min(MAX_RETRY_MS, this.retryDelay * 2) : 1000;
    const seconds = Math.round(this.retryDelay / 1000);
    const why = status === 401
      ? "Your session has ended: sign in again in another tab. Your changes are kept here"
      : status === 0 ? "The server cannot be reached. Your changes are kept here" : `The server had a problem (${status}). Your changes are kept here`;
    this.retryProblem = `${why} and will be sent again in ${seconds} s.`;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, this.retryDelay);
    this.hooks.onChange?.();
  }

  /** Sends at once what waits for a retry (the coder asked, or the browser is online again). */
  retryNow() {
    if (this.retryTimer) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.pump();
  }

  /**
   * What the save indicator says: `{problem, waiting}`, where `problem` is why
   * writes wait for a retry ("" when none).
   */
  saveState() {
    const problem = this.retryTimer || this.sending ? this.retryProblem : "";
    if (!this.retryTimer && !this.sending) this.retryProblem = "";
    return { problem, waiting: this.ops.length };
  }
}
