// VoiceCart in-app mic page: push-to-talk over WS /v1/voice/stream, the cart, the spoken reply,
// and live pickup order status from GET /v1/events. Plain JS, no build step.
"use strict";

(() => {
  const TOKEN_KEY = "voicecart.token";
  const SESSION_KEY = "voicecart.session";
  const SAMPLE_RATE = 16000;
  const MAX_PENDING = 1500; // 20 ms frames: 30 s
  const $ = (id) => document.getElementById(id);

  // Observable state (tests and curious developers read window.voicecart).
  const state = {
    token: null,
    sessionId: null,
    ws: null,
    ready: false,
    pending: [], // audio frames captured before the socket was ready
    audio: null, // {context, stream, node}
    talking: false,
    flushWaiters: [],
    playAt: 0,
    audioBytes: 0,
    audioParts: 0,
    transcripts: [],
    replies: [],
    notifications: [],
    cart: null, // the cart as last drawn
    seenEvents: new Set(),
    lastEventId: null,
    eventsAbort: null,
  };
  window.voicecart = state;

  // ---- sign-in -------------------------------------------------------------------------

  function readToken() {
    const hash = new URLSearchParams(window.location.hash.slice(1));
    const fromHash = hash.get("token");
    if (fromHash) {
      localStorage.setItem(TOKEN_KEY, fromHash);
      // Keep the token out of the address bar and the history.
      history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    return localStorage.getItem(TOKEN_KEY);
  }

  function sessionId() {
    let id = sessionStorage.getItem(SESSION_KEY);
    if (!id) {
      const bytes = crypto.getRandomValues(new Uint8Array(9));
      id = "app-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      sessionStorage.setItem(SESSION_KEY, id);
    }
    return id;
  }

  function showSignedIn(signedIn) {
    $("signin").hidden = signedIn;
    $("main").hidden = !signedIn;
    $("signout").hidden = !signedIn;
    document.body.dataset.state = signedIn ? "signed-in" : "signed-out";
  }

  function signIn(token) {
    state.token = token;
    state.sessionId = sessionId();
    showSignedIn(true);
    connect();
    subscribeOrderEvents();
  }

  function signOut() {
    localStorage.removeItem(TOKEN_KEY);
    state.token = null;
    if (state.ws) state.ws.close(1000, "signed out");
    if (state.eventsAbort) state.eventsAbort.abort();
    showSignedIn(false);
    setStatus("Signed out");
  }

  // ---- the voice socket ------------------------------------------------------------------

  function setStatus(text, kind) {
    const el = $("status");
    el.textContent = text;
    el.dataset.kind = kind || "";
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${window.location.host}/v1/voice/stream`);
    ws.binaryType = "arraybuffer";
    state.ws = ws;
    state.ready = false;
    setStatus("Connecting…");
    ws.onopen = () => {
      // The token goes in the first message, never in the URL (URLs end up in logs).
      ws.send(JSON.stringify({
        type: "start", token: state.token, session_id: state.sessionId, mode: "push_to_talk",
      }));
    };
    ws.onmessage = (message) => {
      if (typeof message.data === "string") onEvent(JSON.parse(message.data));
      else playReply(message.data);
    };
    ws.onclose = (close) => {
      state.ready = false;
      if (close.code === 4401) {
        setStatus("Token refused", "error");
        signOut();
        return;
      }
      if (state.token) {
        setStatus("Reconnecting…", "warn");
        setTimeout(() => { if (state.token && state.ws === ws) connect(); }, 2000);
      }
    };
  }

  function send(data) {
    const ws = state.ws;
    if (state.ready && ws && ws.readyState === WebSocket.OPEN) {
      ws.send(data);
      return;
    }
    state.pending.push(data);
    // While the socket reconnects keep at most the last 30 s of frames (the server's limit).
    if (state.pending.length > MAX_PENDING) state.pending.shift();
  }

  function flushPending() {
    const queued = state.pending;
    state.pending = [];
    for (const data of queued) state.ws.send(data);
  }

  const handlers = {
    ready(event) {
      state.ready = true;
      setStatus(`Hi ${event.customer.name}`, "ok");
      flushPending();
    },
    speech_start() { $("partial").textContent = "…"; },
    partial(event) { $("partial").textContent = event.text; },
    endpoint(event) {
      if (!event.speech) $("partial").textContent = "";
    },
    transcript(event) {
      $("partial").textContent = "";
      const text = event.no_speech ? "(nothing heard)" : event.text;
      state.transcripts.push(text);
      addLog("you", text, "transcript");
    },
    reply(event) {
      state.replies.push(event);
      addLog("voicecart", event.reply.display || event.reply.speech, "reply");
      if (event.cart) renderCart(event.cart);
      if (event.order) renderOrder(event.order);
    },
    audio_start() {},
    audio_end(event) {
      $("audio-info").textContent = `reply audio: ${event.parts} part(s), ${event.bytes} bytes`;
    },
    error(event) {
      addLog("error", `${event.error}: ${event.detail}`, "error");
    },
    cancelled() { $("partial").textContent = ""; },
    pong() {},
  };

  function onEvent(event) {
    const handler = handlers[event.type];
    if (handler) handler(event);
  }

  // ---- microphone ------------------------------------------------------------------------

  async function openMicrophone(context) {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: {
        channelCount: 1,
        // Raw audio: speech-to-text does better without the browser's voice-call processing,
        // and push-to-talk means the reply is never playing while the mic is sending.
        echoCancellation: false,
        noiseSuppression: false,
        autoGainControl: false,
      },
    });
    await context.audioWorklet.addModule("/app/pcm-worklet.js");
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, "pcm-resampler", {
      numberOfOutputs: 1,
      processorOptions: { targetRate: SAMPLE_RATE },
    });
    node.port.onmessage = (message) => {
      if (message.data instanceof ArrayBuffer) {
        send(message.data);
      } else if (message.data && message.data.type === "flushed") {
        const waiters = state.flushWaiters;
        state.flushWaiters = [];
        waiters.forEach((resolve) => resolve());
      }
    };
    source.connect(node);
    // Connected so the graph pulls the worklet; it writes nothing, so this plays silence.
    node.connect(context.destination);
    return { context, stream, node };
  }

  function audioContext() {
    // Created inside the press (a user gesture), so phones allow it to start and to play.
    if (!state.audio) {
      const Context = window.AudioContext || window.webkitAudioContext;
      state.audio = { context: new Context(), ready: null, node: null };
    }
    const audio = state.audio;
    if (audio.context.state === "suspended") audio.context.resume();
    if (!audio.ready) {
      audio.ready = openMicrophone(audio.context).then((opened) => {
        audio.node = opened.node;
        audio.stream = opened.stream;
        return audio;
      }).catch((error) => {
        audio.ready = null;
        setStatus(`Microphone unavailable: ${error.message}`, "error");
        throw error;
      });
    }
    return audio.ready;
  }

  async function startTalking() {
    if (state.talking) return;
    state.talking = true;
    setTalking(true);
    try {
      const audio = await audioContext();
      if (state.talking) audio.node.port.postMessage("start");
    } catch (error) {
      state.talking = false;
      setTalking(false);
    }
  }

  async function stopTalking() {
    if (!state.talking) return;
    state.talking = false;
    setTalking(false);
    const audio = state.audio;
    if (!audio || !audio.node) return;
    // The worklet posts its last frames, then "flushed"; only then is the utterance over.
    const flushed = new Promise((resolve) => state.flushWaiters.push(resolve));
    audio.node.port.postMessage("stop");
    await flushed;
    send(JSON.stringify({ type: "end" }));
  }

  function setTalking(on) {
    const button = $("talk");
    button.classList.toggle("active", on);
    button.setAttribute("aria-pressed", String(on));
    $("talk-label").textContent = on ? "Listening… release to send" : "Hold to talk";
    document.body.dataset.talking = String(on);
  }

  // ---- reply audio -----------------------------------------------------------------------

  async function playReply(data) {
    state.audioBytes += data.byteLength;
    state.audioParts += 1;
    document.body.dataset.replyAudioBytes = String(state.audioBytes);
    if (!state.audio) return; // typed-only sessions have no audio context yet
    const context = state.audio.context;
    try {
      const buffer = await context.decodeAudioData(data.slice(0));
      const source = context.createBufferSource();
      source.buffer = buffer;
      source.connect(context.destination);
      // Parts play back to back in arrival order.
      state.playAt = Math.max(state.playAt, context.currentTime);
      source.start(state.playAt);
      state.playAt += buffer.duration;
    } catch (error) {
      addLog("error", `could not play the reply: ${error.message}`, "error");
    }
  }

  // ---- rendering -------------------------------------------------------------------------

  function money(cents, currency) {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" })
      .format(cents / 100);
  }

  function addLog(who, text, kind) {
    const item = document.createElement("li");
    item.className = `log-${kind}`;
    item.dataset.who = who;
    item.textContent = text;
    $("log").appendChild(item);
    item.scrollIntoView({ block: "nearest" });
  }

  function renderCart(cart) {
    state.cart = cart;
    const list = $("cart");
    list.replaceChildren();
    for (const line of cart.lines) {
      const item = document.createElement("li");
      item.dataset.productId = line.product_id;
      item.dataset.quantity = String(line.quantity);
      item.dataset.lineId = String(line.line_id);
      const options = line.options.length ? ` (${line.options.join(", ")})` : "";
      const request = line.note ? ` · “${line.note}”` : "";
      const text = document.createElement("span");
      text.className = "line-text";
      text.textContent = `${line.quantity} × ${line.name}${options}${request} — ${money(line.line_total, cart.currency)}`;
      item.append(text, requestButton(line));
      if (line.problem) item.classList.add("problem");
      list.appendChild(item);
    }
    if (!cart.lines.length) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = "Empty";
      list.appendChild(empty);
    }
    $("cart-total").textContent = cart.lines.length
      ? `Total ${money(cart.total, cart.currency)} (tax ${money(cart.tax, cart.currency)})` : "";
  }

  // A line's special request, typed: to add one, or to fix what the speech engine misheard.
  function requestButton(line) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "edit-request";
    button.textContent = line.note ? "Edit request" : "Add request";
    button.addEventListener("click", () => {
      const form = document.createElement("form");
      form.className = "request-form";
      const input = document.createElement("input");
      input.name = "note";
      input.maxLength = 140;
      input.value = line.note || "";
      input.placeholder = "e.g. no lid";
      input.setAttribute("aria-label", `Special request for ${line.name}`);
      const save = document.createElement("button");
      save.type = "submit";
      save.textContent = "Save";
      form.append(input, save);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        saveRequest(line.line_id, input.value.trim() || null, save);
      });
      button.replaceWith(form);
      input.focus();
    });
    return button;
  }

  async function saveRequest(lineId, note, save) {
    save.disabled = true;
    try {
      const response = await fetch(`/v1/cart/items/${lineId}/note`, {
        method: "PUT",
        headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ note }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        addLog("error", body.detail || `HTTP ${response.status}`, "error");
        save.disabled = false;
        return;
      }
      renderCart(cartSummary(body));
    } catch (error) {
      addLog("error", `Could not save the request: ${error}`, "error");
      save.disabled = false;
    }
  }

  // The cart API's shape as the dialogue's cart summary, which renderCart draws. A line keeps
  // its spoken options (a request changes none; a line it joins was drawn already).
  function cartSummary(cart) {
    const spoken = new Map((state.cart ? state.cart.lines : []).map((l) => [l.line_id, l.options]));
    return {
      currency: cart.currency,
      total: cart.total,
      tax: cart.tax,
      lines: cart.lines.map((line) => ({
        line_id: line.id,
        product_id: line.product_id,
        name: line.name,
        quantity: line.quantity,
        options: spoken.get(line.id) || line.options.map((o) => o.choice_name),
        line_total: line.line_total,
        problem: line.problem,
        note: line.note,
      })),
    };
  }

  function renderOrder(order) {
    $("order").hidden = false;
    $("order").dataset.orderId = String(order.order_id);
    $("order").dataset.status = order.status;
    const when = order.promised_at
      ? ` · ready about ${new Date(order.promised_at).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" })}`
      : "";
    $("order-status").textContent = `Order #${order.order_id}: ${order.status.replace("_", " ")}${when}`;
    $("order-note").textContent = order.store_name;
  }

  // ---- live order status (GET /v1/events, Server-Sent Events) -----------------------------

  // Called with every notification; a hook for other features (a chime, a vibration).
  window.voicecartOnNotification = window.voicecartOnNotification || null;

  function onNotification(note) {
    if (state.seenEvents.has(note.id)) return; // delivery is at least once
    state.seenEvents.add(note.id);
    state.notifications.push(note);
    $("order").hidden = false;
    $("order").dataset.orderId = String(note.order_id);
    $("order").dataset.status = note.status;
    $("order-status").textContent = `Order #${note.order_id}: ${note.status.replace("_", " ")}`;
    $("order-note").textContent = note.text;
    addLog("store", note.text, "notification");
    renderSubstitution(note);
    if (typeof window.voicecartOnNotification === "function") window.voicecartOnNotification(note);
  }

  // ---- out of stock: the store offers substitutes; a button answers (or say it) -----------

  function renderSubstitution(note) {
    const box = $("substitution");
    if (note.event !== "substitution.offered") {
      if (box.dataset.orderId === String(note.order_id)) box.hidden = true; // answered
      return;
    }
    box.dataset.orderId = String(note.order_id);
    const choices = $("substitution-choices");
    choices.replaceChildren();
    for (const product of note.data.offered || []) {
      const body = { product_id: product.product_id };
      choices.appendChild(choiceButton(product.name, "accept", note.order_id, body));
    }
    choices.appendChild(choiceButton("Cancel order", "decline", note.order_id, null));
    box.hidden = false;
  }

  function choiceButton(label, action, orderId, body) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = action === "decline" ? "choice decline" : "choice";
    button.dataset.action = action;
    button.textContent = label;
    button.addEventListener("click", () => answerSubstitution(orderId, action, body));
    return button;
  }

  async function answerSubstitution(orderId, action, body) {
    const box = $("substitution");
    const buttons = box.querySelectorAll("button");
    for (const button of buttons) button.disabled = true;
    try {
      const response = await fetch(`/v1/orders/${orderId}/substitution/${action}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "application/json" },
        body: JSON.stringify(body || {}),
      });
      if (response.ok || response.status === 404) { // 404: answered already (by voice)
        box.hidden = true;
        return;
      }
      const problem = await response.json().catch(() => ({}));
      addLog("error", problem.detail || `HTTP ${response.status}`, "error");
    } catch (error) {
      addLog("error", `Could not answer the store: ${error.message}`, "error");
    }
    for (const button of buttons) button.disabled = false;
  }

  function parseSse(block) {
    const event = { event: "message", data: "", id: null };
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") event.data += (event.data ? "\n" : "") + value;
      else if (field === "event") event.event = value;
      else if (field === "id") event.id = value;
    }
    return event;
  }

  async function readEvents(signal) {
    const headers = { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" };
    if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId;
    const response = await fetch("/v1/events", { headers, signal, cache: "no-store" });
    if (response.status === 404) return "absent";
    if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return "closed";
      buffered += value.replace(/\r\n?/g, "\n");
      let end;
      while ((end = buffered.indexOf("\n\n")) >= 0) {
        const event = parseSse(buffered.slice(0, end));
        buffered = buffered.slice(end + 2);
        if (event.id) state.lastEventId = event.id;
        if (event.event === "notification" && event.data) onNotification(JSON.parse(event.data));
      }
    }
  }

  async function subscribeOrderEvents() {
    if (state.eventsAbort) state.eventsAbort.abort();
    const abort = new AbortController();
    state.eventsAbort = abort;
    let delay = 1000;
    while (!abort.signal.aborted && state.token) {
      try {
        const outcome = await readEvents(abort.signal);
        if (outcome === "absent") return; // a server without the event stream
        delay = 1000;
      } catch (error) {
        if (abort.signal.aborted) return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 30000);
    }
  }

  // ---- wiring ----------------------------------------------------------------------------

  function bindTalkButton() {
    const button = $("talk");
    button.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      button.setPointerCapture(event.pointerId);
      startTalking();
    });
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
      button.addEventListener(type, () => stopTalking());
    }
    button.addEventListener("contextmenu", (event) => event.preventDefault());
    const typing = () => document.activeElement && document.activeElement.tagName === "INPUT";
    document.addEventListener("keydown", (event) => {
      if (event.code === "Space" && !event.repeat && !typing()) {
        event.preventDefault();
        startTalking();
      }
    });
    document.addEventListener("keyup", (event) => {
      if (event.code === "Space" && !typing()) stopTalking();
    });
  }

  function bindForms() {
    $("signin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token-input").value.trim();
      if (!token) return;
      localStorage.setItem(TOKEN_KEY, token);
      $("token-input").value = "";
      signIn(token);
    });
    $("text-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("text-input").value.trim();
      if (!text) return;
      $("text-input").value = "";
      addLog("you", text, "typed");
      send(JSON.stringify({ type: "text", text }));
    });
    $("signout").addEventListener("click", signOut);
  }

  function start() {
    bindTalkButton();
    bindForms();
    const token = readToken();
    if (token) signIn(token);
    else showSignedIn(false);
  }

  start();
})();
