// The 人工 inbox adds new conversations without a reload: every 15 s (data-poll) it asks the API for
// the open ones and puts rows it does not show yet at the top of the table.
(function () {
  var table = document.getElementById('handoffs');
  if (!table || (table.dataset.status !== 'active' && table.dataset.status !== 'open')) return;
  var body = table.tBodies[0], note = document.getElementById('handoff-new');
  // Times as the server shows them: China time, 2026-03-02 09:05.
  function when(t) {
    return new Date(t).toLocaleString('sv-SE', {timeZone: 'Asia/Shanghai', hour12: false}).slice(0, 16);
  }
  function left(end) {
    var ms = end ? new Date(end) - Date.now() : 0;
    if (ms <= 0) return '已超出48小时';
    return '还剩 ' + Math.floor(ms / 3600000) + '小时' + Math.floor(ms / 60000) % 60 + '分';
  }
  function cell(tr, text, cls) { var td = tr.insertCell(-1); td.textContent = text; if (cls) td.className = cls; return td; }
  function poll() {
    fetch('/api/v1/handoffs?status=open', {credentials: 'same-origin'}).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (d) {
      if (!d) return;
      var added = 0;
      d.items.slice().reverse().forEach(function (h) {
        if (body.querySelector('tr[data-id="' + h.id + '"]')) return;
        var tr = body.insertRow(0); tr.dataset.id = h.id; tr.className = 'fresh';
        var a = document.createElement('a'); a.href = '/admin/handoffs/' + h.id; a.textContent = '#' + h.id;
        cell(tr, '').appendChild(a);
        cell(tr, h.member + (h.member_no ? ' ' + h.member_no : ''));
        cell(tr, h.unit || '—', 'hide-sm');
        cell(tr, '待认领'); cell(tr, '—', 'hide-sm');
        cell(tr, when(h.last_activity_at), 'small');
        cell(tr, left(h.window_ends_at), 'small');
        added++;
      });
      if (added) {
        note.textContent = '有 ' + added + ' 条新的人工对话。';
        note.classList.remove('hidden');
        var empty = document.getElementById('handoffs-empty');
        if (empty) empty.remove();
      }
    }).catch(function () {});
  }
  setInterval(poll, Number(table.dataset.poll) || 15000);
})();
