// Behaviour of the portal's pages, kept out of the HTML so the Content-Security-Policy can
// forbid inline scripts (script-src 'self'). Each part looks for its elements and does nothing
// on pages without them; every form still works without JavaScript.
(function () {
  'use strict';

  // <select data-autosubmit>: choosing an option submits its form (the division switch).
  document.querySelectorAll('select[data-autosubmit]').forEach((sel) => {
    sel.addEventListener('change', () => sel.form.submit());
  });

  // <form data-confirm="question">: ask before submitting (locking a school year).
  document.querySelectorAll('form[data-confirm]').forEach((form) => {
    form.addEventListener('submit', (ev) => {
      if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
    });
  });

  // <button data-print>: print the page (the initial passwords sheet).
  document.querySelectorAll('[data-print]').forEach((button) => {
    button.addEventListener('click', () => window.print());
  });

  // Certification: 全選 selects every pending task the filter shows (queue.js hides the others).
  const all = document.getElementById('all');
  if (all) {
    all.addEventListener('change', () => {
      document.querySelectorAll('#decide input[type=checkbox][name=task_id]').forEach((c) => {
        if (!c.closest('tr[hidden]')) c.checked = all.checked;
      });
    });
  }

  // Selection: count what is chosen per kind and stop at the year's limit; boxes the server
  // froze (not certified, returned, locked, window closed) stay as they are.
  const selForm = document.querySelector('form[data-selection]');
  if (selForm) {
    ['outcome', 'performance'].forEach((kind) => {
      const max = parseInt(selForm.dataset[kind === 'outcome' ? 'maxOutcome' : 'maxPerformance'], 10);
      const boxes = [...selForm.querySelectorAll(`input[type=checkbox][data-kind=${kind}]`)];
      const free = boxes.filter((b) => !b.disabled);
      const out = document.querySelector(`#count-${kind} strong`);
      const update = () => {
        const n = boxes.filter((b) => b.checked).length;
        if (out) out.textContent = String(n);
        free.forEach((b) => { if (!b.checked) b.disabled = n >= max; });
      };
      free.forEach((b) => b.addEventListener('change', update));
      update();
    });
  }
})();
