// Channel editor: show the fields the picked type uses, hint its key format and default URL, fill models.
(function () {
  "use strict";
  var form = document.getElementById("channel-form");
  if (!form) return;
  var types = {}, hints = JSON.parse(document.getElementById("key-hints").textContent);
  var needsBase = JSON.parse(document.getElementById("needs-base-url").textContent);
  JSON.parse(document.getElementById("channel-types").textContent).forEach(function (row) { types[row.id] = row; });
  var typeSelect = form.querySelector("#id_type"), baseUrl = form.querySelector("#id_base_url");
  var models = form.querySelector("#id_models"), status = document.getElementById("models-status");

  function sync() {
    var id = typeSelect.value, row = types[id] || {};
    form.querySelectorAll("[data-types]").forEach(function (box) {
      box.hidden = box.getAttribute("data-types").split(",").indexOf(id) < 0;
    });
    var config = form.querySelector(".type-config");
    config.hidden = !config.querySelector("[data-types]:not([hidden])");
    var hint = document.getElementById("key-hint");
    hint.textContent = hints[id] ? hint.getAttribute("data-label") + " " + hints[id] : "";
    baseUrl.placeholder = row.base_url || (needsBase.indexOf(Number(id)) >= 0 ? "https://…" : "");
  }

  function setModels(names) {
    models.value = names.join(",");
    status.textContent = names.length + " ✓";
  }

  typeSelect.addEventListener("change", sync);
  sync();
  document.getElementById("fill-models").addEventListener("click", function () {
    setModels(((types[typeSelect.value] || {}).models) || []);
  });
  document.getElementById("clear-models").addEventListener("click", function () { models.value = ""; status.textContent = ""; });
  document.getElementById("fetch-models").addEventListener("click", function (event) {
    var body = new FormData();
    ["csrfmiddlewaretoken", "type", "base_url", "key"].forEach(function (name) { body.append(name, form.elements[name].value); });
    body.append("channel_id", form.getAttribute("data-channel-id"));
    status.textContent = "…";
    fetch(event.target.getAttribute("data-url"), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (reply) { if (reply.success) setModels(reply.models); else status.textContent = reply.message; },
            function () { status.textContent = "network error"; });
  });
})();
