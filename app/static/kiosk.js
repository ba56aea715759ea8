// The touch kiosk: a number pad for the PIN, a scanned card moves on to the PIN, and after a
// while without a touch or a scan the page signs the reader out and goes back to the start.
// (counter.js sends the scan forms and keeps the focus in the scan field.)
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle") || "0", 10);
  var warnFor = Math.min(10, Math.floor(idle / 2));
  var last = Date.now();

  function touched() {
    last = Date.now();
    var warning = document.querySelector(".idle-warning");
    if (warning) warning.hidden = true;
  }

  function leave() {
    var end = document.getElementById("kiosk-end");
    if (end) { end.submit(); return; }
    var home = body.getAttribute("data-home");
    if (home && window.location.pathname !== home) window.location = home;
    else touched();
  }

  function tick() {
    if (!idle) return;
    var left = idle - Math.floor((Date.now() - last) / 1000);
    var warning = document.querySelector(".idle-warning");
    if (left <= 0) { leave(); return; }
    if (warning && left <= warnFor && (document.getElementById("kiosk-end") || window.location.pathname !== body.getAttribute("data-home"))) {
      warning.hidden = false;
      warning.querySelector("[data-countdown]").textContent = left;
    }
  }

  ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
    document.addEventListener(name, touched, true);
  });
  setInterval(tick, 500);

  document.addEventListener("click", function (event) {
    var key = event.target.closest && event.target.closest("[data-key]");
    if (!key) return;
    var pin = document.querySelector("[data-pin]");
    if (!pin) return;
    var value = key.getAttribute("data-key");
    if (value === "clear") pin.value = "";
    else if (value === "back") pin.value = pin.value.slice(0, -1);
    else if (pin.value.length < 8) pin.value += value;
    pin.focus();
  });

  document.addEventListener("click", function (event) {  // a tap elsewhere: the scanner still types here
    if (event.target.closest && event.target.closest("input, button, a, label")) return;
    var field = document.querySelector("main [data-scan-field]");
    if (field) field.focus();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !event.target.matches("[data-card]")) return;
    var pin = document.querySelector("[data-pin]");
    if (pin && !pin.value) { event.preventDefault(); pin.focus(); }
  });
})();
