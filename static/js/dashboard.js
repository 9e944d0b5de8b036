// Stacked bar chart of the dashboard's usage by day and model (Chart.js, served from static/vendor).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("usage-data").textContent);
  var canvas = document.getElementById("usage-chart");
  if (!canvas || !window.Chart) return;
  var palette = ["#0969da", "#1a7f37", "#bf3989", "#9a6700", "#8250df", "#cf222e", "#1b7c83", "#6e7781"];
  var names = Object.keys(data.series).sort(function (a, b) {
    return sum(data.series[b].quota) - sum(data.series[a].quota);
  });

  function sum(values) { return values.reduce(function (a, b) { return a + b; }, 0); }

  function scale(metric, values) {
    if (metric !== "quota" || !data.currency) return values;
    return values.map(function (v) { return v / data.quota_per_unit; });
  }

  function datasets(metric) {
    return names.map(function (name, i) {
      return { label: name, data: scale(metric, data.series[name][metric]), backgroundColor: palette[i % palette.length] };
    });
  }

  function tick(metric) {
    return function (value) { return metric === "quota" && data.currency ? "$" + Number(value).toFixed(2) : value; };
  }

  var chart = new Chart(canvas, {
    type: "bar",
    data: { labels: data.labels.map(function (d) { return d.slice(5); }), datasets: datasets("requests") },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { callback: tick("requests") } } },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }
    }
  });

  document.querySelectorAll("#chart-metric [data-metric]").forEach(function (button) {
    button.addEventListener("click", function () {
      var metric = button.dataset.metric;
      document.querySelectorAll("#chart-metric button").forEach(function (b) { b.classList.toggle("active", b === button); });
      chart.data.datasets = datasets(metric);
      chart.options.scales.y.ticks.callback = tick(metric);
      chart.update();
    });
  });
})();
