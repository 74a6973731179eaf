// Photo viewer of a claim's documents and a legal-aid case's evidence (claim.html,
// legal_case.html, partials/photoviewer.html): a thumbnail opens the photo large over
// the page; zoom in and out (buttons, + and -, the wheel, two fingers), rotate by 90°, drag
// to move a zoomed photo, previous and next (buttons, arrow keys, a swipe), Esc closes.
// Without JavaScript every thumbnail is a plain link to its photo.
(function () {
  var links = Array.prototype.slice.call(document.querySelectorAll('a[data-pv]'));
  var box = document.getElementById('pv');
  if (!links.length || !box) return;
  var img = document.getElementById('pv-img'), stage = document.getElementById('pv-stage');
  var caption = document.getElementById('pv-caption'), count = document.getElementById('pv-count');
  var zoomLabel = document.getElementById('pv-zoom');
  var MIN = 0.25, MAX = 8, STEP = 1.25;
  var at = 0, zoom = 1, rot = 0, dx = 0, dy = 0, opener = null;

  // fit is the scale at which the (rotated) photo fits the stage, never above its own size.
  function fit() {
    var w = img.naturalWidth, h = img.naturalHeight;
    if (!w || !h) return 1;
    if (rot % 180) { var t = w; w = h; h = t; }
    return Math.min(stage.clientWidth / w, stage.clientHeight / h, 1);
  }
  function draw() {
    var f = fit();
    img.style.width = (img.naturalWidth * f) + 'px';
    img.style.height = (img.naturalHeight * f) + 'px';
    img.style.transform = 'translate(-50%, -50%) translate(' + dx + 'px, ' + dy + 'px) rotate(' + rot + 'deg) scale(' + zoom + ')';
    zoomLabel.textContent = Math.round(zoom * 100) + '%';
    box.setAttribute('data-zoom', String(zoom));
    box.setAttribute('data-rotate', String(rot));
  }
  function show(n) {
    at = (n + links.length) % links.length;
    zoom = 1; rot = 0; dx = 0; dy = 0;
    box.setAttribute('data-loaded', 'false');
    img.src = links[at].getAttribute('href');
    img.alt = links[at].getAttribute('data-caption') || '';
    caption.textContent = img.alt;
    count.textContent = (at + 1) + ' / ' + links.length;
    draw();
  }
  function setZoom(z) {
    zoom = Math.min(MAX, Math.max(MIN, z));
    if (zoom <= 1) { dx = 0; dy = 0; }
    draw();
  }
  function open(n) {
    opener = document.activeElement;
    box.classList.add('open');
    box.setAttribute('aria-hidden', 'false');
    document.body.classList.add('pv-lock');
    show(n);
    document.getElementById('pv-close').focus();
  }
  function close() {
    box.classList.remove('open');
    box.setAttribute('aria-hidden', 'true');
    document.body.classList.remove('pv-lock');
    img.removeAttribute('src');
    if (opener && opener.focus) opener.focus();
  }
  var acts = {
    prev: function () { show(at - 1); },
    next: function () { show(at + 1); },
    'in': function () { setZoom(zoom * STEP); },
    out: function () { setZoom(zoom / STEP); },
    rotate: function () { rot = (rot + 90) % 360; dx = 0; dy = 0; draw(); },
    close: close
  };

  img.addEventListener('load', function () { box.setAttribute('data-loaded', 'true'); draw(); });
  links.forEach(function (a, n) {
    a.addEventListener('click', function (e) { e.preventDefault(); open(n); });
  });
  box.addEventListener('click', function (e) {
    var b = e.target.closest('[data-pv-act]');
    if (b) acts[b.getAttribute('data-pv-act')]();
    else if (e.target === stage) close(); // a click beside the photo
  });
  document.addEventListener('keydown', function (e) {
    if (!box.classList.contains('open')) return;
    if (e.key === 'Tab') { // keep the keyboard inside the open viewer
      var b = box.querySelectorAll('button'), first = b[0], last = b[b.length - 1];
      if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
      else if (!box.contains(document.activeElement)) { e.preventDefault(); first.focus(); }
      return;
    }
    var k = {Escape: 'close', ArrowLeft: 'prev', ArrowRight: 'next', '+': 'in', '=': 'in', '-': 'out', r: 'rotate', R: 'rotate'}[e.key];
    if (k) { e.preventDefault(); acts[k](); }
  });
  stage.addEventListener('wheel', function (e) {
    e.preventDefault();
    setZoom(e.deltaY < 0 ? zoom * 1.1 : zoom / 1.1);
  }, {passive: false});
  window.addEventListener('resize', function () { if (box.classList.contains('open')) draw(); });

  // Pointers: one drags a zoomed photo (or swipes to the next one), two pinch to zoom.
  var pts = {}, start = null;
  function spread() {
    var p = Object.keys(pts).map(function (k) { return pts[k]; });
    return p.length < 2 ? 0 : Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y);
  }
  stage.addEventListener('pointerdown', function (e) {
    if (e.target !== img) return;
    stage.setPointerCapture(e.pointerId);
    pts[e.pointerId] = {x: e.clientX, y: e.clientY};
    start = {x: e.clientX, y: e.clientY, dx: dx, dy: dy, zoom: zoom, spread: spread()};
  });
  stage.addEventListener('pointermove', function (e) {
    if (!pts[e.pointerId] || !start) return;
    pts[e.pointerId] = {x: e.clientX, y: e.clientY};
    if (start.spread) { setZoom(start.zoom * spread() / start.spread); return; }
    if (zoom > 1) { dx = start.dx + e.clientX - start.x; dy = start.dy + e.clientY - start.y; draw(); }
  });
  function up(e) {
    if (!pts[e.pointerId]) return;
    delete pts[e.pointerId];
    if (start && !start.spread && zoom <= 1) {
      var moved = e.clientX - start.x;
      if (Math.abs(moved) > 50) acts[moved < 0 ? 'next' : 'prev']();
    }
    start = null;
  }
  stage.addEventListener('pointerup', up);
  stage.addEventListener('pointercancel', up);
})();
