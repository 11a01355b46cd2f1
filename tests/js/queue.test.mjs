// The coding page's write queue (static/js/coding/queue.js) against a fake
// server: failures and retries, stale writes (409 with the current record),
// idempotent creates sent twice, and a page reloaded with writes still pending.
import { test } from "node:test";
import assert from "node:assert/strict";

import { transient, WriteQueue } from "../../static/js/coding/queue.js";

/** sessionStorage as a Map. */
class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}

/** Timers that fire only when the test says so. */
class ManualTimers {
  constructor() {
    this.pending = new Map();
    this.next = 1;
  }
  setTimeout(fn, ms) {
    const id = this.next++;
    this.pending.set(id, { fn, ms });
    return id;
  }
  clearTimeout(id) {
    this.pending.delete(id);
  }
  delays() {
    return [...this.pending.values()].map((t) => t.ms);
  }
  fireAll() {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const t of due) t.fn();
  }
}

/**
 * A server holding codings, with the API's rules: a create with a known id
 * and the same body is a no-op answered with the stored record, an update
 * with a stale version gets 409 with the current record. `fail` makes the
 * next requests fail: "network" (no answer), "lost" (applied, answer lost) or
 * a status.
 */
class FakeServer {
  constructor() {
    this.codings = new Map();
    this.requests = [];
    this.failures = [];
  }
  fail(...kinds) {
    this.failures.push(...kinds);
  }
  transport = async (method, url, body) => {
    this.requests.push({ method, url, body: body === null || body === undefined ? null : structuredClone(body) });
    const failure = this.failures.shift();
    if (failure === "network") throw new TypeError("Failed to fetch");
    if (typeof failure === "number") return { status: failure, ok: false, json: { status: failure, title: "Failed" } };
    const answer = this.handle(method, url, body);
    if (failure === "lost") throw new TypeError("Failed to fetch");
    return answer;
  };
  handle(method, url, body) {
    if (method === "POST" && url === "/codings") {
      const existing = this.codings.get(body.id);
      if (existing) {
        const same = ["code_id", "start", "end"].every((k) => existing[k] === body[k]);
        return same ? { status: 200, ok: true, json: { ...existing } } : { status: 409, ok: false, json: { status: 409, current: existing } };
      }
      const record = { ...body, version: 1 };
      this.codings.set(body.id, record);
      return { status: 201, ok: true, json: { ...record } };
    }
    const id = url.split("/")[2];
    const record = this.codings.get(id);
    if (!record) return { status: 404, ok: false, json: { status: 404, title: "Not found" } };
    if (method === "PATCH") {
      if (body.version !== record.version) return { status: 409, ok: false, json: { status: 409, title: "Stale", current: { ...record } } };
      const { version: _, ...changes } = body;
      Object.assign(record, changes, { version: record.version + 1 });
      return { status: 200, ok: true, json: { ...record } };
    }
    if (method === "DELETE") {
      record.deleted = true;
      return { status: 200, ok: true, json: { id, version: record.version } };
    }
    return { status: 405, ok: false, json: null };
  }
}

