/*! Halo snippet v1 — paste before </body>, then call Halo('boot', { orgId, widgetKey }). */
(function (w, d, src) {
  // Double-include guard: a second copy of the snippet changes nothing.
  if (w.Halo && w.Halo.v) return;
  // A queue until the widget loads; it then replays the calls in order and replaces this.
  var h = (w.Halo = function () {
    h.q.push(arguments);
  });
  h.q = [];
  h.v = 1;
  var s = d.createElement("script");
  s.type = "module";
  s.async = true;
  s.src = src;
  (d.head || d.body).appendChild(s);
})(window, document, "__HALO_WIDGET_URL__");
