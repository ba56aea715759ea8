// The counter pages: a barcode scanner types and presses Enter. Scan forms are sent without
// reloading the page, the focus goes back to the scan field, and every error beeps and flashes.
// Without JavaScript the same forms work with a page load each.
(function () {
  "use strict";
  var audio = null;

  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.22].forEach(function (start) {
        var tone = audio.createOscillator(), gain = audio.createGain();
        tone.type = "square";
        tone.frequency.value = 330;
        gain.gain.value = 0.15;
        tone.connect(gain).connect(audio.destination);
        tone.start(audio.currentTime + start);
        tone.stop(audio.currentTime + start + 0.15);
      });
    } catch (e) { /* no sound: the red flash still shows */ }
  }

  function settle(fresh) {
    var main = document.querySelector("main");
    var field = main && main.querySelector("[data-scan-field]");
    if (field) { field.focus(); field.select && field.select(); }
    var alert = main && main.querySelector("[data-alert=error]");
    if (alert) {
      document.body.classList.remove("flash-error");
      void document.body.offsetWidth;
      document.body.classList.add("flash-error");
      if (fresh) beep();
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-scan]") || !window.fetch) return;
    event.preventDefault();
    var body = new FormData(form);
    form.querySelectorAll("input, button").forEach(function (el) { el.disabled = true; });
    fetch(form.action || window.location.href, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        return response.text().then(function (html) { return { url: response.url, html: html }; });
      })
      .then(function (page) {
        var doc = new DOMParser().parseFromString(page.html, "text/html");
        document.querySelector("main").replaceWith(doc.querySelector("main"));
        document.title = doc.title;
        if (page.url) history.replaceState(null, "", page.url);
        settle(true);
      })
      .catch(function () { form.submit(); });
  });

  document.addEventListener("DOMContentLoaded", function () { settle(false); });
})();
