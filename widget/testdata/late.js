;(window.ran = window.ran || []).push('late')
