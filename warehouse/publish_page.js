// tagdraw public results page: the campaign's entries, and the draw (tagdraw-draw-v1)
// re-derived on the visitor's own machine with the browser's WebCrypto (SHA-256,
// HMAC-SHA256) and nothing else. Data is only ever written with textContent.
// It mirrors warehouse/draw.py verify_certificate check for check.
"use strict";
(function () {
  var ALGORITHM = "tagdraw-draw-v1";
  var POOL_HEADER = "post_number,author_key";
  var CERTIFICATE_KEYS = ["algorithm", "campaign", "pool", "pool_hash", "randomness", "sources",
    "prizes", "alternates", "one_prize_per_author", "ranking", "winners", "alternate_list",
    "replacements", "created_at", "version"];
  var MAX_LISTED = 10;

  var TEXT = {
    toggle: ["English", "ภาษาไทย"],
    keyword: ["คำสำคัญ (แท็ก)", "Keyword (tag)"],
    window: ["ช่วงเวลารับบันทึก", "Entry window"],
    prizes: ["รางวัล", "Prizes"],
    prizes_value: ["{n} รางวัล", "{n} prize(s)"],
    alternates_value: ["สำรอง {n} ลำดับ", "{n} alternate(s)"],
    one_per_author: ["คนละไม่เกินหนึ่งรางวัล", "at most one prize per author"],
    last_crawl: ["ตรวจรายชื่อจากเว็บไซต์ล่าสุด", "Entries last collected"],
    never: ["ยังไม่เคย", "not yet"],
    to: ["ถึง", "to"],
    state_collecting: ["สถานะ: กำลังรับและตรวจบันทึก", "State: collecting and checking entries"],
    state_collecting_note: [
      "รายชื่อยังเปลี่ยนได้ หากบันทึกของท่านไม่อยู่ในรายการหรือสถานะไม่ถูกต้อง โปรดแจ้งผู้จัดก่อนปิดรายชื่อ",
      "The list can still change. If your post is missing or its status looks wrong, tell the organisers before the list is frozen."],
    state_frozen: ["สถานะ: ปิดรายชื่อแล้ว รอเลขสุ่มสาธารณะ", "State: the pool is frozen, waiting for the public random value"],
    state_drawn: ["สถานะ: จับรางวัลแล้ว", "State: drawn"],
    pool_hash: ["ลายนิ้วมือของรายชื่อ (SHA-256)", "Pool hash (SHA-256)"],
    pool_size: ["จำนวนบันทึกที่มีสิทธิ์", "Entries in the pool"],
    randomness_source: ["เลขสุ่มที่ใช้ (ประกาศไว้ล่วงหน้า)", "Source of randomness (announced in advance)"],
    randomness_due: ["ประกาศผลเมื่อ", "Due"],
    frozen_at: ["ปิดรายชื่อเมื่อ", "Frozen at"],
    pool_check_ok: ["ตรวจแล้ว: รายชื่อที่แนบมาตรงกับลายนิ้วมือนี้", "Checked: the attached pool matches this hash"],
    pool_check_bad: ["รายชื่อที่แนบมาไม่ตรงกับลายนิ้วมือ", "The attached pool does NOT match this hash"],
    randomness: ["เลขสุ่มที่ใช้", "Randomness"],
    ran_at: ["จับรางวัลเมื่อ", "Drawn at"],
    winners: ["ผู้ได้รับรางวัล", "Winners"],
    alternates: ["ผู้สำรอง", "Alternates"],
    vacant: ["ว่าง (ไม่มีผู้สำรองเหลือ)", "vacant (no alternate left)"],
    replaced_note: ["แทนบันทึก #{post} ที่ถูกตัดสิทธิ์ (เหตุผล: {reason})", "replaces #{post}, disqualified (reason: {reason})"],
    alternate_used: ["(ได้รับรางวัลแทนแล้ว)", "(has taken a prize)"],
    files: ["ไฟล์", "Files"],
    generated: ["สร้างหน้านี้เมื่อ", "Page generated"],
    verify_heading: ["ตรวจผลการจับรางวัลด้วยตัวเอง", "Check the draw yourself"],
    verify_intro: [
      "ปุ่มนี้คำนวณการจับรางวัลใหม่ทั้งหมดบนเครื่องของท่าน (SHA-256 และ HMAC-SHA256 ของเบราว์เซอร์เอง) จากใบรับรองผล แล้วบอกว่าตรงกันหรือไม่ ท่านเลือกไฟล์ใบรับรองผล (certificate.json) จากที่อื่นมาตรวจก็ได้",
      "This button re-derives the whole draw on your own machine (your browser's SHA-256 and HMAC-SHA256) from the certificate and says whether everything matches. You may also load a certificate file (certificate.json) from elsewhere."],
    verify_button: ["ตรวจผลการจับรางวัล", "Verify the draw"],
    load_file: ["หรือเลือกไฟล์ใบรับรองผล:", "or load a certificate file:"],
    no_certificate: ["ยังไม่ได้จับรางวัล จึงยังไม่มีใบรับรองผลในหน้านี้", "The draw has not run yet: this page holds no certificate"],
    verifying: ["กำลังตรวจ…", "Checking…"],
    verify_ok: ["ถูกต้อง: คำนวณใหม่แล้วตรงกับใบรับรองผลทุกข้อ", "OK: everything re-derived matches the certificate"],
    verify_bad: ["ไม่ถูกต้อง: พบ {n} จุดที่ไม่ตรงกัน", "NOT OK: {n} difference(s) found"],
    verify_source_embedded: ["ใบรับรองผลที่ฝังในหน้านี้", "the certificate embedded in this page"],
    verify_source_file: ["ไฟล์ {name}", "file {name}"],
    verify_checked: ["คำนวณใหม่แล้ว: ลายนิ้วมือรายชื่อ {hash}, คะแนน {n} รายการ, เลขสุ่ม {r}, ผู้ได้รับรางวัล {w}, ผู้สำรอง {a}, การแทนที่ {k} ครั้ง",
      "Re-derived: pool hash {hash}, {n} scores, randomness {r}, winners {w}, alternates {a}, {k} replacement(s)"],
    no_webcrypto: ["เบราว์เซอร์นี้ไม่มี WebCrypto (เปิดหน้านี้ผ่าน https หรือจากไฟล์ในเครื่อง)", "This browser offers no WebCrypto here (open the page over https or as a local file)"],
    entries_heading: ["รายชื่อบันทึกที่ร่วมกิจกรรม", "Entries"],
    entries_intro: ["ทุกบันทึกที่ติดคำสำคัญของกิจกรรม พร้อมสถานะว่านับเป็นผู้มีสิทธิ์หรือไม่ และเพราะอะไร", "Every post carrying the campaign's keyword, whether it is counted, and why not"],
    search_placeholder: ["ค้นหาหมายเลขบันทึก หรือชื่อผู้เขียน", "Search a post number or an author name"],
    search_count: ["แสดง {n} จาก {m} รายการ", "Showing {n} of {m}"],
    col_post: ["บันทึก", "Post"],
    col_title: ["ชื่อบันทึก", "Title"],
    col_author: ["ผู้เขียน", "Author"],
    col_date: ["เขียนเมื่อ", "Posted"],
    col_status: ["สถานะ", "Status"],
    counted: ["นับแล้ว", "Counted"],
    not_counted: ["ไม่นับ", "Not counted"],
    pending: ["รอตรวจ", "Awaiting review"],
    r_early: ["ส่งก่อนเปิดรับ", "posted before the window opened"],
    r_late: ["ส่งหลังปิดรับ", "posted after the deadline"],
    r_untagged: ["ไม่มีคำสำคัญ (แท็ก) ของกิจกรรม", "keyword (tag) missing"],
    r_organiser: ["ผู้จัดกิจกรรม (ไม่มีสิทธิ์รับรางวัล)", "organiser (may not win)"],
    r_gone: ["บันทึกถูกลบหรือปิดไว้", "post deleted or private"],
    r_edited_after_close: ["แก้ไขหลังปิดรับ", "edited after the deadline"],
    r_over_author_limit_1: ["นับคนละหนึ่งบันทึก", "one entry per author"],
    r_over_author_limit: ["นับคนละไม่เกิน {n} บันทึก", "at most {n} entries per author"],
    r_duplicate: ["ซ้ำกับบันทึก #{n}", "duplicate of #{n}"],
    r_duplicate_plain: ["ซ้ำกับบันทึกอื่น", "duplicate of another post"],
    r_spam: ["ไม่ใช่บันทึกร่วมกิจกรรม (สแปม)", "not a campaign entry (spam)"],
    r_other: ["ไม่เข้าเงื่อนไขของกิจกรรม", "does not meet the campaign rules"],
    r_disqualified: ["ถูกตัดสิทธิ์หลังการจับรางวัล", "disqualified after the draw"],
    r_left_out_undecided: ["ยังตรวจไม่เสร็จเมื่อปิดรายชื่อ จึงไม่อยู่ในการจับรางวัล", "not reviewed by the freeze, so not in the draw"],
    r_not_in_pool: ["ไม่อยู่ในรายชื่อที่ใช้จับรางวัล", "not in the frozen pool"],
    not_listed_heading: ["ไม่พบบันทึกของท่าน?", "Not listed?"],
    not_listed: ["บันทึกต้องติดคำสำคัญ \"{kw}\" และเผยแพร่ในช่วงเวลารับบันทึก รายชื่ออัปเดตหลังการตรวจแต่ละรอบ", "A post must carry the keyword \"{kw}\" and be published in the entry window; the list is updated after each check."],
    contact_default: ["โปรดติดต่อผู้จัดกิจกรรม", "Please contact the organisers."]
  };

  var lang = 0; // 0 Thai, 1 English
  var data = readJson("site-data");
  var embeddedCertificateText = document.getElementById("certificate-data").textContent;
  var poolText = readJson("pool-data");
  var lastResult = null;

  function readJson(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }
  function t(key, params) {
    var text = TEXT[key][lang];
    if (params) {
      Object.keys(params).forEach(function (k) { text = text.split("{" + k + "}").join(String(params[k])); });
    }
    return text;
  }
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function dateText(value) {
    if (!value) return t("never");
    return lang === 0 ? value.th : value.en;
  }
  function safeLink(url, text) {
    var a = el("a", text);
    if (typeof url === "string" && /^(https?:\/\/|mailto:)/i.test(url)) {
      a.href = url;
      a.rel = "noopener noreferrer";
    }
    return a;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  // --- header, state, entries -------------------------------------------------------------

  function renderHeader() {
    var c = data.campaign;
    document.documentElement.lang = lang === 0 ? "th" : "en";
    document.title = c.title + " — tagdraw";
    document.getElementById("title").textContent = c.title;
    document.getElementById("lang-toggle").textContent = t("toggle");
    var facts = document.getElementById("facts");
    clear(facts);
    function fact(label, value) { facts.appendChild(el("dt", label)); facts.appendChild(el("dd", value)); }
    fact(t("keyword"), c.keywords.join(", "));
    fact(t("window"), dateText(c.opens_at) + " " + t("to") + " " + dateText(c.closes_at));
    var prizes = t("prizes_value", { n: c.prizes });
    if (c.prize_description) prizes += " (" + c.prize_description + ")";
    if (c.alternates) prizes += ", " + t("alternates_value", { n: c.alternates });
    if (c.one_prize_per_author) prizes += ", " + t("one_per_author");
    fact(t("prizes"), prizes);
    fact(t("last_crawl"), dateText(data.last_crawl_at));
    document.querySelectorAll("[data-i18n]").forEach(function (node) {
      node.textContent = t(node.getAttribute("data-i18n"));
    });
    document.getElementById("search").placeholder = t("search_placeholder");
    var footer = document.getElementById("footer");
    clear(footer);
    footer.appendChild(el("span", t("generated") + ": " + dateText(data.generated_at) + " · " + t("files") + ": "));
    var files = ["entries.json"];
    if (data.pool) files.push("pool.csv");
    if (data.state === "drawn") files.push("certificate.json");
    files.forEach(function (name, i) {
      var a = el("a", name);
      a.href = name;
      footer.appendChild(a);
      if (i < files.length - 1) footer.appendChild(el("span", " · "));
    });
  }

  function stateRow(list, label, value, mono) {
    list.appendChild(el("dt", label));
    list.appendChild(el("dd", value, mono ? "mono" : ""));
  }

  function titleOf(postNumber) {
    for (var i = 0; i < data.entries.length; i++) {
      if (data.entries[i].post_number === postNumber) return data.entries[i];
    }
    return null;
  }

  function postItem(postNumber) {
    var li = el("li");
    if (postNumber === null || postNumber === undefined) { li.textContent = t("vacant"); return li; }
    var entry = titleOf(postNumber);
    li.appendChild(safeLink(entry ? entry.url : null, "#" + postNumber));
    if (entry) li.appendChild(el("span", " " + entry.title + " — " + entry.author_name));
    return li;
  }

  function renderState() {
    var box = document.getElementById("state");
    clear(box);
    var state = data.state;
    box.setAttribute("data-state", state);
    box.appendChild(el("h2", t("state_" + state)));
    if (state === "collecting") { box.appendChild(el("p", t("state_collecting_note"))); return; }
    var list = el("dl", null, "facts");
    box.appendChild(list);
    var pool = data.pool;
    stateRow(list, t("pool_hash"), pool.pool_hash, true);
    stateRow(list, t("pool_size"), pool.pool_size);
    stateRow(list, t("randomness_source"), pool.randomness_source);
    stateRow(list, t("randomness_due"), dateText(pool.randomness_due));
    stateRow(list, t("frozen_at"), dateText(pool.frozen_at));
    if (typeof poolText === "string") {
      var check = el("p", "…", "pool-check");
      check.setAttribute("data-testid", "pool-check");
      box.appendChild(check);
      sha256Hex(poolText).then(function (hash) {
        var ok = hash === pool.pool_hash;
        check.setAttribute("data-ok", ok ? "true" : "false");
        check.textContent = ok ? t("pool_check_ok") : t("pool_check_bad") + " (" + hash + ")";
      }, function () { check.textContent = t("no_webcrypto"); });
    }
    if (state !== "drawn") return;
    var draw = data.draw;
    stateRow(list, t("randomness"), draw.randomness, true);
    stateRow(list, t("ran_at"), dateText(draw.ran_at));
    box.appendChild(el("h3", t("winners")));
    var winners = el("ol", null, "winners");
    winners.setAttribute("data-testid", "winners");
    var replacements = draw.replacements || [];
    var usedAlternates = new Set(replacements.map(function (r) { return r.replacement; }));
    (draw.final_winners || []).forEach(function (n, k) {
      var item = postItem(n);
      replacements.filter(function (r) { return r.prize_rank === k + 1; }).forEach(function (r) {
        item.appendChild(el("div", t("replaced_note", { post: r.disqualified, reason: r.reason }), "muted"));
      });
      winners.appendChild(item);
    });
    box.appendChild(winners);
    if ((draw.alternate_list || []).length) {
      box.appendChild(el("h3", t("alternates")));
      var alternates = el("ol", null, "winners");
      draw.alternate_list.forEach(function (n) {
        var item = postItem(n);
        if (usedAlternates.has(n)) item.appendChild(el("span", " " + t("alternate_used"), "muted"));
        alternates.appendChild(item);
      });
      box.appendChild(alternates);
    }
  }

  function reasonText(entry) {
    var r = entry.reason;
    if (!r) return "";
    if (r === "duplicate") {
      return entry.duplicate_of ? t("r_duplicate", { n: entry.duplicate_of }) : t("r_duplicate_plain");
    }
    if (r === "over_author_limit") {
      var max = data.campaign.max_entries_per_author;
      return !max || max === 1 ? t("r_over_author_limit_1") : t("r_over_author_limit", { n: max });
    }
    return TEXT["r_" + r] ? t("r_" + r) : t("r_other");
  }

  var rows = [];
  function renderEntries() {
    var body = document.getElementById("entry-rows");
    clear(body);
    rows = data.entries.map(function (entry) {
      var tr = el("tr");
      tr.setAttribute("data-post", String(entry.post_number));
      tr.setAttribute("data-status", entry.status);
      var number = el("td");
      number.appendChild(safeLink(entry.url, "#" + entry.post_number));
      tr.appendChild(number);
      tr.appendChild(el("td", entry.title, "title"));
      tr.appendChild(el("td", entry.author_name));
      tr.appendChild(el("td", dateText(entry.created_at)));
      var status = el("td");
      status.appendChild(el("span", t(entry.status), "st-" + entry.status));
      var why = reasonText(entry);
      if (why) status.appendChild(el("span", ": " + why));
      tr.appendChild(status);
      body.appendChild(tr);
      return { tr: tr, entry: entry, name: fold(entry.author_name) };
    });
    applySearch();
  }

  function fold(text) {
    return String(text || "").normalize("NFC").replace(/[\u200b-\u200d\u2060\ufeff]/g, "")
      .replace(/\s+/g, " ").trim().toLowerCase();
  }
  function thaiDigits(text) {
    return text.replace(/[\u0e50-\u0e59]/g, function (d) { return String(d.charCodeAt(0) - 0x0e50); });
  }

  function applySearch() {
    var query = fold(thaiDigits(document.getElementById("search").value));
    var number = /^#?\s*(\d+)$/.exec(query);
    var shown = 0;
    rows.forEach(function (row) {
      var match = !query ||
        (number ? String(row.entry.post_number) === number[1].replace(/^0+(?=\d)/, "")
                : row.name.indexOf(query) >= 0);
      row.tr.hidden = !match;
      if (match) shown++;
    });
    document.getElementById("search-count").textContent = t("search_count", { n: shown, m: rows.length });
  }

  function renderNotListed() {
    var box = document.getElementById("not-listed");
    clear(box);
    var c = data.campaign;
    box.appendChild(el("span", t("not_listed", { kw: c.keywords.join(", ") }) + " "));
    box.appendChild(el("span", (c.contact_text || t("contact_default")) + " "));
    if (c.contact_url) box.appendChild(safeLink(c.contact_url, c.contact_url));
  }

  // --- strict JSON: duplicate keys refused, whole numbers kept apart from fractions ---------

  function PyFloat(value) { this.value = value; }
  // Sticky: matched where the parser stands, without copying the rest of the text.
  var STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
  var NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

  function parseStrictJson(text) {
    var i = 0;
    function fail(message) { throw new SyntaxError(message + " (at character " + i + ")"); }
    function ws() { while (i < text.length && " \t\n\r".indexOf(text[i]) >= 0) i++; }
    function value() {
      ws();
      var ch = text[i];
      if (ch === "{") return object();
      if (ch === "[") return array();
      if (ch === "\"") return string();
      if (ch === "-" || (ch >= "0" && ch <= "9")) return number();
      if (text.startsWith("true", i)) { i += 4; return true; }
      if (text.startsWith("false", i)) { i += 5; return false; }
      if (text.startsWith("null", i)) { i += 4; return null; }
      fail("unexpected " + (ch === undefined ? "end of text" : JSON.stringify(ch)));
    }
    function object() {
      var out = Object.create(null);
      var seen = new Set();
      i++; ws();
      if (text[i] === "}") { i++; return out; }
      for (;;) {
        ws();
        if (text[i] !== "\"") fail("expected a key");
        var key = string();
        if (seen.has(key)) throw new DuplicateKey(key);
        seen.add(key);
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        out[key] = value();
        ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "}") { i++; return out; }
        fail("expected ',' or '}'");
      }
    }
    function array() {
      var out = [];
      i++; ws();
      if (text[i] === "]") { i++; return out; }
      for (;;) {
        out.push(value());
        ws();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "]") { i++; return out; }
        fail("expected ',' or ']'");
      }
    }
    function string() {
      STRING.lastIndex = i;
      var m = STRING.exec(text);
      if (!m) fail("bad string");
      i += m[0].length;
      return JSON.parse(m[0]);
    }
    function number() {
      NUMBER.lastIndex = i;
      var m = NUMBER.exec(text);
      if (!m) fail("bad number");
      i += m[0].length;
      if (m[2] || m[3]) return new PyFloat(Number(m[0]));
      var n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    var result = value();
    ws();
    if (i !== text.length) fail("extra data after the JSON value");
    return result;
  }
  function DuplicateKey(key) { this.key = key; }

  // --- Python's comparison rules, as the reference verifier applies them --------------------

  function isObj(x) { return x !== null && typeof x === "object" && !Array.isArray(x) && !(x instanceof PyFloat); }
  function isIntLike(x) { return typeof x === "number" || typeof x === "bigint" || typeof x === "boolean"; }
  function isNumeric(x) { return isIntLike(x) || x instanceof PyFloat; }
  function toBig(x) { return typeof x === "bigint" ? x : BigInt(typeof x === "boolean" ? (x ? 1 : 0) : x); }
  function has(obj, key) { return isObj(obj) && Object.prototype.hasOwnProperty.call(obj, key); }
  function get(obj, key) { return has(obj, key) ? obj[key] : null; }
  function pyEq(a, b) {
    if (isNumeric(a) && isNumeric(b)) {
      if (a instanceof PyFloat || b instanceof PyFloat) {
        return Number(a instanceof PyFloat ? a.value : toBig(a)) === Number(b instanceof PyFloat ? b.value : toBig(b));
      }
      return toBig(a) === toBig(b);
    }
    if (a === null || b === null) return a === b;
    if (typeof a === "string" || typeof b === "string") return a === b;
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) return false;
      for (var k = 0; k < a.length; k++) if (!pyEq(a[k], b[k])) return false;
      return true;
    }
    if (isObj(a) && isObj(b)) {
      var ka = Object.keys(a), kb = Object.keys(b);
      if (ka.length !== kb.length) return false;
      return ka.every(function (key) { return has(b, key) && pyEq(a[key], b[key]); });
    }
    return false;
  }
  function pyStr(x) {
    if (x === null) return "None";
    if (x === true) return "True";
    if (x === false) return "False";
    if (x instanceof PyFloat) return Number.isInteger(x.value) ? x.value.toFixed(1) : String(x.value);
    if (typeof x === "string" || typeof x === "number" || typeof x === "bigint") return String(x);
    return show(x);
  }
  function truthy(x) {
    if (x === null || x === false || x === 0 || x === "" || x === 0n) return false;
    if (x instanceof PyFloat) return x.value !== 0;
    if (Array.isArray(x)) return x.length > 0;
    if (isObj(x)) return Object.keys(x).length > 0;
    return true;
  }
  function show(x) {
    if (x === undefined) return "null";
    if (x instanceof PyFloat) return String(x.value);
    if (typeof x === "bigint") return x.toString();
    if (Array.isArray(x)) return "[" + x.map(show).join(", ") + "]";
    if (isObj(x)) return "{" + Object.keys(x).map(function (k) { return JSON.stringify(k) + ": " + show(x[k]); }).join(", ") + "}";
    return JSON.stringify(x);
  }
  function pyStrip(s) { return s.replace(/^[\s\u001c-\u001f\u0085]+|[\s\u001c-\u001f\u0085]+$/g, ""); }

  // --- WebCrypto ----------------------------------------------------------------------------

  var encoder = new TextEncoder();
  function hex(buffer) {
    return Array.from(new Uint8Array(buffer)).map(function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }
  function fromHex(text) {
    var out = new Uint8Array(text.length / 2);
    for (var k = 0; k < out.length; k++) out[k] = parseInt(text.substr(k * 2, 2), 16);
    return out;
  }
  function subtle() {
    if (!window.crypto || !window.crypto.subtle) throw new Error("no-webcrypto");
    return window.crypto.subtle;
  }
  function sha256Hex(text) {
    return Promise.resolve().then(function () { return subtle().digest("SHA-256", encoder.encode(text)); }).then(hex);
  }
  function hmacKey(raw) {
    return subtle().importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  }

  // --- tagdraw-draw-v1 ----------------------------------------------------------------------

  // A difference: the certificate field it concerns, and the same words in Thai and English.
  function diff(field, th, en) { return { field: field, th: th, en: en }; }

  function parsePool(text) {
    var problems = [];
    if (!text.endsWith("\n")) problems.push(diff("pool", "รายชื่อ: ต้องจบด้วยการขึ้นบรรทัดใหม่", "pool: the text must end with a line feed"));
    if (text.indexOf("\r") >= 0) problems.push(diff("pool", "รายชื่อ: ต้องขึ้นบรรทัดด้วย LF ไม่ใช่ CR LF", "pool: line ends must be LF, not CR LF"));
    var lines = text.split("\r\n").join("\n").split("\n");
    if (lines.length && lines[lines.length - 1] === "") lines.pop();
    var body;
    if (!lines.length || lines[0] !== POOL_HEADER) {
      problems.push(diff("pool", "รายชื่อ: บรรทัดแรกต้องเป็น " + JSON.stringify(POOL_HEADER), "pool: the first line must be " + JSON.stringify(POOL_HEADER)));
      body = lines.length && lines[0].indexOf(",") >= 0 && !/^[0-9]/.test(lines[0]) ? lines.slice(1) : lines;
    } else {
      body = lines.slice(1);
    }
    var rows = [];
    var previous = null;
    body.forEach(function (line, k) {
      var lineNo = k + 2;
      var comma = line.indexOf(",");
      var numberText = comma >= 0 ? line.slice(0, comma) : line;
      var authorKey = comma >= 0 ? line.slice(comma + 1) : "";
      if (comma < 0 || !/^[0-9]+$/.test(numberText)) {
        problems.push(diff("pool", "รายชื่อบรรทัด " + lineNo + ": " + JSON.stringify(line) + " ไม่อยู่ในรูป 'post_number,author_key'",
          "pool line " + lineNo + ": " + JSON.stringify(line) + " is not 'post_number,author_key'"));
        return;
      }
      var number = BigInt(numberText);
      if (number.toString() !== numberText) {
        problems.push(diff("pool", "รายชื่อบรรทัด " + lineNo + ": หมายเลขบันทึกขึ้นต้นด้วยศูนย์", "pool line " + lineNo + ": post number " + JSON.stringify(numberText) + " has leading zeros"));
      }
      if (!authorKey || authorKey !== pyStrip(authorKey).toLowerCase()) {
        problems.push(diff("pool", "รายชื่อบรรทัด " + lineNo + ": ชื่อผู้เขียน " + JSON.stringify(authorKey) + " ต้องไม่ว่าง ไม่มีช่องว่างหัวท้าย และเป็นตัวพิมพ์เล็ก",
          "pool line " + lineNo + ": author key " + JSON.stringify(authorKey) + " must be non-empty, trimmed and lower-case"));
      }
      if (previous !== null && number <= previous) {
        problems.push(diff("pool", "รายชื่อบรรทัด " + lineNo + ": บันทึก " + number + " เรียงผิดลำดับหรือซ้ำ (ต่อจาก " + previous + ")",
          "pool line " + lineNo + ": post " + number + " is out of order or repeated (after " + previous + ")"));
      }
      previous = number;
      rows.push({ post: number, author: authorKey });
    });
    return { rows: rows, problems: problems };
  }

  function splitRandomness(randomness) {
    if (!randomness.endsWith("/")) return { error: "must end with '/' (e.g. '123456/')" };
    var values = randomness.slice(0, -1).split("/");
    if (values.some(function (v) { return !v || v !== pyStrip(v); })) {
      return { error: "each value must be non-empty, trimmed, and followed by '/'" };
    }
    return { values: values };
  }

  function rankRows(rows, poolHash, randomness) {
    return hmacKey(fromHex(poolHash)).then(function (key) {
      return subtle().sign("HMAC", key, encoder.encode(randomness));
    }).then(function (prk) {
      return hmacKey(new Uint8Array(prk));
    }).then(function (prkKey) {
      return Promise.all(rows.map(function (row) {
        var msg = encoder.encode(row.post.toString() + "\u0001");
        return subtle().sign("HMAC", prkKey, msg).then(function (sig) {
          return { post_number: row.post, author_key: row.author, score: hex(sig) };
        });
      }));
    }).then(function (ranked) {
      // Fixed-width lower-case hex sorts like the big-endian integer it spells.
      ranked.sort(function (a, b) {
        if (a.score !== b.score) return a.score < b.score ? -1 : 1;
        return a.post_number < b.post_number ? -1 : (a.post_number > b.post_number ? 1 : 0);
      });
      return ranked;
    });
  }

  function choose(ranking, prizes, alternates, onePerAuthor) {
    var chosen = [];
    var authors = new Set();
    for (var k = 0; k < ranking.length; k++) {
      if (chosen.length >= prizes + alternates) break;
      var e = ranking[k];
      if (onePerAuthor && authors.has(e.author_key)) continue;
      chosen.push(e.post_number);
      authors.add(e.author_key);
    }
    return { winners: chosen.slice(0, prizes), alternates: chosen.slice(prizes) };
  }

  function nextAlternate(authors, alternateList, current, used, vacatedRank, onePerAuthor) {
    var others = new Set();
    current.forEach(function (p, k) {
      if (p !== null && k !== vacatedRank - 1) others.add(authors.get(p.toString()));
    });
    for (var k = 0; k < alternateList.length; k++) {
      var candidate = alternateList[k];
      if (used.has(candidate.toString())) continue;
      if (onePerAuthor && others.has(authors.get(candidate.toString()))) continue;
      return candidate;
    }
    return null;
  }

  function isoLike(text) {
    return /^\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}(:?\d{2}(:?\d{2}(\.\d{1,6})?)?)?)?)?$/.test(text);
  }

  function verifyCertificate(cert) {
    var diffs = [];
    if (!isObj(cert)) return Promise.resolve({ diffs: [diff("certificate", "ใบรับรองผลไม่ใช่ออบเจกต์ JSON", "the certificate is not a JSON object")] });
    CERTIFICATE_KEYS.forEach(function (key) {
      if (!has(cert, key)) diffs.push(diff(key, "ไม่มีข้อมูล " + JSON.stringify(key), "missing key " + JSON.stringify(key)));
    });
    if (get(cert, "algorithm") !== ALGORITHM) {
      diffs.push(diff("algorithm", "วิธีจับรางวัล " + show(get(cert, "algorithm")) + " ไม่รู้จัก (หน้านี้ตรวจได้เฉพาะ " + ALGORITHM + ")",
        "algorithm: " + show(get(cert, "algorithm")) + " is unknown (this verifier knows " + ALGORITHM + ")"));
      return Promise.resolve({ diffs: diffs });
    }
    if (typeof get(cert, "version") !== "string" || !get(cert, "version")) diffs.push(diff("version", "ต้องระบุรุ่นของโปรแกรมที่สร้างใบรับรองผล", "version: must name the code version that made the certificate"));
    if (typeof get(cert, "campaign") !== "string" || !get(cert, "campaign")) diffs.push(diff("campaign", "ต้องระบุชื่อกิจกรรม", "campaign: must name the campaign"));
    if (!isoLike(pyStr(get(cert, "created_at")))) diffs.push(diff("created_at", "เวลาที่สร้าง " + show(get(cert, "created_at")) + " ไม่ใช่วันเวลาแบบ ISO", "created_at: " + show(get(cert, "created_at")) + " is not an ISO date and time"));
    var pool = get(cert, "pool");
    var randomness = get(cert, "randomness");
    if (typeof pool !== "string" || typeof randomness !== "string") {
      diffs.push(diff("pool", "รายชื่อและเลขสุ่มต้องเป็นข้อความ จึงคำนวณอะไรใหม่ไม่ได้", "pool and randomness must be strings; nothing else can be re-derived"));
      return Promise.resolve({ diffs: diffs });
    }
    var parsed = parsePool(pool);
    diffs = diffs.concat(parsed.problems);
    var summary = {};
    return sha256Hex(pool).then(function (derivedHash) {
      summary.hash = derivedHash;
      if (get(cert, "pool_hash") !== derivedHash) {
        diffs.push(diff("pool_hash", "ลายนิ้วมือของรายชื่อ: ใบรับรองผลระบุ " + show(get(cert, "pool_hash")) + " แต่รายชื่อในใบรับรองคำนวณได้ " + derivedHash + " (รายชื่อถูกแก้ไข)",
          "pool_hash: the certificate says " + show(get(cert, "pool_hash")) + " but its pool text hashes to " + derivedHash + " (the pool was changed)"));
      }
      // The randomness string is canonical: ASCII digits, each value followed by '/'.
      if (!/^[0-9/]*$/.test(randomness)) {
        diffs.push(diff("randomness", "เลขสุ่ม " + JSON.stringify(randomness) + " ต้องมีเฉพาะเลขอารบิก 0-9 และ '/' เท่านั้น",
          "randomness: " + JSON.stringify(randomness) + " must hold only ASCII digits and '/'"));
      }
      var split = splitRandomness(randomness);
      var values = split.values || [];
      if (split.error) diffs.push(diff("randomness", "เลขสุ่ม " + JSON.stringify(randomness) + ": แต่ละค่าต้องไม่ว่างและตามด้วย '/'", "randomness: randomness string " + JSON.stringify(randomness) + " " + split.error));
      var sources = get(cert, "sources");
      if (!Array.isArray(sources) || !sources.length || !sources.every(function (s) { return has(s, "value"); })) {
        diffs.push(diff("sources", "ที่มาของเลขสุ่มต้องระบุแต่ละค่าที่ประกาศ", "sources: must list each published value (objects with a 'value')"));
      } else if (values.length) {
        var listed = sources.map(function (s) { return pyStrip(pyStr(s.value)); });
        if (!pyEq(listed, values)) {
          diffs.push(diff("sources", "ค่าที่ประกาศ " + show(listed) + " ไม่ตรงกับเลขสุ่ม " + JSON.stringify(randomness),
            "sources: the published values " + show(listed) + " do not spell the randomness string " + JSON.stringify(randomness)));
        }
      }
      if (values.length && has(cert, "randomness_values")) diffs = diffs.concat(verifyValues(cert, values));
      return rankRows(parsed.rows, derivedHash, randomness);
    }).then(function (ranking) {
      summary.scores = ranking.length;
      summary.randomness = randomness;
      var claimed = get(cert, "ranking");
      if (!Array.isArray(claimed)) {
        diffs.push(diff("ranking", "ลำดับคะแนนต้องเป็นรายการ", "ranking: must be a list"));
        claimed = [];
      }
      if (claimed.length !== ranking.length) {
        diffs.push(diff("ranking", "ลำดับคะแนน: ใบรับรองผลมี " + claimed.length + " รายการ แต่รายชื่อมี " + ranking.length,
          "ranking: the certificate lists " + claimed.length + " entries, the pool has " + ranking.length));
      }
      var rankingDiffs = [];
      var names = { post_number: ["หมายเลขบันทึก", "post_number"], author_key: ["ผู้เขียน", "author_key"], score: ["คะแนน", "score"] };
      for (var k = 0; k < Math.min(ranking.length, claimed.length); k++) {
        var mine = ranking[k], theirs = claimed[k];
        if (!isObj(theirs)) { rankingDiffs.push(diff("ranking", "ลำดับที่ " + (k + 1) + ": ไม่ใช่ออบเจกต์", "ranking[" + k + "]: not an object")); continue; }
        ["post_number", "author_key", "score"].forEach(function (key) {
          if (!pyEq(get(theirs, key), mine[key])) {
            rankingDiffs.push(diff("ranking", "ลำดับที่ " + (k + 1) + " " + names[key][0] + ": ใบรับรองผลระบุ " + show(get(theirs, key)) + " คำนวณใหม่ได้ " + show(mine[key]),
              "ranking[" + k + "]." + key + ": the certificate says " + show(get(theirs, key)) + ", re-derived " + show(mine[key])));
          }
        });
      }
      var scoresDiffer = rankingDiffs.filter(function (d) { return /\.score:/.test(d.en); }).length;
      if (scoresDiffer) {
        // Scores depend only on the pool and the randomness: say so, since one of the two
        // (or the scores themselves) was changed.
        diffs.push(diff("ranking",
          "คะแนน " + scoresDiffer + " รายการที่คำนวณใหม่จากรายชื่อ (ลายนิ้วมือ " + summary.hash + ") และเลขสุ่ม " + JSON.stringify(randomness) + " ไม่ตรงกับคะแนนในใบรับรองผล: รายชื่อ เลขสุ่ม หรือคะแนนถูกแก้ไข",
          scoresDiffer + " scores re-derived from the pool (hash " + summary.hash + ") and the randomness " + JSON.stringify(randomness) + " differ from the certificate's: the pool, the randomness or the scores were changed"));
      }
      diffs = diffs.concat(rankingDiffs.slice(0, MAX_LISTED));
      if (rankingDiffs.length > MAX_LISTED) {
        var more = rankingDiffs.length - MAX_LISTED;
        diffs.push(diff("ranking", "ลำดับคะแนน: ยังมีอีก " + more + " จุดที่ไม่ได้แสดง", "ranking: " + more + " more differences not listed"));
      }
      var prizes = get(cert, "prizes"), alternates = get(cert, "alternates");
      if (!isIntLike(prizes) || !isIntLike(alternates) || toBig(prizes) < 0n || toBig(alternates) < 0n) {
        diffs.push(diff("prizes", "จำนวนรางวัลและผู้สำรองต้องเป็นจำนวนเต็มตั้งแต่ 0", "prizes and alternates must be whole numbers, 0 or more"));
        return { diffs: diffs };
      }
      var onePerAuthor = get(cert, "one_prize_per_author");
      if (typeof onePerAuthor !== "boolean") {
        diffs.push(diff("one_prize_per_author", "one_prize_per_author ต้องเป็น true หรือ false", "one_prize_per_author must be true or false"));
        onePerAuthor = true;
      }
      var chosen = choose(ranking, Number(toBig(prizes)), Number(toBig(alternates)), onePerAuthor);
      summary.winners = chosen.winners;
      summary.alternates = chosen.alternates;
      if (!pyEq(get(cert, "winners"), chosen.winners)) {
        diffs.push(diff("winners", "ผู้ได้รับรางวัล: ใบรับรองผลระบุ " + show(get(cert, "winners")) + " แต่คำนวณใหม่ได้ " + show(chosen.winners),
          "winners: the certificate says " + show(get(cert, "winners")) + ", re-derived " + show(chosen.winners)));
      }
      if (!pyEq(get(cert, "alternate_list"), chosen.alternates)) {
        diffs.push(diff("alternate_list", "ผู้สำรอง: ใบรับรองผลระบุ " + show(get(cert, "alternate_list")) + " แต่คำนวณใหม่ได้ " + show(chosen.alternates),
          "alternate_list: the certificate says " + show(get(cert, "alternate_list")) + ", re-derived " + show(chosen.alternates)));
      }
      var replaced = verifyReplacements(cert, ranking, chosen.winners, chosen.alternates, onePerAuthor);
      summary.replacements = replaced.count;
      diffs = diffs.concat(replaced.diffs);
      return { diffs: diffs, summary: summary };
    });
  }

  function verifyValues(cert, values) {
    var expected = get(cert, "randomness_values"), digits = get(cert, "randomness_digits");
    if (typeof expected === "boolean" || !isIntLike(expected) || toBig(expected) < 1n) {
      return [diff("randomness", "randomness_values " + show(expected) + " ไม่ใช่จำนวนค่า", "randomness_values: " + show(expected) + " is not a count of values")];
    }
    if (digits !== null && (!isIntLike(digits) || toBig(digits) < 1n)) {
      return [diff("randomness", "randomness_digits " + show(digits) + " ไม่ใช่จำนวนหลัก", "randomness_digits: " + show(digits) + " is not a number of digits")];
    }
    var out = [];
    if (BigInt(values.length) !== toBig(expected)) {
      out.push(diff("randomness", "เลขสุ่ม: ตอนปิดรายชื่อประกาศว่าใช้ " + expected + " ค่า แต่ใบรับรองผลมี " + values.length + " ค่า",
        "randomness: the freeze announced " + expected + " value(s) but " + values.length + " were given"));
    }
    values.forEach(function (value) {
      if (digits !== null && !(BigInt(value.length) === toBig(digits) && /^[0-9]+$/.test(value))) {
        out.push(diff("randomness", "เลขสุ่ม " + JSON.stringify(value) + " ไม่ใช่เลข " + digits + " หลักตามที่ประกาศ",
          "randomness: value " + JSON.stringify(value) + " is not " + digits + " digits, the format the freeze announced"));
      }
    });
    return out;
  }

  function verifyReplacements(cert, ranking, winners, alternateList, onePerAuthor) {
    var replacements = has(cert, "replacements") ? cert.replacements : [];
    if (!Array.isArray(replacements)) return { count: 0, diffs: [diff("replacements", "การแทนที่ต้องเป็นรายการ", "replacements: must be a list")] };
    var diffs = [];
    var authors = new Map();
    ranking.forEach(function (e) { authors.set(e.post_number.toString(), e.author_key); });
    var current = winners.slice();
    var used = new Set();
    replacements.forEach(function (item, k) {
      var where = "replacements[" + k + "]";
      var whereTh = "การแทนที่ครั้งที่ " + (k + 1);
      if (!isObj(item)) { diffs.push(diff("replacements", whereTh + ": ไม่ใช่ออบเจกต์", where + ": not an object")); return; }
      var disqualified = get(item, "disqualified"), rank = get(item, "prize_rank");
      if (!isIntLike(rank) || toBig(rank) < 1n || toBig(rank) > BigInt(current.length)) {
        diffs.push(diff("replacements", whereTh + ": รางวัลที่ " + show(rank) + " ไม่มีในการจับรางวัลนี้", where + ": prize_rank " + show(rank) + " is not a prize of this draw"));
        return;
      }
      var r = Number(toBig(rank));
      var holder = current[r - 1];
      if (!pyEq(holder, disqualified)) {
        diffs.push(diff("replacements", whereTh + ": รางวัลที่ " + r + " เป็นของบันทึก " + show(holder) + " ไม่ใช่บันทึกที่ถูกตัดสิทธิ์ " + show(disqualified),
          where + ": prize " + r + " was held by " + show(holder) + ", not by the disqualified post " + show(disqualified)));
      }
      var reason = get(item, "reason");
      if (!pyStrip(truthy(reason) ? pyStr(reason) : "")) diffs.push(diff("replacements", whereTh + ": ไม่ได้ระบุเหตุผล", where + ": no reason given"));
      var expected = nextAlternate(authors, alternateList, current, used, r, onePerAuthor);
      if (!pyEq(get(item, "replacement"), expected)) {
        diffs.push(diff("replacements", whereTh + ": ใบรับรองผลให้รางวัลที่ " + r + " แก่ " + show(get(item, "replacement")) + " แต่ผู้สำรองลำดับถัดไปที่ยังไม่ได้ใช้คือ " + show(expected),
          where + ": the certificate gives prize " + r + " to " + show(get(item, "replacement")) + ", but the next unused alternate is " + show(expected)));
      }
      current[r - 1] = expected;
      if (expected !== null) used.add(expected.toString());
    });
    if (has(cert, "final_winners") && !pyEq(cert.final_winners, current)) {
      diffs.push(diff("final_winners", "ผู้ได้รับรางวัลหลังการแทนที่: ใบรับรองผลระบุ " + show(cert.final_winners) + " แต่คำนวณใหม่ได้ " + show(current),
        "final_winners: the certificate says " + show(cert.final_winners) + ", re-derived " + show(current)));
    }
    return { count: replacements.length, diffs: diffs };
  }

  // --- the verify panel ---------------------------------------------------------------------

  function verifyText(text, source) {
    var box = document.getElementById("verify-result");
    box.removeAttribute("data-ok");
    clear(box);
    box.appendChild(el("p", t("verifying")));
    var cert;
    try {
      cert = parseStrictJson(text);
    } catch (err) {
      var d = err instanceof DuplicateKey
        ? diff("certificate", "ใบรับรองผลมีข้อมูล " + JSON.stringify(err.key) + " ซ้ำสองครั้ง จึงอ่านได้สองแบบ", "the certificate repeats the key " + JSON.stringify(err.key) + ", so it can be read two ways")
        : diff("certificate", "ไฟล์นี้ไม่ใช่ JSON: " + err.message, "not a JSON file: " + err.message);
      return Promise.resolve(finish({ diffs: [d] }, source));
    }
    return verifyCertificate(cert).then(function (result) {
      return finish(result, source);
    }, function (err) {
      var d = String(err && err.message) === "no-webcrypto"
        ? diff("browser", TEXT.no_webcrypto[0], TEXT.no_webcrypto[1])
        : diff("browser", "ตรวจไม่สำเร็จ: " + err, "verification failed: " + err);
      return finish({ diffs: [d] }, source);
    });
  }

  function finish(result, source) {
    lastResult = { result: result, source: source };
    renderResult();
    return result;
  }

  function renderResult() {
    var box = document.getElementById("verify-result");
    clear(box);
    if (!lastResult) return;
    var result = lastResult.result, source = lastResult.source;
    var ok = result.diffs.length === 0;
    var src = source.file ? t("verify_source_file", { name: source.file }) : t("verify_source_embedded");
    box.appendChild(el("p", (ok ? t("verify_ok") : t("verify_bad", { n: result.diffs.length })) + " (" + src + ")", "headline"));
    if (ok && result.summary) {
      var s = result.summary;
      box.appendChild(el("p", t("verify_checked", {
        hash: s.hash, n: s.scores, r: s.randomness, w: show(s.winners), a: show(s.alternates), k: s.replacements
      })));
    }
    if (!ok) {
      var list = el("ul", null, "diffs");
      result.diffs.forEach(function (d) {
        var li = el("li", lang === 0 ? d.th : d.en);
        li.setAttribute("data-field", d.field);
        li.setAttribute("data-testid", "verify-difference");
        list.appendChild(li);
      });
      box.appendChild(list);
    }
    box.setAttribute("data-ok", ok ? "true" : "false");
  }

  // --- wiring -------------------------------------------------------------------------------

  function renderAll() {
    renderHeader();
    renderState();
    renderEntries();
    renderNotListed();
    var button = document.getElementById("verify-button");
    var hasCertificate = embeddedCertificateText.trim() !== "null";
    button.disabled = !hasCertificate;
    if (!hasCertificate) button.title = t("no_certificate");
    renderResult();
  }

  document.getElementById("lang-toggle").addEventListener("click", function () {
    lang = 1 - lang;
    renderAll();
  });
  document.getElementById("search").addEventListener("input", applySearch);
  document.getElementById("verify-button").addEventListener("click", function () {
    verifyText(embeddedCertificateText, { embedded: true });
  });
  document.getElementById("certificate-file").addEventListener("change", function (event) {
    var file = event.target.files && event.target.files[0];
    if (!file) return;
    var name = file.name;
    file.arrayBuffer().then(function (buffer) {
      var text;
      try {
        // Read as the reference verifier reads: UTF-8 that must be valid, a byte-order mark
        // kept (and then refused as JSON) rather than silently dropped.
        text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(buffer);
      } catch (err) {
        finish({ diffs: [diff("certificate", "ไฟล์นี้ไม่ใช่ข้อความ UTF-8", "the file is not UTF-8 text")] }, { file: name });
        return;
      }
      verifyText(text, { file: name });
    });
  });
  renderAll();
})();
