// acode status page: the buttons POST to the JSON API and show the answer;
// the page reloads every minute while nobody is acting on it.
"use strict";
(function () {
  const notice = document.getElementById("notice");
  let busy = false;

  function show(text, isError) {
    notice.textContent = text;
    notice.className = isError ? "notice error" : "notice";
    notice.hidden = false;
  }

  async function act(button) {
    const url = button.dataset.url;
    let body = "{}";
    if (button.dataset.ask) {
      const reason = window.prompt(button.dataset.ask, "");
      if (reason === null) return;
      body = JSON.stringify({ reason: reason });
    }
    busy = true;
    button.disabled = true;
    show(button.textContent.trim() + "…", false);
    try {
      const resp = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: body,
      });
      let data = {};
      try { data = await resp.json(); } catch (e) { data = {}; }
      if (!resp.ok) {
        show(resp.status + ": " + (data.message || resp.statusText), true);
        button.disabled = false;
        busy = false;
        return;
      }
      const what = data.id ? "job " + data.id + " " + data.status : (data.state ? data.pair + ": " + data.state :
        (data.acknowledged_by ? data.condition + " acknowledged by " + data.acknowledged_by : "done"));
      show(what + "; reloading", false);
      window.setTimeout(function () { window.location.reload(); }, 800);
    } catch (e) {
      show("request failed: " + e.message, true);
      button.disabled = false;
      busy = false;
    }
  }

  document.querySelectorAll("button.act").forEach(function (b) {
    b.addEventListener("click", function () { act(b); });
  });
  window.setInterval(function () { if (!busy) window.location.reload(); }, 60000);
})();
