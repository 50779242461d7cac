// The training report's one script: the language switch. The button pressed, or #zh / #en
// in the address, sets data-lang on <html>; report.css shows the words of that language.
(function () {
  var root = document.documentElement;
  function set(lang) { root.setAttribute('data-lang', lang === 'zh' ? 'zh' : 'en'); root.setAttribute('lang', lang === 'zh' ? 'zh-CN' : 'en'); }
  var buttons = document.querySelectorAll('button[data-set-lang]');
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].addEventListener('click', function (e) { var l = e.currentTarget.getAttribute('data-set-lang'); set(l); history.replaceState(null, '', '#' + l); });
  }
  if (location.hash === '#zh') { set('zh'); }
  root.setAttribute('data-ready', 'yes');
})();
