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
    if (!select) return;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase(), first = null, shown = 0;
      Array.prototype.forEach.call(select.options, function (opt) {
        var hit = !q || opt.text.toLowerCase().indexOf(q) >= 0 || opt.value === "";
        opt.hidden = !hit;
        if (hit && opt.value !== "") { shown += 1; if (!first) first = opt; }
      });
      if (q && shown === 1 && !select.multiple) first.selected = true;
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === "ArrowDown") { ev.preventDefault(); select.focus(); }
    });
  }
  function init(root) {
    Array.prototype.forEach.call(root.querySelectorAll("input.picker-filter"), setUpFilter);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(document); });
  else init(document);
})();
