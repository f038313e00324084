/* The commander's map (/map/command): 街道 and 社区 outlines, a choropleth of cases per grid for
 * the chosen window and category with Gi* hot and cold cells, project hotspots with counts and
 * trend, density-cluster hulls, overdue / supervised (督办) and 包案 cases as pins, the headline
 * numbers (件次, 人次, 案次, 三率, 超期) and the window selector. Every layer comes from the API;
 * changing the window or the category reloads the layers that depend on it.
 */
(function () {
  "use strict";

  var G = window.GridmapLive;
  var PAGE_LIMIT = 1000;
  var SVG_NS = "http://www.w3.org/2000/svg"; // the SVG namespace name, not a request
  var RAMP = ["#fee8c8", "#fdbb84", "#fc8d59", "#e34a33", "#b30000"];
  var ZERO = "#f8fafc";
  var SUPPRESSED = "#cbd5e1";
  var GI = {
    hot99: { color: "#7f0000", label: "热点 99%" },
    hot95: { color: "#d7301f", label: "热点 95%" },
    hot90: { color: "#fc8d59", label: "热点 90%" },
    cold90: { color: "#74a9cf", label: "冷点 90%" },
    cold95: { color: "#2b8cbe", label: "冷点 95%" },
    cold99: { color: "#045a8d", label: "冷点 99%" },
  };
  var PANES = {
    // name: z-index. Leaflet's overlayPane is 400, markerPane 600, popupPane 700.
    "gridmap-gi": 420,
    "gridmap-areas": 430,
    "gridmap-outlines": 450,
  };
  var ALERT_PIN = { radius: 8, weight: 2, fillOpacity: 0.95 };

  function panes(map) {
    Object.keys(PANES).forEach(function (name) {
      if (!map.getPane(name)) {
        map.createPane(name).style.zIndex = PANES[name];
      }
    });
    map.getPane("gridmap-outlines").style.pointerEvents = "none";
    map.getPane("gridmap-gi").style.pointerEvents = "none";
    if (!map.getPane("gridmap-leaders")) {
      map.createPane("gridmap-leaders").style.zIndex = 670; // above the case pins (660)
    }
  }

  // --- headline and window -------------------------------------------------------------------

  function headline(key, text, title) {
    var item = document.querySelector('[data-headline="' + key + '"]');
    if (!item) return;
    item.querySelector("b").textContent = text;
    if (title) item.setAttribute("title", title);
    else item.removeAttribute("title");
  }

  function windowStatus(text) {
    var node = document.querySelector("[data-window-status]");
    if (node) node.textContent = text;
  }

  // The day after an ISO date: /hotspots takes the window's end as exclusive.
  function nextDay(iso) {
    var d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  }

  // The hotspot endpoints' window (start inclusive, end exclusive) for the chosen days.
  function windowParams(page, extra) {
    var w = page.window;
    var params = { from: w.from, to: nextDay(w.to), category: w.category };
    if (page.config.crs !== "wgs84") params.crs = page.config.crs;
    return L.extend(params, extra || {});
  }

  function loadRates(page) {
    var w = page.window;
    return G.fetchJson(G.url(page.config.api.rates, { from: w.from, to: w.to })).then(function (r) {
      var counts = r.counts || {};
      headline("submissions", G.number(counts.submissions));
      headline("persons", G.number(counts.persons));
      headline("cases", G.number(counts.cases));
      ["acceptance", "on_time", "satisfaction"].forEach(function (key) {
        var rate = r[key] || {};
        headline(
          key,
          G.percent(rate.rate),
          (rate.numerator === undefined ? "" : rate.numerator + " / " + rate.denominator) +
            (rate.rule ? "；" + rate.rule : ""),
        );
      });
      var overdue = r.overdue || {};
      var parts = Object.keys(overdue).map(function (k) {
        return k + "：" + overdue[k];
      });
      page.overdueDetail = parts.join("；");
      var item = document.querySelector('[data-headline="overdue"]');
      if (item && page.overdueDetail) item.setAttribute("title", page.overdueDetail);
      return 1;
    });
  }

  // --- choropleth and Gi* --------------------------------------------------------------------

  // Upper bounds of up to five classes, from quantiles of the positive counts.
  function classBreaks(values) {
    var v = values
      .filter(function (x) {
        return typeof x === "number" && x > 0;
      })
      .sort(function (a, b) {
        return a - b;
      });
    var out = [];
    for (var i = 1; i <= RAMP.length && v.length; i++) {
      var q = v[Math.min(v.length - 1, Math.ceil((i * v.length) / RAMP.length) - 1)];
      if (!out.length || q > out[out.length - 1]) out.push(q);
    }
    return out;
  }

  function rampColour(index, count) {
    if (count <= 1) return RAMP[RAMP.length - 1];
    return RAMP[Math.round((index * (RAMP.length - 1)) / (count - 1))];
  }

  function fillFor(p, breaks) {
    if (p.suppressed || typeof p.cases !== "number") return SUPPRESSED;
    if (p.cases <= 0) return ZERO;
    for (var i = 0; i < breaks.length; i++) {
      if (p.cases <= breaks[i]) return rampColour(i, breaks.length);
    }
    return RAMP[RAMP.length - 1];
  }

  function change(p) {
    if (typeof p.change !== "number" || !isFinite(p.change)) return "";
    var pct = Math.round(p.change * 100);
    return (pct >= 0 ? "+" : "") + pct + "%（较前6期均值）";
  }

  function sparkline(trend, current) {
    var values = (trend || []).concat(typeof current === "number" ? [current] : []);
    if (values.length < 2) return "";
    var w = 120;
    var h = 28;
    var max = Math.max.apply(null, values.concat([1]));
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.setAttribute("class", "gridmap-sparkline");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "趋势 " + values.join(", "));
    var points = values.map(function (v, i) {
      return [(i * (w - 6)) / (values.length - 1) + 3, h - 3 - (v / max) * (h - 6)];
    });
    var line = document.createElementNS(SVG_NS, "polyline");
    line.setAttribute(
      "points",
      points
        .map(function (pt) {
          return pt[0].toFixed(1) + "," + pt[1].toFixed(1);
        })
        .join(" "),
    );
    svg.appendChild(line);
    var last = document.createElementNS(SVG_NS, "circle");
    last.setAttribute("cx", points[points.length - 1][0].toFixed(1));
    last.setAttribute("cy", points[points.length - 1][1].toFixed(1));
    last.setAttribute("r", "2.5");
    svg.appendChild(last);
    return svg;
  }

  function measureRows(p) {
    if (p.suppressed) {
      return [["数量", "数量较少，不予显示"]];
    }
    return [
      ["案次", G.number(p.cases)],
      ["件次", G.number(p.submissions)],
      ["人次", G.number(p.persons)],
      ["未办结", G.number(p.open)],
      ["超期", G.number(p.overdue)],
      ["重复访", G.number(p.repeat)],
      ["集体访", G.number(p.collective)],
      ["户数", typeof p.households === "number" ? G.number(p.households) : ""],
      ["每千户", typeof p.per_1000_households === "number" ? p.per_1000_households.toFixed(1) : ""],
      ["变化", change(p)],
      ["趋势", sparkline(p.trend, p.cases)],
    ];
  }

  function giText(p) {
    if (!p.gi_class) return "";
    var label = GI[p.gi_class] ? GI[p.gi_class].label : "不显著";
    var z = typeof p.gi_z === "number" ? "，z=" + p.gi_z.toFixed(2) : "";
    var pv = typeof p.gi_p === "number" ? "，p=" + p.gi_p.toFixed(3) : "";
    return label + z + pv;
  }

  function cellPopup(p) {
    return G.el("div", { className: "gridmap-hotspot-popup" }, [
      G.el("h2", { className: "gridmap-popup-title", text: "网格 " + (p.code || "") }),
      G.table([["名称", p.name], ["Gi*", giText(p)]].concat(measureRows(p))),
    ]);
  }

  function loadGridHotspots(page) {
    var cfg = page.config;
    return G.fetchJson(G.url(cfg.api.hotspots, windowParams(page, { level: "grid" }))).then(function (fc) {
      var features = (fc.features || []).filter(function (f) {
        return f.geometry;
      });
      var breaks = classBreaks(
        features.map(function (f) {
          return (f.properties || {}).cases;
        }),
      );
      var gi = 0;
      features.forEach(function (f) {
        var p = f.properties || {};
        var cell = L.GeoJSON.geometryToLayer(f, {
          className: "gridmap-choropleth",
          color: "#78716c",
          weight: 0.6,
          opacity: 0.7,
          fillColor: fillFor(p, breaks),
          fillOpacity: 0.75,
        });
        cell.bindPopup(function () {
          return cellPopup(p);
        });
        page.groups.choropleth.addLayer(cell);
        G.tag(cell, "code", p.code);
        if (GI[p.gi_class]) {
          page.groups.gi.addLayer(
            L.GeoJSON.geometryToLayer(f, {
              pane: "gridmap-gi",
              interactive: false,
              className: "gridmap-gi gridmap-gi-" + p.gi_class,
              color: GI[p.gi_class].color,
              weight: 2.5,
              opacity: 1,
              fill: false,
            }),
          );
          gi += 1;
        }
      });
      page.breaks = breaks;
      renderLegend(page);
      return { choropleth: features.length, gi: gi };
    });
  }

  // --- projects and clusters -----------------------------------------------------------------

  function loadProjects(page) {
    var cfg = page.config;
    return G.fetchJson(G.url(cfg.api.hotspots, windowParams(page, { level: "project" }))).then(function (fc) {
      var n = 0;
      (fc.features || []).forEach(function (f) {
        if (!f.geometry) return;
        var p = f.properties || {};
        var layer = L.GeoJSON.geometryToLayer(
          f,
          L.extend(
            { pane: "gridmap-areas", className: "gridmap-project" },
            { color: "#9a3412", weight: 2, dashArray: "6 3", fillColor: "#fb923c", fillOpacity: 0.25 },
          ),
        );
        layer.bindPopup(function () {
          return G.el("div", { className: "gridmap-hotspot-popup" }, [
            G.el("h2", { className: "gridmap-popup-title", text: "项目 " + (p.name || p.code || "") }),
            G.table(measureRows(p)),
          ]);
        });
        if (!p.suppressed && typeof p.cases === "number") {
          layer.bindTooltip((p.name || p.code || "") + " " + p.cases + "件", {
            className: "gridmap-project-label",
            direction: "top",
          });
        }
        page.groups.projects.addLayer(layer);
        n += 1;
      });
      return n;
    });
  }

  function loadClusters(page) {
    var cfg = page.config;
    var params = windowParams(page);
    return G.fetchJson(G.url(cfg.api.clusters, params)).then(function (fc) {
      var n = 0;
      (fc.features || []).forEach(function (f) {
        if (!f.geometry) return;
        var p = f.properties || {};
        var layer = L.GeoJSON.geometryToLayer(f, {
          pane: "gridmap-areas",
          className: "gridmap-cluster",
          color: "#6d28d9",
          weight: 2,
          dashArray: "2 4",
          fillColor: "#a78bfa",
          fillOpacity: 0.12,
        });
        layer.bindPopup(function () {
          return G.el("div", { className: "gridmap-hotspot-popup" }, [
            G.el("h2", { className: "gridmap-popup-title", text: "聚集区 " + p.cluster_id }),
            G.table([
              ["案次", G.number(p.cases)],
              ["主要类别", p.dominant_category_name || p.dominant_category],
            ]),
          ]);
        });
        page.groups.clusters.addLayer(layer);
        n += 1;
      });
      return n;
    });
  }

  // --- pins ----------------------------------------------------------------------------------

  function caseQuery(page, extra) {
    var params = { limit: PAGE_LIMIT, category: page.window.category };
    if (page.config.crs !== "wgs84") params.crs = page.config.crs;
    return G.url(page.config.api.cases, L.extend(params, extra));
  }

  function loadAlerts(page) {
    return Promise.all([
      G.fetchAll(caseQuery(page, { overdue: "true" })),
      G.fetchAll(caseQuery(page, { supervised: "true" })),
    ]).then(function (r) {
      var all = G.uniqueById([r[0].features, r[1].features]);
      var n = 0;
      all.forEach(function (f) {
        var p = f.properties || {};
        var cls = "gridmap-alert-pin" + (p.overdue ? " gridmap-overdue" : "") +
          (p.supervised ? " gridmap-supervised" : "");
        var pin = G.casePin(
          f,
          L.extend({}, ALERT_PIN, {
            pane: G.casePane(page.map),
            className: cls,
            color: p.supervised ? "#6b21a8" : "#ffffff",
            fillColor: p.overdue ? G.BANDS.red.color : "#a855f7",
          }),
          page.config.api,
        );
        if (pin) {
          page.groups.alerts.addLayer(pin);
          G.tag(pin, "case", G.caseNumber(p));
          n += 1;
        }
      });
      headline("overdue", G.number(r[0].numberMatched), page.overdueDetail || "超期案件（当前）");
      return n;
    });
  }

  function loadLeaders(page) {
    return G.fetchAll(caseQuery(page, { leader: "true", open: "true" })).then(function (fc) {
      var n = 0;
      fc.features.forEach(function (f) {
        var latlng = G.latLng(f);
        if (!latlng) return;
        var p = f.properties || {};
        var marker = L.marker(latlng, {
          pane: "gridmap-leaders",
          title: "包案：" + (p.leader || ""),
          // a badge up and right of the point: the case's own pin stays clickable beneath
          icon: L.divIcon({
            className: "gridmap-leader-pin",
            html: "包",
            iconSize: [24, 24],
            iconAnchor: [-3, 27],
            popupAnchor: [15, -27],
          }),
        });
        marker.bindPopup(
          function () {
            return G.casePopup(p, page.config.api);
          },
          { maxWidth: 300, minWidth: 220 },
        );
        page.groups.leaders.addLayer(marker);
        G.tag(marker, "case", G.caseNumber(p));
        n += 1;
      });
      return n;
    });
  }

  // --- outlines ------------------------------------------------------------------------------

  function loadOutlines(page, key, style) {
    var url = G.url(page.config.api[key], { limit: 10000, crs: page.config.crs });
    return G.fetchAll(url).then(function (fc) {
      fc.features.forEach(function (f) {
        page.groups[key].addLayer(
          L.GeoJSON.geometryToLayer(
            f,
            L.extend({ pane: "gridmap-outlines", interactive: false, fill: false }, style),
          ),
        );
      });
      return fc.features.length;
    });
  }

  // --- legend --------------------------------------------------------------------------------

  function renderLegend(page) {
    var box = page.legendBox;
    while (box.childNodes.length > 1) box.removeChild(box.lastChild);
    var w = page.window;
    box.appendChild(
      G.el("p", {
        className: "gridmap-legend-window",
        text: w.from + " 至 " + w.to + (w.categoryName ? " · " + w.categoryName : ""),
      }),
    );
    var items = [{ style: "background:" + ZERO + ";border:1px solid #cbd5e1", label: "0 件" }];
    var lower = 1;
    (page.breaks || []).forEach(function (upper, i) {
      items.push({
        style: "background:" + rampColour(i, page.breaks.length),
        label: (lower === upper ? upper : lower + "–" + upper) + " 件",
      });
      lower = upper + 1;
    });
    items.push({ style: "background:" + SUPPRESSED, label: "数量较少未显示" });
    box.appendChild(G.el("h3", { className: "gridmap-legend-head", text: "案次（每网格）" }));
    box.appendChild(G.legendList(items));
    box.appendChild(G.el("h3", { className: "gridmap-legend-head", text: "热点/冷点（Gi*）" }));
    box.appendChild(
      G.legendList(
        Object.keys(GI).map(function (k) {
          return { style: "border:3px solid " + GI[k].color, label: GI[k].label };
        }),
      ),
    );
    box.appendChild(G.el("h3", { className: "gridmap-legend-head", text: "标记" }));
    box.appendChild(
      G.legendList([
        { shape: "gridmap-swatch-dot", style: "background:" + G.BANDS.red.color, label: "超期" },
        { shape: "gridmap-swatch-ring", style: "border-color:#6b21a8;background:#a855f7", label: "督办" },
        { shape: "gridmap-swatch-leader", style: "", label: "包案" },
        { style: "border:2px dashed #9a3412;background:rgba(251,146,60,0.25)", label: "项目热点" },
        { style: "border:2px dotted #6d28d9;background:rgba(167,139,250,0.12)", label: "聚集区" },
      ]),
    );
  }

  // --- loading -------------------------------------------------------------------------------

  var WINDOWED = [
    ["choropleth", "hotspots"],
    ["gi", "hotspots"],
    ["projects", "hotspots"],
    ["clusters", "clusters"],
    ["alerts", "cases"],
    ["leaders", "cases"],
  ];

  function loadWindowed(page) {
    var cfg = page.config;
    WINDOWED.forEach(function (pair) {
      page.groups[pair[0]].clearLayers();
    });
    var jobs = [];
    function job(keys, needs, loader) {
      if (!cfg.available[needs]) {
        [].concat(keys).forEach(G.unavailable);
        return;
      }
      jobs.push(G.loadLayer(keys, loader));
    }
    job(["choropleth", "gi"], "hotspots", function () {
      return loadGridHotspots(page);
    });
    job("projects", "hotspots", function () {
      return loadProjects(page);
    });
    job("clusters", "clusters", function () {
      return loadClusters(page);
    });
    job("alerts", "cases", function () {
      return loadAlerts(page);
    });
    job("leaders", "cases", function () {
      return loadLeaders(page);
    });
    if (cfg.available.rates) {
      jobs.push(
        loadRates(page).catch(function (err) {
          console.warn("gridmap: rates not loaded:", err && err.message);
          windowStatus("统计数据加载失败");
        }),
      );
    } else {
      windowStatus("三率统计暂未提供");
    }
    if (!cfg.available.hotspots) renderLegend(page);
    return Promise.all(jobs);
  }

  function readForm(form) {
    var data = new FormData(form);
    var select = form.querySelector("select[name=category]");
    return {
      from: String(data.get("from") || ""),
      to: String(data.get("to") || ""),
      category: String(data.get("category") || ""),
      categoryName: select && select.value ? select.options[select.selectedIndex].text : "",
    };
  }

  function bindForm(page) {
    var form = document.querySelector("[data-window-form]");
    if (!form) return;
    page.window = L.extend(page.window, { categoryName: readForm(form).categoryName });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var w = readForm(form);
      if (!w.from || !w.to || w.from > w.to) {
        windowStatus("请选择起止日期（起不晚于止）");
        return;
      }
      windowStatus("");
      page.window = w;
      var query = new URLSearchParams({ from: w.from, to: w.to });
      if (w.category) query.set("category", w.category);
      window.history.replaceState(null, "", window.location.pathname + "?" + query.toString());
      document.documentElement.setAttribute("data-gridmap-state", "loading");
      loadWindowed(page).then(function () {
        document.documentElement.setAttribute("data-gridmap-state", "ready");
      });
    });
  }

  G.kinds.command = function (page) {
    var cfg = page.config;
    page.window = {
      from: cfg.window.from,
      to: cfg.window.to,
      category: cfg.window.category || "",
    };
    panes(page.map);
    page.legendBox = G.legend(page.map, "图例");
    bindForm(page);
    renderLegend(page);
    G.setLayerStatus("district", "", "ok");
    var outlines = [
      G.loadLayer("streets", function () {
        return loadOutlines(page, "streets", { className: "gridmap-street-line", color: "#1f2a44", weight: 2.5, opacity: 0.9 });
      }),
      G.loadLayer("communities", function () {
        return loadOutlines(page, "communities", {
          className: "gridmap-community-line",
          color: "#2563a8",
          weight: 1,
          opacity: 0.8,
          dashArray: "5 4",
        });
      }),
    ];
    return Promise.all(outlines.concat([loadWindowed(page)]));
  };
})();
