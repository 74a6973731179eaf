// Live progress: polls the JSON at the box's data-poll (the session cookie authenticates it)
// every data-every ms (5 s by default) and copies the figures of the object named by
// data-field ("delivery" by default) into the box's [data-k] elements (a <progress> gets its
// value); reloads the page once the status is no longer one of data-while ("sending" by
// default). Used by a notice's delivery and by a roster import.
(function () {
  var box = document.getElementById("progress");
  if (!box || !box.dataset.poll) return;
  var field = box.dataset.field || "delivery";
  var live = (box.dataset.while || "sending").split(" ");
  var every = parseInt(box.dataset.every, 10) || 5000;
  var tick = function () {
    fetch(box.dataset.poll, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (n) {
      var d = n[field] || {};
      box.querySelectorAll("[data-k]").forEach(function (el) {
        var v = d[el.dataset.k];
        if (v === undefined) return;
        if (el.tagName === "PROGRESS") el.value = v; else el.textContent = v;
      });
      if (live.indexOf(n.status) < 0) { location.reload(); return; }
      setTimeout(tick, every);
    }).catch(function () { setTimeout(tick, every * 3); });
  };
  setTimeout(tick, every);
})();
