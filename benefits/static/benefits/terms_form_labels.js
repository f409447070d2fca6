// The terms form's widget (django-jsonform) prints its buttons in English. This swaps its
// button texts and titles for the Chinese the page gives in data-labels (translated on the
// server), again whenever the widget redraws. Served from our static files: no nonce needed.
(function () {
  "use strict";
  function relabel(root, labels) {
    root.querySelectorAll("button, option, [title]").forEach(function (node) {
      var title = node.getAttribute("title");
      if (title && labels[title]) { node.setAttribute("title", labels[title]); }
      if ((node.tagName === "BUTTON" || node.tagName === "OPTION") && node.children.length === 0) {
        var text = node.textContent.trim();
        if (labels[text]) { node.textContent = labels[text]; }
      }
    });
  }
  function start() {
    document.querySelectorAll("[data-terms-form-labels]").forEach(function (holder) {
      var labels = JSON.parse(holder.getAttribute("data-terms-form-labels"));
      relabel(holder, labels);
      new MutationObserver(function () { relabel(holder, labels); })
        .observe(holder, { childList: true, subtree: true });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
