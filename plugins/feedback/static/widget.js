/* Destek reviews widget: <script src="https://DESK/feedback/widget.js" data-product="SKU" async></script>
 * Shows the product's rating and its latest approved reviews where the tag is, in a shadow root (the shop's CSS
 * and ours do not meet). Reads GET /api/v1/public/reviews without credentials: no cookies either way. Options:
 * data-lang="tr|en", data-limit="1..50". Text is set with textContent only. */
(function () {
  var s = document.currentScript;
  if (!s || !s.src) return;
  var base = new URL(s.src).origin;
  var product = s.getAttribute('data-product') || '';
  var limit = Math.max(1, Math.min(50, parseInt(s.getAttribute('data-limit') || '5', 10) || 5));
  var lang = (s.getAttribute('data-lang') || document.documentElement.lang || navigator.language || 'tr').slice(0, 2) === 'en' ? 'en' : 'tr';
  var W = {
    tr: { reviews: 'değerlendirme', none: 'Henüz değerlendirme yok.', verified: 'Doğrulanmış satın alma', reply: 'Mağazanın yanıtı',
          more: 'Daha fazla', of5: '5 üzerinden', title: 'Müşteri değerlendirmeleri' },
    en: { reviews: 'reviews', none: 'No reviews yet.', verified: 'Verified purchase', reply: "The shop's reply",
          more: 'More', of5: 'out of 5', title: 'Customer reviews' }
  }[lang];
  var host = document.createElement('div');
  host.className = 'destek-reviews';
  host.setAttribute('data-product', product);
  s.parentNode.insertBefore(host, s.nextSibling);
  var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
  var css = document.createElement('style');
  css.textContent = ':host{all:initial;display:block;font:15px/1.5 system-ui,sans-serif;color:#1d2327}' +
    'section{border:1px solid #dcdcde;border-radius:8px;padding:12px 16px;background:#fff}' +
    'h2{font-size:17px;margin:0 0 8px}.st{color:#b7791f;letter-spacing:1px}.avg{font-size:22px;font-weight:700;margin-right:6px}' +
    'ul{list-style:none;margin:8px 0 0;padding:0}li{border-top:1px solid #eee;padding:8px 0}' +
    '.who{font-size:13px;color:#50575e}.v{font-size:12px;color:#0b6e4f;margin-left:6px}' +
    '.r{margin:6px 0 0 12px;padding-left:8px;border-left:3px solid #0b6e4f;font-size:14px}' +
    'img{max-width:72px;max-height:72px;margin:4px 4px 0 0;border-radius:4px}' +
    'button{font:inherit;margin-top:8px;padding:6px 12px;border:1px solid #0b6e4f;border-radius:6px;background:#fff;color:#0b6e4f;cursor:pointer}';
  root.appendChild(css);
  var box = el('section', '');
  box.setAttribute('aria-label', W.title);
  root.appendChild(box);

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function stars(n) {
    var r = Math.round(n), t = '';
    for (var i = 1; i <= 5; i++) t += i <= r ? '\u2605' : '\u2606';
    var e = el('span', t, 'st');
    e.setAttribute('aria-label', n + ' ' + W.of5);
    return e;
  }
  var list;
  function item(r) {
    var li = el('li', '');
    li.appendChild(stars(r.rating));
    var who = el('div', (r.author || '') + ' \u00b7 ' + new Date(r.created_at).toLocaleDateString(lang === 'tr' ? 'tr-TR' : 'en-GB'), 'who');
    if (r.verified) who.appendChild(el('span', '\u2713 ' + W.verified, 'v'));
    li.appendChild(who);
    li.appendChild(el('p', r.body));
    (r.photos || []).forEach(function (p) {
      var img = el('img', '');
      img.src = base + p.url;
      img.alt = '';
      img.loading = 'lazy';
      li.appendChild(img);
    });
    if (r.reply) {
      var rep = el('div', '', 'r');
      rep.appendChild(el('strong', W.reply + ': '));
      rep.appendChild(document.createTextNode(r.reply.body));
      li.appendChild(rep);
    }
    return li;
  }
  function load(cursor) {
    var url = base + '/api/v1/public/reviews?product=' + encodeURIComponent(product) + '&limit=' + limit + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
    return fetch(url, { credentials: 'omit', mode: 'cors' }).then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json();
    });
  }
  function more(next) {
    var old = box.querySelector('button');
    if (old) old.remove();
    if (!next) return;
    var b = el('button', W.more);
    b.type = 'button';
    b.onclick = function () {
      load(next).then(function (d) { d.items.forEach(function (r) { list.appendChild(item(r)); }); more(d.next_cursor); });
    };
    box.appendChild(b);
  }
  load(null).then(function (d) {
    box.appendChild(el('h2', W.title));
    if (!d.rating.count) { box.appendChild(el('p', W.none)); return; }
    var head = el('div', '');
    head.appendChild(el('span', String(d.rating.average).replace('.', lang === 'tr' ? ',' : '.'), 'avg'));
    head.appendChild(stars(d.rating.average));
    head.appendChild(el('span', ' (' + d.rating.count + ' ' + W.reviews + ')'));
    box.appendChild(head);
    list = el('ul', '');
    d.items.forEach(function (r) { list.appendChild(item(r)); });
    box.appendChild(list);
    more(d.next_cursor);
  }).catch(function () { host.remove(); });
})();
