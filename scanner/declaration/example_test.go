package declaration_test

import (
	"fmt"
	"time"

	"github.com/crumbhq/crumb/scanner/declaration"
)

func ExampleLifetime() {
	for _, d := range []time.Duration{30 * time.Minute, 48 * time.Hour, 400 * 24 * time.Hour, 730 * 24 * time.Hour} {
		fmt.Printf("%s / %s\n", declaration.Lifetime(d, false, "sv"), declaration.Lifetime(d, false, "en"))
	}
	fmt.Println(declaration.Lifetime(0, true, "sv"))
	// Output:
	// 30 minuter / 30 minutes
	// 2 dagar / 2 days
	// 13 månader / 13 months
	// 2 år / 2 years
	// sessionen
}
