// Live delivery progress on a notice's page: polls GET /api/v1/notices/{id} (the session
// cookie authenticates it) every 5 s and updates the figures; reloads once sending ends.
(function () {
  var box = document.getElementById("progress");
  if (!box || !box.dataset.poll) return;
  var tick = function () {
    fetch(box.dataset.poll, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (n) {
      var d = n.delivery || {};
      box.querySelectorAll("[data-k]").forEach(function (el) {
        if (d[el.dataset.k] !== undefined) el.textContent = d[el.dataset.k];
      });
      if (n.status !== "sending") { location.reload(); return; }
      setTimeout(tick, 5000);
    }).catch(function () { setTimeout(tick, 15000); });
  };
  setTimeout(tick, 5000);
})();
