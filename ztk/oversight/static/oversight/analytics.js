// Analytics: "PNG" draws a chart's SVG on a canvas and downloads it (no library, no CDN;
// the SVG carries its own colours and fonts as attributes, so the picture is the page's).
(function () {
  "use strict";
  function download(blob, name) {
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 2000);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-png]") : null;
    if (!button) return;
    var svg = document.getElementById(button.getAttribute("data-png"));
    if (!svg) return;
    var width = parseFloat(svg.getAttribute("width")) || 400;
    var height = parseFloat(svg.getAttribute("height")) || 220;
    var scale = 3;
    var xml = new XMLSerializer().serializeToString(svg);
    var image = new Image();
    image.onload = function () {
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      var context = canvas.getContext("2d");
      context.fillStyle = "#ffffff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (blob) {
        if (blob) download(blob, button.getAttribute("data-name") || "chart.png");
      }, "image/png");
    };
    image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(xml);
  });
})();
