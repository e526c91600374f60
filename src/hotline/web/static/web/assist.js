// Desk knowledge assist: while the call-taker types the appeal (summary/content, 400 ms
// debounce, at least 4 characters), ask /api/knowledge/assist and show the best articles
// and similar answered tickets; "采用答复" copies the answer into the result field and,
// for an article, remembers it in the hidden assist_article input: the desk records that
// article as the answer of the ticket when the ticket is saved. The dispatch suggestion
// of the same answer lists the likely lead departments; "使用" selects one in the
// lead-department picker. Errors are quiet.
(function () {
  "use strict";
  function start() {
    var panel = document.getElementById("assist-panel"), box = document.getElementById("assist-results");
    var form = document.getElementById("desk-form");
    if (!panel || !box || !form) return;
    var summary = form.elements.summary, content = form.elements.content, result = form.elements.result;
    var timer = null, seq = 0, lastText = "";
    function csrf() { var el = form.elements.csrfmiddlewaretoken; return el ? el.value : ""; }
    function post(url, body) {
      return fetch(url, { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() }, body: JSON.stringify(body) });
    }
    function val(name) { var el = form.elements[name]; return el && el.value ? el.value.trim() : ""; }
    function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; return e; }
    function excerpt(s) { s = (s || "").replace(/\s+/g, " "); return s.length > 120 ? s.slice(0, 120) + "…" : s; }
    function adopt(answer, articleId, query) {
      if (!result || !answer) return;
      result.value = answer;
      result.dispatchEvent(new Event("input", { bubbles: true }));
      result.focus();
      if (form.elements.assist_article) form.elements.assist_article.value = articleId ? String(articleId) : "";
    }
    function item(title, answer, articleId, query, cls) {
      var li = el("li", cls);
      li.appendChild(el("strong", "", title));
      li.appendChild(el("p", "answer", excerpt(answer)));
      var b = el("button", "adopt", panel.getAttribute("data-adopt"));
      b.type = "button";
      b.setAttribute("aria-label", panel.getAttribute("data-adopt") + ": " + title);
      b.addEventListener("click", function () { adopt(answer, articleId, query); });
      li.appendChild(b);
      return li;
    }
    function show(data, query) {
      box.textContent = "";
      var arts = (data.articles || []).filter(function (a) { return a.answer; });
      var tix = (data.similar_tickets || []).filter(function (t) { return t.result; });
      var dups = data.duplicates || [];
      if (dups.length) {  // 判重 first: the call-taker may be taking the same appeal again
        box.appendChild(el("h3", "", panel.getAttribute("data-duplicates")));
        var dl = el("ul", "assist-list"); dl.id = "assist-duplicates";
        dups.forEach(function (d) {
          var li = el("li", d.probable ? "duplicate probable" : "duplicate");
          var a = el("a", "", d.number); a.href = "/tickets/" + encodeURIComponent(d.number) + "/"; a.target = "_blank";
          li.appendChild(a);
          li.appendChild(el("span", "score", " " + Math.round((d.similarity || 0) * 100) + "%"));
          var why = [];
          if (d.same_caller) why.push(panel.getAttribute("data-same-caller"));
          if (d.same_address) why.push(panel.getAttribute("data-same-address"));
          if (why.length) li.appendChild(el("span", "muted", " · " + why.join(" · ")));
          li.appendChild(el("p", "answer", excerpt(d.summary)));
          dl.appendChild(li);
        });
        box.appendChild(dl);
      }
      var shown = suggestion(data.suggestion);
      if (!arts.length && !tix.length) {
        if (dups.length || shown) return; box.appendChild(el("p", "muted", panel.getAttribute("data-none"))); return; }
      if (arts.length) {
        box.appendChild(el("h3", "", panel.getAttribute("data-articles")));
        var ul = el("ul", "assist-list"); ul.id = "assist-articles";
        arts.forEach(function (a) { ul.appendChild(item(a.title, a.answer, a.id, query, "article")); });
        box.appendChild(ul);
      }
      if (tix.length) {
        box.appendChild(el("h3", "", panel.getAttribute("data-tickets")));
        var tl = el("ul", "assist-list"); tl.id = "assist-tickets";
        tix.forEach(function (t) { tl.appendChild(item(t.number + " " + t.summary, t.result, null, query, "ticket")); });
        box.appendChild(tl);
      }
    }
    // 智能分派: the suggested lead department(s); "使用" selects one in the desk's
    // lead-department picker (only departments the picker offers).
    function suggestion(s) {
      var picker = form.elements.lead_department;
      if (!s || !picker) return false;
      var deps = (s.departments || []).filter(function (d) {
        return d.id != null && picker.querySelector('option[value="' + String(d.id).replace(/[^0-9]/g, "") + '"]');
      });
      if (!deps.length) return false;
      box.appendChild(el("h3", "", panel.getAttribute("data-suggest")));
      var sl = el("ul", "assist-list"); sl.id = "assist-suggestion";
      deps.forEach(function (d) {
        var name = d.name || String(d.id);
        var li = el("li", "suggested");
        li.appendChild(el("strong", "", name));
        var why = s.source === "rule" ? panel.getAttribute("data-by-rule") : Math.round((d.confidence || 0) * 100) + "%";
        li.appendChild(el("span", "muted", " " + why));
        var b = el("button", "use", panel.getAttribute("data-use"));
        b.type = "button";
        b.setAttribute("aria-label", panel.getAttribute("data-use") + ": " + name);
        b.addEventListener("click", function () {
          picker.value = String(d.id);
          picker.dispatchEvent(new Event("change", { bubbles: true }));
          picker.focus();
        });
        li.appendChild(b);
        sl.appendChild(li);
      });
      box.appendChild(sl);
      return true;
    }
    function ask() {
      var text = (val("summary") + " " + val("content")).trim();
      if (text.length < 4 || text === lastText) return;
      lastText = text;
      var mine = ++seq;
      post(panel.getAttribute("data-url"), { summary: val("summary"), content: val("content"), phone: val("contact_phone"),
        address: val("address"), district: val("district") || null, category: val("category") || null })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && mine === seq) show(data, text); })
        .catch(function () {});
    }
    function later() { clearTimeout(timer); timer = setTimeout(ask, 400); }
    [summary, content].forEach(function (f) { if (f) f.addEventListener("input", later); });
    if ((val("summary") + val("content")).length >= 4) later();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
