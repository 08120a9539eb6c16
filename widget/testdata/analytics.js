// A stand-in for an analytics tag: records that it ran and sets its cookies.
;(window.ran = window.ran || []).push('analytics')
document.cookie = '_ga=GA1.1.1234.5678; Path=/; Max-Age=3600'
document.cookie = '_ga_ABC123=GS1.1.1700000000; Path=/; Max-Age=3600'
document.cookie = '_ga_SHOP=GS1.1.1; Path=/shop; Max-Age=3600'
