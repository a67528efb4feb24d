// Every page: when it arrives with an error summary, focus moves to it, so that a screen
// reader reads it out and the keyboard starts from it.
(function () {
  'use strict';
  var summary = document.getElementById('errors');
  if (summary) { summary.focus(); }
})();