/** Lets every pending promise of the queue run. */
async function settle() {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

function makeQueue(server, { storage = new MemoryStorage(), timers = new ManualTimers(), refreshCredentials } = {}) {
  const events = { notices: [], reloads: 0, idle: 0, sent: [] };
  const queue = new WriteQueue({
    transport: server.transport,
    storage,
    storeKey: "concord.pending.t.u",
    timers,
    refreshCredentials,
    hooks: {
      beforeSend: (op) => events.sent.push(op.entity),
      notify: (message, options) => events.notices.push({ message, ...options }),
      wantReload: () => events.reloads++,
      onIdle: () => events.idle++,
    },
  });
  return { queue, storage, timers, events };
}

/** A page's record of one coding, kept up to date by the answers, as layer.js does. */
function localRecord(fields) {
  return { version: 0, ...fields };
}

function createOp(record, extra = {}) {
  return {
    entity: record.id, kind: "coding", label: "code “Pain”",
    method: "POST", url: "/codings",
    body: { id: record.id, code_id: record.code_id, start: record.start, end: record.end, memo: "" },
    onOk: (json) => {
      record.version = json.version;
    },
    ...extra,
  };
}

function updateOp(record, changes, extra = {}) {
  return {
    entity: record.id, kind: "coding", label: "move the boundaries",
    method: "PATCH", url: `/codings/${record.id}`, fields: changes,
    body: () => ({ ...changes, version: record.version }),
    onOk: (json) => {
      record.version = json.version;
    },
    ...extra,
  };
}

test("the statuses worth retrying are no answer, timeouts, throttling, an ended session and server errors", () => {
  for (const status of [0, 401, 408, 429, 500, 502, 503]) assert.equal(transient(status), true, `${status}`);
  for (const status of [200, 201, 400, 403, 404, 409, 422]) assert.equal(transient(status), false, `${status}`);
});

test("a write that fails is kept, retried with a growing pause, and sent once the server answers", async () => {
  const server = new FakeServer();
  const { queue, storage, timers, events } = makeQueue(server);
  const record = localRecord({ id: "c1", code_id: "k1", start: 0, end: 5 });
  server.fail("network", 503, 502);
  queue.enqueue(createOp(record));
  await settle();

  assert.equal(queue.length, 1, "kept after a network failure");
  assert.deepEqual(timers.delays(), [1000]);
  assert.match(queue.saveState().problem, /cannot be reached.*again in 1 s/);
  assert.equal(queue.saveState().waiting, 1);
  assert.ok(storage.getItem("concord.pending.t.u"), "kept in storage while it waits");

  timers.fireAll();
  await settle();
  assert.deepEqual(timers.delays(), [2000], "the pause doubles");
  assert.match(queue.saveState().problem, /server had a problem \(503\)/);

  // The coder does not wait for the timer.
  queue.retryNow();
  await settle();
  assert.deepEqual(timers.delays(), [4000]);
  timers.fireAll();
  await settle();

  assert.equal(queue.length, 0);
  assert.equal(server.codings.size, 1, "made once");
  assert.equal(record.version, 1, "the answer reached the page");
  assert.equal(server.requests.length, 4);
  assert.equal(storage.getItem("concord.pending.t.u"), null, "nothing left in storage");
  assert.deepEqual(queue.saveState(), { problem: "", waiting: 0 });
  assert.deepEqual(events.notices, [], "a retried write is not an error");
  assert.equal(events.idle, 1);
});

test("the pause between retries stops growing at 30 s, and later writes wait behind the first", async () => {
  const server = new FakeServer();
  const { queue, timers } = makeQueue(server);
  const first = localRecord({ id: "c1", code_id: "k1", start: 0, end: 5 });
  const second = localRecord({ id: "c2", code_id: "k1", start: 6, end: 9 });
  server.fail(...Array(8).fill("network"));
  queue.enqueue(createOp(first));
  queue.enqueue(createOp(second));
  const delays = [];
  for (let i = 0; i < 8; i++) {
    await settle();
    delays.push(...timers.delays());
    timers.fireAll();
  }
  await settle();
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.deepEqual(server.requests.map((r) => r.body.id), [...Array(9).fill("c1"), "c2"], "in order, never around a waiting write");
  assert.equal(queue.length, 0);
});

test("an ended session asks for a new token before the retry, and a 403 is sent again once with a new token", async () => {
  const server = new FakeServer();
  let refreshed = 0;
  const { queue, timers, events } = makeQueue(server, { refreshCredentials: async () => ++refreshed > 0 });
  const record = localRecord({ id: "c1", code_id: "k1", start: 0, end: 5 });
  server.fail(401);
  queue.enqueue(createOp(record));
  await settle();
  assert.match(queue.saveState().problem, /session has ended/);
  assert.equal(refreshed, 0);
  timers.fireAll();
  await settle();
  assert.equal(refreshed, 1, "a new token before sending again");
  assert.equal(queue.length, 0);

  server.fail(403, 403);
  queue.enqueue(updateOp(record, { end: 7 }));
  await settle();
  assert.equal(refreshed, 2, "one refresh for the refused write");
  assert.equal(server.requests.filter((r) => r.method === "PATCH").length, 2, "sent again once, not forever");
  assert.equal(events.notices.length, 1, "then reported");
  assert.equal(events.reloads, 1, "and the page reloads");
});

test("a stale update (409 with the current record) drops that record's later writes and asks for a reload", async () => {
  const server = new FakeServer();
  server.codings.set("c1", { id: "c1", code_id: "k1", start: 0, end: 5, version: 3 });
  server.codings.set("c2", { id: "c2", code_id: "k1", start: 6, end: 9, version: 1 });
  const { queue, storage, events } = makeQueue(server);
  const stale = localRecord({ id: "c1", version: 2 }); // another tab has changed it since
  const other = localRecord({ id: "c2", version: 1 });
  let rejected = 0;
  const failures = [];
  queue.enqueue(updateOp(stale, { end: 7 }, { onReject: () => rejected++ }));
  queue.enqueue(updateOp(stale, { memo: "built on the stale one" }));
  queue.enqueue(updateOp(other, { end: 10 }));
  queue.enqueue({ ...updateOp(stale, { start: 1 }), onOk: () => failures.push("sent") });
  await settle();

  const sent = server.requests.map((r) => [r.url, r.body]);
  assert.deepEqual(sent, [
    ["/codings/c1", { end: 7, version: 2 }],
    ["/codings/c2", { end: 10, version: 1 }],
  ], "the stale record's later writes are never sent, other records' are");
  assert.deepEqual(server.codings.get("c1"), { id: "c1", code_id: "k1", start: 0, end: 5, version: 3 }, "nothing overwritten");
  assert.equal(server.codings.get("c2").end, 10);
  assert.equal(queue.length, 0);
  assert.equal(queue.isPending("c1"), false);
  assert.equal(storage.getItem("concord.pending.t.u"), null, "the dropped writes are not replayed later");
  assert.equal(rejected, 0, "the page is reloaded to the current record instead of rolled back");
  assert.deepEqual(failures, []);
  assert.equal(events.reloads, 1);
  assert.equal(events.notices.length, 1);
  assert.equal(events.notices[0].error, true);
  assert.match(events.notices[0].message, /^move the boundaries: this was changed elsewhere/);
  assert.equal(events.idle, 1, "the page may reload now");
});

test("an update is sent with the version current when it is sent, so one built on an earlier write is not stale", async () => {
  const server = new FakeServer();
  const { queue, events } = makeQueue(server);
  const record = localRecord({ id: "c1", code_id: "k1", start: 0, end: 5 });
  server.fail("network");
  queue.enqueue(createOp(record));
  queue.enqueue(updateOp(record, { end: 6 }));
  queue.enqueue(updateOp(record, { end: 7 }));
  assert.equal(queue.isPending("c1"), true);
  await settle();
  queue.retryNow();
  await settle();
  assert.deepEqual(server.requests.slice(1).map((r) => r.body.version), [undefined, 1, 2]);
  assert.equal(server.codings.get("c1").end, 7);
  assert.equal(server.codings.get("c1").version, 3);
  assert.equal(queue.isPending("c1"), false);
  assert.deepEqual(events.notices, []);
});

test("a create whose answer was lost is sent again unchanged and made once", async () => {
  const server = new FakeServer();
  const { queue, timers, events } = makeQueue(server);
  const record = localRecord({ id: "7d3c1f0e-8a2b-4c5d-9e6f-0a1b2c3d4e5f", code_id: "k1", start: 3, end: 12 });
  let confirmed = 0;
  server.fail("lost");
  queue.enqueue(createOp(record, { onOk: (json) => { record.version = json.version; confirmed++; } }));
  await settle();
  assert.equal(server.codings.size, 1, "the server made it");
  assert.equal(queue.length, 1, "but the page never heard so");
  timers.fireAll();
  await settle();

  const posts = server.requests.filter((r) => r.method === "POST");
  assert.equal(posts.length, 2);
  assert.deepEqual(posts[1].body, posts[0].body, "the same body, with the client's own id");
  assert.equal(posts[1].body.id, record.id);
  assert.equal(server.codings.size, 1, "made once");
  assert.equal(confirmed, 1);
  assert.equal(record.version, 1);
  assert.equal(queue.length, 0);
  assert.deepEqual(events.notices, []);
});

test("a refused write is rolled back and reported, and the writes after it go on", async () => {
  const server = new FakeServer();
  const { queue, events } = makeQueue(server);
  const bad = localRecord({ id: "c1", code_id: "k1", start: 0, end: 5 });
  const good = localRecord({ id: "c2", code_id: "k1", start: 6, end: 9 });
  let rolledBack = null;
  server.fail(422);
  queue.enqueue(createOp(bad, { onReject: (result) => { rolledBack = result.status; } }));
  queue.enqueue(createOp(good));
  await settle();
  assert.equal(rolledBack, 422);
  assert.deepEqual(events.notices.map((n) => n.message), ["code “Pain” failed: Failed"]);
  assert.equal(events.reloads, 0, "a 422 needs no reload");
  assert.deepEqual([...server.codings.keys()], ["c2"]);
  assert.equal(queue.length, 0);
});

test("writes pending when the page is left are sent again by the reloaded page, in order, with current versions", async () => {
  const storage = new MemoryStorage();
  const offline = new FakeServer();
  offline.fail(...Array(10).fill("network"));
  const before = makeQueue(offline, { storage });
  const created = localRecord({ id: "c1", code_id: "k1", start: 0, end: 5 });
  const existing = localRecord({ id: "c2", version: 4 });
  before.queue.enqueue(createOp(created));
  before.queue.enqueue(updateOp(created, { end: 8 }));
  before.queue.enqueue(updateOp(existing, { memo: "kept across the reload" }));
  before.queue.enqueue({ entity: "c3", kind: "coding", method: "DELETE", url: "/codings/c3", body: null });
  await settle();
  assert.equal(before.queue.length, 4, "nothing was answered");
  const kept = JSON.parse(storage.getItem("concord.pending.t.u"));
  assert.deepEqual(kept.map((p) => [p.method, p.url]), [
    ["POST", "/codings"],
    ["PATCH", "/codings/c1"],
    ["PATCH", "/codings/c2"],
    ["DELETE", "/codings/c3"],
  ]);

  // The page is reloaded: a new queue on the same storage, and the server is back.
  const server = new FakeServer();
  server.codings.set("c2", { id: "c2", code_id: "k1", start: 10, end: 20, memo: "", version: 6 });
  server.codings.set("c3", { id: "c3", code_id: "k1", start: 30, end: 40, version: 1 });
  const after = makeQueue(server, { storage });
  const stored = after.queue.stored();
  assert.equal(stored.length, 4);
  // The reloaded page's records: its snapshot has c2 at version 6, c1 not yet
  // (the replayed create brings it).
  const versions = new Map([["c2", 6]]);
  after.queue.replay(stored, (kind, id) => {
    assert.equal(kind, "coding");
    return versions.get(id) ?? 0;
  });
  // The replayed create's answer is what the reloaded page learns c1's version from.
  after.queue.ops[0].onOk = (json) => versions.set(json.id, json.version);
  await settle();

  assert.deepEqual(server.requests.map((r) => [r.method, r.url, r.body]), [
    ["POST", "/codings", { id: "c1", code_id: "k1", start: 0, end: 5, memo: "" }],
    ["PATCH", "/codings/c1", { end: 8, version: 1 }],
    ["PATCH", "/codings/c2", { memo: "kept across the reload", version: 6 }],
    ["DELETE", "/codings/c3", null],
  ]);
  assert.equal(server.codings.get("c1").end, 8);
  assert.equal(server.codings.get("c2").memo, "kept across the reload");
  assert.equal(server.codings.get("c3").deleted, true);
  assert.equal(after.queue.length, 0);
  assert.equal(storage.getItem("concord.pending.t.u"), null);
  assert.deepEqual(after.events.notices, []);
  assert.deepEqual(after.queue.stored(), [], "a second reload sends nothing again");
});

test("a reloaded page whose pending update has gone stale reports it instead of overwriting", async () => {
  const storage = new MemoryStorage();
  storage.setItem("concord.pending.t.u", JSON.stringify([
    { method: "PATCH", url: "/codings/c2", body: null, entity: "c2", kind: "coding", fields: { end: 25 } },
  ]));
  const server = new FakeServer();
  server.codings.set("c2", { id: "c2", code_id: "k1", start: 10, end: 20, version: 6 });
  const { queue, events } = makeQueue(server, { storage });
  // The page's snapshot is older than the server's record.
  queue.replay(queue.stored(), () => 5);
  await settle();
  assert.equal(server.codings.get("c2").end, 20, "not overwritten");
  assert.equal(events.reloads, 1);
  assert.match(events.notices[0].message, /^A change made before this page was reloaded: this was changed elsewhere/);
  assert.equal(storage.getItem("concord.pending.t.u"), null);
});

test("storage that is broken or full loses nothing in memory", async () => {
  const server = new FakeServer();
  const broken = {
    getItem() {
      throw new Error("SecurityError");
    },
    setItem() {
      throw new Error("QuotaExceededError");
    },
    removeItem() {
      throw new Error("SecurityError");
    },
  };
  const { queue } = makeQueue(server, { storage: broken });
  assert.deepEqual(queue.stored(), []);
  server.fail("network");
  queue.enqueue(createOp(localRecord({ id: "c1", code_id: "k1", start: 0, end: 5 })));
  await settle();
  assert.equal(queue.length, 1);
  queue.retryNow();
  await settle();
  assert.equal(server.codings.size, 1);
  const garbage = new MemoryStorage();
  garbage.setItem("concord.pending.t.u", "{not json");
  assert.deepEqual(makeQueue(server, { storage: garbage }).queue.stored(), []);
  garbage.setItem("concord.pending.t.u", "{\"an\": \"object\"}");
  assert.deepEqual(makeQueue(server, { storage: garbage }).queue.stored(), []);
});
