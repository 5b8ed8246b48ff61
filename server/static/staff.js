// The staff queue: live tickets over Server-Sent Events, buttons without reloads, a chime.
// The server renders every ticket (the same template for the page and the stream); this file
// only places the HTML it is sent. On every (re)connect the stream starts with a snapshot of
// the queue from the database, so a reload, a lost connection or a server restart loses nothing.
"use strict";

(() => {
  const store = document.body.dataset.store;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const queue = document.getElementById("queue");
  const empty = document.getElementById("empty");
  const connection = document.getElementById("connection");
  const seen = new Set();
  const state = { chimes: 0, events: 0, snapshots: 0 };
  window.voicecart = state; // read by the browser tests

  // --- sound: a two-note chime made with WebAudio (no audio file) ---
  let audio = null;
  const soundButton = document.getElementById("sound");
  soundButton.addEventListener("click", () => {
    audio = audio || new AudioContext();
    audio.resume();
    soundButton.textContent = "🔔 Sound on";
    chime();
  });
  function chime() {
    state.chimes += 1;
    if (!audio || audio.state !== "running") return;
    const now = audio.currentTime;
    [880, 1318.5].forEach((frequency, i) => {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.4, now + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.18 + 0.5);
      tone.connect(gain).connect(audio.destination);
      tone.start(now + i * 0.18);
      tone.stop(now + i * 0.18 + 0.55);
    });
  }

  // --- tickets ---
  function fromHtml(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }
  function place(html, open) {
    const card = fromHtml(html);
    const current = document.getElementById(card.id);
    if (current && current.dataset.updated > card.dataset.updated) return false; // stale
    if (!open) {
      if (current) current.remove();
    } else if (current) {
      current.replaceWith(card);
    } else {
      queue.appendChild(card);
      card.classList.add("fresh");
    }
    empty.hidden = queue.children.length > 0;
    tick();
    return !current && open;
  }
  function snapshot(data) {
    queue.replaceChildren(...data.cards.map(fromHtml));
    empty.hidden = data.cards.length > 0;
    switches(data.switches);
    state.snapshots += 1;
    tick();
  }
  function switches(data) {
    document.getElementById("paused").hidden = !data.pickup_paused;
    const form = document.getElementById("switches");
    if (form) {
      form.elements.pickup_paused.checked = data.pickup_paused;
      form.elements.extra_prep_minutes.value = data.extra_prep_minutes;
    } else {
      document.getElementById("extra").textContent = data.extra_prep_minutes;
    }
  }

  // --- timers since placed ---
  function tick() {
    const now = Date.now();
    for (const timer of queue.querySelectorAll(".timer")) {
      const seconds = Math.max(0, Math.floor((now - Date.parse(timer.dataset.since)) / 1000));
      const minutes = Math.floor(seconds / 60);
      timer.textContent = `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
      timer.classList.toggle("late", minutes >= 10);
    }
  }
  setInterval(tick, 1000);

  // --- the live stream ---
  function connect() {
    const source = new EventSource(`/staff/stream?store=${encodeURIComponent(store)}`);
    source.addEventListener("open", () => { connection.dataset.state = "live"; connection.textContent = "live"; });
    source.addEventListener("error", () => { connection.dataset.state = "lost"; connection.textContent = "reconnecting…"; });
    source.addEventListener("snapshot", (event) => snapshot(JSON.parse(event.data)));
    source.addEventListener("switches", (event) => switches(JSON.parse(event.data)));
    source.addEventListener("logout", () => { source.close(); window.location = "/staff/login"; });
    source.addEventListener("ticket", (event) => {
      const data = JSON.parse(event.data);
      if (seen.has(data.id)) return; // a duplicate delivery of the same notification
      seen.add(data.id);
      state.events += 1;
      const added = place(data.html, data.open);
      if (added && data.event === "order.placed") chime();
    });
  }
  connect();

  // --- buttons: POST with the CSRF header, place the answer at once ---
  function showError(message) {
    const note = document.createElement("p");
    note.className = "flash-error";
    note.textContent = message;
    document.body.appendChild(note);
    setTimeout(() => note.remove(), 5000);
  }
  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
      body: body || new URLSearchParams(),
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || `HTTP ${response.status}`);
    return data;
  }
  queue.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    form.querySelector("button").disabled = true;
    try {
      const data = await post(form.action);
      place(data.html, data.open);
    } catch (error) {
      showError(error.message);
      form.querySelector("button").disabled = false;
    }
  });
  const switchForm = document.getElementById("switches");
  if (switchForm) {
    switchForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = new URLSearchParams(new FormData(switchForm));
      body.delete("csrf_token");
      try { switches(await post(switchForm.action, body)); } catch (error) { showError(error.message); }
    });
  }

  // --- out of stock: pick substitutes from the catalog, tell the shopper ---
  const dialog = document.getElementById("oos-dialog");
  const choices = document.getElementById("oos-choices");
  let pending = null;
  queue.addEventListener("click", async (event) => {
    const button = event.target.closest("button.oos");
    if (!button) return;
    pending = button.dataset;
    const response = await fetch(`/staff/orders/${pending.order}/lines/${pending.line}/substitutes`, { headers: { Accept: "application/json" } });
    const products = response.ok ? await response.json() : [];
    choices.replaceChildren(...products.map((product, i) => {
      const label = document.createElement("label");
      label.innerHTML = `<input type="checkbox" name="product_id" ${i === 0 ? "checked" : ""}> `;
      label.firstChild.value = product.product_id;
      label.append(`${product.name} (${(product.price / 100).toFixed(2)})`);
      return label;
    }));
    document.getElementById("oos-none").hidden = products.length > 0;
    document.getElementById("oos-offer").disabled = products.length === 0;
    dialog.showModal();
  });
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "offer" || !pending) return;
    const body = new URLSearchParams();
    for (const box of choices.querySelectorAll("input:checked")) body.append("product_id", box.value);
    try {
      const data = await post(`/staff/orders/${pending.order}/lines/${pending.line}/out-of-stock`, body);
      place(data.html, data.open);
    } catch (error) { showError(error.message); }
  });
})();
