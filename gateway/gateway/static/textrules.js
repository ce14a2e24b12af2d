/* How a 簡述 and every short text is cleaned and counted: the same rules as
 * libs/portfolio-common/portfolio_common/text.py (both tested against
 * tests/contract/text-rules.json). NFC; every line break (CRLF, CR, LF, NEL, LS, PS) is one LF;
 * TAB is a space; other control (Cc) and format (Cf) characters are removed, and by name every
 * bidirectional control (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F: BIDI); white space around
 * is trimmed. Length = Unicode code points of the cleaned text.
 *
 * In the page: any <textarea> or <input> with data-text-limit="100" gets a live counter
 * (the element named by aria-describedby, or one created after it) that warns before the
 * limit and says by how much it is over, instead of cutting the text. No inline script: the
 * page includes this file with <script src>.
 */
(function (root) {
  "use strict";
  var BREAKS = /\r\n|[\r\u0085\u2028\u2029]/g;
  var REMOVED = /[\p{Cc}\p{Cf}\u202A-\u202E\u2066-\u2069\u200E\u200F]/gu;

  function cleanText(raw) {
    if (raw === null || raw === undefined) return "";
    var text = String(raw).normalize("NFC").replace(BREAKS, "\n").replace(/\t/g, " ");
    text = text.replace(REMOVED, function (ch) { return ch === "\n" ? ch : ""; });
    return text.trim();
  }

  function countChars(text) {
    return Array.from(text).length;
  }

  function cleanedLength(raw) {
    return countChars(cleanText(raw));
  }

  var api = { cleanText: cleanText, countChars: countChars, cleanedLength: cleanedLength };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  root.TextRules = api;

  function attach(field) {
    var limit = parseInt(field.getAttribute("data-text-limit"), 10);
    if (!limit) return;
    var warnAt = Math.max(0, limit - 10);
    var out = null;
    var ids = (field.getAttribute("aria-describedby") || "").split(/\s+/);
    for (var i = 0; i < ids.length && !out; i++) {
      var el = ids[i] && root.document.getElementById(ids[i]);
      if (el && el.hasAttribute("data-text-counter")) out = el;
    }
    if (!out) {
      out = root.document.createElement("p");
      out.className = "text-counter";
      out.setAttribute("data-text-counter", "");
      out.id = (field.id || field.name || "text") + "-counter";
      field.insertAdjacentElement("afterend", out);
      field.setAttribute("aria-describedby", ((field.getAttribute("aria-describedby") || "") + " " + out.id).trim());
    }
    out.setAttribute("aria-live", "polite");
    function update() {
      var n = cleanedLength(field.value);
      out.classList.remove("near", "over");
      if (n > limit) {
        out.classList.add("over");
        out.textContent = n + " / " + limit + " 字：超過 " + (n - limit) + " 字，請刪減後再送出。";
        field.setAttribute("aria-invalid", "true");
      } else {
        if (n >= warnAt) out.classList.add("near");
        out.textContent = n + " / " + limit + " 字" + (n >= warnAt ? "（還可輸入 " + (limit - n) + " 字）" : "");
        field.removeAttribute("aria-invalid");
      }
    }
    field.addEventListener("input", update);
    update();
  }

  if (root.document) {
    var start = function () {
      var fields = root.document.querySelectorAll("[data-text-limit]");
      for (var i = 0; i < fields.length; i++) attach(fields[i]);
    };
    if (root.document.readyState === "loading") root.document.addEventListener("DOMContentLoaded", start);
    else start();
  }
})(typeof window !== "undefined" ? window : globalThis);
