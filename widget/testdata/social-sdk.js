// A stand-in for a social plug-in's SDK: it renders the plug-in markup.
;(window.ran = window.ran || []).push('social')
for (const e of document.querySelectorAll('.social-post')) e.dataset.rendered = 'yes'
