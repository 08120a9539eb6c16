package crawl

import (
	_ "embed"
	"strconv"
	"strings"

	"github.com/crumbhq/crumb/scanner"
)

// The page-side scripts. Each file documents itself; placeholders in
// __CAPS__ are filled in by the functions below.
var (
	//go:embed js/hook.js
	hookJS string
	//go:embed js/storage.js
	storageJS string
	//go:embed js/links.js
	linksJS string
	//go:embed js/scroll.js
	scrollJS string
	//go:embed js/document.js
	documentJS string
	//go:embed js/accept.js
	acceptJS string
	//go:embed js/grant.js
	grantJS string
)

// hookScript returns hook.js reporting through the binding named binding.
func hookScript(binding string) string {
	return strings.ReplaceAll(hookJS, "__BINDING__", binding)
}

// linksScript returns links.js listing at most max links.
func linksScript(max int) string {
	return strings.ReplaceAll(linksJS, "__MAX__", strconv.Itoa(max))
}

// scrollScript returns scroll.js scrolling for at most budgetMS milliseconds.
func scrollScript(budgetMS int64) string {
	return strings.ReplaceAll(scrollJS, "__BUDGET__", strconv.FormatInt(budgetMS, 10))
}

// grantScript returns grant.js granting category.
func grantScript(category scanner.Category) string {
	return strings.ReplaceAll(grantJS, "__CATEGORY__", strconv.Quote(string(category)))
}

// documentScript returns document.js cutting text at max characters.
func documentScript(max int) string {
	return strings.ReplaceAll(documentJS, "__MAX__", strconv.Itoa(max))
}
