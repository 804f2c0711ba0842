// 智能问答 as a conversation: the question form stays a plain GET form without
// JavaScript; with it, each question is sent to /api/v1/qa/ask and the exchange is
// appended below. Everything shown is set as text (never as HTML).
(function () {
  "use strict";
  var form = document.getElementById("qa-form");
  var log = document.getElementById("qa-conversation");
  if (!form || !log || !window.fetch) { return; }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }

  function entryLink(answer) {
    var a = el("a", answer.question);
    a.href = "/assistant/entries/" + encodeURIComponent(answer.id);
    return a;
  }

  // The optional summary (rephrased by a model from the entries below, citing them
  // as [n]): text nodes, each citation a link to its entry's page.
  function renderSummary(summary, answers) {
    var box = el("div", null, "qa-summary");
    box.appendChild(el("h3", "摘要（由模型根据下列条目改写，以原条目为准）"));
    summary.text.split("\n").forEach(function (line) {
      if (!line.trim()) { return; }
      var p = el("p");
      line.split(/(\[\d+\])/).forEach(function (piece) {
        var m = /^\[(\d+)\]$/.exec(piece);
        var answer = m ? answers[parseInt(m[1], 10) - 1] : null;
        if (answer) {
          var link = el("a", piece);
          link.href = "/assistant/entries/" + encodeURIComponent(answer.id);
          link.title = "来源：问答库 " + (answer.source_id || answer.id);
          p.appendChild(link);
        } else if (piece) {
          p.appendChild(document.createTextNode(piece));
        }
      });
      box.appendChild(p);
    });
    var cites = summary.cites.map(function (c) { return "[" + c.n + "] 问答库 " + (c.source_id || c.id); });
    box.appendChild(el("p", "引用：" + cites.join("；") + "。下列条目为原文。", "muted"));
    return box;
  }

  function render(question, data) {
    var turn = el("div", null, "qa-turn");
    turn.appendChild(el("p", "问：" + question, "qa-question"));
    var reply = el("div", null, "qa-reply card");
    if (data.confident && data.answers.length > 0) {
      if (data.summary) { reply.appendChild(renderSummary(data.summary, data.answers)); }
      data.answers.forEach(function (a, i) {
        var h = el("h3", data.summary ? "[" + (i + 1) + "] " : null);
        h.appendChild(entryLink(a));
        reply.appendChild(h);
        a.answer.split("\n").forEach(function (p) {
          if (p.trim()) { reply.appendChild(el("p", p.trim())); }
        });
        var meta = el("p", "匹配度 " + Math.round(a.score * 100) + "% · 来源：问答库 " + (a.source_id || a.id), "muted");
        reply.appendChild(meta);
        if (a.references.length > 0) {
          var refs = el("p", "依据：");
          a.references.forEach(function (r, i) {
            if (r.regulation_id) {
              var link = el("a", r.title);
              link.href = "/regulations/" + encodeURIComponent(r.regulation_id);
              refs.appendChild(link);
            } else {
              refs.appendChild(document.createTextNode(r.title));
            }
            if (i < a.references.length - 1) { refs.appendChild(document.createTextNode("、")); }
          });
          reply.appendChild(refs);
        }
        var fb = el("a", "评价这条回答（有帮助 / 没帮助）");
        fb.href = "/assistant/entries/" + encodeURIComponent(a.id) + "?q=" + encodeURIComponent(question);
        reply.appendChild(el("p")).appendChild(fb);
      });
    } else {
      reply.appendChild(el("p", "暂无确切答案。问题已转给协会工作人员和专家，答复后会补充进问答库。"));
      if (data.answers.length > 0) {
        reply.appendChild(el("p", "您是不是想问："));
        var ul = el("ul");
        data.answers.forEach(function (a) {
          var li = el("li");
          li.appendChild(entryLink(a));
          ul.appendChild(li);
        });
        reply.appendChild(ul);
      }
    }
    turn.appendChild(reply);
    log.appendChild(turn);
    log.hidden = false;
    turn.scrollIntoView({ block: "nearest" });
  }

  form.addEventListener("submit", function (event) {
    var q = form.elements.q.value.trim();
    if (!q) { return; }
    event.preventDefault();
    var params = new URLSearchParams();
    params.set("q", q);
    if (form.elements.region.value) { params.set("region", form.elements.region.value); }
    if (form.elements.category.value) { params.set("category", form.elements.category.value); }
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    fetch("/api/v1/qa/ask?" + params.toString(), { headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (result.ok) {
          render(q, result.body);
          form.elements.q.value = "";
          var old = document.getElementById("qa-result");
          if (old) { old.hidden = true; }
        } else {
          var message = result.body && result.body.error ? result.body.error.message : "提问失败，请稍后再试。";
          var turn = el("p", message, "notice notice-error");
          turn.setAttribute("role", "alert");
          log.appendChild(turn);
          log.hidden = false;
        }
      })
      .catch(function () {
        // The network failed: fall back to the plain form.
        form.submit();
      })
      .then(function () { button.disabled = false; });
  });
})();
