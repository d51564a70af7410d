// The old-vs-new page: one uPlot chart per check, the deploy moment at x = 0 minutes.
(function () {
  "use strict";
  const root = document.getElementById("checks");
  const deployId = root.dataset.deploy;
  const colours = { old: "#7a7a7a", new: "#e01e5a", deploy: "#4a90d9" };

  function merge(baseline, candidate, zero) {
    // uPlot wants one x axis: the union of both series' times, gaps as null.
    const times = Array.from(new Set(baseline.map((p) => p[0]).concat(candidate.map((p) => p[0])))).sort((a, b) => a - b);
    const index = (points) => new Map(points.map((p) => [p[0], p[1]]));
    const old = index(baseline), neu = index(candidate);
    return [
      times.map((t) => (t - zero) / 60),
      times.map((t) => (old.has(t) ? old.get(t) : null)),
      times.map((t) => (neu.has(t) ? neu.get(t) : null)),
    ];
  }

  function deployLine(u) {
    const x = Math.round(u.valToPos(0, "x", true));
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = colours.deploy;
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.restore();
  }

  function card(check, zero) {
    const box = document.createElement("section");
    box.className = "check " + check.outcome;
    const head = document.createElement("h2");
    head.textContent = check.name + " — " + check.outcome.toUpperCase();
    const reason = document.createElement("p");
    reason.className = "reason";
    reason.textContent = check.reason;
    const plot = document.createElement("div");
    box.append(head, reason, plot);
    root.append(box);
    const canary = check.mode === "canary";
    const opts = {
      width: Math.min(960, root.clientWidth || 900),
      height: 260,
      scales: { x: { time: false } },
      axes: [{ label: "minutes since the deploy" }, {}],
      series: [
        {},
        { label: canary ? "old version" : "before the deploy", stroke: colours.old, width: 2, spanGaps: true },
        { label: canary ? "new version" : "after the deploy", stroke: colours.new, width: 2, spanGaps: true },
      ],
      hooks: { draw: [deployLine] },
    };
    if (!check.baseline.length && !check.candidate.length) {
      plot.textContent = "No data yet.";
      return;
    }
    new uPlot(opts, merge(check.baseline, check.candidate, zero), plot);
  }

  fetch("/deploys/" + deployId + "/compare/series")
    .then((r) => r.json())
    .then((data) => {
      document.getElementById("verdict").textContent = data.verdict + " — " + data.reason;
      document.getElementById("verdict").className = "verdict " + data.verdict;
      if (!data.checks.length) {
        root.textContent = data.reason;
        return;
      }
      data.checks.forEach((check) => card(check, data.deploy_at));
      root.dataset.ready = "true";
    })
    .catch((err) => {
      root.textContent = "Could not load the series: " + err;
    });
})();
