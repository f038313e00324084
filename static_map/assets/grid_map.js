/* The grid worker's map (/map/grid/{code}, /map/me): their cells outlined and labelled with the
 * grid code and 社区, the cells around them faint, their open cases as pins coloured by deadline
 * band, the 清单 (open cases by due date) beside the map, and the counts on top.
 * Loaded from the API when the page opens: `grids` by bbox, `cases` by grid code.
 */
(function () {
  "use strict";

  var G = window.GridmapLive;
  var OWN = { color: "#c2410c", weight: 3, opacity: 1, fillColor: "#fdba74", fillOpacity: 0.15 };
  var NEIGHBOUR = {
    color: "#64748b",
    weight: 1,
    opacity: 0.55,
    dashArray: "4 4",
    fillColor: "#cbd5e1",
    fillOpacity: 0.08,
  };
  var PAGE_LIMIT = 1000;

  function gridPopup(p, mine) {
    return G.el("div", { className: "gridmap-grid-popup" }, [
      G.el("h2", { className: "gridmap-popup-title", text: (mine ? "本人网格 " : "相邻网格 ") + p.code }),
      G.table([
        ["网格编码", p.code],
        ["名称", p.name],
        ["所属社区", p.parent_name ? p.parent_name + "（" + p.parent_code + "）" : p.parent_code],
        ["所属街道", p.street_name],
        ["网格类型", p.grid_type],
        ["户数", typeof p.households === "number" ? G.number(p.households) : ""],
        ["边界", p.approximate ? "示意" : ""],
      ]),
    ]);
  }

  function gridLabel(p) {
    return G.el("span", {}, [
      G.el("b", { text: p.code }),
      G.el("br"),
      p.parent_name || p.parent_code || "",
    ]);
  }

  function loadGrids(page, own) {
    var cfg = page.config;
    var url = G.url(cfg.api.grids, { bbox: cfg.bbox.join(","), limit: PAGE_LIMIT, crs: cfg.crs });
    return G.fetchAll(url).then(function (fc) {
      var mine = [];
      var others = [];
      fc.features.forEach(function (f) {
        (own[(f.properties || {}).code] ? mine : others).push(f);
      });
      // Neighbours first: the worker's cells are drawn over them.
      others.forEach(function (f) {
        var layer = L.GeoJSON.geometryToLayer(
          f,
          L.extend({ className: "gridmap-grid gridmap-neighbour-grid" }, NEIGHBOUR),
        );
        layer.bindPopup(gridPopup(f.properties || {}, false));
        page.groups.neighbours.addLayer(layer);
        G.tag(layer, "code", (f.properties || {}).code);
      });
      mine.forEach(function (f) {
        var p = f.properties || {};
        var layer = L.GeoJSON.geometryToLayer(
          f,
          L.extend({ className: "gridmap-grid gridmap-own-grid" }, OWN),
        );
        layer.bindPopup(gridPopup(p, true));
        layer.bindTooltip(gridLabel(p), {
          permanent: true,
          direction: "center",
          className: "gridmap-grid-label",
        });
        page.groups.own.addLayer(layer);
        G.tag(layer, "code", p.code);
      });
      return { own: mine.length, neighbours: others.length };
    });
  }

  function byDueDate(a, b) {
    var pa = a.properties;
    var pb = b.properties;
    if (pa.due_date !== pb.due_date) {
      if (!pa.due_date) return 1;
      if (!pb.due_date) return -1;
      return pa.due_date < pb.due_date ? -1 : 1;
    }
    var band = G.BANDS[G.band(pa.band)].order - G.BANDS[G.band(pb.band)].order;
    if (band) return band;
    return String(pa.received_at || "") < String(pb.received_at || "") ? -1 : 1;
  }

  function setCount(key, value) {
    var node = document.querySelector('[data-count="' + key + '"] b');
    if (node) {
      node.textContent = G.number(value);
    }
  }

  function listStatus(text) {
    var node = document.querySelector("[data-list-status]");
    if (node) {
      node.textContent = text;
      node.hidden = !text;
    }
  }

  function showOnMap(page, pin) {
    var box = document.querySelector(".gridmap-mapbox");
    if (box && box.getBoundingClientRect().top < 0) {
      box.scrollIntoView({ block: "start" }); // phone: the list is under the map
    }
    page.map.setView(pin.getLatLng(), Math.max(page.map.getZoom(), 17));
    pin.openPopup();
  }

  function listItem(page, feature, pin) {
    var p = feature.properties;
    var band = G.band(p.band);
    var button = G.el(
      "button",
      { type: "button", className: "gridmap-list-button", "data-case-id": p.id },
      [
        G.el("span", { className: "gridmap-dot gridmap-band-" + band, title: G.BANDS[band].label }),
        G.el("span", { className: "gridmap-list-main" }, [
          G.el("b", { text: G.caseNumber(p) }),
          " " + (p.category_name || p.category || "") + " · " + (p.status_label || p.status || ""),
        ]),
        G.el("span", { className: "gridmap-list-due gridmap-due-" + band, text: G.dueText(p) }),
        G.el("span", { className: "gridmap-list-addr", text: p.address || (pin ? "" : "未定位") }),
      ],
    );
    if (pin) {
      button.addEventListener("click", function () {
        showOnMap(page, pin);
      });
    } else {
      button.disabled = true;
    }
    return G.el("li", { className: "gridmap-list-item" }, [button]);
  }

  function loadCases(page) {
    var cfg = page.config;
    var requests = cfg.grids.map(function (code) {
      return Promise.all([
        G.fetchAll(G.url(cfg.api.cases, { grid_code: code, open: "true", limit: PAGE_LIMIT, crs: cfg.crs })),
        G.fetchJson(G.url(cfg.api.cases, { grid_code: code, limit: 1 })),
      ]);
    });
    return Promise.all(requests).then(function (results) {
      var open = G.uniqueById(
        results.map(function (r) {
          return r[0].features;
        }),
      );
      var total = results.reduce(function (sum, r) {
        return sum + (r[1].numberMatched || 0);
      }, 0);
      open.sort(byDueDate);
      var pane = G.casePane(page.map);
      var items = document.querySelector("[data-list-items]");
      var counts = { open: open.length, due_soon: 0, overdue: 0, supervised: 0, total: total };
      var pins = 0;
      open.forEach(function (f) {
        var p = f.properties || {};
        var band = G.band(p.band);
        var pin = G.casePin(
          f,
          {
            pane: pane,
            radius: 9,
            weight: 2,
            color: p.supervised ? "#6b21a8" : "#ffffff",
            fillColor: G.BANDS[band].color,
            fillOpacity: 0.95,
            className:
              "gridmap-case gridmap-band-" + band + (p.supervised ? " gridmap-supervised" : ""),
          },
          cfg.api,
        );
        if (pin) {
          page.groups.cases.addLayer(pin);
          G.tag(pin, "case", G.caseNumber(p));
          pins += 1;
        }
        if (p.overdue || band === "red") counts.overdue += 1;
        else if (band === "yellow" || band === "orange") counts.due_soon += 1;
        if (p.supervised) counts.supervised += 1;
        if (items) items.appendChild(listItem(page, f, pin));
      });
      Object.keys(counts).forEach(function (key) {
        setCount(key, counts[key]);
      });
      var countNode = document.querySelector("[data-list-count]");
      if (countNode) countNode.textContent = "（" + open.length + "）";
      listStatus(open.length ? "" : "本网格暂无未办结案件");
      page.counts = counts;
      return pins;
    });
  }

  function legend(map) {
    var box = G.legend(map, "期限预警");
    box.appendChild(
      G.legendList(
        G.BAND_ORDER.map(function (band) {
          return {
            shape: "gridmap-swatch-dot",
            style: "background:" + G.BANDS[band].color,
            label: G.BANDS[band].label,
          };
        }).concat([
          { shape: "gridmap-swatch-ring", style: "border-color:#6b21a8", label: "督办中" },
          { style: "border:3px solid #c2410c;background:rgba(253,186,116,0.15)", label: "本人网格" },
          { style: "border:1px dashed #64748b", label: "相邻网格" },
        ]),
      ),
    );
  }

  G.kinds.grid = function (page) {
    var cfg = page.config;
    var own = {};
    cfg.grids.forEach(function (code) {
      own[code] = true;
    });
    legend(page.map);
    var grids = G.loadLayer(["own", "neighbours"], function () {
      return loadGrids(page, own);
    });
    var cases;
    if (cfg.available.cases) {
      cases = G.loadLayer("cases", function () {
        return loadCases(page);
      }).then(function (n) {
        if (n === null) listStatus("案件加载失败，请稍后刷新");
      });
    } else {
      G.unavailable("cases");
      listStatus("案件图层暂未提供");
      cases = Promise.resolve();
    }
    return Promise.all([grids, cases]);
  };
})();
