// Live unread-messages badge in the navigation: a per-user socket pushes the
// total whenever it changes. Without JavaScript the badge shows the count the
// page was rendered with.
(function () {
  "use strict";
  var badge = document.getElementById("unread-messages-badge");
  if (!badge || !("WebSocket" in window)) return;
  var delay = 1000;

  function show(total) {
    badge.textContent = String(total);
    badge.setAttribute("data-count", String(total));
    badge.hidden = total <= 0;
    document.dispatchEvent(new CustomEvent("chat:unread", { detail: { total: total } }));
  }
  window.Marketplace = window.Marketplace || {};
  window.Marketplace.setUnreadBadge = show;

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/user/");
    socket.onopen = function () { delay = 1000; };
    socket.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.type === "unread") show(data.total);
    };
    socket.onclose = function (event) {
      // 4401: logged out, 4403: account disabled; stop trying.
      if (event.code === 4401 || event.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
