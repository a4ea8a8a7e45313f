// Wallet pages: quick top-up amounts, and buttons that submit once.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-quick-amount]").forEach(function (button) {
      button.addEventListener("click", function () {
        const form = button.closest("form");
        const input = form && form.querySelector("input[name=amount]");
        if (input) {
          input.value = button.dataset.quickAmount;
          input.focus();
        }
      });
    });
    document.querySelectorAll("button[data-once]").forEach(function (button) {
      const form = button.closest("form");
      if (!form) return;
      form.addEventListener("submit", function () {
        // The server pays once per confirmation anyway (idempotency key);
        // this only spares the user a second click's round trip.
        window.setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  });
})();
