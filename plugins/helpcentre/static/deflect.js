// An article opened from a suggestion of the contact form: leaving it without going on to the contact form counts as
// a deflection (the question was answered). The page works without this script; it only counts.
(function () {
  var me = document.currentScript;
  var slug = me && me.getAttribute('data-slug');
  if (!slug || !navigator.sendBeacon) return;
  var wrote = false;
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a');
    if (a && /\/contact(\?|$)/.test(a.getAttribute('href') || '')) wrote = true;
  });
  var sent = false;
  window.addEventListener('pagehide', function () {
    if (wrote || sent) return;
    sent = true;
    navigator.sendBeacon('/help/deflected', new Blob([slug], { type: 'text/plain' }));
  });
})();
