// The one script of the console: a running job's log and progress, live through server-sent
// events. Without it the page still shows both, and refreshes itself every 5 seconds.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  var log = document.getElementById("log");
  if (log) log.scrollTop = log.scrollHeight; // the latest lines in view
  if (!box || box.dataset.active !== "yes" || !window.EventSource) return;
  var placeholder = box.dataset.offset === "0"; // the "waiting in the queue" line, not the log
  var bar = box.querySelector("progress");
  var source = new EventSource("/jobs/" + box.dataset.job + "/events?offset=" + box.dataset.offset);
  source.addEventListener("log", function (event) {
    if (placeholder) {
      log.textContent = "";
      placeholder = false;
    }
    var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    log.appendChild(document.createTextNode(event.data + "\n"));
    if (atEnd) log.scrollTop = log.scrollHeight;
  });
  source.addEventListener("progress", function (event) {
    var p = JSON.parse(event.data);
    bar.value = p.fraction;
    bar.textContent = Math.round(p.fraction * 100) + "%";
    document.getElementById("stage").textContent = p.stage;
    document.getElementById("detail").textContent = p.detail;
    document.getElementById("state").textContent = p.state;
  });
  source.addEventListener("end", function () {
    source.close();
    window.location.reload(); // the finished page: its state, buttons and the run's link
  });
})();
