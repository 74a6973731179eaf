// Local chat page: plays a WeChat user talking to the official account.
// Everything the bot says is rendered with textContent (no innerHTML).
(function () {
  'use strict';

  var KEY = 'unionbot.local.openid';
  var log = document.getElementById('log');
  var form = document.getElementById('composer');
  var input = document.getElementById('text');
  var fileInput = document.getElementById('file');
  var panel = document.getElementById('panel');
  var moreBtn = document.getElementById('more');
  var followBtn = document.getElementById('follow');
  var openid = localStorage.getItem(KEY);
  var followed = true;
  var pollGen = 0;

  function newOpenID() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    var s = '';
    for (var i = 0; i < a.length; i++) s += (a[i] % 36).toString(36);
    return 'o-local-' + s;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  // row appends a message row; who is "bot" or "me".
  function row(who, content, tag) {
    var r = el('div', 'msg ' + who);
    r.appendChild(el('div', 'avatar', who === 'me' ? '我' : '工'));
    var body = el('div', 'body');
    if (tag) body.appendChild(el('span', 'tag', tag));
    body.appendChild(content);
    r.appendChild(body);
    log.appendChild(r);
    scrollDown();
    return r;
  }

  function sys(text, isErr) {
    var d = el('div', 'sys' + (isErr ? ' err' : ''));
    d.appendChild(el('span', null, text));
    log.appendChild(d);
    scrollDown();
  }

  // richText renders WeChat text: plain text plus <a href="…">…</a> links;
  // weixin://bizmsgmenu links send their option back as a message.
  function richText(text) {
    var b = el('div', 'bubble');
    var re = /<a\s+href=(["'])(.*?)\1[^>]*>([\s\S]*?)<\/a>/gi;
    var last = 0, m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) b.appendChild(document.createTextNode(text.slice(last, m.index)));
      b.appendChild(link(m[2], m[3]));
      last = re.lastIndex;
    }
    if (last < text.length) b.appendChild(document.createTextNode(text.slice(last)));
    return b;
  }

  function link(href, label) {
    var a = el('a', null, label);
    if (/^weixin:\/\/bizmsgmenu/i.test(href)) {
      var q = new URLSearchParams(href.replace(/^[^?]*\?/, ''));
      a.href = '#';
      a.addEventListener('click', function (ev) {
        ev.preventDefault();
        sendText(q.get('msgmenucontent') || label, q.get('msgmenuid') || '');
      });
    } else if (/^https?:\/\//i.test(href)) {
      a.href = href;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
    } else {
      a.href = '#';
    }
    return a;
  }

  function articlesCard(articles) {
    var wrap = el('div');
    articles.forEach(function (art) {
      var c = el('div', 'card');
      c.appendChild(el('h3', null, art.title || art.Title || ''));
      var d = art.description || art.Description;
      if (d) c.appendChild(el('div', 'desc', d));
      var u = art.url || art.Url;
      if (u && /^https?:\/\//i.test(u)) {
        var a = el('a', 'more', '阅读全文 ›');
        a.href = u; a.target = '_blank'; a.rel = 'noopener noreferrer';
        c.appendChild(a);
      }
      wrap.appendChild(c);
    });
    return wrap;
  }

  function imageBubble(src) {
    var b = el('div', 'bubble image');
    var img = el('img');
    img.alt = '图片';
    img.src = src;
    b.appendChild(img);
    return b;
  }

  function mediaURL(id) { return 'api/media?id=' + encodeURIComponent(id); }

  // showReply renders the synchronous reply of the bot.
  function showReply(r) {
    switch (r.msg_type) {
      case 'text': row('bot', richText(r.text || '')); break;
      case 'news': row('bot', articlesCard(r.articles || [])); break;
      case 'image': row('bot', imageBubble(mediaURL(r.media_id))); break;
      case 'transfer_customer_service': sys('已为你转接人工客服'); break;
      default: row('bot', richText('[' + r.msg_type + ']'));
    }
  }

  // showPushed renders a customer-service or template message.
  function showPushed(s) {
    if (s.kind === 'template') {
      var c = el('div', 'card template');
      c.appendChild(el('h3', null, '服务通知'));
      var dl = el('dl');
      (s.data_keys || []).forEach(function (k) {
        var line = el('div');
        line.appendChild(el('dt', null, k));
        line.appendChild(el('dd', null, s.data[k]));
        dl.appendChild(line);
      });
      c.appendChild(dl);
      if (s.url && /^https?:\/\//i.test(s.url)) {
        var a = el('a', 'more', '详情 ›');
        a.href = s.url; a.target = '_blank'; a.rel = 'noopener noreferrer';
        c.appendChild(a);
      }
      row('bot', c, '模板消息');
      return;
    }
    var raw = s.raw || {};
    switch (s.msg_type) {
      case 'text': row('bot', richText(s.text || '')); break;
      case 'news': row('bot', articlesCard((raw.news && raw.news.articles) || [])); break;
      case 'image': row('bot', imageBubble(mediaURL(s.media_id))); break;
      case 'msgmenu':
        var mm = raw.msgmenu || {};
        var b = el('div', 'bubble');
        if (mm.head_content) b.appendChild(document.createTextNode(mm.head_content + '\n'));
        (mm.list || []).forEach(function (it) {
          var a = el('a', null, it.content);
          a.href = '#';
          a.addEventListener('click', function (ev) { ev.preventDefault(); sendText(it.content, it.id); });
          b.appendChild(a);
          b.appendChild(document.createTextNode('\n'));
        });
        if (mm.tail_content) b.appendChild(document.createTextNode(mm.tail_content));
        row('bot', b);
        break;
      default: row('bot', richText(s.text || '[' + s.msg_type + ']'));
    }
  }

  function post(payload) {
    payload.openid = openid;
    return fetch('api/send', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(payload)
    }).then(function (res) {
      return res.json().catch(function () { return { ok: false, error: 'HTTP ' + res.status }; });
    }).catch(function (e) {
      return { ok: false, error: '网络错误：' + e };
    });
  }

  function handle(out, pendingRow) {
    if (pendingRow) pendingRow.querySelector('.bubble').classList.remove('pending');
    if (!out.ok) {
      sys(out.error || '该公众号暂时无法提供服务，请稍后再试', true);
      return;
    }
    if (!out.empty && out.reply) showReply(out.reply);
  }

  function sendText(text, menuID) {
    var b = el('div', 'bubble pending', text);
    var r = row('me', b);
    var payload = { text: text };
    if (menuID) payload.menu_id = String(menuID);
    return post(payload).then(function (out) { handle(out, r); });
  }

  function sendEvent(event, key, note) {
    if (note) sys(note);
    return post({ event: event, key: key || '' }).then(function (out) { handle(out, null); });
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var t = input.value.trim();
    if (!t) return;
    input.value = '';
    input.focus();
    sendText(t);
  });

  document.getElementById('photo').addEventListener('click', function () { fileInput.click(); });
  fileInput.addEventListener('change', function () {
    var f = fileInput.files && fileInput.files[0];
    fileInput.value = '';
    if (!f) return;
    if (f.size > 10 * 1024 * 1024) { sys('图片太大（最大 10MB）', true); return; }
    var rd = new FileReader();
    rd.onload = function () {
      var r = row('me', imageBubble(rd.result));
      r.querySelector('.bubble').classList.add('pending');
      post({ image: rd.result }).then(function (out) { handle(out, r); });
    };
    rd.readAsDataURL(f);
  });

  moreBtn.addEventListener('click', function () {
    panel.hidden = !panel.hidden;
    moreBtn.setAttribute('aria-expanded', String(!panel.hidden));
  });
  followBtn.addEventListener('click', function () {
    followed = !followed;
    followBtn.textContent = followed ? '取消关注' : '关注公众号';
    sendEvent(followed ? 'subscribe' : 'unsubscribe', '', followed ? '你关注了公众号' : '你已取消关注公众号');
  });
  document.getElementById('newuser').addEventListener('click', function () {
    start(true);
  });
  document.getElementById('clear').addEventListener('click', function () { log.textContent = ''; });

  function poll(gen, after) {
    if (gen !== pollGen) return;
    fetch('api/pushed?openid=' + encodeURIComponent(openid) + '&after=' + after + '&wait=25s')
      .then(function (res) { if (!res.ok) throw new Error('HTTP ' + res.status); return res.json(); })
      .then(function (out) {
        if (gen !== pollGen) return;
        (out.messages || []).forEach(function (s) {
          after = Math.max(after, s.seq);
          showPushed(s);
        });
        poll(gen, after);
      })
      .catch(function () { setTimeout(function () { poll(gen, after); }, 2000); });
  }

  function startPolling() {
    var gen = ++pollGen;
    return fetch('api/pushed?openid=' + encodeURIComponent(openid) + '&after=-1')
      .then(function (res) { return res.json(); })
      .then(function (out) { poll(gen, out.last_seq || 0); })
      .catch(function () { setTimeout(function () { poll(gen, 0); }, 2000); });
  }

  function start(fresh) {
    var first = fresh || !openid;
    if (first) {
      openid = newOpenID();
      localStorage.setItem(KEY, openid);
      log.textContent = '';
    }
    followed = true;
    followBtn.textContent = '取消关注';
    document.getElementById('openid').textContent = openid;
    startPolling().then(function () {
      document.body.setAttribute('data-ready', '1');
      if (first) sendEvent('subscribe', '', '你关注了公众号');
    });
  }

  fetch('api/config').then(function (res) { return res.json(); }).then(function (cfg) {
    document.getElementById('title').textContent = cfg.title;
    document.title = cfg.title + ' · 本地模拟';
    var nav = document.getElementById('menu');
    var openPop = null;
    function closePop() { if (openPop) { openPop.remove(); openPop = null; } }
    function clickButton(bt) {
      var b = el('button', null, bt.label);
      b.type = 'button';
      b.setAttribute('data-key', bt.key);
      b.addEventListener('click', function () {
        closePop();
        sendEvent('CLICK', bt.key, '点击菜单「' + bt.label + '」');
      });
      return b;
    }
    (cfg.menu || []).forEach(function (bt) {
      if (!bt.sub || !bt.sub.length) { nav.appendChild(clickButton(bt)); return; }
      // A WeChat top-level button: tapping it opens its sub-menu above it.
      var wrap = el('div', 'menu-group', null);
      var top = el('button', null, '≡ ' + bt.label);
      top.type = 'button';
      top.addEventListener('click', function () {
        var wasOpen = openPop && openPop.parentNode === wrap;
        closePop();
        if (wasOpen) return;
        openPop = el('div', 'menu-pop', null);
        bt.sub.forEach(function (sb) { openPop.appendChild(clickButton(sb)); });
        wrap.appendChild(openPop);
      });
      wrap.appendChild(top);
      nav.appendChild(wrap);
    });
  }).catch(function () {}).then(function () { start(false); });
})();
