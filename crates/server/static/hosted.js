// The hosted page tells the page that frames it how the session ended: one message, sent only
// to the session's host_uri (never '*'), carrying session_identifier, tracer_token and
// event_name (and for token_success the customer_account_token and funding_destination).
(function () {
  'use strict';
  var el = document.getElementById('iip-event');
  if (!el || window.parent === window) { return; }
  var d = el.dataset;
  var message = {
    event_name: d.eventName,
    session_identifier: d.sessionIdentifier,
    tracer_token: d.tracerToken
  };
  if (d.customerAccountToken) {
    message.customer_account_token = d.customerAccountToken;
    message.funding_destination = d.fundingDestination;
  }
  window.parent.postMessage(message, d.targetOrigin);
})();
