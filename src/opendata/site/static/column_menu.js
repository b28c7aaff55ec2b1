/* opendata: the menu of a table page's column headers (Datasette's table.js) in Chinese. */
document.addEventListener("DOMContentLoaded", function () {
  var names = {
    "dropdown-sort-asc": "升序排列",
    "dropdown-sort-desc": "降序排列",
    "dropdown-facet": "按此列分面统计",
    "dropdown-hide-column": "隐藏此列",
    "dropdown-show-all-columns": "显示全部列",
    "dropdown-not-blank": "只看此列不为空的行",
  };
  Object.keys(names).forEach(function (cls) {
    document.querySelectorAll(".dropdown-menu a." + cls).forEach(function (a) {
      a.textContent = names[cls];
    });
  });
});
