// Site-wide behaviour. Each feature registers itself on DOMContentLoaded; pages
// work without JavaScript and this only makes them nicer.
(function () {
  "use strict";
  window.Marketplace = window.Marketplace || {};

  // Read Django's CSRF cookie for fetch() posts.
  window.Marketplace.csrfToken = function () {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  };

  // Close the account menu when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.account-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
})();
