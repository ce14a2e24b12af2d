// Progressive enhancement of the upload form: character counter, progress bar, and the
// refusal reason shown in place (the form works without JavaScript too).
(function () {
  const form = document.getElementById('upload');
  if (!form) return;
  const text = form.querySelector('textarea[name=description]');
  const count = document.getElementById('count');
  const max = parseInt(text.dataset.max || text.getAttribute('maxlength'), 10);
  const bar = document.getElementById('progress');
  const msg = document.getElementById('upload-msg');
  const button = form.querySelector('button[type=submit]');
  const fileInput = form.querySelector('input[type=file]');
  const LIMIT = 4 * 1024 * 1024;
  function updateCount() {
    // counted as the service counts it (textrules.js): a line break once, invisible characters not
    const n = window.TextRules ? window.TextRules.cleanedLength(text.value) : [...text.value.trim()].length;
    count.textContent = `${n} / ${max}`;
    count.classList.toggle('over', n > max);
  }
  text.addEventListener('input', updateCount); updateCount();
  fileInput.addEventListener('change', () => {
    const f = fileInput.files[0];
    msg.textContent = f && f.size > LIMIT ? `檔案 ${(f.size / 1048576).toFixed(1)} MB，超過 4 MB 上限。` : '';
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open('POST', form.action || window.location.pathname);
    xhr.setRequestHeader('X-Requested-With', 'fetch');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) { bar.hidden = false; bar.value = Math.round(100 * e.loaded / e.total);
        msg.textContent = `上傳中… ${bar.value}%`; }
    });
    xhr.addEventListener('load', () => {
      button.disabled = false;
      if (xhr.status >= 200 && xhr.status < 300) { msg.textContent = '已上傳，正在送交任課教師認證。';
        setTimeout(() => window.location.reload(), 400); return; }
      let text = '上傳失敗，請稍後再試。';
      try { const body = JSON.parse(xhr.responseText); text = body.error.message_zh || text;
        msg.dataset.code = body.error.code; } catch (e) { /* keep the generic text */ }
      bar.hidden = true; msg.textContent = text; msg.className = 'flash error';
    });
    xhr.addEventListener('error', () => { button.disabled = false; bar.hidden = true;
      msg.textContent = '網路連線中斷，請再上傳一次；已輸入的資料仍保留。'; msg.className = 'flash error'; });
    button.disabled = true; msg.className = 'hint';
    xhr.send(new FormData(form));
  });
})();
