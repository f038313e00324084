/* gridmap's live map pages (grid worker's map, commander's map): the helpers both share.
 *
 * Every request goes to the page's own host with the login cookie; nothing is fetched from
 * anywhere else. Text from the API is put into the page with textContent, never as HTML.
 * A layer that fails to load says so in the layer panel (console.warn, never console.error).
 */
(function () {
  "use strict";

  var G = (window.GridmapLive = window.GridmapLive || {});
  G.kinds = G.kinds || {};
  G.pages = [];

  // Deadline warning bands (DESIGN: yellow T-3 d, orange T-1 d, red overdue).
  G.BANDS = {
    red: { color: "#dc2626", label: "超期", order: 0 },
    orange: { color: "#f97316", label: "临期（1天内）", order: 1 },
    yellow: { color: "#eab308", label: "临期（3天内）", order: 2 },
    green: { color: "#16a34a", label: "正常", order: 3 },
    none: { color: "#6b7280", label: "无期限", order: 4 },
  };
  G.BAND_ORDER = ["green", "yellow", "orange", "red", "none"];
  G.band = function (value) {
    return Object.prototype.hasOwnProperty.call(G.BANDS, value) ? value : "none";
  };

  // --- URLs and requests -------------------------------------------------------------------

  // This host only: a link the API built for another origin keeps just its path and query.
  G.sameOrigin = function (href) {
    var u = new URL(href, window.location.href);
    return window.location.origin + u.pathname + u.search;
  };

  G.url = function (path, params) {
    var u = new URL(path, window.location.origin);
    Object.keys(params || {}).forEach(function (key) {
      var value = params[key];
      if (value !== null && value !== undefined && value !== "") {
        u.searchParams.set(key, String(value));
      }
    });
    return G.sameOrigin(u.href);
  };

  G.fill = function (template, id) {
    return template.replace("{id}", encodeURIComponent(String(id)));
  };

  function HttpError(status, url) {
    this.name = "HttpError";
    this.status = status;
    this.url = url;
    this.message = "HTTP " + status + " " + url;
  }
  HttpError.prototype = Object.create(Error.prototype);
  G.HttpError = HttpError;

  G.fetchJson = function (url) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/geo+json, application/json" },
    }).then(function (resp) {
      if (!resp.ok) {
        throw new HttpError(resp.status, url);
      }
      return resp.json();
    });
  };

  // Every feature of a paged FeatureCollection, following its `next` links (at most maxPages).
  G.fetchAll = function (url, maxPages) {
    var features = [];
    var matched = null;
    var pages = 0;
    var limit = maxPages || 20;
    function page(u) {
      return G.fetchJson(u).then(function (fc) {
        var got = fc.features || [];
        pages += 1;
        if (matched === null && typeof fc.numberMatched === "number") {
          matched = fc.numberMatched;
        }
        Array.prototype.push.apply(features, got);
        var next = (fc.links || []).filter(function (l) {
          return l.rel === "next";
        })[0];
        if (next && got.length && pages < limit) {
          return page(G.sameOrigin(next.href));
        }
        return {
          type: "FeatureCollection",
          features: features,
          numberMatched: matched === null ? features.length : matched,
          truncated: Boolean(next && got.length),
        };
      });
    }
    return page(url);
  };

  // --- DOM -----------------------------------------------------------------------------------

  G.el = function (tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined) {
        return;
      }
      if (key === "text") {
        node.textContent = String(value);
      } else if (key === "className") {
        node.className = value;
      } else {
        node.setAttribute(key, String(value));
      }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === "") {
        return;
      }
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    });
    return node;
  };

  // A popup's two-column table; rows whose value is empty are left out.
  G.table = function (rows) {
    var body = G.el("tbody");
    rows.forEach(function (row) {
      var value = row[1];
      if (value === null || value === undefined || value === "") {
        return;
      }
      body.appendChild(G.el("tr", {}, [G.el("th", { text: row[0] }), G.el("td", {}, [value])]));
    });
    return G.el("table", { className: "gridmap-popup-table" }, [body]);
  };

  G.number = function (value) {
    return typeof value === "number" && isFinite(value) ? value.toLocaleString("zh-CN") : "–";
  };

  G.percent = function (rate) {
    return typeof rate === "number" && isFinite(rate) ? (rate * 100).toFixed(1) + "%" : "–";
  };

  // A small legend box (bottom left) the page script fills; it folds to its title on a tap,
  // and starts folded on a phone so the map keeps the screen.
  G.legend = function (map, title) {
    var box = G.el("details", { className: "gridmap-legend", role: "region", "aria-label": "图例" }, [
      G.el("summary", { className: "gridmap-title", text: title || "图例" }),
    ]);
    box.open = !window.matchMedia("(max-width: 700px)").matches;
    var control = L.control({ position: "bottomleft" });
    control.onAdd = function () {
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    control.addTo(map);
    return box;
  };

  G.legendList = function (items) {
    return G.el(
      "ul",
      {},
      items.map(function (item) {
        return G.el("li", {}, [
          G.el("span", { className: "gridmap-swatch " + (item.shape || ""), style: item.style }),
          item.label,
        ]);
      }),
    );
  };

  // --- layer states in the layer panel -------------------------------------------------------

  var statuses = {};

  function applyStatuses() {
    var nodes = document.querySelectorAll("[data-layer-status]");
    Array.prototype.forEach.call(nodes, function (node) {
      var state = statuses[node.getAttribute("data-layer-status")];
      var text = state ? state.text : "";
      var cls = "gridmap-layer-status" + (state ? " gridmap-layer-" + state.kind : "");
      if (node.textContent !== text) {
        node.textContent = text;
      }
      if (node.className !== cls) {
        node.className = cls;
      }
    });
  }

  // Leaflet rebuilds the layer panel's labels whenever a layer is switched: write again.
  new MutationObserver(applyStatuses).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });

  G.setLayerStatus = function (key, text, kind) {
    statuses[key] = { text: text, kind: kind || "ok" };
    applyStatuses();
  };

  G.layerStatus = function (key) {
    return statuses[key] ? statuses[key].kind : null;
  };

  G.failureText = function (err) {
    if (err && err.status === 401) {
      return "（登录已过期，请重新登录）";
    }
    if (err && err.status === 403) {
      return "（无权查看）";
    }
    return "（加载失败）";
  };

  // Run a loader for a layer, showing its state: loading, "(n)" when done, or why it failed.
  G.loadLayer = function (keys, loader) {
    var list = [].concat(keys);
    list.forEach(function (key) {
      G.setLayerStatus(key, "（加载中）", "loading");
    });
    return Promise.resolve()
      .then(loader)
      .then(
        function (counts) {
          list.forEach(function (key) {
            var n = counts && typeof counts === "object" ? counts[key] : counts;
            G.setLayerStatus(key, typeof n === "number" ? "（" + n + "）" : "", "ok");
          });
          return counts;
        },
        function (err) {
          console.warn("gridmap: layer " + list.join(",") + " not loaded:", err && err.message);
          list.forEach(function (key) {
            G.setLayerStatus(key, G.failureText(err), "error");
          });
          return null;
        },
      );
  };

  G.unavailable = function (key) {
    G.setLayerStatus(key, "（暂未提供）", "unavailable");
  };

  // --- cases ---------------------------------------------------------------------------------

  G.casePane = function (map) {
    if (!map.getPane("gridmap-pins")) {
      map.createPane("gridmap-pins").style.zIndex = 660; // above labels (650), below popups
    }
    return "gridmap-pins";
  };

  G.caseNumber = function (p) {
    return p.external_id || "#" + p.id;
  };

  G.dueText = function (p) {
    var band = G.band(p.band);
    if (!p.due_date) {
      return "无期限";
    }
    return p.due_date + "（" + (p.overdue ? "超期" : G.BANDS[band].label) + "）";
  };

  G.casePopup = function (p, api) {
    var links = G.el("p", { className: "gridmap-popup-actions" }, [
      G.el("a", { className: "gridmap-button", href: G.fill(api.case, p.id), text: "查看案件" }),
      G.el("a", {
        className: "gridmap-button",
        href: G.fill(api.history, p.id),
        text: "办理记录",
      }),
    ]);
    return G.el("div", { className: "gridmap-case-popup" }, [
      G.el("h2", { className: "gridmap-popup-title", text: "案件 " + G.caseNumber(p) }),
      G.table([
        ["类别", p.category_name || p.category],
        ["状态", p.status_label || p.status],
        ["期限", G.dueText(p)],
        ["信访人", p.petitioner],
        ["地址", p.address],
        ["网格", p.grid_code],
        ["督办", p.supervised ? "督办中" : ""],
        ["包案领导", p.leader],
        ["登记时间", p.received_at ? String(p.received_at).slice(0, 10) : ""],
      ]),
      links,
    ]);
  };

  G.latLng = function (feature) {
    var g = feature.geometry;
    if (!g || g.type !== "Point" || !g.coordinates) {
      return null;
    }
    return L.latLng(g.coordinates[1], g.coordinates[0]);
  };

  // A pin per case (a circle: an SVG path with the band's colour and class names).
  G.casePin = function (feature, options, api) {
    var latlng = G.latLng(feature);
    if (!latlng) {
      return null;
    }
    var p = feature.properties || {};
    var pin = L.circleMarker(latlng, options);
    pin.bindPopup(
      function () {
        return G.casePopup(p, api);
      },
      { maxWidth: 300, minWidth: 220, autoPanPadding: [12, 12] },
    );
    return pin;
  };

  // A data attribute on a drawn layer's element (a stable hook for styles and tests).
  G.tag = function (layer, name, value) {
    var node = layer.getElement ? layer.getElement() : null;
    if (node && value !== null && value !== undefined) {
      node.setAttribute("data-" + name, String(value));
    }
    return layer;
  };

  G.uniqueById = function (lists) {
    var seen = {};
    var out = [];
    lists.forEach(function (list) {
      list.forEach(function (f) {
        var id = f.id !== undefined ? f.id : f.properties && f.properties.id;
        if (!seen[id]) {
          seen[id] = true;
          out.push(f);
        }
      });
    });
    return out;
  };

  // --- start ---------------------------------------------------------------------------------

  G.start = function (kind, map, groups, config) {
    var page = { kind: kind, map: map, groups: groups, config: config, state: "loading" };
    G.pages.push(page);
    document.documentElement.setAttribute("data-gridmap-state", "loading");
    Promise.resolve(page)
      .then(G.kinds[kind])
      .then(
        function () {
          page.state = "ready";
        },
        function (err) {
          console.warn("gridmap: page not fully loaded:", err && err.message);
          page.state = "failed";
        },
      )
      .then(function () {
        document.documentElement.setAttribute("data-gridmap-state", page.state);
      });
    return page;
  };
})();
