// Conversation page, live: messages arrive over /ws/chat/<id>/, sends go over
// the socket (or the API while it is down) with a client id so a retry is never
// stored twice, and a reconnect fetches what was missed. Without JavaScript the
// page is a plain form post and reload.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root || !("WebSocket" in window)) return;
  var list = document.getElementById("chat-messages");
  var form = document.getElementById("composer");
  var textarea = form ? form.querySelector("textarea") : null;
  var fileInput = form ? form.querySelector("input[type=file]") : null;
  var statusLine = document.getElementById("chat-status");
  var typingLine = document.getElementById("chat-typing");
  var conversationId = root.getAttribute("data-conversation");
  var me = parseInt(root.getAttribute("data-user"), 10);
  var apiUrl = root.getAttribute("data-api");
  var otherLastRead = parseInt(root.getAttribute("data-other-last-read"), 10) || 0;
  var isLatest = root.getAttribute("data-latest") === "1";
  var socket = null;
  var delay = 1000;
  var outbox = {}; // client_id -> text, until the server acknowledges
  var typingTimer = null;
  var lastTypingSent = 0;
  var siteName = document.title.split(" · ").pop();

  function lastSeenId() {
    var items = list.querySelectorAll("li.chat-message[data-id]");
    var max = 0;
    items.forEach(function (li) {
      var id = parseInt(li.getAttribute("data-id"), 10);
      if (id > max) max = id;
    });
    return max;
  }

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function setStatus(text) { if (statusLine) statusLine.textContent = text || ""; }

  var URL_RE = /\b(https?:\/\/[^\s<>"']+|www\.[^\s<>"']+)/gi;
  function linkified(text) {
    var fragment = document.createDocumentFragment();
    var last = 0;
    text.replace(URL_RE, function (url, _g, index) {
      fragment.appendChild(document.createTextNode(text.slice(last, index)));
      var a = document.createElement("a");
      a.href = /^https?:/i.test(url) ? url : "http://" + url;
      a.rel = "nofollow noopener noreferrer ugc";
      a.target = "_blank";
      a.textContent = url.length > 60 ? url.slice(0, 59) + "…" : url;
      fragment.appendChild(a);
      last = index + url.length;
      return url;
    });
    fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  function formatTime(iso) {
    var d = iso ? new Date(iso) : new Date();
    return d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  function ticks(li, id) {
    var span = li.querySelector(".ticks");
    if (!span) return;
    var read = id && id <= otherLastRead;
    span.classList.toggle("read", !!read);
    span.textContent = read ? "✓✓" : (id ? "✓" : "…");
    span.title = read ? "Read" : (id ? "Sent" : "Sending");
  }

  function render(message, pending) {
    var mine = message.sender.id === me;
    var li = document.createElement("li");
    li.className = "chat-message " + (mine ? "mine" : "theirs") + (pending ? " pending" : "");
    if (message.id) { li.id = "m" + message.id; li.setAttribute("data-id", message.id); }
    if (message.client_id) li.setAttribute("data-client-id", message.client_id);
    li.setAttribute("data-sender", message.sender.id);
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    if (message.image) {
      var link = document.createElement("a");
      link.href = message.image; link.target = "_blank"; link.rel = "noopener";
      var img = document.createElement("img");
      img.className = "chat-image"; img.src = message.image; img.alt = "Photo"; img.loading = "lazy";
      link.appendChild(img); bubble.appendChild(link);
    }
    if (message.text) {
      var text = document.createElement("div");
      text.className = "text";
      text.appendChild(linkified(message.text));
      bubble.appendChild(text);
    }
    var meta = document.createElement("div");
    meta.className = "meta";
    var time = document.createElement("time");
    time.textContent = formatTime(message.created_at);
    if (message.created_at) time.setAttribute("datetime", message.created_at);
    meta.appendChild(time);
    if (mine) {
      meta.appendChild(document.createTextNode(" "));
      var t = document.createElement("span");
      t.className = "ticks";
      meta.appendChild(t);
    }
    bubble.appendChild(meta);
    li.appendChild(bubble);
    if (message.warning && !mine) {
      var warn = document.createElement("p");
      warn.className = "chat-warning";
      warn.setAttribute("role", "note");
      warn.textContent = (message.warning === "payment_link"
        ? "This message contains a payment link outside " + siteName + "."
        : "This message contains a phone number.") +
        " Pay only through safe deal: money sent outside the platform cannot be protected.";
      li.appendChild(warn);
    }
    if (mine) ticks(li, message.id);
    return li;
  }

  function scrollDown() { list.scrollTop = list.scrollHeight; }

  function addMessage(message) {
    if (!isLatest) return;
    if (message.id && document.getElementById("m" + message.id)) return;
    var empty = list.querySelector(".chat-empty");
    if (empty) empty.remove();
    var pending = message.client_id
      ? list.querySelector('li.pending[data-client-id="' + CSS.escape(message.client_id) + '"]')
      : null;
    var li = render(message, false);
    if (pending) {
      pending.replaceWith(li);
      delete outbox[message.client_id];
    } else {
      list.appendChild(li);
    }
    scrollDown();
    if (message.sender.id !== me) {
      if (typingLine) typingLine.hidden = true;
      markRead();
    }
  }

  function markRead() {
    if (document.visibilityState !== "visible") return;
    var id = lastSeenId();
    if (id && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "read", message_id: id }));
    }
  }

  function sendFrame(clientId, text) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "message.send", text: text, client_id: clientId }));
      return;
    }
    // Socket down: the API stores it; the socket brings it back on reconnect.
    fetch(apiUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": window.Marketplace.csrfToken() },
      body: JSON.stringify({ text: text, client_id: clientId }),
    }).then(function (response) {
      return response.json().then(function (body) {
        if (response.ok) addMessage(body);
        else fail(clientId, body.detail || "Not sent.");
      });
    }).catch(function () { setStatus("Offline: the message will be sent when the connection is back."); });
  }

  function fail(clientId, detail) {
    var li = list.querySelector('li.pending[data-client-id="' + CSS.escape(clientId) + '"]');
    if (li) { li.classList.add("failed"); li.classList.remove("pending"); }
    delete outbox[clientId];
    setStatus(detail);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/chat/" + conversationId + "/");
    socket.onopen = function () {
      delay = 1000;
      setStatus("");
      root.setAttribute("data-live", "1");
      if (isLatest) socket.send(JSON.stringify({ type: "sync", after: lastSeenId() }));
      Object.keys(outbox).forEach(function (clientId) {
        socket.send(JSON.stringify({ type: "message.send", text: outbox[clientId], client_id: clientId }));
      });
    };
    socket.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.type === "message.new" || data.type === "message.ack") {
        addMessage(data.message);
      } else if (data.type === "sync") {
        data.messages.forEach(addMessage);
        if (data.has_more) socket.send(JSON.stringify({ type: "sync", after: lastSeenId() }));
        else markRead();
      } else if (data.type === "typing") {
        if (!typingLine) return;
        typingLine.hidden = false;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typingLine.hidden = true; }, 4000);
      } else if (data.type === "read") {
        if (data.user_id !== me) {
          otherLastRead = Math.max(otherLastRead, data.last_read_id);
          list.querySelectorAll("li.chat-message.mine[data-id]").forEach(function (li) {
            ticks(li, parseInt(li.getAttribute("data-id"), 10));
          });
        }
      } else if (data.type === "block") {
        // Sends are refused while either side blocks; the server says why.
        if (data.blocked_by === me) setStatus("You blocked this user.");
        else if (data.blocked_by) setStatus("This user does not accept messages from you.");
        else setStatus("");
      } else if (data.type === "error") {
        if (data.client_id) fail(data.client_id, data.detail);
        else setStatus(data.detail);
      }
    };
    socket.onclose = function (event) {
      root.removeAttribute("data-live");
      // 4401 logged out, 4403 account disabled, 4404 no access: retrying won't help.
      if (event.code === 4401 || event.code === 4403 || event.code === 4404) {
        setStatus(event.code === 4403 ? "Your account is disabled." : "Reload the page to continue.");
        return;
      }
      setStatus("Reconnecting…");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  if (form && textarea) {
    form.addEventListener("submit", function (event) {
      if (fileInput && fileInput.files && fileInput.files.length) return; // plain post
      event.preventDefault();
      var text = textarea.value.trim();
      if (!text) return;
      var clientId = newClientId();
      outbox[clientId] = text;
      list.appendChild(render({ sender: { id: me }, text: text, client_id: clientId }, true));
      var empty = list.querySelector(".chat-empty");
      if (empty) empty.remove();
      scrollDown();
      textarea.value = "";
      setStatus("");
      sendFrame(clientId, text);
    });
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    textarea.addEventListener("input", function () {
      var now = Date.now();
      if (now - lastTypingSent > 2000 && socket && socket.readyState === WebSocket.OPEN) {
        lastTypingSent = now;
        socket.send(JSON.stringify({ type: "typing" }));
      }
    });
  }
  document.addEventListener("visibilitychange", markRead);
  scrollDown();
  connect();
})();
