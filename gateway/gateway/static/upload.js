// The upload form: the gateway issues a ticket (records checks quota, enrolment and 簡述),
// then the file goes straight to the files service with tus (tus-js-client, vendored), so a
// dropped connection resumes from where it stopped and the progress bar continues from there.
// Refusals show the files service's own sentence (message_zh) for each reason.
// One script for every upload form (course outcomes, performance proofs, a transfer package): the ticket request
// sends the form's own fields (data-done: what to say when the file is stored).
(function () {
  'use strict';
  const form = document.getElementById('upload');
  if (!form || !window.tus) return;
  const text = form.querySelector('textarea[name=description]');
  const count = document.getElementById('count');
  const max = text ? parseInt(text.dataset.max || text.getAttribute('maxlength'), 10) : 0;
  const doneText = form.dataset.done || '已上傳，正在送交任課教師認證。';
  const bar = document.getElementById('progress');
  const barText = document.getElementById('progress-text');
  const msg = document.getElementById('upload-msg');
  const button = form.querySelector('button[type=submit]');
  const resumeButton = document.getElementById('resume');
  const cancelButton = document.getElementById('cancel');
  const fileInput = form.querySelector('input[type=file]');
  const limits = form.dataset.limits ? JSON.parse(form.dataset.limits) : null;
  let upload = null;
  let fileId = null;
  let uploadKey = newKey();
  let token = null;
  let tokenAt = 0;

  function newKey() {
    const a = new Uint8Array(16);
    window.crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
  }
  function updateCount() {
    if (!text) return;
    // counted as the service counts it (textrules.js): a line break once, invisible characters not
    const n = window.TextRules ? window.TextRules.cleanedLength(text.value) : [...text.value.trim()].length;
    count.textContent = `${n} / ${max}`;
    count.classList.toggle('over', n > max);
  }
  function say(textValue, kind, code) {
    msg.textContent = textValue;
    msg.className = kind === 'error' ? 'flash error' : (kind === 'ok' ? 'flash ok' : 'hint');
    if (code) msg.dataset.code = code; else delete msg.dataset.code;
  }
  function showProgress(sent, total) {
    const pct = total ? Math.floor((100 * sent) / total) : 0;
    bar.hidden = false;
    bar.value = pct;
    barText.textContent = `${pct}%`;
    say(`上傳中… ${pct}%（${(sent / 1048576).toFixed(1)} / ${(total / 1048576).toFixed(1)} MB）`);
  }
  function busy(on) {
    button.disabled = on;
    cancelButton.hidden = !on;
  }
  // A check before any byte moves; the files service decides by content in any case.
  // an outcome's slot (document | media) when the form names one: its own size limit and file types
  function slot() {
    const el = form.querySelector('input[name=slot]:checked') || form.querySelector('input[type=hidden][name=slot]');
    return el ? el.value : '';
  }
  function precheck(f) {
    if (!f) return '請選擇要上傳的檔案。';
    if (f.size === 0) return '檔案是空的（0 位元組），請確認檔案已完整下載後再上傳。';
    if (limits) {
      const s = slot();
      const largest = s && limits[s] ? limits[s].max_bytes : Math.max(...Object.values(limits).map((x) => x.max_bytes));
      // rounded up: a file just over the limit never reads as the limit itself (4.0 MB over 4 MB)
      if (f.size > largest) return `檔案 ${(Math.ceil(f.size * 100 / 1048576) / 100).toFixed(2)} MB，超過 ${largest / 1048576} MB 上限。`;
    }
    return '';
  }
  async function post(url, body) {
    const r = await fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': form.dataset.csrf, 'X-Requested-With': 'fetch' },
      body: JSON.stringify(body || {}),
    });
    let data = null;
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) {
      const err = (data && data.error) || {};
      throw Object.assign(new Error(err.message_zh || '上傳失敗，請稍後再試。'), { code: err.code });
    }
    return data;
  }
  async function freshToken() {
    if (!token || Date.now() - tokenAt > 25000) {  // a caller token lives 60 s
      token = (await post(form.dataset.tokenUrl)).token;
      tokenAt = Date.now();
    }
    return token;
  }
  function refusal(err) {
    const res = err && err.originalResponse;
    if (res) {
      try {
        const body = JSON.parse(res.getBody());
        if (body && body.error) return { text: body.error.message_zh, code: body.error.code, status: res.getStatus() };
      } catch (e) { /* not JSON */ }
      return { text: '上傳失敗，請稍後再試。', code: 'http_' + res.getStatus(), status: res.getStatus() };
    }
    return null;
  }
  function finished() {
    busy(false);
    resumeButton.hidden = true;
    upload = null;
  }

  if (text) text.addEventListener('input', updateCount);
  updateCount();
  // the page reloads after a stored upload (the new row, the new quota): say so once more
  const done = window.sessionStorage.getItem('upload-done');
  if (done) { window.sessionStorage.removeItem('upload-done'); say(done, 'ok'); }
  for (const radio of form.querySelectorAll('input[type=radio][name=slot]')) {
    radio.addEventListener('change', () => {
      if (radio.checked && radio.dataset.accept) fileInput.accept = radio.dataset.accept;
      const problem = fileInput.files[0] ? precheck(fileInput.files[0]) : '';
      if (problem) say(problem, 'error', 'precheck'); else say('');
    });
  }
  fileInput.addEventListener('change', () => {
    const problem = precheck(fileInput.files[0]);
    if (problem) say(problem, 'error', 'precheck'); else say('');
  });
  resumeButton.addEventListener('click', () => {
    if (!upload) return;
    resumeButton.hidden = true;
    busy(true);
    say('繼續上傳…');
    upload.start();  // tus asks the server where it stopped and sends only the rest
  });
  cancelButton.addEventListener('click', () => {
    if (!upload) return;
    upload.abort(true).then(() => { say('已取消上傳。'); bar.hidden = true; barText.textContent = ''; finished(); uploadKey = newKey(); });
  });

  async function waitForOutcome(outcomeId, storedFileId) {
    const pause = (ms) => new Promise((ok) => setTimeout(ok, ms));
    await pause(300);
    if (!form.dataset.waitUrl || !outcomeId) { await pause(300); return; }
    const url = form.dataset.waitUrl.replace('__ID__', encodeURIComponent(outcomeId));
    const until = Date.now() + 10000;   // then the page anyway (its quota shows the upload as 上傳中)
    while (Date.now() < until) {
      try {
        const r = await fetch(url, { credentials: 'same-origin', headers: { 'X-Requested-With': 'fetch' } });
        if (r.ok && (!storedFileId || (await r.text()).includes(storedFileId))) return;
      } catch (e) { /* the network: try again */ }
      await pause(400);
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (upload) return;
    const f = fileInput.files[0];
    const problem = precheck(f);
    if (problem) { say(problem, 'error', 'precheck'); return; }
    busy(true);
    say('檢查中…');
    let t;
    try {
      const fields = { upload_key: uploadKey };
      for (const el of form.elements) {
        if (el.type === 'radio' && !el.checked) continue;
        if (el.name && el.type !== 'file' && el.type !== 'submit' && el.type !== 'button') fields[el.name] = el.value;
      }
      t = await post(form.action, fields);
    } catch (e) {
      busy(false);
      say(e.message, 'error', e.code);
      return;
    }
    token = t.files_token;
    tokenAt = Date.now();
    upload = new window.tus.Upload(f, {
      endpoint: t.resumable_url,
      chunkSize: 5 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
      removeFingerprintOnSuccess: true,
      metadata: { filename: f.name, filetype: f.type },
      headers: { 'X-Upload-Ticket': t.ticket },
      onBeforeRequest: async (req) => { req.setHeader('Authorization', `Bearer ${await freshToken()}`); },
      onShouldRetry: (err) => {
        const r = refusal(err);
        if (!r) return true;                       // no answer at all: the network
        if (r.status >= 500) return true;
        return r.code === 'upload_offset_mismatch' || r.code === 'upload_in_progress';
      },
      // the last PATCH answers the stored file's id (a form with data-after-file goes on with it)
      onAfterResponse: (req, res) => { const id = res.getHeader('X-File-Id'); if (id) fileId = id; },
      onProgress: (sent, total) => showProgress(sent, total),
      onError: (err) => {
        const r = refusal(err);
        busy(false);
        if (!r || r.status >= 500) {
          // the bytes already sent are kept on the server until the ticket expires
          resumeButton.hidden = false;
          cancelButton.hidden = false;
          button.disabled = true;   // this upload is paused, not over: 繼續上傳 or 取消, not a second one
          say('網路連線中斷，已上傳的部分會保留；連線恢復後請按「繼續上傳」。', 'error', r ? r.code : 'network');
          return;
        }
        bar.hidden = true;
        barText.textContent = '';
        say(r.text, 'error', r.code);
        finished();
        uploadKey = newKey();  // that ticket is spent: the corrected retry asks for a new one
      },
      onSuccess: () => {
        bar.value = 100;
        barText.textContent = '100%';
        say(doneText, 'ok');
        if (!form.dataset.afterFile) window.sessionStorage.setItem('upload-done', doneText);
        finished();
        // a re-upload form (data-after: the plain page) is not shown again for the same outcome;
        // a transfer package's form (data-after-file) goes to its preview with the file's id
        const after = form.dataset.afterFile && fileId
          ? form.dataset.afterFile.replace('__FILE__', encodeURIComponent(fileId)) : form.dataset.after;
        const go = () => { if (after) window.location.assign(after); else window.location.reload(); };
        // the outcome is listed once records has taken the upload's event: wait for that (a
        // deadline night's queue can take seconds) rather than reload onto a list without it
        waitForOutcome(t.outcome_id, fileId).then(go, go);
      },
    });
    upload.start();
  });
  // tests and impatient users: the form sends through this script only from here on
  form.dataset.ready = 'true';
})();
