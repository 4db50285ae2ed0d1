// The cashier page: log in, scan or type a code, record a purchase or redeem a voucher.
// Every rule is on the server (bot/cashier_web.py); this script only shows its answers.
// QR codes are decoded in the browser: BarcodeDetector where the browser has it, the vendored
// jsQR otherwise; inside Telegram, its own scanner (showScanQrPopup).
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("config").textContent);
  const texts = config.texts;
  const $ = (id) => document.getElementById(id);
  const telegram = config.telegram && window.Telegram ? window.Telegram.WebApp : null;
  let csrf = config.csrf;
  let looked = null; // {member: id} or {voucher: id}: what the server remembers too
  let pending = null; // {amount, nonce}: the purchase waiting for confirmation

  document.querySelectorAll("[data-text]").forEach((element) => {
    element.textContent = texts[element.dataset.text] || "";
  });
  $("language").href = `?lang=${config.other}${config.telegram ? "&tg=1" : ""}`;

  function say(text, isError) {
    $("message").textContent = text || "";
    $("message").className = isError ? "error" : "";
  }

  function nonce() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function post(path, body) {
    const headers = { "Content-Type": "application/json", "X-Quen-Language": config.lang };
    if (csrf) headers["X-CSRF-Token"] = csrf;
    let response;
    try {
      response = await fetch(path, {
        method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin",
      });
    } catch (error) {
      return { ok: false, data: { message: texts["cashier-page-network-error"] } };
    }
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = { message: texts["cashier-page-network-error"] };
    }
    if (response.status === 401 && csrf) showLogin();
    return { ok: response.ok, data };
  }

  function showLogin() {
    csrf = null;
    stopScan();
    $("till").hidden = true;
    $("login").hidden = false;
  }

  function showTill(who) {
    $("login").hidden = true;
    $("till").hidden = false;
    $("who").textContent = who;
  }

  function clearResult() {
    looked = null;
    pending = null;
    $("result").hidden = true;
    $("amount-form").hidden = true;
    $("confirm").hidden = true;
    $("redeem").hidden = true;
  }

  async function lookup(code) {
    stopScan();
    clearResult();
    say("");
    const { ok, data } = await post("/cashier/api/lookup", { code });
    if (!ok) return say(data.message, true);
    $("result").hidden = false;
    $("result-text").textContent = data.text;
    if (data.kind === "member") {
      looked = { member: data.member };
      $("amount").value = "";
      $("amount-form").hidden = false;
      $("amount").focus();
    } else {
      looked = { voucher: data.voucher };
      $("redeem").hidden = false;
    }
  }

  // ------------------------------------------------------------------ scanning

  let stream = null;
  let detector = null;

  async function decode(video, canvas) {
    if (detector) {
      try {
        const found = await detector.detect(video);
        return found.length ? found[0].rawValue : null;
      } catch (error) {
        detector = null; // unsupported here after all: jsQR from now on
        document.body.dataset.decoder = "jsQR";
      }
    }
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0);
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    const found = window.jsQR(image.data, image.width, image.height);
    return found ? found.data : null;
  }

  async function startCamera() {
    const video = $("camera");
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment" }, audio: false,
      });
    } catch (error) {
      return say(texts["cashier-page-camera-error"], true);
    }
    if ("BarcodeDetector" in window) {
      const formats = await window.BarcodeDetector.getSupportedFormats().catch(() => []);
      if (formats.includes("qr_code")) detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    }
    document.body.dataset.decoder = detector ? "BarcodeDetector" : "jsQR";
    video.srcObject = stream;
    video.hidden = false;
    $("stop").hidden = false;
    await video.play();
    const canvas = document.createElement("canvas");
    const tick = async () => {
      if (!stream) return;
      const text = video.readyState >= 2 ? await decode(video, canvas) : null;
      if (text) {
        $("lookup-code").value = text;
        return lookup(text);
      }
      setTimeout(tick, 150);
    };
    tick();
  }

  function stopScan() {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    $("camera").hidden = true;
    $("stop").hidden = true;
  }

  $("scan").addEventListener("click", () => {
    clearResult();
    say("");
    if (telegram && telegram.showScanQrPopup) {
      telegram.showScanQrPopup({ text: texts["cashier-page-scan"] }, (text) => {
        lookup(text);
        return true; // closes Telegram's scanner
      });
    } else {
      startCamera();
    }
  });
  $("stop").addEventListener("click", stopScan);

  // ------------------------------------------------------------------ forms

  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const { ok, data } = await post("/cashier/login", { code: $("login-code").value });
    if (!ok) return say(data.message, true);
    csrf = data.csrf;
    $("login-code").value = "";
    say("");
    showTill(data.who);
  });

  $("lookup-form").addEventListener("submit", (event) => {
    event.preventDefault();
    lookup($("lookup-code").value);
  });

  $("amount-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!looked || !looked.member) return;
    const { ok, data } = await post("/cashier/api/quote", {
      member: looked.member, amount: $("amount").value,
    });
    if (!ok) return say(data.message, true);
    pending = { amount: data.amount, nonce: nonce() };
    say(data.text);
    $("confirm").hidden = false;
  });

  $("confirm-yes").addEventListener("click", async () => {
    if (!pending || !looked) return;
    const { ok, data } = await post("/cashier/api/purchase", {
      member: looked.member, amount: pending.amount, nonce: pending.nonce,
    });
    say(data.message || data.text, !ok);
    if (ok) {
      $("confirm").hidden = true;
      $("amount-form").hidden = true;
    }
  });

  $("confirm-no").addEventListener("click", () => {
    pending = null;
    $("confirm").hidden = true;
    say("");
  });

  $("redeem").addEventListener("click", async () => {
    if (!looked || !looked.voucher) return;
    const { ok, data } = await post("/cashier/api/redeem", { voucher: looked.voucher });
    say(data.message || data.text, !ok);
    $("redeem").hidden = true;
  });

  $("logout").addEventListener("click", async () => {
    await post("/cashier/logout", {});
    clearResult();
    say("");
    showLogin();
  });

  // ------------------------------------------------------------------ start

  async function start() {
    if (csrf) return showTill(config.who);
    if (telegram && telegram.initData) {
      telegram.ready();
      const { ok, data } = await post("/cashier/telegram", { init_data: telegram.initData });
      if (ok) {
        csrf = data.csrf;
        return showTill(data.who);
      }
      say(data.message, true);
    }
    showLogin();
  }
  start();
})();
