// Screen-pop on the call-taker desk: /ws/cti/ tells this agent's browser that a call
// rings (show the number, a button fills the desk's phone field and runs the caller
// lookup) or was answered (the ticket being typed gets recording_ref "call:<id>").
// Alpine.js comes from npm (node_modules/alpinejs, served under /static/vendor/alpinejs/).
(function () {
  "use strict";
  function component(path) {
    return {
      call: null,
      recordingRef: "",
      socket: null,
      init: function () { this.connect(path, 1000); },
      connect: function (url, delay) {
        var self = this;
        var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + url);
        self.socket = ws;
        ws.onopen = function () { delay = 1000; self.$el.setAttribute("data-cti-state", "open"); };
        ws.onmessage = function (msg) {
          var data;
          try { data = JSON.parse(msg.data); } catch (e) { return; }
          self.handle(data);
        };
        ws.onclose = function (ev) {
          self.$el.setAttribute("data-cti-state", "closed");
          if (ev.code === 4401 || ev.code === 4403) return;
          setTimeout(function () { self.connect(url, Math.min(delay * 2, 30000)); }, delay);
        };
      },
      handle: function (data) {
        if (data.kind === "ringing") {
          this.call = data;
        } else if (data.kind === "answered") {
          this.call = data;
          this.recordingRef = "call:" + data.call_id;
          // The desk form's hidden recording_ref: the ticket being typed is linked to this call.
          var form = document.getElementById("desk-form");
          if (form && form.elements.namedItem("recording_ref")) {
            Array.prototype.forEach.call(form.querySelectorAll('[name="recording_ref"]'), function (el) { el.value = "call:" + data.call_id; });
          }
        } else if (data.kind === "ended") {
          if (this.call && this.call.call_id === data.call_id) this.call = data;
        }
      },
      fill: function () {
        var input = document.getElementById("id_contact_phone");
        if (!input || !this.call) return;
        input.value = this.call.caller;
        input.dispatchEvent(new Event("input", { bubbles: true }));
        input.dispatchEvent(new Event("change", { bubbles: true }));  // htmx: caller lookup
        input.focus();
      }
    };
  }
  window.hotlineScreenPop = component;
  document.addEventListener("alpine:init", function () { window.Alpine.data("hotlineScreenPop", component); });
  // Load Alpine once, unless the page already does.
  if (!window.Alpine && !document.querySelector('script[src*="alpinejs"]')) {
    var holder = document.querySelector("[data-alpine-src]");
    if (holder) {
      var s = document.createElement("script");
      s.src = holder.getAttribute("data-alpine-src");
      s.defer = true;
      document.head.appendChild(s);
    }
  }
})();
