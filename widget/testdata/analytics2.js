;(window.ran = window.ran || []).push('analytics2')
