// stylebot studio: the styles API in a page. No build step, no network beyond this service; every URL is
// relative, so the page works under any route prefix.
"use strict";

const $ = (id) => document.getElementById(id);
const KEY_STORAGE = "stylebot-api-key";
const MAX_RETRIES = 4;            // a 503 is retried after its Retry-After, this many times
// The own-style painting's size is chosen on the page; its link may add a size to the choices and set the effort
// (e.g. /?nst_size=192&nst_steps=150 for a service on a slow CPU). The service checks both like any option.
const PAGE_QUERY = new URLSearchParams(location.search);
const NST_STEPS = PAGE_QUERY.get("nst_steps") ? { steps: PAGE_QUERY.get("nst_steps") } : {};
// Opened from the bot as a Telegram Mini App, the page gets the person's signed initData and Telegram's theme in
// its URL fragment; "Send to the chat" posts the painting with that initData to the bot's route, which checks it.
const TELEGRAM = telegramLaunch();
const BOT_ROUTE = /^\/[A-Za-z0-9_\-/]*$/.test(PAGE_QUERY.get("bot") || "") && !PAGE_QUERY.get("bot").startsWith("//")
  ? PAGE_QUERY.get("bot") : "telegram";
const THEME_VARIABLES = { bg_color: "--bg", text_color: "--text", hint_color: "--hint", link_color: "--link",
                          button_color: "--button", button_text_color: "--button-text",
                          secondary_bg_color: "--panel" };
const studio = {
  photo: null,                    // the chosen photo (a File)
  style: null,                    // the preset picked: {name, label}
  styleImage: null,               // the own-style painting (a File)
  run: null,                      // the AbortController of the request in flight
  result: null,                   // {blob, name, full: () => Promise<Blob> | null}
  urls: {},                       // object URLs in use, by slot, revoked when replaced
};

// -- words on the page --------------------------------------------------------------------------------------
function say(text) { $("status").textContent = text; }
function showError(text) { const e = $("error"); e.textContent = text; e.hidden = !text; }

function objectUrl(slot, blob) {
  if (studio.urls[slot]) URL.revokeObjectURL(studio.urls[slot]);
  studio.urls[slot] = URL.createObjectURL(blob);
  return studio.urls[slot];
}

// -- talking to the service -----------------------------------------------------------------------------------
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
}

async function errorWords(response) {
  try {
    const body = await response.json();
    if (body && body.message) return body.message;
  } catch (e) { /* not JSON: fall through */ }
  return `The service answered ${response.status}. Try again in a moment.`;
}

// Who we are, where the service asks (deployments/access.py): inside Telegram the signed initData, else the API
// key the person gave this tab.
function credentials() {
  if (TELEGRAM) return { "X-Telegram-Init-Data": TELEGRAM.initData };
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key ? { "X-API-Key": key } : {};
}

function askForKey(e) {
  e.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $("api-key").value.trim());
  $("api-key").value = "";
  $("key-form").hidden = true;
  showError("");
  say("The key is kept for this tab. Tap a style again.");
}

// fetch, backing off on 503 (the service is shedding load) and 429 as their Retry-After asks; other errors in
// words
async function call(url, init = {}) {
  init = { ...init, headers: { ...credentials(), ...(init.headers || {}) } };
  for (let attempt = 0; ; attempt++) {
    let response;
    try {
      response = await fetch(url, init);
    } catch (e) {
      if (init.signal?.aborted) throw e;
      throw new Error("The studio cannot reach the service. Check the connection and try again.");
    }
    if ((response.status === 503 || response.status === 429) && attempt < MAX_RETRIES) {
      const wait = Math.min(60, Number(response.headers.get("Retry-After")) || 2 ** (attempt + 1));
      say(response.status === 503 ? `The painters are busy: trying again in ${wait} s...`
                                  : `Too many requests for now: trying again in ${wait} s...`);
      await sleep(wait * 1000, init.signal);
      continue;
    }
    if (response.status === 401 && !TELEGRAM && url.startsWith("v1/")) $("key-form").hidden = false;
    if (!response.ok) throw new Error(await errorWords(response));
    return response;
  }
}

