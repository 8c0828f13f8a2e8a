/* The console's little JavaScript: the Today board refreshes itself; stock and price cells save on Enter or on
   leaving the cell. Everything also works without it (plain forms). */
(function () {
  "use strict";
  var token = document.querySelector('meta[name="csrf-token"]');
  token = token ? token.content : "";

  var board = document.getElementById("board");
  if (board && board.dataset.poll) {
    var seconds = parseInt(board.dataset.seconds || "10", 10);
    setInterval(function () {
      // Keep the page as it is while someone is typing a refund reason.
      if (board.contains(document.activeElement) && document.activeElement.tagName === "INPUT") { return; }
      if (board.querySelector("details[open]")) { return; }
      fetch(board.dataset.poll, {credentials: "same-origin", headers: {"Accept": "text/html"}})
        .then(function (r) {
          if (r.status === 401 || r.redirected) { window.location.reload(); return null; }
          return r.ok ? r.text() : null;
        })
        .then(function (html) { if (html !== null && html !== undefined) { board.innerHTML = html; } })
        .catch(function () {});
    }, seconds * 1000);
  }

  var scan = document.getElementById("scan");
  if (scan && scan.dataset.status) {
    setInterval(function () {
      fetch(scan.dataset.status, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (body) { if (body.signed_in && body.next) { window.location.assign(body.next); } })
        .catch(function () {});
    }, 2000);
  }

  var progress = document.getElementById("import-progress");
  if (progress && progress.dataset.poll) {
    var labels = {queued: "导入中", done: "已完成", failed: "失败，未导入任何数据"};
    var timer = setInterval(function () {
      fetch(progress.dataset.poll, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (body) {
          document.getElementById("import-bar").value = body.done;
          document.getElementById("import-done").textContent = body.done;
          document.getElementById("import-status").textContent = labels[body.status] || body.status;
          document.getElementById("import-message").textContent = body.message || "";
          if (body.status === "done" || body.status === "failed") { clearInterval(timer); }
        })
        .catch(function () {});
    }, 1000);
  }

  function save(form) {
    var input = form.querySelector("input:not([type=hidden])");
    if (input.value === input.dataset.saved) { return; }
    input.classList.remove("saved", "failed");
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"Accept": "application/json", "X-CSRFToken": token}})
      .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); })
      .then(function (res) {
        if (res.ok) { input.dataset.saved = input.value; input.classList.add("saved"); input.title = ""; }
        else { input.classList.add("failed"); input.title = res.body.error ? res.body.error.message : ""; }
      })
      .catch(function () { input.classList.add("failed"); });
  }
  document.querySelectorAll("form.cell").forEach(function (form) {
    var input = form.querySelector("input:not([type=hidden])");
    input.dataset.saved = input.value;
    form.addEventListener("submit", function (event) { event.preventDefault(); save(form); });
    input.addEventListener("change", function () { save(form); });
  });
})();
