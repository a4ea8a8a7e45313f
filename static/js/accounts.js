// Account settings: fill the home location from the browser's geolocation.
// The page works without it (two number inputs).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    const button = document.querySelector("[data-use-my-location]");
    if (!button || !("geolocation" in navigator)) return;
    const lat = document.getElementById("id_lat");
    const lng = document.getElementById("id_lng");
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          lat.value = position.coords.latitude.toFixed(6);
          lng.value = position.coords.longitude.toFixed(6);
          button.disabled = false;
        },
        function () {
          button.disabled = false;
          button.textContent = "Location unavailable: enter it by hand";
        },
        { timeout: 10000 }
      );
    });
  });
})();