// one request at a time: a newer tap replaces the one in flight
function begin(text) {
  studio.run?.abort();
  studio.run = new AbortController();
  showError("");
  say(text);
  return studio.run.signal;
}

function failed(e, signal) {
  if (signal.aborted) return;     // replaced or cancelled: nothing to report
  say("");
  showError(e.message || String(e));
}

// -- inside Telegram ------------------------------------------------------------------------------------------
function telegramLaunch() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const initData = window.Telegram?.WebApp?.initData || fragment.get("tgWebAppData");
  if (!initData) return null;
  let theme = {};
  try { theme = JSON.parse(fragment.get("tgWebAppThemeParams") || "{}"); } catch (e) { /* ours, then */ }
  return { initData, theme };
}

function applyTheme(theme) {
  for (const [key, variable] of Object.entries(THEME_VARIABLES)) {
    if (/^#[0-9a-fA-F]{3,8}$/.test(theme[key] || "")) document.documentElement.style.setProperty(variable, theme[key]);
  }
  if (theme.bg_color && !theme.secondary_bg_color) {     // panels a shade off the background, readable either way
    document.documentElement.style.setProperty("--panel", "color-mix(in srgb, var(--bg) 88%, var(--text))");
  }
}

async function sendToChat() {
  const button = $("send-to-chat");
  button.disabled = true;
  showError("");
  say("Sending the painting to the chat...");
  try {
    const blob = studio.result.blob;
    await call(`${BOT_ROUTE}/studio/send`, { method: "POST", body: blob, headers: {
      "Content-Type": blob.type || "image/jpeg", "X-Telegram-Init-Data": TELEGRAM.initData } });
    say("Sent: the painting is in the chat.");
  } catch (e) {
    say("");
    showError(`It was not sent: ${e.message}`);
  } finally {
    button.disabled = false;
  }
}

// -- the photo ------------------------------------------------------------------------------------------------
function takePhoto(file) {
  if (!file) return;
  if (!file.type.startsWith("image/")) {
    showError(`${file.name} is not a picture: choose a JPEG, PNG or WebP photo.`);
    return;
  }
  studio.photo = file;
  const url = objectUrl("photo", file);
  const preview = $("photo-preview");
  preview.src = url;
  preview.alt = `Your photo: ${file.name}`;
  preview.hidden = false;
  $("drop-text").textContent = "Drop or choose another photo";
  $("before").src = url;
  showError("");
  updateOwnButton();
  if (studio.style) paintPreset();
}

function watchDrops() {
  const drop = $("drop");
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    takePhoto(e.dataTransfer.files[0]);
  });
  $("photo-input").addEventListener("change", (e) => takePhoto(e.target.files[0]));
}

// -- the styles -----------------------------------------------------------------------------------------------
function styleButton(style) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "style";
  button.dataset.style = style.name;
  button.setAttribute("aria-pressed", "false");
  button.title = style.description || style.label;
  const thumb = document.createElement("img");
  thumb.alt = "";                 // the button's label names it
  thumb.loading = "lazy";
  thumb.src = `v1/styles/${encodeURIComponent(style.name)}/thumbnail`;
  thumb.addEventListener("error", () => retryThumbnail(thumb));
  const label = document.createElement("span");
  label.textContent = style.label;
  button.append(thumb, label);
  button.addEventListener("click", () => pickStyle(style));
  return button;
}

// A thumbnail the service was too busy to paint (a 503) is asked for again later, a few times, further apart.
function retryThumbnail(thumb) {
  const tries = Number(thumb.dataset.tries || 0) + 1;
  if (tries > 3) return;
  thumb.dataset.tries = String(tries);
  const url = thumb.src;
  setTimeout(() => { thumb.removeAttribute("src"); thumb.src = url; }, 5000 * 2 ** tries);
}

