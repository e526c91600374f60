// hotline pages: keyboard shortcuts and searchable pickers. No framework needed.
(function () {
  "use strict";
  // Ctrl+S: save (受理), Ctrl+Enter: dispatch (派单) — on pages with such buttons.
  document.addEventListener("keydown", function (ev) {
    if (!(ev.ctrlKey || ev.metaKey)) return;
    var which = null;
    if (ev.key === "s" || ev.key === "S") which = "save";
    else if (ev.key === "Enter") which = "dispatch";
    if (!which) return;
    var button = document.querySelector('button[data-shortcut="' + which + '"]');
    if (!button) return;
    ev.preventDefault();
    if (button.form && button.form.requestSubmit) button.form.requestSubmit(button);
    else button.click();
  });
  // <input class="picker-filter" data-filter="id-of-select">: typing hides options that
  // do not contain the text; Enter or ArrowDown moves to the list; one match is selected.
  function setUpFilter(input) {
    var select = document.getElementById(input.getAttribute("data-filter"));
    if (!select || input.getAttribute("data-wired")) return;
    input.setAttribute("data-wired", "1");
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase(), first = null, shown = 0;
      Array.prototype.forEach.call(select.options, function (opt) {
        var hit = !q || opt.text.toLowerCase().indexOf(q) >= 0 || opt.value === "";
        opt.hidden = !hit;
        if (hit && opt.value !== "") { shown += 1; if (!first) first = opt; }
      });
      if (q && shown === 1 && !select.multiple && !first.selected) {
        first.selected = true;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === "ArrowDown") { ev.preventDefault(); select.focus(); }
    });
  }
  // Live updates: /ws/tickets/ says "ticket N changed"; lists listening for the
  // "ticket-changed" event (htmx hx-trigger) refresh themselves; a ticket page being
  // read shows a banner instead, so nothing the user is typing is lost.
  function connectLive() {
    var path = document.body.getAttribute("data-live");
    if (!path || !window.WebSocket) return;
    var delay = 1000;
    function open() {
      var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
      ws.onopen = function () { delay = 1000; document.body.setAttribute("data-live-state", "open"); };
      ws.onmessage = function (msg) {
        var data;
        try { data = JSON.parse(msg.data); } catch (e) { return; }
        document.body.dispatchEvent(new CustomEvent("ticket-changed", { detail: data }));
        var here = document.body.getAttribute("data-ticket");
        if (here && String(data.ticket) === here) {
          var banner = document.getElementById("live-banner");
          if (banner) banner.hidden = false;
        }
      };
      ws.onclose = function (ev) {
        document.body.setAttribute("data-live-state", "closed");
        if (ev.code === 4401 || ev.code === 4403) return;
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    open();
  }
  // An error shown next to a field is about what was typed before the save: once the
  // user changes that field, the message (and the red frame) goes; the "not saved"
  // banner goes with the last one. The server checks again on the next save.
  function clearStaleError(ev) {
    var el = ev.target;
    if (!el || !el.name || !el.form) return;
    var box = el.closest(".field") || el.closest("td") || el.form;
    var stale = box.querySelectorAll("p.error:not(.banner)");
    if (!stale.length && !box.classList.contains("has-error")) return;
    Array.prototype.forEach.call(stale, function (p) { p.remove(); });
    box.classList.remove("has-error");
    el.removeAttribute("aria-invalid");
    if (!document.querySelector("main p.error:not(.banner)")) {
      Array.prototype.forEach.call(document.querySelectorAll("p.error.banner[data-form-errors]"), function (b) { b.hidden = true; });
    }
  }
  // A link to "#id" of a closed <details> opens it (the ticket page's 修改工单).
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest('a[href^="#"]');
    var target = a && document.getElementById(a.getAttribute("href").slice(1));
    if (target && target.tagName === "DETAILS") target.open = true;
  });
  document.addEventListener("input", clearStaleError);
  document.addEventListener("change", clearStaleError);
  function init(root) {
    Array.prototype.forEach.call(root.querySelectorAll("input.picker-filter"), setUpFilter);
  }
  function start() { init(document); connectLive(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  // Lists refreshed by htmx get their pickers wired again.
  document.addEventListener("htmx:afterSettle", function () { init(document); });
})();
