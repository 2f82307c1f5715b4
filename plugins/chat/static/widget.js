/* Destek live chat widget (plugins/chat): one <script src=".../chat/widget.js" data-site-key="ck_..." async> on a
 * shop's page. No framework; everything lives in a shadow root, so the shop's CSS neither reaches it nor is touched.
 * Turkish or English by the page's <html lang>. What anyone types is shown as text, never as HTML.
 * A signed-in customer: the shop's backend puts its signed identity in window.destekChatIdentity
 * ({id, email, name, expires, signature}) before this script runs. */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.__destekChat) return;
  window.__destekChat = 1;
  var KEY = script.getAttribute('data-site-key') || '';
  var BASE = new URL(script.src, location.href).origin;
  var EN = /^en/i.test(document.documentElement.lang || navigator.language || '');
  var T = EN ? {
    open: 'Live chat', title: 'Live chat', close: 'Close the chat', log: 'Messages', input: 'Your message',
    send: 'Send', name: 'Your name', email: 'Your e-mail', start: 'Write us, we are here.', you: 'You',
    agent: 'Support', typing: 'typing…', offline: 'We are not online right now. Leave a message and we answer by e-mail.',
    back: 'We are back ', form: 'Send message', sent: 'Thank you, we got your message and will answer by e-mail.',
    end: 'End the chat', transcript: 'E-mail me the transcript', ended: 'The chat has ended.', retry: 'not sent yet, retrying…',
    read: 'Read', error: 'Something went wrong, please try again.', needEmail: 'Please enter your e-mail address.',
    attach: 'Attach a file', tooBig: 'A file may be at most 10 MB.', bigFile: 'too large for the chat; ask us to e-mail it',
    articles: 'These articles may answer it:',
    rate: 'How did we do?', rated: 'Thank you for your rating.', stars: ['Very bad', 'Bad', 'So-so', 'Good', 'Very good']
  } : {
    open: 'Canlı destek', title: 'Canlı destek', close: 'Sohbeti kapat', log: 'Mesajlar', input: 'Mesajınız',
    send: 'Gönder', name: 'Adınız', email: 'E-posta adresiniz', start: 'Bize yazın, buradayız.', you: 'Siz',
    agent: 'Destek', typing: 'yazıyor…', offline: 'Şu an çevrim içi değiliz. Mesaj bırakın, e-postayla yanıtlayalım.',
    back: 'Dönüşümüz: ', form: 'Mesajı gönder', sent: 'Teşekkürler, mesajınızı aldık; e-postayla yanıtlayacağız.',
    end: 'Sohbeti bitir', transcript: 'Dökümü e-postayla gönder', ended: 'Sohbet sona erdi.', retry: 'henüz gitmedi, yeniden deneniyor…',
    read: 'Okundu', error: 'Bir sorun oldu, lütfen yeniden deneyin.', needEmail: 'Lütfen e-posta adresinizi yazın.',
    attach: 'Dosya ekle', tooBig: 'Bir dosya en çok 10 MB olabilir.', bigFile: 'sohbet için çok büyük; e-postayla isteyin',
    articles: 'Şu yazılar yanıtı verebilir:',
    rate: 'Nasıldık?', rated: 'Puanınız için teşekkürler.', stars: ['Çok kötü', 'Kötü', 'Orta', 'İyi', 'Çok iyi']
  };
  var STORE = 'destek_chat_' + KEY;
  var token = null, visitor = null, open = false, online = true, lastSeq = 0, polling = false, pollGen = 0;
  var outbox = [], seen = {}, typingSent = 0, ended = false;
  var ws = null, wsUp = false, wsFails = 0, wsPing = 0, wsWait = null, features = {}, sgTimer = 0, sgLast = '';

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function req(method, path, body) {
    var h = { 'Accept': 'application/json' };
    if (body) h['Content-Type'] = 'application/json';
    if (token) h['X-Chat-Token'] = token;
    return fetch(BASE + '/api/v1/chat/' + path, { method: method, headers: h, body: body ? JSON.stringify(body) : undefined,
      credentials: 'omit', mode: 'cors' }).then(function (r) {
      return r.text().then(function (t) {
        var j = null;
        try { j = t ? JSON.parse(t) : null; } catch (e) { j = null; }
        if (!r.ok) { var err = new Error((j && j.error && j.error.message) || r.status); err.status = r.status; err.body = j; throw err; }
        return j;
      });
    });
  }
  function cid() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  var host = el('div', { 'data-destek-chat': '' });
  var root = host.attachShadow({ mode: 'open' });
  root.appendChild(el('style', { text:
    ':host{all:initial}*{box-sizing:border-box;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}' +
    '.launch{position:fixed;right:16px;bottom:16px;z-index:2147483000;border:0;border-radius:28px;padding:14px 20px;' +
    'background:#1f5fbf;color:#fff;font-weight:600;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}' +
    'button:focus-visible,textarea:focus-visible,input:focus-visible{outline:3px solid #f2b600;outline-offset:2px}' +
    '.panel{position:fixed;right:16px;bottom:16px;z-index:2147483001;width:min(360px,calc(100vw - 16px));' +
    'height:min(540px,calc(100vh - 32px));background:#fff;color:#1a1a1a;border-radius:12px;display:flex;' +
    'flex-direction:column;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}' +
    '@media (max-width:400px){.panel{right:8px;bottom:8px;width:calc(100vw - 16px)}}' +
    '.head{display:flex;align-items:center;justify-content:space-between;padding:12px 14px;background:#1f5fbf;color:#fff}' +
    '.head h2{margin:0;font-size:16px;font-weight:600}.x{background:none;border:0;color:#fff;font-size:22px;cursor:pointer;' +
    'min-width:44px;min-height:44px}.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;' +
    'background:#f5f7fa}.m{max-width:85%;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}' +
    '.m.visitor{align-self:flex-end;background:#1f5fbf;color:#fff}.m.agent{align-self:flex-start;background:#fff;' +
    'border:1px solid #dde3ea}.m small{display:block;font-size:12px;opacity:.8}.note{font-size:13px;color:#4a5563;' +
    'text-align:center}.pending{opacity:.65}form{display:flex;flex-direction:column;gap:6px;padding:10px;' +
    'border-top:1px solid #dde3ea}textarea,input{width:100%;border:1px solid #b8c2cc;border-radius:8px;padding:8px;' +
    'color:#1a1a1a;background:#fff}textarea{resize:none;height:64px}.row{display:flex;gap:6px;align-items:center}' +
    '.send{border:0;border-radius:8px;background:#1f5fbf;color:#fff;padding:10px 14px;font-weight:600;cursor:pointer;' +
    'min-height:44px}.end{background:none;border:0;color:#1f5fbf;text-decoration:underline;cursor:pointer;font-size:13px;' +
    'padding:6px}label{font-size:13px;color:#333}.typing{font-size:13px;color:#4a5563;padding:0 12px 4px;min-height:18px}' +
    '.sg{margin:0;padding:0 2px;list-style:none;font-size:13px}.sg a{color:#1f5fbf}.rate{display:flex;gap:4px;' +
    'justify-content:center;flex-wrap:wrap}.rate button{min-width:44px;min-height:44px;border:1px solid #b8c2cc;' +
    'border-radius:8px;background:#fff;cursor:pointer}[data-read]{align-self:flex-end;margin-top:-4px}.row input[type=checkbox]{width:auto;margin:0}.row label{flex:1}[hidden]{display:none!important}'
  }));
  var launch = el('button', { 'class': 'launch', type: 'button', 'aria-haspopup': 'dialog', 'aria-expanded': 'false',
    text: T.open, onclick: function () { show(true); } });
  var log = el('div', { 'class': 'log', role: 'log', 'aria-live': 'polite', 'aria-label': T.log, tabindex: '0' });
  var typingLine = el('div', { 'class': 'typing', 'aria-live': 'polite' });
  var nameIn = el('input', { id: 'dc-name', type: 'text', autocomplete: 'name', maxlength: '200' });
  var emailIn = el('input', { id: 'dc-email', type: 'email', autocomplete: 'email', maxlength: '254' });
  var who = el('div', { 'class': 'who' }, [el('label', { 'for': 'dc-name', text: T.name }), nameIn,
    el('label', { 'for': 'dc-email', text: T.email }), emailIn]);
  var text = el('textarea', { id: 'dc-text', maxlength: '4000', 'aria-label': T.input, placeholder: T.input });
  var status = el('div', { 'class': 'note', role: 'status' });
  var sgList = el('ul', { 'class': 'sg', 'aria-label': T.articles, hidden: '' });
  var transcriptBox = el('input', { type: 'checkbox', id: 'dc-tr' });
  var endRow = el('div', { 'class': 'row' }, [transcriptBox, el('label', { 'for': 'dc-tr', text: T.transcript }),
    el('button', { 'class': 'end', type: 'button', text: T.end, onclick: endChat })]);
  var fileIn = el('input', { type: 'file', multiple: '', hidden: '', 'aria-hidden': 'true', tabindex: '-1',
    onchange: function () { attach(fileIn.files); fileIn.value = ''; } });
  var attachBtn = el('button', { 'class': 'end', type: 'button', 'aria-label': T.attach, title: T.attach, text: '📎 ' + T.attach,
    onclick: function () { fileIn.click(); } });
  var form = el('form', { novalidate: '', onsubmit: function (e) { e.preventDefault(); submit(); } },
    [who, sgList, text, status, el('div', { 'class': 'row' }, [el('button', { 'class': 'send', type: 'submit', text: T.send }),
      attachBtn, fileIn]), endRow]);
  var panel = el('div', { 'class': 'panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'dc-title', hidden: '' }, [
    el('div', { 'class': 'head' }, [el('h2', { id: 'dc-title', text: T.title }),
      el('button', { 'class': 'x', type: 'button', 'aria-label': T.close, text: '×', onclick: function () { show(false); } })]),
    log, typingLine, form]);
  root.appendChild(launch);
  root.appendChild(panel);
  panel.addEventListener('keydown', function (e) { if (e.key === 'Escape') show(false); });
  text.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); submit(); }
  });
  text.addEventListener('input', function () {
    var now = Date.now();
    if (token && online && now - typingSent > 3000) { typingSent = now; tell('typing', { typing: true }); }
    clearTimeout(sgTimer);
    sgTimer = setTimeout(suggest, 400);
  });
  /* Help-centre articles while the first message is written (when the help centre is there): at most 3 links. */
  function suggest() {
    var q = text.value.trim();
    if (!features.suggest || !online || lastSeq || outbox.length || q.length < 3 || q === sgLast) return;
    sgLast = q;
    req('GET', 'suggest?q=' + encodeURIComponent(q.slice(0, 200))).then(function (j) {
      sgList.textContent = '';
      j.items.slice(0, 3).forEach(function (a) {
        sgList.appendChild(el('li', {}, [el('a', { href: a.url, target: '_blank', rel: 'noopener', text: a.title })]));
      });
      sgList.hidden = !j.items.length;
    }, function () { sgList.hidden = true; });
  }
  /* "How did we do?" once the chat has ended (when the feedback module is there). */
  function askRating() {
    if (!features.csat || root.querySelector('.rate')) return;
    var row = el('div', { 'class': 'rate', role: 'group', 'aria-label': T.rate }, [el('p', { 'class': 'note', text: T.rate })]);
    [1, 2, 3, 4, 5].forEach(function (n) {
      row.appendChild(el('button', { type: 'button', text: '★ ' + n, 'aria-label': n + ' - ' + T.stars[n - 1], onclick: function () {
        req('POST', 'csat', { score: n }).then(function () { row.remove(); note(T.rated); text.focus(); }, function (e) {
          if (e.status === 409) { row.remove(); text.focus(); } else status.textContent = T.error;
        });
      } }));
    });
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
  }

  function show(on) {
    open = on;
    panel.hidden = !on;
    launch.hidden = on;
    launch.setAttribute('aria-expanded', on ? 'true' : 'false');
    if (on) { (who.hidden ? text : nameIn).focus(); markRead(); } else launch.focus();
  }
  function note(msg) { log.appendChild(el('p', { 'class': 'note', text: msg })); log.scrollTop = log.scrollHeight; }
  function bubble(m) {
    var mine = m.sender === 'visitor';
    var b = el('div', { 'class': 'm ' + (mine ? 'visitor' : 'agent') }, [
      el('small', { text: mine ? T.you : (m.author || T.agent) }), document.createTextNode(m.body)]);
    (m.files || []).forEach(function (f) {
      var name = typeof f === 'string' ? f : f.name;
      b.appendChild(f.id ? el('button', { 'class': 'end', type: 'button', 'data-file': '', text: '📎 ' + name,
        onclick: function () { download(f); } })
        : el('small', { 'data-file': '', text: '📎 ' + name + (f.too_large ? ' (' + T.bigFile + ')' : '') }));
    });
    return b;
  }
  /* An agent's file: fetched with the visitor's token (no one else may have it), saved under its name. */
  function download(f) {
    fetch(BASE + '/api/v1/chat/files/' + f.id, { headers: { 'X-Chat-Token': token }, credentials: 'omit', mode: 'cors' })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.blob(); }).then(function (blob) {
        var a = el('a', { href: URL.createObjectURL(blob), download: f.name });
        root.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
      }, function () { status.textContent = T.error; });
  }
  /* Files go as a message of their own (base64 in JSON, as the portal sends them), at most 3 of 10 MB each. */
  function attach(list) {
    var files = Array.prototype.slice.call(list || [], 0, 3);
    if (!files.length || !online) return;
    if (!who.hidden && !emailIn.value.trim()) { status.textContent = T.needEmail; emailIn.focus(); return; }
    if (files.some(function (f) { return f.size > 10485760; })) { status.textContent = T.tooBig; return; }
    Promise.all(files.map(function (f) {
      return new Promise(function (ok, no) {
        var rd = new FileReader();
        rd.onload = function () { ok({ filename: f.name, content_type: f.type || 'application/octet-stream',
          data_base64: String(rd.result).split(',')[1] || '' }); };
        rd.onerror = no;
        rd.readAsDataURL(f);
      });
    })).then(function (atts) {
      queue({ client_id: cid(), body: text.value.trim() || undefined, attachments: atts },
        atts.map(function (a) { return a.filename; }));
      text.value = '';
    }, function () { status.textContent = T.error; });
  }
  function render(items) {
    items.forEach(function (m) {
      if (seen[m.seq]) return;
      seen[m.seq] = 1;
      if (m.client_id) {
        var p = root.querySelector('[data-cid="' + m.client_id + '"]');
        if (p) p.remove();
      }
      var b = bubble(m);
      b.setAttribute('data-seq', m.seq);
      log.appendChild(b);
      if (m.seq > lastSeq) lastSeq = m.seq;
    });
    log.scrollTop = log.scrollHeight;
    markRead();
  }
  /* "Read" under the visitor's last message the agent has seen. */
  var readLine = el('small', { 'class': 'note', 'data-read': '', text: T.read });
  function readMark(seq) {
    var mine = root.querySelectorAll('.m.visitor[data-seq]'), last = null;
    for (var i = 0; i < mine.length; i++) if (+mine[i].getAttribute('data-seq') <= seq) last = mine[i];
    if (last && last.nextSibling !== readLine) last.parentNode.insertBefore(readLine, last.nextSibling);
  }
  function markRead() {
    if (open && token && lastSeq) tell('read', { seq: lastSeq });
  }

  function submit() {
    var body = text.value.trim();
    if (!body) return;
    if (!online) return offlineSend(body);
    if (!who.hidden && !emailIn.value.trim()) { status.textContent = T.needEmail; emailIn.focus(); return; }
    text.value = '';
    queue({ client_id: cid(), body: body }, []);
  }
  function queue(m, names) {
    if (!who.hidden) { m.email = emailIn.value.trim(); if (nameIn.value.trim()) m.name = nameIn.value.trim(); }
    status.textContent = '';
    sgList.hidden = true;
    typingSent = 0;   /* the server forgets the typing with the message: the next key reports it again */
    var p = bubble({ sender: 'visitor', body: m.body || '', files: names });
    p.className += ' pending';
    p.setAttribute('data-cid', m.client_id);
    log.appendChild(p);
    log.scrollTop = log.scrollHeight;
    outbox.push(m);
    flush();
  }
  /* Sends the outbox in order; a message that failed on the network is sent again with the same client id, so the
   * server keeps it once however often it arrives. */
  var flushing = false;
  function flush() {
    if (flushing || !outbox.length) return;
    flushing = true;
    var m = outbox[0];
    (wsUp && !m.attachments ? viaSocket(m) : req('POST', 'messages', m)).then(function () {
      outbox.shift();
      who.hidden = true;
      ended = false;
      flushing = false;
      poll();
      flush();
    }, function (e) {
      flushing = false;
      if (e.status && e.status < 500 && e.status !== 429) {
        outbox.shift();
        var p = root.querySelector('[data-cid="' + m.client_id + '"]');
        if (p) p.remove();
        if (m.body) text.value = m.body;
        status.textContent = (e.body && e.body.error && e.body.error.field === 'email') ? T.needEmail : T.error;
        return;
      }
      status.textContent = T.retry;
      setTimeout(flush, 1500);
    });
  }
  /* Typing and read marks: over the socket when it is up, else by HTTP. */
  function tell(kind, o) {
    if (wsUp) { o.type = kind; ws.send(JSON.stringify(o)); } else req('POST', kind, o).catch(function () {});
  }
  /* A message over the socket: settled by its ack (kept) or error (refused, as the HTTP route would), or failed
   * when the socket closes first (flush then sends it again by HTTP, with the same client id). */
  function viaSocket(m) {
    return new Promise(function (ok, no) {
      wsWait = { cid: m.client_id, ok: ok, no: no };
      var o = JSON.parse(JSON.stringify(m));
      o.type = 'message';
      o.ref = m.client_id;
      ws.send(JSON.stringify(o));
    });
  }
  function news(j) {
    status.textContent = outbox.length ? T.retry : '';
    if (j.items.length) render(j.items);
    typingLine.textContent = j.agent_typing ? T.agent + ' ' + T.typing : '';
    if (j.conversation && j.conversation.status === 'ended' && !ended) { ended = true; note(T.ended); askRating(); }
    if (j.conversation) readMark(j.conversation.agent_read_seq);
  }
  /* The websocket; while it is up nothing polls. When it cannot open or closes (a network cut, a proxy without
   * websockets, a queue overflow: 4008), the widget polls and tries the socket again later. */
  function connect() {
    if (ws || !token || !window.WebSocket) return poll();
    try {
      ws = new WebSocket(BASE.replace(/^http/, 'ws') + '/api/v1/chat/socket?token=' + encodeURIComponent(token) +
        '&after=' + lastSeq);
    } catch (e) { ws = null; return poll(); }
    ws.onopen = function () { wsUp = true; wsFails = 0; pollGen++; polling = false; flush(); };
    ws.onmessage = function (e) {
      var j;
      try { j = JSON.parse(e.data); } catch (x) { return; }
      if (j.type === 'messages') news(j);
      else if (j.type === 'pong') wsPing = 0;
      else if ((j.type === 'ack' || j.type === 'error') && wsWait && j.ref === wsWait.cid) {
        var w = wsWait;
        wsWait = null;
        if (j.type === 'ack') w.ok(j); else w.no({ status: 422, body: { error: j } });
      }
    };
    ws.onclose = function () {
      var w = wsWait;
      ws = null;
      wsUp = false;
      wsWait = null;
      if (w) w.no({});
      wsFails++;
      poll();
      setTimeout(connect, Math.min(60000, 3000 * wsFails));
    };
  }
  setInterval(function () {
    if (!wsUp) return;
    if (wsPing && Date.now() - wsPing > 10000) { ws.close(); return; }
    if (!wsPing) { wsPing = Date.now(); ws.send('{"type":"ping"}'); }
  }, 25000);
  function poll() {
    if (polling || !token || wsUp) return;
    polling = true;
    var gen = ++pollGen;
    req('GET', 'messages?after=' + lastSeq + '&wait=15').then(function (j) {
      polling = false;
      if (gen !== pollGen) return;
      news(j);
      if (j.conversation) setTimeout(poll, j.retry_ms || 300);
    }, function () {
      polling = false;
      setTimeout(poll, 2000);
    });
  }
  function endChat() {
    req('POST', 'end', { transcript: transcriptBox.checked }).then(function () { ended = true; note(T.ended); askRating(); }, function () {
      status.textContent = T.error;
    });
  }
  function offlineSend(body) {
    var email = emailIn.value.trim();
    if (!email) { status.textContent = T.needEmail; emailIn.focus(); return; }
    req('POST', 'offline', { site_key: KEY, name: nameIn.value.trim() || undefined, email: email, body: body }).then(function () {
      text.value = '';
      note(T.sent);
    }, function () { status.textContent = T.error; });
  }
  function goOffline(av) {
    online = false;
    who.hidden = false;
    endRow.hidden = true;
    var back = av.next_open ? new Date(av.next_open).toLocaleString(EN ? 'en-GB' : 'tr-TR',
      { weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' }) : '';
    note(T.offline + (back ? ' ' + T.back + back + '.' : ''));
    form.querySelector('.send').textContent = T.form;
  }

  function start() {
    var saved = null;
    try { saved = localStorage.getItem(STORE); } catch (e) { saved = null; }
    var body = { site_key: KEY, lang: EN ? 'en' : 'tr' };
    if (saved) body.token = saved;
    if (window.destekChatIdentity) body.identity = window.destekChatIdentity;
    req('POST', 'session', body).then(function (j) {
      token = j.token;
      visitor = j.visitor;
      features = j.features || {};
      try { localStorage.setItem(STORE, token); } catch (e) { /* private mode: this page only */ }
      if (visitor && visitor.email) who.hidden = true;
      if (!j.availability.open) { goOffline(j.availability); return; }
      note(T.start);
      polling = false;
      req('GET', 'messages').then(function (h) {
        if (h.conversation) { who.hidden = true; render(h.items); }
        connect();
      }, function () { connect(); });
    }, function () { note(T.error); });
  }
  document.body.appendChild(host);
  start();
})();
