/* opendata landing page: per report charts drawn from the site's own JSON API (canned queries).
 * No third-party requests: Chart.js is served by the instance (/-/opendata/chart.umd.js). */
(function () {
  "use strict";
  var root = document.getElementById("landing");
  if (!root) { return; }
  var base = root.dataset.base;            // e.g. /opendata
  var charts = {};
  var COLORS = ["#2f6db5", "#e07b39", "#3a9d5d", "#c9453c", "#8a63b8", "#8c6d31", "#d4569d", "#6b6b6b",
                "#1aa2b8", "#b8a01a"];

  function fmt(v) {
    if (v === null || v === undefined || v === "") { return "—"; }
    return Number(v).toLocaleString("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  }
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }
  function qs(params) {
    return Object.keys(params).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]);
    }).join("&");
  }
  function api(path, params) {
    var p = Object.assign({_shape: "array"}, params || {});
    return fetch(base + "/" + path + ".json?" + qs(p)).then(function (r) {
      if (!r.ok) { throw new Error(path + ": HTTP " + r.status); }
      return r.json();
    });
  }
  // Every row of a table, page after page (a page holds at most 1,000: a national corpus has more
  // reports than that, and the picker held the first 1,000 only).
  function allRows(path, params) {
    var rows = [];
    function from(url) {
      return fetch(url).then(function (r) {
        if (!r.ok) { throw new Error(path + ": HTTP " + r.status); }
        return r.json();
      }).then(function (d) {
        rows = rows.concat(d.rows);
        return d.next_url ? from(d.next_url) : rows;
      });
    }
    return from(base + "/" + path + ".json?" + qs(Object.assign({_shape: "objects"}, params || {})));
  }
  function page(path, params) { return base + "/" + path + (params ? "?" + qs(params) : ""); }
  function setLink(id, href) { document.getElementById(id).href = href; }
  function draw(id, config) {
    if (charts[id]) { charts[id].destroy(); }
    var canvas = document.getElementById(id);
    canvas.parentNode.style.display = "";
    charts[id] = new Chart(canvas, config);
    return charts[id];
  }
  function empty(id, text) {
    if (charts[id]) { charts[id].destroy(); delete charts[id]; }
    var box = document.getElementById(id).parentNode;
    box.style.display = "none";
    var note = box.parentNode.querySelector(".empty");
    if (!note) {
      note = document.createElement("p");
      note.className = "empty";
      box.parentNode.insertBefore(note, box.nextSibling);
    }
    note.textContent = text;
  }
  // A category's name in lines of at most `width` characters (Chart.js draws an array as lines):
  // a long name on one line was cut at the axis' edge ("事业单位基本养老保险缴费支出…", a phone
  // showed "息化建设").
  function wrap(text, width) {
    var lines = [], rest = String(text == null ? "" : text);
    while (rest.length > width) { lines.push(rest.slice(0, width)); rest = rest.slice(width); }
    lines.push(rest);
    return lines;
  }
  function clearEmpty(id) {
    var note = document.getElementById(id).parentNode.parentNode.querySelector(".empty");
    if (note) { note.remove(); }
  }
  var moneyTooltip = {callbacks: {label: function (c) {
    return (c.dataset.label ? c.dataset.label + "：" : "") + fmt(c.parsed.x !== undefined && c.chart.options.indexAxis === "y" ? c.parsed.x : c.parsed.y !== undefined ? c.parsed.y : c.parsed) + " 万元";
  }}};

  function headline(o) {
    var rate = o["年初预算数"] ? (100 * o["一般公共预算财政拨款支出"] / o["年初预算数"]) : null;
    var cards = [
      ["支出合计", o["支出合计"], "万元", "total"],
      ["年初预算（一般公共预算财政拨款）", o["年初预算数"], "万元", "budget"],
      ["预算执行率", rate === null ? null : rate.toFixed(1), "%", "rate"],
      ["“三公”经费决算数", o["三公经费决算数"], "万元", "three"],
      ["校验问题", (o["校验错误"] || 0) + " 个错误，" + (o["校验提示"] || 0) + " 个提示", "", "findings"]
    ];
    document.getElementById("headline").innerHTML = cards.map(function (c) {
      var value = c[2] === "万元" ? fmt(c[1]) : (c[1] === null ? "—" : esc(c[1]));
      return '<div class="card" data-key="' + c[3] + '"><div class="label">' + esc(c[0]) + '</div><div class="value">' +
        value + (c[2] && c[1] !== null ? "<small>" + c[2] + "</small>" : "") + "</div></div>";
    }).join("");
  }

  function source(o) {
    var parts = [esc(o["部门"]) + " " + esc(o["年度"]) + " 年度" + esc(o["类型"])];
    parts.push("来源：" + (o["来源网址"] ? '<a href="' + esc(o["来源网址"]) + '">' + esc(o["来源文件"]) + "</a>" : esc(o["来源文件"])));
    parts.push("使用条款：" + (o["使用条款"] === "not stated" ? "发布单位未声明" : esc(o["使用条款"])));
    if (o["备注"]) { parts.push("备注：" + esc(o["备注"])); }
    document.getElementById("report-source").innerHTML = parts.join(" · ");
  }

  function byClass(rows, reportId) {
    setLink("link-class", page("by_class", {report_id: reportId}));
    if (!rows.length) { return empty("chart-class", "本报告没有列出各“类”的支出合计（各“项”见 决算表数据）。"); }
    clearEmpty("chart-class");
    draw("chart-class", {
      type: "bar",
      data: {labels: rows.map(function (r) { return wrap(r["科目名称"], 10); }),
             datasets: [{label: "决算数", data: rows.map(function (r) { return r["决算数"]; }),
                         backgroundColor: COLORS[0], codes: rows.map(function (r) { return r["科目编码"]; })}]},
      options: {indexAxis: "y", maintainAspectRatio: false, plugins: {legend: {display: false}, tooltip: {callbacks: {
        label: function (c) { var r = rows[c.dataIndex]; return fmt(r["决算数"]) + " 万元，占 " + r["占比"] + "%"; }}}},
        onClick: function (e, items) {
          if (items.length) {
            window.location = page("amounts", {report_id: reportId, table_no: 5, code__startswith: rows[items[0].index]["科目编码"]});
          }
        }}
    });
  }

  function basic(o, reportId) {
    setLink("link-basic", page("report_overview", {report_id: reportId}));
    if (o["基本支出"] === null && o["项目支出"] === null) {
      document.getElementById("note-basic").textContent = "";  // the report shown before's source
      return empty("chart-basic", "本报告未公开基本支出与项目支出。");
    }
    clearEmpty("chart-basic");
    document.getElementById("note-basic").textContent = "基本支出用于人员和日常运转，项目支出用于完成特定任务。单位：万元。数据来自" + o["基本项目来源"] + "。";
    draw("chart-basic", {
      type: "doughnut",
      data: {labels: ["基本支出", "项目支出"],
             datasets: [{data: [o["基本支出"], o["项目支出"]], backgroundColor: [COLORS[0], COLORS[1]]}]},
      options: {maintainAspectRatio: false, plugins: {tooltip: {callbacks: {label: function (c) {
        var total = (o["基本支出"] || 0) + (o["项目支出"] || 0);
        return c.label + "：" + fmt(c.parsed) + " 万元（" + (100 * c.parsed / total).toFixed(1) + "%）"; }}}}}
    });
  }

  function budget(rows, reportId) {
    setLink("link-budget", page("budget_vs_actual", {report_id: reportId}));
    // Other reports' figures for this report's largest line with a budget (compare_item reads
    // budget_execution, as this chart does); without one, the query's form.
    var largest = rows.reduce(function (a, r) {
      return r["决算数"] !== null && (!a || r["决算数"] > a["决算数"]) ? r : a;
    }, null);
    setLink("link-compare-item", page("compare_item", largest ? {code: largest["科目编码"]} : null));
    if (!rows.length) { return empty("chart-budget", "本报告未公开年初预算数。"); }
    clearEmpty("chart-budget");
    // Each line: its name, then its code and execution rate (决算数 ÷ 年初预算数) under it.
    var labels = rows.map(function (r) {
      var rate = r["执行率（%）"];
      return wrap(r["科目名称"], 10).concat([r["科目编码"] + (rate === null ? "" : " · " + rate + "%")]);
    });
    var lines = labels.reduce(function (n, l) { return n + l.length; }, 0);
    document.getElementById("chart-budget").parentNode.style.height = Math.max(18, rows.length * 1.2 + lines * 1.3) + "em";
    draw("chart-budget", {
      type: "bar",
      data: {labels: labels, datasets: [
        {label: "年初预算数", data: rows.map(function (r) { return r["年初预算数"]; }), backgroundColor: "#a9c4e8"},
        {label: "决算数", data: rows.map(function (r) { return r["决算数"]; }), backgroundColor: COLORS[0]}]},
      options: {indexAxis: "y", maintainAspectRatio: false, plugins: {tooltip: moneyTooltip},
        onClick: function (e, items) {
          if (items.length) {
            window.location = page("budget_execution", {report_id: reportId, code: rows[items[0].index]["科目编码"]});
          }
        }}
    });
  }

  // Each bar's figure written at its end, and where a bar chart draws no bar the figure it has: 0.00
  // (a 三公 item the report states as zero, a change of 0%) or what stands for none (a blank cell
  // of the printed table). Both were an empty space, the bars of 0.95 without their figure.
  // `label(value, index)` writes a figure (null: none); the texts drawn are kept in chart.$barFigures.
  function barFigures(label) {
    return {
      id: "barFigures",
      afterDatasetsDraw: function (chart) {
        var ctx = chart.ctx, across = chart.options.indexAxis === "y", drawn = [];
        var valueScale = across ? chart.scales.x : chart.scales.y;
        var base = valueScale.getPixelForValue(0);
        ctx.save();
        ctx.font = "11px sans-serif";
        ctx.fillStyle = "#555";
        ctx.textAlign = across ? "left" : "center";
        ctx.textBaseline = across ? "middle" : "bottom";
        chart.data.datasets.forEach(function (ds, i) {
          if (!chart.isDatasetVisible(i)) { return; }
          chart.getDatasetMeta(i).data.forEach(function (bar, j) {
            var v = ds.data[j], none = v === null || v === undefined;
            var at = across ? bar.y : bar.x;
            if (!isFinite(at)) { return; }
            var end = none ? base : (across ? bar.x : bar.y);
            var text = label(none ? null : v, j);
            if (across) {
              ctx.textAlign = !none && v < 0 ? "right" : "left";
              ctx.fillText(text, end + (!none && v < 0 ? -3 : 3), at);
            } else {
              ctx.fillText(text, at, Math.min(end, base) - 2);
            }
            drawn.push([chart.data.labels[j], ds.label, text]);
          });
        });
        ctx.restore();
        chart.$barFigures = drawn;
      }
    };
  }

  function three(rows, reportId) {
    setLink("link-three", page("report_table7", {report_id: reportId}));
    var cols = ["因公出国（境）费", "公务用车购置及运行维护费小计", "公务接待费"];
    var names = ["因公出国（境）费", "公务用车购置及运行维护费", "公务接待费"];
    var has = rows.some(function (r) { return r["合计"] !== null; });
    if (!has) { return empty("chart-three", "本报告未公开“三公”经费。"); }
    clearEmpty("chart-three");
    draw("chart-three", {
      type: "bar",
      data: {labels: ["合计"].concat(names), datasets: rows.map(function (r, i) {
        return {label: r["栏目"], data: [r["合计"]].concat(cols.map(function (c) { return r[c]; })),
                backgroundColor: i === 0 ? "#f3c6a5" : COLORS[1]};
      })},
      options: {maintainAspectRatio: false, plugins: {tooltip: moneyTooltip}, layout: {padding: {top: 16}}},
      // a cell the printed 表7 leaves blank: 未列数 (no figure listed; the data's null)
      plugins: [barFigures(function (v) { return v === null ? "未列数" : fmt(v); })]
    });
  }

  function changes(rows, reportId) {
    setLink("link-change", page("changes", {report_id: reportId}));
    var box = document.getElementById("changes");
    if (!rows.length) {
      box.innerHTML = "";
      return empty("chart-change", "本报告没有说明与上年相比的变化。");
    }
    clearEmpty("chart-change");
    var labels = rows.map(function (r) { return wrap(r["指标"] + (r["核对"] ? "（有误）" : ""), 10); });
    var lines = labels.reduce(function (n, l) { return n + l.length; }, 0);
    document.getElementById("chart-change").parentNode.style.height = Math.max(18, rows.length * 1.6 + lines * 1.3) + "em";
    // Each change as a rate (the stated one, else the change over last year's figure): amounts of
    // 3,000 万元 and of 0.5 万元 on one axis drew the 三公 items as no bar at all.
    var rates = rows.map(changeRate);
    draw("chart-change", {
      type: "bar",
      data: {labels: labels, datasets: [
        {label: "比上年增减（%）", data: rates,
         backgroundColor: rates.map(function (v) { return v < 0 ? COLORS[3] : COLORS[2]; })}]},
      // every bar named (Chart.js skipped every other label, the 有误 mark among them)
      options: {indexAxis: "y", maintainAspectRatio: false,
                plugins: {legend: {display: false}, tooltip: {callbacks: {label: function (c) {
                  return changeWords(rows[c.dataIndex]);
                }}}},
                layout: {padding: {right: 44}},  // room for the figure after the longest bar (+1.4% was cut)
                scales: {x: {ticks: {callback: function (v) { return v + "%"; }}},
                         y: {ticks: {autoSkip: false}}}},
      plugins: [barFigures(function (v, i) {
        if (v === null) { return "无法计算"; }
        return (v > 0 ? "+" : "") + (rows[i]["增减率原文"] || v) + "%";
      })]
    });
    box.innerHTML = '<ul class="plain">' + rows.map(function (r) {
      return "<li><strong>" + esc(r["指标"]) + "</strong>：" + esc(changeWords(r)) +
        (r["核对"] ? ' <span class="sev-error">有误</span> ' + esc(r["核对"]) : "") + "</li>";
    }).join("") + "</ul>";
  }

  // A change's rate in %: the report's, else worked out from the change and last year's figure
  // (null where last year's figure is 0 or unknown).
  function changeRate(r) {
    if (r["增减率（%）"] !== null) { return r["增减率（%）"]; }
    if (r["增减额"] === 0) { return 0; }
    return r["上年数"] ? Math.round(10000 * r["增减额"] / r["上年数"]) / 100 : null;
  }

  function changeWords(r) {
    var v = r["增减额"], rate = r["增减率（%）"];
    var sign = v > 0 ? "增加" : v < 0 ? "减少" : "持平";
    var worked = rate === null ? changeRate(r) : null;
    return sign + " " + fmt(Math.abs(v)) + " 万元" +
      (rate !== null ? "（" + (rate > 0 ? "+" : "") + (r["增减率原文"] || rate) + "%）"
        : worked !== null ? "（" + (worked > 0 ? "+" : "") + worked + "%，按上年数推算）" : "") +
      "，本年 " + fmt(r["本年数"]) + " 万元，上年 " + fmt(r["上年数"]) + " 万元";
  }

  function findings(rows, reportId) {
    setLink("link-findings", page("findings", {report_id: reportId}));
    var box = document.getElementById("findings");
    if (!rows.length) { box.innerHTML = '<p class="ok">未发现问题：报告中的数字通过了全部校验。</p>'; return; }
    box.innerHTML = '<ul class="plain">' + rows.map(function (r) {
      return '<li><span class="sev-' + esc(r.severity) + '">' + (r.severity === "error" ? "错误" : "提示") + "</span> " +
        esc(r.message_zh) + "</li>";
    }).join("") + "</ul>";
  }

  var TABLE_QUERIES = {1: "report_table1", 2: "report_table2", 3: "report_table3", 4: "report_table4",
    5: "report_table5", 6: "report_table6", 7: "report_table7",
    8: "report_table8", 9: "report_table9"};
  var STATUS = {attached: "已附", empty: "空表", not_read: "原文含此表，未读取其数字",
    not_attached: "原文未附表格，数字取自情况说明"};

  function stdTables(standard, status, reportId) {
    var byNo = {};
    status.forEach(function (s) { byNo[s.table_no] = s; });
    document.getElementById("std-tables").innerHTML = standard.map(function (t) {
      var s = byNo[t.table_no];
      return '<li><a href="' + page(TABLE_QUERIES[t.table_no], {report_id: reportId}) + '">表' + t.table_no + " " +
        esc(t.title_zh) + "</a>" + (s ? ' <span class="status">（' + esc(STATUS[s.status] || s.status) + "）</span>" : "") + "</li>";
    }).join("");
  }

  function show(reportId) {
    document.body.removeAttribute("data-ready");
    var p = {report_id: reportId};
    return Promise.all([
      api("report_overview", p), api("by_class", p), api("budget_vs_actual", p), api("report_table7", p),
      api("changes", p), api("findings", {report_id: reportId, _sort: "severity", _size: 50}),
      api("standard_tables", {_sort: "table_no"}), api("report_tables", {report_id: reportId, _size: 20})
    ]).then(function (res) {
      var o = res[0][0];
      if (!o) { throw new Error("no such report: " + reportId); }
      source(o);
      headline(o);
      byClass(res[1], reportId);
      basic(o, reportId);
      budget(res[2], reportId);
      three(res[3], reportId);
      changes(res[4], reportId);
      findings(res[5], reportId);
      stdTables(res[6], res[7], reportId);
      document.body.setAttribute("data-ready", reportId);
    }).catch(function (err) {
      document.getElementById("headline").innerHTML = '<p class="empty">数据加载失败：' + esc(err.message) + "</p>";
      document.body.setAttribute("data-ready", "error");
    });
  }

  // The reports (latest first) whose title holds every word of `typed`: runs of Han characters, of
  // letters or of digits (普陀2024 is 普陀 and 2024), full-width digits read as ASCII.
  // Else, for one word of three to twelve Han characters, the titles holding its characters in
  // order (芦淞科技局), as the table pages' box and the search read an abbreviation.
  function titled(reports, typed) {
    var words = typed.normalize("NFKC").match(/[\u3400-\u9fff]+|[0-9A-Za-z]+/g) || [];
    if (!words.length) { return []; }
    var found = reports.filter(function (r) {
      return words.every(function (w) {
        return String(r.title || "").indexOf(w) >= 0 || r.report_id.indexOf(w.toLowerCase()) >= 0;
      });
    });
    if (found.length || words.length !== 1 || !/^[\u3400-\u9fff]{3,12}$/.test(words[0])) { return found; }
    var inOrder = new RegExp(words[0].split("").join(".*"));
    return reports.filter(function (r) { return inOrder.test(String(r.title || "")); });
  }

  allRows("reports", {_sort_desc: "year", _size: "max", _labels: "on"}).then(function (reports) {
    var select = document.getElementById("report-select");
    if (!reports.length) {
      select.innerHTML = "<option>暂无报告</option>";
      document.body.setAttribute("data-ready", "empty");
      return;
    }
    select.innerHTML = reports.map(function (r) {
      return '<option value="' + esc(r.report_id) + '">' + esc(r.title) + "</option>";
    }).join("");
    var wanted = (new URLSearchParams(window.location.search).get("report") || "").trim();
    var named = wanted ? titled(reports, wanted) : [];
    if (wanted && reports.some(function (r) { return r.report_id === wanted; })) {
      select.value = wanted;
    } else if (named.length) {  // words of its title (?report=芦淞, 普陀2024), as the search reads them
      select.value = named[0].report_id;
      history.replaceState({report: select.value}, "", "?" + qs({report: select.value}));
      if (named.length > 1) {
        var several = document.getElementById("report-missing");
        several.textContent = "标题含“" + wanted + "”的报告有 " + named.length + " 份，下面显示的是最新的一份，其他的可在上面选择。";
        several.hidden = false;
      }
    } else if (wanted) {  // an old or mistyped link: said, not another report shown in silence
      var missing = document.getElementById("report-missing");
      missing.textContent = "没有编号为“" + wanted + "”的报告，下面显示的是最新的一份。";
      missing.hidden = false;
    }
    // Each report chosen is a step of the browser's history: Back shows the one before (it left
    // the page, the report chosen first lost).
    select.addEventListener("change", function () {
      history.pushState({report: select.value}, "", "?" + qs({report: select.value}));
      show(select.value);
    });
    window.addEventListener("popstate", function () {
      var back = new URLSearchParams(window.location.search).get("report");
      select.value = back && reports.some(function (r) { return r.report_id === back; }) ? back : reports[0].report_id;
      show(select.value);
    });
    show(select.value);
  });
})();
