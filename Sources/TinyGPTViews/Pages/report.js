// The training report's one script (also the runs overlay's): the language switch. The page
// opens in the run's language (data-lang); the button pressed, or #zh / #en in the address,
// sets data-lang on <html>; report.css shows the words of that language.
(function () {
  var root = document.documentElement;
  // A script error is written on the page, where a test reads it.
  window.addEventListener('error', function (e) { root.setAttribute('data-errors', (root.getAttribute('data-errors') || '') + e.message + '; '); });
  function set(lang) { root.setAttribute('data-lang', lang === 'zh' ? 'zh' : 'en'); root.setAttribute('lang', lang === 'zh' ? 'zh-CN' : 'en'); }
  var buttons = document.querySelectorAll('button[data-set-lang]');
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener('click', function (e) { var l = e.currentTarget.getAttribute('data-set-lang'); set(l); history.replaceState(null, '', '#' + l); });
  }
  if (location.hash === '#zh' || location.hash === '#en') { set(location.hash.slice(1)); }
  root.setAttribute('data-ready', 'yes');
})();
