// Gatehouse console: small progressive enhancements. Every action also works
// without this file, through plain forms and confirmation pages.
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  onReady(function () {
    // Copy to clipboard. Without the script the value is a selectable field.
    document.querySelectorAll("button[data-copy]").forEach(function (btn) {
      btn.hidden = false;
      btn.addEventListener("click", function () {
        var field = document.getElementById(btn.getAttribute("data-copy"));
        if (!field) return;
        var label = btn.textContent;
        var shown = function () {
          btn.textContent = "Copied";
          setTimeout(function () { btn.textContent = label; }, 1500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(shown, function () { field.select(); });
        } else {
          field.select();
          try { document.execCommand("copy"); shown(); } catch (e) { /* the field stays selected */ }
        }
      });
    });

    // Links that open a dialog of this page instead of a page of their own.
    document.querySelectorAll("a[data-dialog]").forEach(function (a) {
      var dlg = document.getElementById(a.getAttribute("data-dialog"));
      if (!dlg || typeof dlg.showModal !== "function") return;
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        dlg.showModal();
        var first = dlg.querySelector("input:not([type=hidden]), textarea, select");
        if (first) first.focus();
      });
    });

    // A secret shown once: a modal dialog; when it closes, the value leaves
    // the page, and reloading the page does not post the form again.
    var secret = document.querySelector("dialog[data-modal]");
    if (secret) {
      var to = secret.getAttribute("data-replace-url");
      if (to && window.history && history.replaceState) history.replaceState(null, "", to);
      if (typeof secret.showModal === "function") {
        secret.close();
        secret.showModal();
        secret.addEventListener("close", function () {
          if (secret.open) return; // the close() just above, delivered late
          secret.remove();
        });
      }
    }

    // Confirmation of destructive actions in a dialog; without the script
    // the server asks on a page of its own.
    var confirmDlg = document.getElementById("confirm-dialog");
    var pending = null;
    if (confirmDlg && typeof confirmDlg.showModal === "function") {
      document.querySelectorAll("form[data-confirm]").forEach(function (form) {
        form.addEventListener("submit", function (ev) {
          if (form.querySelector("input[name=confirm]")) return;
          ev.preventDefault();
          pending = form;
          document.getElementById("confirm-message").textContent = form.getAttribute("data-confirm");
          document.getElementById("confirm-ok").textContent = form.getAttribute("data-confirm-button") || "Confirm";
          confirmDlg.returnValue = "";
          confirmDlg.showModal();
        });
      });
      confirmDlg.addEventListener("close", function () {
        var form = pending;
        pending = null;
        if (!form || confirmDlg.returnValue !== "confirm") return;
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "confirm";
        input.value = "yes";
        form.appendChild(input);
        form.submit();
      });
    }
  });
})();
