// The certification queue (templates/certification.html): filter, sort within each class and
// subject, preview the chosen file beside the decision, move with j/k or the buttons without a
// page load, c certifies the item shown, r goes to its return reason. Without JavaScript the
// page is the plain list with bulk decisions.
(function () {
  'use strict';
  const list = document.getElementById('decide');
  const preview = document.getElementById('preview');
  if (!list || !preview) return;
  const rows = () => [...list.querySelectorAll('tr.task')].filter((r) => !r.hidden);
  const body = document.getElementById('preview-body');
  const oneTask = document.getElementById('one-task');
  let current = null;

  // An outcome holds a document, a media file, or both: each is previewed, under its slot's name.
  const SLOT_NAMES = { document: '文件', media: '影音檔' };
  // what a row shows, read from its cells (the page keeps no copy of it in attributes)
  const text = (row, sel) => (row.querySelector(sel)?.textContent || '').trim();
  const student = (row) => text(row, '.pick');
  const description = (row) => text(row, '.desc');
  function files(row) {
    return [...row.querySelectorAll('.slot-file')].map((box) => {
      const a = box.querySelector('a');
      return { slot: box.dataset.slot || '', url: a.getAttribute('href'), type: a.dataset.type || '',
               name: a.textContent.trim() };
    });
  }
  // the words the filter looks in: name, number, subject, description, class, file names
  function searchText(row) {
    if (row.dataset.search === undefined) {
      const g = row.closest('section.queue-group');
      row.dataset.search = [student(row), text(row, '.no'), g?.dataset.subject || '', description(row),
                            g?.dataset.class || '', ...files(row).map((f) => f.name)].join(' ').toLowerCase();
    }
    return row.dataset.search;
  }
  function slotPreview(f) {
    const box = document.createElement('figure');
    box.className = 'preview-file';
    box.dataset.slot = f.slot || '';
    const cap = document.createElement('figcaption');
    cap.className = 'hint wrap';
    cap.textContent = `${SLOT_NAMES[f.slot] ? SLOT_NAMES[f.slot] + '：' : ''}${f.name}`;
    box.append(cap, media(f));
    return box;
  }
  function media(f) {
    const type = f.type || '';
    const url = f.url;
    const name = f.name;
    let el;
    if (type.startsWith('image/')) {
      el = document.createElement('img');
      el.alt = `${name} 的預覽`;
    } else if (type.startsWith('audio/') || type.startsWith('video/')) {
      el = document.createElement(type.startsWith('audio/') ? 'audio' : 'video');
      el.controls = true;
      el.preload = 'metadata';
    } else {
      // PDFs open in their own tab: the files service forbids framing (frame-ancestors 'none')
      // and sandboxes every file, so a PDF cannot be shown inside this page.
      el = document.createElement('p');
      el.className = 'hint';
      el.append('PDF 及其他檔案請在新分頁檢視：');
      const a = document.createElement('a');
      a.href = url; a.target = '_blank'; a.rel = 'noopener'; a.textContent = '開新分頁檢視檔案';
      a.id = 'preview-open';  // one at most: only the document slot holds a PDF
      el.append(a);
      return el;
    }
    el.src = url;
    el.className = 'preview-media';
    return el;
  }

  function show(row, focus) {
    if (!row) return;
    if (current) current.classList.remove('current');
    current = row;
    row.classList.add('current');
    preview.hidden = false;
    document.getElementById('preview-who').textContent =
      `${row.dataset.seat ? row.dataset.seat + ' 號 ' : ''}${student(row)}`;
    document.getElementById('preview-desc').textContent = description(row);
    const list = files(row);
    document.getElementById('preview-name').textContent = list.length > 1 ? `共 ${list.length} 個檔案` : (list[0]?.name || '');
    body.replaceChildren(...list.map(slotPreview));
    const all = rows();
    document.getElementById('preview-pos').textContent = `第 ${all.indexOf(row) + 1} / ${all.length} 件`;
    if (oneTask) {
      oneTask.value = row.dataset.task;
      document.getElementById('one').hidden = row.dataset.pending !== 'true';
    }
    if (focus) row.scrollIntoView({ block: 'nearest' });
  }

  function step(d) {
    const all = rows();
    if (!all.length) return;
    const i = current ? all.indexOf(current) : -1;
    show(all[Math.max(0, Math.min(all.length - 1, i + d))], true);
  }

  list.querySelectorAll('tr.task button.pick').forEach((b) => {
    b.addEventListener('click', () => show(b.closest('tr'), false));
  });
  document.getElementById('next').addEventListener('click', () => step(1));
  document.getElementById('prev').addEventListener('click', () => step(-1));

  document.addEventListener('keydown', (ev) => {
    const t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t.closest && t.closest('input, select, textarea')) return;
    if (ev.key === 'j') { step(1); ev.preventDefault(); }
    else if (ev.key === 'k') { step(-1); ev.preventDefault(); }
    else if (ev.key === 'c' && current && oneTask && current.dataset.pending === 'true') {
      ev.preventDefault();
      document.getElementById('one-certify').click();
    } else if (ev.key === 'r' && current && oneTask && current.dataset.pending === 'true') {
      ev.preventDefault();
      document.getElementById('one-reason').focus();
    }
  });

  // how many are ticked, and how many of those the filter hides: a bulk decision takes them all,
  // so the teacher is told, and asked once more before hidden ones are decided
  const selected = document.getElementById('selected-count');
  function ticked() {
    const boxes = [...list.querySelectorAll('input[name=task_id]:checked')];
    return { all: boxes.length, hidden: boxes.filter((b) => b.closest('tr').hidden).length };
  }
  function updateSelected() {
    if (!selected) return;
    const n = ticked();
    selected.textContent = n.all
      ? `已勾選 ${n.all} 件${n.hidden ? `（其中 ${n.hidden} 件被篩選隱藏，也會一起處理）` : ''}` : '';
  }
  list.addEventListener('change', updateSelected);
  list.addEventListener('submit', (ev) => {
    const n = ticked();
    if (n.hidden && !window.confirm(`另有 ${n.hidden} 件已勾選但被篩選隱藏，也要一起處理嗎？`)) ev.preventDefault();
  });

  // filter: hide rows that do not match, and groups left empty; counts follow
  const filter = document.getElementById('queue-filter');
  filter.addEventListener('input', () => {
    const q = filter.value.trim().toLowerCase();
    let shown = 0;
    list.querySelectorAll('section.queue-group').forEach((g) => {
      let n = 0;
      g.querySelectorAll('tr.task').forEach((r) => {
        r.hidden = q !== '' && !searchText(r).includes(q);
        if (!r.hidden) n += 1;
      });
      g.hidden = n === 0;
      g.querySelector('.count').textContent = `（${n} 件）`;
      shown += n;
    });
    document.getElementById('queue-empty').hidden = shown > 0;
    // the preview never stays on a row the filter hides (c would decide what is not listed)
    if (current && current.hidden) {
      const first = rows()[0];
      if (first) {
        show(first, false);
      } else {
        current.classList.remove('current');
        current = null;
        preview.hidden = true;
      }
    } else if (current) {
      const all = rows();
      document.getElementById('preview-pos').textContent = `第 ${all.indexOf(current) + 1} / ${all.length} 件`;
    }
    updateSelected();
  });

  // sort within each group: seat number (no seat number last), name, or upload time
  const sort = document.getElementById('queue-sort');
  sort.addEventListener('change', () => {
    const key = sort.value;
    const cmp = (a, b) => {
      if (key === 'name') return student(a).localeCompare(student(b), 'zh-Hant');
      if (key === 'created') return a.dataset.created.localeCompare(b.dataset.created);
      const sa = a.dataset.seat === '' ? Infinity : Number(a.dataset.seat);
      const sb = b.dataset.seat === '' ? Infinity : Number(b.dataset.seat);
      return sa - sb;
    };
    list.querySelectorAll('section.queue-group tbody').forEach((tb) => {
      [...tb.querySelectorAll('tr.task')].sort(cmp).forEach((r) => tb.append(r));
    });
    if (current) show(current, false);
  });

  // start on the first refused item (kept selected) or the first item
  show(list.querySelector('tr.task.refused') || rows()[0], false);
  updateSelected();
})();
