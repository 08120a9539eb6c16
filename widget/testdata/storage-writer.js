// A stand-in for a tag that keeps a visitor id in localStorage.
;(window.ran = window.ran || []).push('storage-writer')
localStorage.setItem('_tracker_uid', 'uid.1234.5678')
