// Listings pages: maps (Leaflet from static/vendor), the listing form (attribute
// block per category, photo previews and order, map picker), favourites and the
// search toolbar. Every page works without this file; it only makes them nicer.
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  // Elements only useful with JavaScript are hidden in the HTML; show them.
  // Buttons only needed without JavaScript ("Apply", "Sort") are hidden here.
  function revealJsOnly() {
    document.documentElement.classList.add("js");
    $all(".js-only[hidden]").forEach(function (el) { el.hidden = false; });
  }

  // --- Maps -------------------------------------------------------------------

  function tileLayer(el) {
    var url = el.dataset.tileUrl;
    if (!url) return null;
    // Tiles are decoration: a tile that fails to load (offline, blocked) only
    // leaves the background grey; markers and clicks keep working.
    return window.L.tileLayer(url, {
      maxZoom: 19,
      attribution: el.dataset.tileAttribution || "",
      errorTileUrl: "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==",
    });
  }

  function makeMap(el, options) {
    if (!window.L) return null;
    var lat = parseFloat(el.dataset.lat || el.dataset.defaultLat);
    var lng = parseFloat(el.dataset.lng || el.dataset.defaultLng);
    var zoom = parseInt(el.dataset.zoom || el.dataset.defaultZoom || "11", 10);
    var map = window.L.map(el, Object.assign({ scrollWheelZoom: false }, options || {}));
    map.setView([lat, lng], zoom);
    var tiles = tileLayer(el);
    if (tiles) tiles.addTo(map);
    el.leafletMap = map;
    return map;
  }

  // Markers are plain styled divs: no image files needed, and they show even
  // when nothing else (tiles) could load.
  function pinIcon(label) {
    return window.L.divIcon({
      className: "map-pin",
      html: "<span>" + (label || "") + "</span>",
      iconSize: null,
      iconAnchor: [14, 34],
      popupAnchor: [0, -30],
    });
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function initListingMap(el) {
    var map = makeMap(el, { zoomControl: true });
    if (!map) return;
    map.setZoom(13);
    window.L.circle([parseFloat(el.dataset.lat), parseFloat(el.dataset.lng)], {
      radius: parseFloat(el.dataset.radiusM || "800"),
      color: "#8B5E3C",
      fillColor: "#8B5E3C",
      fillOpacity: 0.2,
      weight: 2,
      className: "approx-area",
    }).addTo(map);
  }

  function initResultsMap(el) {
    var map = makeMap(el, { scrollWheelZoom: true });
    if (!map) return;
    var data = $("#map-markers");
    var markers = data ? JSON.parse(data.textContent) : [];
    var group = window.L.featureGroup();
    markers.forEach(function (m) {
      var html =
        '<a class="map-popup" href="' + escapeHtml(m.url) + '">' +
        (m.thumb ? '<img src="' + escapeHtml(m.thumb) + '" alt="">' : "") +
        "<strong>" + escapeHtml(m.price) + "</strong><span>" + escapeHtml(m.title) + "</span>" +
        '<small>' + escapeHtml(m.city) + "</small></a>";
      window.L.marker([m.lat, m.lng], { icon: pinIcon(escapeHtml(m.price)), title: m.title, alt: m.title })
        .bindPopup(html)
        .addTo(group);
    });
    group.addTo(map);
    var radiusKm = parseFloat(el.dataset.radiusKm || "");
    if (el.dataset.lat && radiusKm > 0) {
      var area = window.L.circle([parseFloat(el.dataset.lat), parseFloat(el.dataset.lng)], {
        radius: radiusKm * 1000, color: "#2f7d5b", weight: 1, fill: false, interactive: false,
      }).addTo(map);
      map.fitBounds(area.getBounds(), { padding: [10, 10], animate: false });
    } else if (markers.length) {
      map.fitBounds(group.getBounds(), { padding: [30, 30], maxZoom: 14, animate: false });
    }

    // "Search this area": after the user moves the map, offer to search the
    // visible area (its centre and the radius that reaches its corners).
    var button = $("#search-area");
    if (!button) return;
    // Offer it only once the view really changed (a resize or a redraw also
    // ends in "moveend"): another zoom, or the centre moved by 30 px or more.
    var startZoom = map.getZoom();
    var startCenter = map.getCenter();
    map.on("moveend", function () {
      var middle = map.getSize().divideBy(2);
      var moved = map.latLngToContainerPoint(startCenter).distanceTo(middle);
      if (map.getZoom() !== startZoom || moved >= 30) button.hidden = false;
    });
    button.addEventListener("click", function () {
      var center = map.getCenter();
      var corner = map.getBounds().getNorthEast();
      var km = Math.min(500, Math.max(0.5, center.distanceTo(corner) / 1000));
      var url = new URL(window.location.href);
      url.searchParams.set("lat", center.lat.toFixed(5));
      url.searchParams.set("lng", center.lng.toFixed(5));
      url.searchParams.set("radius_km", km.toFixed(1));
      url.searchParams.set("view", "map");
      url.searchParams.delete("page");
      url.searchParams.delete("city");
      window.location.assign(url.toString());
    });
  }

  function initPickerMap(el) {
    var form = el.closest("form");
    var latInput = form.querySelector("input[name=lat]");
    var lngInput = form.querySelector("input[name=lng]");
    var clear = $("[data-clear-location]", form);
    if (latInput.value && lngInput.value) {
      el.dataset.lat = latInput.value;
      el.dataset.lng = lngInput.value;
      el.dataset.zoom = "14";
    }
    var map = makeMap(el, { scrollWheelZoom: true });
    if (!map) return;
    var marker = null;
    function place(latlng) {
      latInput.value = latlng.lat.toFixed(6);
      lngInput.value = latlng.lng.toFixed(6);
      if (!marker) {
        marker = window.L.marker(latlng, { icon: pinIcon(""), draggable: true }).addTo(map);
        marker.on("dragend", function () { place(marker.getLatLng()); });
      } else {
        marker.setLatLng(latlng);
      }
      if (clear) clear.disabled = false;
    }
    if (latInput.value && lngInput.value) {
      place(window.L.latLng(parseFloat(latInput.value), parseFloat(lngInput.value)));
    } else if (clear) {
      clear.disabled = true;
    }
    map.on("click", function (event) { place(event.latlng); });
    if (clear) {
      clear.addEventListener("click", function () {
        latInput.value = "";
        lngInput.value = "";
        if (marker) { map.removeLayer(marker); marker = null; }
        clear.disabled = true;
      });
    }
    // Choosing a city moves the map there when no point is set yet.
    var city = form.querySelector("select[name=city]");
    if (city && city.dataset.centres) {
      var centres = JSON.parse(city.dataset.centres);
      city.addEventListener("change", function () {
        var c = centres[city.value];
        if (c && !marker) map.setView(c, 12);
      });
    }
  }

  function initMaps() {
    $all("[data-map]").forEach(function (el) {
      try {
        if (el.dataset.map === "listing") initListingMap(el);
        else if (el.dataset.map === "results") initResultsMap(el);
        else if (el.dataset.map === "picker") initPickerMap(el);
      } catch (err) {
        // A broken map must not break the rest of the page.
        if (window.console) console.error(err);
      }
    });
  }

  // --- Listing form: attribute fields follow the category ---------------------

  function initAttributeReload(form) {
    var select = form.querySelector("select[name=category]");
    var block = $("#attribute-fields", form);
    if (!select || !block) return;
    select.addEventListener("change", function () {
      var url = form.dataset.attributeUrl + "?category=" + encodeURIComponent(select.value);
      block.setAttribute("aria-busy", "true");
      fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) { block.innerHTML = html; })
        .catch(function () {
          block.innerHTML = '<p class="errorlist">Could not load the fields of this category. Save as a draft and try again.</p>';
        })
        .finally(function () { block.removeAttribute("aria-busy"); });
    });
  }

  // --- Listing form: photos ------------------------------------------------------

  function moveItem(item, direction) {
    var list = item.parentNode;
    if (direction === "up" && item.previousElementSibling) {
      list.insertBefore(item, item.previousElementSibling);
    } else if (direction === "down" && item.nextElementSibling) {
      list.insertBefore(item.nextElementSibling, item);
    }
  }

  // Drag and drop within a list; `onChange` runs after every drop.
  function makeSortable(list, onChange) {
    var dragged = null;
    list.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("li");
      if (dragged) {
        dragged.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", "");
      }
    });
    list.addEventListener("dragover", function (event) {
      if (!dragged) return;
      event.preventDefault();
      var over = event.target.closest("li");
      if (!over || over === dragged || over.parentNode !== list) return;
      var rect = over.getBoundingClientRect();
      var after = (event.clientX - rect.left) > rect.width / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      dragged = null;
      onChange();
    });
    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-move]");
      if (!button) return;
      moveItem(button.closest("li"), button.dataset.move);
      onChange();
      button.focus();
    });
  }

  function initExistingPhotos(form) {
    var list = $("[data-photo-existing]", form);
    var order = form.querySelector("input[name=photo_order]");
    if (!list || !order) return;
    function sync() {
      order.value = $all("li", list).map(function (li) { return li.dataset.id; }).join(",");
    }
    makeSortable(list, sync);
    list.addEventListener("change", function (event) {
      if (event.target.name === "photo_delete") {
        event.target.closest("li").classList.toggle("is-removed", event.target.checked);
      }
    });
    sync();
  }

  // New photos: previews in a sortable list; the file input's FileList is
  // rebuilt in the chosen order (DataTransfer), so the plain form post carries
  // the files in that order. Several selections add up.
  function initNewPhotos(form) {
    var input = form.querySelector("input[type=file][name=photos]");
    var list = $("[data-photo-previews]", form);
    if (!input || !list || typeof DataTransfer === "undefined") return;
    var files = [];
    var urls = new Map();

    function render() {
      list.innerHTML = "";
      files.forEach(function (file, index) {
        if (!urls.has(file)) urls.set(file, URL.createObjectURL(file));
        var li = document.createElement("li");
        li.className = "photo-item";
        li.draggable = true;
        li.dataset.index = String(index);
        li.innerHTML =
          '<img alt="">' +
          '<div class="photo-controls">' +
          '<button type="button" class="btn btn-sm btn-secondary" data-move="up">&uarr;</button>' +
          '<button type="button" class="btn btn-sm btn-secondary" data-move="down">&darr;</button>' +
          '<button type="button" class="btn btn-sm btn-secondary" data-remove>&times;</button>' +
          "</div>";
        var img = li.querySelector("img");
        img.src = urls.get(file);
        img.alt = "New photo " + (index + 1) + ": " + file.name;
        li.querySelector("[data-move=up]").setAttribute("aria-label", "Move " + file.name + " earlier");
        li.querySelector("[data-move=down]").setAttribute("aria-label", "Move " + file.name + " later");
        li.querySelector("[data-remove]").setAttribute("aria-label", "Remove " + file.name);
        list.appendChild(li);
      });
      list.hidden = files.length === 0;
      var transfer = new DataTransfer();
      files.forEach(function (file) { transfer.items.add(file); });
      input.files = transfer.files;
    }

    function syncFromDom() {
      files = $all("li", list).map(function (li) { return files[parseInt(li.dataset.index, 10)]; });
      render();
    }

    input.addEventListener("change", function () {
      var added = Array.prototype.slice.call(input.files).filter(function (file) {
        return files.indexOf(file) === -1;
      });
      // The browser replaced the selection: keep the earlier picks too.
      files = files.concat(added.filter(function (f) {
        return !files.some(function (g) { return g.name === f.name && g.size === f.size && g.lastModified === f.lastModified; });
      }));
      render();
    });
    list.addEventListener("click", function (event) {
      var remove = event.target.closest("[data-remove]");
      if (!remove) return;
      var index = parseInt(remove.closest("li").dataset.index, 10);
      files.splice(index, 1);
      render();
    });
    makeSortable(list, syncFromDom);
  }

  function initListingForm() {
    var form = $("form[data-listing-form]");
    if (!form) return;
    initAttributeReload(form);
    initExistingPhotos(form);
    initNewPhotos(form);
    // Double submits create duplicates: disable the buttons once sent.
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.name === "action") {
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "action";
        hidden.value = submitter.value;
        form.appendChild(hidden);
      }
      $all(".form-actions button", form).forEach(function (b) { b.disabled = true; });
    });
  }

  // --- Favourites ---------------------------------------------------------------

  function initFavourites() {
    document.addEventListener("submit", function (event) {
      var form = event.target.closest("form[data-favourite]");
      if (!form) return;
      event.preventDefault();
      var action = form.querySelector("input[name=action]");
      var button = form.querySelector("button");
      button.disabled = true;
      // form.action would be the input named "action": read the attribute.
      fetch(form.getAttribute("action"), {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json", "X-CSRFToken": window.Marketplace.csrfToken() },
        credentials: "same-origin",
      })
        .then(function (response) {
          if (response.redirected || response.status === 401 || response.status === 403) {
            form.submit();
            return null;
          }
          return response.json().then(function (data) {
            if (!response.ok) throw new Error(data.detail || "Could not update favourites.");
            return data;
          });
        })
        .then(function (data) {
          if (!data) return;
          var on = data.is_favourite;
          action.value = on ? "remove" : "add";
          button.classList.toggle("is-on", on);
          button.setAttribute("aria-pressed", on ? "true" : "false");
          var text = on ? "Remove from favourites" : "Add to favourites";
          button.setAttribute("aria-label", text);
          button.title = text;
          $(".heart", button).innerHTML = on ? "&#9829;" : "&#9825;";
          var label = $(".fav-label", button);
          if (label) label.textContent = on ? "In favourites" : "Add to favourites";
        })
        .catch(function (err) { window.alert(err.message); })
        .finally(function () { button.disabled = false; });
    });
  }

  // --- Search page -------------------------------------------------------------

  function initSearch() {
    // On a phone the filters start folded so the results come first.
    var filters = $("details.filters-toggle");
    if (filters && !filters.hasAttribute("data-keep-open") &&
        window.matchMedia("(max-width: 1023px)").matches) {
      filters.open = false;
    }
    $all("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    $all("[data-autosubmit-change]").forEach(function (select) {
      select.addEventListener("change", function () {
        // A new category has other attribute filters: drop the old ones.
        $all("input[name^=attr_], select[name^=attr_]", select.form).forEach(function (el) { el.disabled = true; });
        select.form.submit();
      });
    });
    $all("[data-use-location]").forEach(function (button) {
      if (!navigator.geolocation) { button.hidden = true; return; }
      button.addEventListener("click", function () {
        var form = button.form;
        button.disabled = true;
        navigator.geolocation.getCurrentPosition(function (position) {
          form.querySelector("input[name=lat]").value = position.coords.latitude.toFixed(5);
          form.querySelector("input[name=lng]").value = position.coords.longitude.toFixed(5);
          var radius = form.querySelector("select[name=radius_km]");
          if (!radius.value) radius.value = "10";
          form.submit();
        }, function () {
          button.disabled = false;
          window.alert("Your browser did not share your location.");
        }, { timeout: 10000 });
      });
    });
    $all("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }

  // --- Gallery -----------------------------------------------------------------

  function initGallery() {
    var gallery = $("[data-gallery]");
    if (!gallery) return;
    var main = $("[data-gallery-main]", gallery);
    var link = $("[data-gallery-main-link]", gallery);
    var thumbs = $all("[data-gallery-thumb]", gallery);
    if (!main || thumbs.length < 2) return;
    var current = 0;
    function show(index) {
      current = (index + thumbs.length) % thumbs.length;
      var thumb = thumbs[current];
      main.src = thumb.dataset.full;
      main.removeAttribute("width");
      main.removeAttribute("height");
      main.alt = main.alt.replace(/photo \d+ of/, "photo " + (current + 1) + " of");
      link.href = thumb.dataset.full;
      thumbs.forEach(function (t, i) {
        if (i === current) t.setAttribute("aria-current", "true");
        else t.removeAttribute("aria-current");
      });
    }
    thumbs.forEach(function (thumb, index) {
      thumb.addEventListener("click", function (event) { event.preventDefault(); show(index); });
    });
    var prev = $("[data-gallery-prev]", gallery);
    var next = $("[data-gallery-next]", gallery);
    if (prev) prev.addEventListener("click", function () { show(current - 1); });
    if (next) next.addEventListener("click", function () { show(current + 1); });
    gallery.addEventListener("keydown", function (event) {
      if (event.key === "ArrowLeft") show(current - 1);
      if (event.key === "ArrowRight") show(current + 1);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    revealJsOnly();
    initMaps();
    initListingForm();
    initFavourites();
    initSearch();
    initGallery();
  });
})();
