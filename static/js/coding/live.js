// Live updates: the project's server-sent events. An event about this layer
// (from another tab, or the lead reopening it) reloads the layer, except the
// echoes of this page's own writes; a stream that was down reloads once it is
// back, since a new connection cannot ask for what it missed.

export function createLive(page) {
  const { $ } = page;
  const echoes = new Map(); // entity id -> our writes whose live events are still to come

  function expectEcho(id) {
    const e = echoes.get(id) ?? { count: 0, until: 0 };
    e.count += 1;
    e.until = Date.now() + 30000;
    echoes.set(id, e);
  }

  function isEcho(id) {
    const e = echoes.get(id);
    if (!e) return false;
    if (e.until < Date.now()) {
      echoes.delete(id);
      return false;
    }
    e.count -= 1;
    if (e.count <= 0) echoes.delete(id);
    return true;
  }

  function connect() {
    if (!page.data.events_url || typeof EventSource === "undefined") return;
    const source = new EventSource(page.data.events_url);
    let wasDown = false;
    source.onmessage = (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      onEvent(event);
    };
    source.onopen = () => {
      $("live-state").textContent = "";
      if (wasDown) page.scheduleReload();
      wasDown = false;
    };
    source.onerror = () => {
      wasDown = true;
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. the session ended): start again later and
        // reload then, since a new connection cannot ask for what it missed.
        $("live-state").textContent = "Live updates paused";
        setTimeout(() => {
          connect();
          page.scheduleReload();
        }, 15000);
      } else {
        $("live-state").textContent = "Reconnecting…";
      }
    };
  }

  function onEvent(event) {
    const kind = String(event.kind ?? "");
    const forMe = event.coder_id === null || event.coder_id === undefined || event.coder_id === page.user.id;
    let relevant;
    if (kind.startsWith("code.")) relevant = forMe;
    else relevant = event.transcript_id === page.transcriptId && forMe;
    if (!relevant) return;
    if (event.entity_id && kind !== "assignment.updated" && isEcho(event.entity_id)) return;
    page.scheduleReload();
  }

  return { expectEcho, connect };
}