async function loadStyles() {
  const box = $("styles");
  try {
    const { styles, nst_max_size: nstMaxSize } = await (await call("v1/styles")).json();
    fitSizesToService(nstMaxSize);
    const available = styles.filter((s) => s.available);
    box.replaceChildren(...available.map(styleButton));
    if (!available.length) box.textContent = "No styles are available right now.";
  } catch (e) {
    box.textContent = "";
    showError(`The styles could not be loaded: ${e.message}`);
  } finally {
    box.setAttribute("aria-busy", "false");
  }
}

function pickStyle(style) {
  studio.style = style;
  for (const b of document.querySelectorAll(".style")) {
    b.setAttribute("aria-pressed", String(b.dataset.style === style.name));
  }
  paintPreset();
}

function presetQuery(extra = {}) {
  return new URLSearchParams({ strength: $("strength").value, keep_colors: String($("keep-colors").checked),
                               ...extra });
}

async function paintPreset() {
  if (!studio.style) return;
  if (!studio.photo) { showError("Choose a photo first (step 1), then a style."); return; }
  const { name, label } = studio.style;
  const signal = begin(`Painting your photo in ${label}...`);
  const url = (extra) => `v1/stylize/${encodeURIComponent(name)}?${presetQuery(extra)}`;
  const body = studio.photo;
  const send = (extra, sig) => call(url(extra), { method: "POST", body, signal: sig,
                                                 headers: { "Content-Type": body.type || "image/jpeg" } });
  try {
    const blob = await (await send({}, signal)).blob();
    showResult(blob, `${name}.jpg`, `Your photo in ${label}`,
               async () => (await send({ size: "full" })).blob());
  } catch (e) {
    failed(e, signal);
  }
}

// -- own style: the quick network at once, then Gatys with progress -------------------------------------------
function updateOwnButton() { $("own-run").disabled = !(studio.photo && studio.styleImage); }

function ownForm(fields) {
  const form = new FormData();
  form.append("content", studio.photo);
  form.append("style", studio.styleImage);
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  return form;
}

async function paintOwnStyle() {
  if (!studio.photo || !studio.styleImage) { showError("Choose a photo and a painting first."); return; }
  for (const b of document.querySelectorAll(".style")) b.setAttribute("aria-pressed", "false");
  studio.style = null;
  const signal = begin("A quick version first...");
  $("cancel").hidden = false;
  try {
    const quick = await call("v1/fast", { method: "POST", body: ownForm({ strength: $("strength").value,
                                          keep_colors: String($("keep-colors").checked) }), signal });
    showResult(await quick.blob(), "own-style-quick.jpg", "The quick version of your style", null);
    await followNst(signal);
  } catch (e) {
    failed(e, signal);
  } finally {
    if (!signal.aborted) $("cancel").hidden = true;
    $("nst-progress").hidden = true;
  }
}

async function followNst(signal) {
  say("Now the full painting: starting...");
  const progress = $("nst-progress");
  progress.hidden = false;
  progress.value = 0;
  const size = $("nst-size").value;
  const response = await call("v1/nst?stream=true&previews=2", {
    method: "POST", signal, headers: { Accept: "application/x-ndjson" },
    body: ownForm({ keep_colors: String($("keep-colors").checked), size, ...NST_STEPS }) });
  for await (const event of ndjsonEvents(response)) {
    if (event.type === "progress") {
      const percent = Math.round((100 * event.step) / event.total);
      progress.value = percent;
      say(`Painting in your style at ${size} px: ${percent}% (step ${event.step} of ${event.total})`);
    } else if (event.type === "preview") {
      showResult(base64Blob(event.image), "own-style-preview.jpg", "The painting so far", null);
    } else if (event.type === "result") {
      showResult(base64Blob(event.image), "own-style.jpg", "Your photo in your own style", null);
      say("Done: your photo in your own style.");
      return;
    } else if (event.type === "error") {
      throw new Error(event.message);
    }
  }
  throw new Error("The painting stopped before it was done. Try again.");
}

