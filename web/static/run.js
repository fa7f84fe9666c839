// Live progress of a run page: follows the run's server-sent events and reloads the page when the
// run is finished, so the result is rendered by the server. Without JavaScript the page refreshes
// itself (a <noscript> meta refresh) instead.
(function () {
  "use strict";
  var status = document.getElementById("run-status");
  if (!status || status.dataset.final === "true" || !window.EventSource) return;
  var state = document.getElementById("run-state");
  var bar = document.getElementById("progress");
  var text = document.getElementById("progress-text");
  var labels = { queued: state.dataset.labelQueued, running: state.dataset.labelRunning };
  var source = new EventSource("/api/v1/runs/" + status.dataset.runId + "/events");
  source.addEventListener("progress", function (event) {
    var p = JSON.parse(event.data);
    bar.max = p.total;
    bar.value = p.done;
    var suffix = text.textContent.replace(/^[0-9]+ \/ [0-9]+/, "");
    text.textContent = p.done + " / " + p.total + suffix;
    if (p.state !== state.dataset.state) {
      state.dataset.state = p.state;
      if (labels[p.state]) state.textContent = labels[p.state];
    }
    if (p.state === "done" || p.state === "error") {
      source.close();
      window.location.reload();
    }
  });
})();
