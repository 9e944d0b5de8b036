// Small progressive enhancements for the console; every page also works without JavaScript.
(function () {
  "use strict";

  function toast(text) {
    var el = document.getElementById("toast");
    if (!el) {
      el = document.createElement("output");
      el.id = "toast"; el.className = "toast"; el.setAttribute("aria-live", "polite");
      document.body.appendChild(el);
    }
    el.textContent = text;
    el.classList.add("show");
    clearTimeout(el._timer);
    el._timer = setTimeout(function () { el.classList.remove("show"); }, 2200);
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Plain-HTTP deployments have no Clipboard API: fall back to a selected textarea.
    var area = document.createElement("textarea");
    area.value = text; area.setAttribute("readonly", ""); area.style.position = "fixed"; area.style.opacity = "0";
    document.body.appendChild(area); area.select();
    var ok = document.execCommand("copy");
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var text = button.getAttribute("data-copy");
    copyText(text).then(function () {
      button.setAttribute("data-copied", text);
      toast(button.getAttribute("data-copied-label") || "Copied");
    }, function () { window.prompt("", text); });
  });

  // Forms that destroy something ask first.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // Inputs that only matter when a checkbox is off (expiry / quota of a key).
  function bindToggle(checkboxId, inputId) {
    var box = document.getElementById(checkboxId), input = document.getElementById(inputId);
    if (!box || !input) return;
    var sync = function () { input.disabled = box.checked; input.closest(".field").classList.toggle("dim", box.checked); };
    box.addEventListener("change", sync); sync();
  }
  bindToggle("id_never_expires", "id_expired_at");
  bindToggle("id_unlimited_quota", "id_remain_quota");

  // "= $1.00" next to a quota typed in raw units.
  document.querySelectorAll("[data-quota-hint]").forEach(function (hint) {
    var input = document.getElementById("id_remain_quota") || document.getElementById("id_quota");
    var perUnit = Number(hint.getAttribute("data-per-unit")) || 500000;
    if (!input) return;
    var sync = function () { var v = Number(input.value); hint.textContent = v ? "≈ $" + (v / perUnit).toFixed(4) : ""; };
    input.addEventListener("input", sync); sync();
  });

  // Model checkbox lists: filter, tick all shown, tick none.
  function checks(selector) { return Array.prototype.slice.call(document.querySelectorAll(selector + " input[type=checkbox]")); }
  document.querySelectorAll("[data-filter-checks]").forEach(function (input) {
    var selector = input.getAttribute("data-filter-checks");
    input.addEventListener("input", function () {
      var q = input.value.toLowerCase();
      checks(selector).forEach(function (box) { box.closest("div, li").hidden = q && box.value.toLowerCase().indexOf(q) < 0; });
    });
  });
  document.addEventListener("click", function (event) {
    var all = event.target.closest("[data-check-all]"), none = event.target.closest("[data-check-none]");
    if (all) checks(all.getAttribute("data-check-all")).forEach(function (b) { if (!b.closest("[hidden]")) b.checked = true; });
    if (none) checks(none.getAttribute("data-check-none")).forEach(function (b) { b.checked = false; });
  });

  // "Send code" buttons (registration, e-mail binding, password reset): GET the JSON API, show its message.
  document.querySelectorAll("[data-send-code]").forEach(function (button) {
    button.addEventListener("click", function () {
      var email = document.getElementById(button.getAttribute("data-email-field"));
      var status = button.parentElement.querySelector("[data-send-code-status]");
      var turnstile = document.querySelector("[name=cf-turnstile-response]");
      var url = button.getAttribute("data-send-code") + "?email=" + encodeURIComponent(email ? email.value : "") +
        "&turnstile=" + encodeURIComponent(turnstile ? turnstile.value : "");
      button.disabled = true;
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (body) {
        status.textContent = body.message || (body.success ? "OK" : "");
        setTimeout(function () { button.disabled = false; }, body.success ? 30000 : 0);
      }, function () { button.disabled = false; });
    });
  });
})();
