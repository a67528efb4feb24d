// The card-entry component's help while typing: groups the digits in fours and says, politely,
// when the number cannot be a card (Luhn). It never blocks submitting: the server decides.
(function () {
  'use strict';
  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = digits.charCodeAt(digits.length - 1 - i) - 48;
      if (i % 2 === 1) { d *= 2; if (d > 9) { d -= 9; } }
      sum += d;
    }
    return digits.length >= 12 && sum % 10 === 0;
  }
  document.querySelectorAll('[data-card-entry]').forEach(function (entry) {
    var number = entry.querySelector('input[name="card_number"]');
    var status = entry.querySelector('#card-entry-status');
    if (!number || !status) { return; }
    number.addEventListener('blur', function () {
      var digits = number.value.replace(/\D/g, '');
      if (digits.length > 0) {
        number.value = digits.replace(/(\d{4})(?=\d)/g, '$1 ');
      }
      status.textContent = digits.length === 0 || luhn(digits) ? '' : status.getAttribute('data-invalid-number');
    });
  });
})();
