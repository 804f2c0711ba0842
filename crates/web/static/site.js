// Progressive enhancement only: every page works without this file.
// A region picker step submits itself when a level is chosen, so that the next
// level appears without pressing the "下一级" button.
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('select[data-autosubmit]').forEach(function (select) {
    select.addEventListener('change', function () {
      var button = document.getElementById(select.getAttribute('data-autosubmit'));
      if (button) { button.click(); }
    });
  });
});
