// 绿色课堂 player: progressive enhancement only. Without this file the video still
// starts at the stored position (a #t= media fragment) and 学完了 marks a lesson done.
// With it, a logged-in learner's position is reported (CSRF-protected POST) while
// watching, when pausing or seeking, at the end and when leaving the page, and playback
// resumes there on the next visit.
(function () {
  'use strict';
  var REPORT_EVERY_MS = 10000;

  function setUp(video) {
    var url = video.getAttribute('data-progress-url');
    var csrf = video.getAttribute('data-csrf');
    var resume = parseFloat(video.getAttribute('data-resume') || '0');
    var lastSent = -1;
    var lastSentAt = 0;

    function body(ended) {
      var params = new URLSearchParams();
      params.set('_csrf', csrf);
      params.set('position', String(Math.floor(video.currentTime || 0)));
      if (ended) { params.set('ended', '1'); }
      return params;
    }

    function report(ended, leaving) {
      if (!url || !csrf) { return; }
      var position = Math.floor(video.currentTime || 0);
      if (!ended && position === lastSent) { return; }
      lastSent = position;
      lastSentAt = Date.now();
      var params = body(ended);
      if (leaving && navigator.sendBeacon) {
        navigator.sendBeacon(url, params);
        return;
      }
      fetch(url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: params.toString(),
        keepalive: !!leaving
      }).then(function (response) {
        video.setAttribute('data-progress-saved', String(response.status === 204 ? position : -1));
      }).catch(function () { /* the next report tries again */ });
    }

    function resumeOnce() {
      if (resume > 0 && video.currentTime < 1 &&
          (!video.duration || resume < video.duration - 1)) {
        video.currentTime = resume;
      }
    }
    if (video.readyState >= 1) { resumeOnce(); } else {
      video.addEventListener('loadedmetadata', resumeOnce, { once: true });
    }

    if (!url) { return; }
    video.addEventListener('timeupdate', function () {
      if (!video.paused && Date.now() - lastSentAt >= REPORT_EVERY_MS) { report(false, false); }
    });
    video.addEventListener('pause', function () { report(false, false); });
    video.addEventListener('seeked', function () { report(false, false); });
    video.addEventListener('ended', function () { report(true, false); });
    window.addEventListener('pagehide', function () { report(false, true); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var videos = document.querySelectorAll('video[data-lesson]');
    for (var i = 0; i < videos.length; i++) { setUp(videos[i]); }
  });
}());