async function* ndjsonEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    buffered += decoder.decode(value || new Uint8Array(), { stream: !done });
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield JSON.parse(line);
    }
    if (done) return;
  }
}

function base64Blob(text) {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type: "image/jpeg" });
}

function cancelRun() {
  studio.run?.abort();
  $("cancel").hidden = true;
  $("nst-progress").hidden = true;
  say("Cancelled.");
}

// -- the result -----------------------------------------------------------------------------------------------
function showResult(blob, fileName, description, full) {
  const url = objectUrl("result", blob);
  $("after").src = url;
  $("after").alt = description;
  $("compare").hidden = false;
  $("result-controls").hidden = false;
  $("downloads").hidden = false;
  $("download").href = url;
  $("download").download = `stylebot-${fileName}`;
  $("download-full").hidden = !full;
  $("send-to-chat").hidden = !TELEGRAM;
  studio.result = { blob, fileName, full };
  if (description && !description.endsWith("so far")) say(`${description}.`);
}

async function downloadFull() {
  const { full, fileName } = studio.result || {};
  if (!full) return;
  const button = $("download-full");
  button.disabled = true;
  say("Painting at the photo's own size...");
  try {
    const link = document.createElement("a");
    link.href = objectUrl("full", await full());
    link.download = `stylebot-full-${fileName}`;
    document.body.append(link);
    link.click();
    link.remove();
    say("The full-size painting is downloaded.");
  } catch (e) {
    showError(e.message);
  } finally {
    button.disabled = false;
  }
}

function slide() {
  const shown = Number($("slider").value);
  $("after-clip").style.clipPath = `inset(0 ${100 - shown}% 0 0)`;
  $("slider").setAttribute("aria-valuetext", `${shown}% painting`);
}

// -- wiring ---------------------------------------------------------------------------------------------------
function debounce(fn, ms) {
  let timer;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

// Sizes over the service's largest (GET v1/styles says which) stay in the list, disabled and labelled so.
function fitSizesToService(max) {
  const select = $("nst-size");
  if (!max) return;
  for (const option of [...select.options].filter((option) => Number(option.value) > max)) {
    option.disabled = true;
    option.textContent += " - larger than this service paints";
  }
  const allowed = [...select.options].filter((option) => !option.disabled);
  if (!allowed.length) {
    select.add(new Option(`${max} px`, String(max)));
    select.value = String(max);
  } else if (select.selectedOptions[0].disabled) {
    select.value = allowed.at(-1).value;
  }
}

function offerLinkedSize() {
  const size = PAGE_QUERY.get("nst_size");
  const select = $("nst-size");
  if (!/^[0-9]{1,4}$/.test(size || "")) return;
  if (![...select.options].some((option) => option.value === size)) select.add(new Option(`${size} px`, size));
  select.value = size;
}

function start() {
  watchDrops();
  offerLinkedSize();
  const repaint = debounce(() => studio.style && paintPreset(), 250);
  $("strength").addEventListener("input", () => {
    $("strength-value").textContent = `${Math.round(Number($("strength").value) * 100)}%`;
    repaint();
  });
  $("keep-colors").addEventListener("change", repaint);
  $("style-input").addEventListener("change", (e) => { studio.styleImage = e.target.files[0] || null;
                                                      updateOwnButton(); });
  $("own-run").addEventListener("click", paintOwnStyle);
  $("cancel").addEventListener("click", cancelRun);
  $("download-full").addEventListener("click", downloadFull);
  $("slider").addEventListener("input", slide);
  $("send-to-chat").addEventListener("click", sendToChat);
  $("key-form").addEventListener("submit", askForKey);
  if (TELEGRAM) applyTheme(TELEGRAM.theme);
  slide();
  loadStyles();
}

start();
