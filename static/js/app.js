// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Copy buttons (the once-shown API token). Hidden until JavaScript can make them work.
  function setUpCopyButtons(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      var target = document.querySelector(button.getAttribute("data-copy"));
      if (!target || !navigator.clipboard) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        var status = document.querySelector("[data-copy-status]");
        navigator.clipboard.writeText(target.value).then(function () {
          button.textContent = "Copied";
          if (status) { status.textContent = "Copied to the clipboard."; }
        }, function () {
          target.select();
          if (status) { status.textContent = "Select the token and copy it with Ctrl+C or ⌘C."; }
        });
      });
    });
    // A click in the read-only secret field selects all of it, ready to copy by hand.
    root.querySelectorAll("input[data-secret]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  }
  // Close the avatar menu with Escape, returning focus to its toggle.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    document.querySelectorAll("details.avatar-menu[open]").forEach(function (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    });
  });
  document.addEventListener("DOMContentLoaded", function () { setUpCopyButtons(document); });
})();
